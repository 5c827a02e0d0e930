"""Run every analysis over a corpus of any size: in chunks with bounded memory, on all cores, or on Dask.

The corpus is streamed (``corpus.iter_documents``) in chunks of ``chunk_size`` documents. Each chunk
goes through two tasks, run in this process (``jobs=1``), in worker processes (``jobs=N``) or on a
Dask cluster (``engine="dask"``):

1. ``chunk_signatures``: the duplicate signature of every text. This process feeds them, in corpus
   order, to one ``corpus.DuplicateIndex`` (signatures only, never texts), so ``duplicate_of``
   is the same as ``load_corpus`` gives on the whole corpus.
2. ``process_chunk``: parse the chunk and run every stage of the registry on it, each a function
   of the parsed chunk (plus the tables of earlier stages) returning DataFrames; every table is
   written as one partition ``OUT/<table>/part-<chunk>.parquet``, sorted by ``doc_id``, ``start``, ``end``.

Stages fitted on the corpus (topic models) are fitted on a seeded sample of the articles once the
first pass is written, then applied to every partition in parallel. The output folder is a set of
partitioned Parquet datasets that ``pandas.read_parquet(OUT/table)``, DuckDB
(``read_parquet('OUT/table/*.parquet')``) and ``dask.dataframe.read_parquet`` read directly, plus
``manifest.json``. The results do not depend on ``chunk_size``, ``jobs`` or the engine.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import json
import os
import resource
import sys
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd

from corelib.corpus import (DEFAULT_MAX_BYTES, CorpusError, DuplicateIndex, _Read, corpus_from_records,
                            duplicate_signature, iter_documents, read_metadata)
from corelib.parse import Parsed, parse_documents
from corelib.tables import flatten

DEFAULT_CHUNK_SIZE = 500
SORT_KEYS = ("doc_id", "start", "end")
MANIFEST = "manifest.json"
ENGINES = ("local", "dask")


# --------------------------------------------------------------------------- stage registry

@dataclass(frozen=True)
class Stage:
    """One pipeline step: ``run(parsed, tables, options) -> {table name: DataFrame}`` on a parsed chunk.

    ``module``/``attr`` name the library function the stage calls; the stage is available only
    when that module exists and exposes it. ``needs`` are the stages whose tables ``run`` reads
    (from ``tables``). ``kind`` is ``"chunk"`` (per chunk) or ``"model"`` (``fit`` on a sample of
    the corpus once, then ``run`` per partition with the fitted model in ``options["model"]``).
    """

    name: str
    module: str
    attr: str
    run: Callable[[Parsed, dict, dict], dict]
    tables: tuple[str, ...]
    needs: tuple[str, ...] = ()
    kind: str = "chunk"
    fit: Callable[[pd.DataFrame, dict], object] | None = None
    help: str = ""

    def available(self) -> bool:
        """Return True when the module this stage calls exists and exposes its function."""
        try:
            if importlib.util.find_spec(self.module) is None:
                return False
            return hasattr(importlib.import_module(self.module), self.attr)
        except Exception:  # a module that fails to import is not available
            return False


def _run_parse(parsed: Parsed, tables: dict, options: dict) -> dict:
    return {"articles": parsed.articles, "paragraphs": parsed.paragraphs, "sentences": parsed.sentences,
            "dates": parsed.dates}


STAGES: list[Stage] = [
    Stage("parse", "corelib.parse", "parse_documents", _run_parse,
          ("articles", "paragraphs", "sentences", "dates"),
          help="articles, paragraphs, sentences and date mentions (always run)"),
]


def register(stage: Stage) -> None:
    """Add a stage to the registry (after the stages it needs), replacing one of the same name."""
    names = [s.name for s in STAGES]
    if stage.name in names:
        STAGES[names.index(stage.name)] = stage
        return
    missing = [n for n in stage.needs if n not in names]
    if missing:
        raise ValueError(f"stage '{stage.name}' needs stages {missing}, which are not registered")
    STAGES.append(stage)


def stage_names(available_only: bool = True) -> list[str]:
    """Return the names of the registered stages (only those whose module exists, by default)."""
    return [s.name for s in STAGES if not available_only or s.available()]


def resolve_stages(names: Iterable[str] | None = None) -> list[Stage]:
    """Return the stages to run, in registry order, with the stages they need; all available ones by default."""
    by_name = {s.name: s for s in STAGES}
    if names is None:
        return [s for s in STAGES if s.available()]
    wanted = set()
    todo = list(names) + ["parse"]
    while todo:
        name = todo.pop()
        if name not in by_name:
            raise ValueError(f"unknown stage '{name}': choose from {', '.join(by_name)}")
        stage = by_name[name]
        if not stage.available():
            raise ValueError(f"stage '{name}' needs {stage.module}.{stage.attr}, which is not available")
        if name not in wanted:
            wanted.add(name)
            todo.extend(stage.needs)
    return [s for s in STAGES if s.name in wanted]


# --------------------------------------------------------------------------- tables

def sort_table(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` sorted by doc_id, start, end (those present; stable), with a fresh index."""
    keys = [k for k in SORT_KEYS if k in df.columns]
    if keys and len(df):
        df = df.sort_values(keys, kind="stable")
    return df.reset_index(drop=True)


def _arrow_table(df: pd.DataFrame):
    import pyarrow as pa

    df = flatten(df)
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # a column mixing types (numbers and text) is written as text rather than failing the batch
        fixed = df.copy()
        for col in fixed.columns:
            if fixed[col].dtype == object:
                fixed[col] = fixed[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
        return pa.Table.from_pandas(fixed, preserve_index=False)


def write_partition(df: pd.DataFrame, out: str | Path, table: str, index: int) -> Path:
    """Write one sorted partition ``out/table/part-<index>.parquet`` and return its path."""
    import pyarrow.parquet as pq

    folder = Path(out) / table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{index:05d}.parquet"
    pq.write_table(_arrow_table(sort_table(df)), path)
    return path


def unify_partitions(folder: str | Path) -> None:
    """Give every partition of a table the same Parquet schema (an all-empty column takes the others' type)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(Path(folder).glob("part-*.parquet"))
    schemas = [pq.read_schema(f) for f in files]
    if not schemas:
        return
    bare = [s.remove_metadata() for s in schemas]
    try:
        target = pa.unify_schemas(bare, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        target = pa.schema([pa.field(f.name, pa.string()) for f in bare[0]])
    for path, schema, plain in zip(files, schemas, bare):
        if plain.equals(target):
            continue
        table = pq.read_table(path)
        columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
                   else pa.nulls(len(table), f.type) for f in target]
        pq.write_table(pa.Table.from_arrays(columns, schema=target.with_metadata(schema.metadata)), path)


def read_table(out: str | Path, table: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Return a table of a pipeline output folder as one DataFrame (partitions in chunk order)."""
    folder = Path(out) / table
    files = sorted(folder.glob("part-*.parquet"))
    if not files:
        raise FileNotFoundError(f"no table '{table}' in {out} (expected {folder}/part-*.parquet)")
    return pd.concat([pd.read_parquet(f, columns=columns) for f in files], ignore_index=True)


# --------------------------------------------------------------------------- one chunk (runs in workers)

@dataclass
class ChunkTask:
    """What a worker needs to process one chunk."""

    index: int
    records: list
    root: str
    out: str
    stages: tuple[str, ...]
    duplicate_of: dict
    metadata: pd.DataFrame | None = None
    options: dict = field(default_factory=dict)


@dataclass
class ChunkResult:
    """What a worker reports back: rows per table, seconds per stage, its peak memory."""

    index: int
    n_records: int
    n_articles: int
    rows: dict
    seconds: dict
    peak_rss_mb: float
    doc_ids: list


def peak_rss_mb() -> float:
    """Return the peak resident memory of this process in MB (Linux: VmHWM, which exec resets)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def chunk_signatures(records: list) -> list[tuple[str, str, object]]:
    """Return (doc_id, exact key, MinHash) for every readable record of a chunk, in order."""
    return [(r.doc_id, *duplicate_signature(r.text)) for r in records if r.text is not None]


def _subset(parsed: Parsed, tables: dict, doc_ids: list[str]) -> tuple[Parsed, dict]:
    keep = set(doc_ids)

    def cut(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["doc_id"].isin(keep)].reset_index(drop=True) if "doc_id" in df.columns else df

    sub = Parsed(articles=cut(parsed.articles), paragraphs=cut(parsed.paragraphs), sentences=cut(parsed.sentences),
                 dates=cut(parsed.dates), rejects=parsed.rejects.iloc[0:0])
    return sub, {name: cut(df) for name, df in tables.items()}


def run_stage(stage: Stage, parsed: Parsed, tables: dict, options: dict) -> tuple[dict, list[dict]]:
    """Run one stage on a parsed chunk; an article that makes it fail is rejected, the others go on.

    Returns (tables, reject rows).
    """
    try:
        return stage.run(parsed, tables, options), []
    except Exception:
        pass
    parts: list[dict] = []
    bad = []
    sources = dict(zip(parsed.articles["doc_id"], parsed.articles["source"]))
    for doc_id in parsed.articles["doc_id"]:
        sub, sub_tables = _subset(parsed, tables, [doc_id])
        try:
            parts.append(stage.run(sub, sub_tables, options))
        except Exception as exc:
            bad.append({"doc_id": doc_id, "source": sources.get(doc_id, ""),
                        "reason": f"{stage.name} error: {type(exc).__name__}: {exc}"})
    if not parts:
        empty, _ = _subset(parsed, tables, [])
        try:
            return stage.run(empty, {k: v.iloc[0:0] for k, v in tables.items()}, options), bad
        except Exception:
            return {t: pd.DataFrame({"doc_id": pd.Series(dtype=str)}) for t in stage.tables}, bad
    return {t: pd.concat([p[t] for p in parts], ignore_index=True) for t in parts[0]}, bad


def process_chunk(task: ChunkTask) -> ChunkResult:
    """Parse one chunk, run its stages and write one partition per table; return a summary."""
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    corpus = corpus_from_records(task.records, Path(task.root), duplicates=False, metadata=task.metadata)
    if len(corpus.docs):
        corpus.docs["duplicate_of"] = [task.duplicate_of.get(d, "") for d in corpus.docs["doc_id"]]
    seconds["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    parsed = parse_documents(corpus.docs.to_dict("records"), corpus.rejects)
    seconds["parse"] = time.perf_counter() - t0
    by_name = {s.name: s for s in STAGES}
    tables = _run_parse(parsed, {}, task.options)
    rejects = [parsed.rejects]
    for name in task.stages:
        stage = by_name[name]
        if name == "parse" or stage.kind != "chunk":
            continue
        t0 = time.perf_counter()
        produced, bad = run_stage(stage, parsed, tables, task.options)
        tables.update(produced)
        if bad:
            rejects.append(pd.DataFrame(bad, columns=["doc_id", "source", "reason"]))
        seconds[name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables["rejects"] = pd.concat(rejects, ignore_index=True)
    rows = {}
    for name, df in tables.items():
        write_partition(df, task.out, name, task.index)
        rows[name] = len(df)
    seconds["write"] = time.perf_counter() - t0
    return ChunkResult(index=task.index, n_records=len(task.records), n_articles=len(parsed.articles),
                       rows=rows, seconds=seconds, peak_rss_mb=peak_rss_mb(),
                       doc_ids=list(parsed.articles["doc_id"]))


# --------------------------------------------------------------------------- engines

class _InProcess:
    """Runs tasks here and now (jobs=1): the single-process reference."""

    def submit(self, fn, *args) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as exc:
            fut.set_exception(exc)
        return fut

    def close(self) -> None:
        pass


class _DaskEngine:
    """Runs tasks on a Dask cluster: an existing one (``scheduler`` address) or a local one."""

    def __init__(self, scheduler: str | None, jobs: int):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RuntimeError("the dask engine needs dask and distributed: pip install 'corelib[scale]'") from exc
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
        else:
            import logging

            self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        self.n = 0

    def submit(self, fn, *args):
        self.n += 1
        return self.client.submit(fn, *args, pure=False, key=f"corelib-{fn.__name__}-{self.n}-{os.getpid()}")

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _engine(engine: str, jobs: int, scheduler: str | None):
    if engine not in ENGINES:
        raise ValueError(f"unknown engine '{engine}': choose one of {', '.join(ENGINES)}")
    if engine == "dask":
        return _DaskEngine(scheduler, jobs)
    if scheduler:
        raise ValueError("--scheduler needs --engine dask")
    if jobs == 1:
        return _InProcess()
    import multiprocessing

    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))


# --------------------------------------------------------------------------- the run

@dataclass
class RunSummary:
    """What a run did: documents, tables and their rows, timings and peak memory (also in manifest.json)."""

    out: str
    documents: int = 0
    articles: int = 0
    chunks: int = 0
    tables: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    peak_rss_mb: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Return the summary as plain JSON-ready data."""
        return dataclasses.asdict(self)


def _chunks(path: Path, chunk_size: int, max_bytes: int, text_column: str | None) -> Iterator[list[_Read]]:
    """Yield the corpus in lists of ``chunk_size`` records; a repeated doc_id becomes a reject, as in load_corpus."""
    seen: set[str] = set()
    batch: list[_Read] = []
    for rec in iter_documents(path, max_bytes=max_bytes, text_column=text_column):
        if rec.text is not None:
            if rec.doc_id in seen:
                rec.text, rec.reason = None, f"duplicate doc_id '{rec.doc_id}' (ids must be unique)"
            else:
                seen.add(rec.doc_id)
        batch.append(rec)
        if len(batch) >= chunk_size:
            yield batch
            batch = []
    if batch:
        yield batch


class _MetadataLookup:
    """The ``metadata.csv`` rows of a folder corpus, cut down to those each chunk needs."""

    def __init__(self, root: Path):
        self.meta = read_metadata(root) if root.is_dir() else None
        self.rows: dict[tuple[str, str], list[int]] = {}
        if self.meta is not None and len(self.meta):
            for i, (d, f) in enumerate(zip(self.meta["_dir"], self.meta["file"])):
                self.rows.setdefault((d, f), []).append(i)

    def for_chunk(self, records: list[_Read]) -> pd.DataFrame | None:
        """Return the rows for these records (plus the first row, so the columns are always joined)."""
        if self.meta is None:
            return None
        if not len(self.meta):
            return self.meta
        wanted = {0}
        for r in records:
            p = Path(r.source)
            wanted.update(self.rows.get((str(p.parent), p.name), ()))
        return self.meta.iloc[sorted(wanted)].reset_index(drop=True)


def _count_inputs(path: Path) -> int | None:
    """Return how many documents the corpus holds when that is cheap to know (for the progress bar)."""
    from corelib.corpus import METADATA_NAME, TABLE_SUFFIXES, _iter_files

    if path.is_dir():
        files = [p for p in _iter_files(path) if p.name != METADATA_NAME]
        if any(p.suffix.lower() in TABLE_SUFFIXES for p in files):
            return None
        return len(files)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def _prepare_out(out: Path, overwrite: bool) -> None:
    if (out / MANIFEST).exists() or any(out.glob("*/part-*.parquet")):
        if not overwrite:
            raise ValueError(f"{out} already holds pipeline output: pass overwrite=True (--overwrite) to replace it")
        for part in out.glob("*/part-*.parquet"):
            part.unlink()
        (out / MANIFEST).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def run(corpus: str | Path, out: str | Path, stages: Iterable[str] | None = None, jobs: int = 1,
        chunk_size: int = DEFAULT_CHUNK_SIZE, engine: str = "local", scheduler: str | None = None,
        options: dict | None = None, progress: bool = True, overwrite: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES, text_column: str | None = None) -> RunSummary:
    """Run the stages over a corpus in chunks and write partitioned Parquet tables to ``out``; return a summary.

    ``jobs`` worker processes (0: all cores); ``engine="dask"`` runs on the Dask cluster at
    ``scheduler`` or on a local cluster of ``jobs`` worker processes.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    jobs = (os.cpu_count() or 1) if jobs == 0 else jobs
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1 (or 0 for all cores), got {jobs}")
    path, out = Path(corpus), Path(out)
    if not path.exists():
        raise CorpusError(f"corpus path does not exist: {path}")
    chosen = resolve_stages(stages)
    names = tuple(s.name for s in chosen)
    options = dict(options or {})
    _prepare_out(out, overwrite)
    summary = RunSummary(out=str(out), options={"stages": list(names), "jobs": jobs, "chunk_size": chunk_size,
                                                "engine": engine, "scheduler": scheduler or "",
                                                "corpus": str(path), **_jsonable(options)})
    started = time.perf_counter()
    meta = _MetadataLookup(path)
    index = DuplicateIndex()
    worker_seconds: dict[str, float] = {}
    worker_peak = 0.0
    window = 2 * jobs + 1
    pool = _engine(engine, jobs, scheduler)
    try:
        from tqdm.auto import tqdm

        bar = tqdm(total=_count_inputs(path), unit="doc", desc="corelib run", disable=not progress,
                   mininterval=0.5, smoothing=0.1, file=sys.stderr)
        chunks = enumerate(_chunks(path, chunk_size, max_bytes, text_column))
        signing: deque = deque()
        working: deque = deque()
        exhausted = False
        while True:
            while not exhausted and len(signing) + len(working) < window:
                nxt = next(chunks, None)
                if nxt is None:
                    exhausted = True
                    break
                i, records = nxt
                signing.append((i, records, pool.submit(chunk_signatures, records)))
            if signing and (not working or signing[0][2].done()):
                i, records, fut = signing.popleft()
                dups = {doc_id: index.add(doc_id, key, mh) for doc_id, key, mh in fut.result()}
                task = ChunkTask(index=i, records=records, root=str(path), out=str(out), stages=names,
                                 duplicate_of={k: v for k, v in dups.items() if v},
                                 metadata=meta.for_chunk(records), options=options)
                working.append(pool.submit(process_chunk, task))
                continue
            if working:
                res: ChunkResult = working.popleft().result()
                summary.chunks += 1
                summary.documents += res.n_records
                summary.articles += res.n_articles
                for name, n in res.rows.items():
                    summary.tables[name] = summary.tables.get(name, 0) + n
                for name, s in res.seconds.items():
                    worker_seconds[name] = worker_seconds.get(name, 0.0) + s
                worker_peak = max(worker_peak, res.peak_rss_mb)
                bar.update(res.n_records)
                bar.set_postfix(articles=summary.articles, rejects=summary.tables.get("rejects", 0), refresh=False)
                continue
            if exhausted:
                break
        bar.close()
        model_stages = [s for s in chosen if s.kind == "model"]
        if model_stages:
            worker_seconds.update(_run_models(model_stages, pool, out, summary, options, progress))
    finally:
        if isinstance(pool, ProcessPoolExecutor):
            pool.shutdown(cancel_futures=True)
        else:
            pool.close()
    for table in sorted(summary.tables):
        unify_partitions(out / table)
    summary.seconds = {"total": round(time.perf_counter() - started, 3),
                       **{k: round(v, 3) for k, v in sorted(worker_seconds.items())}}
    summary.peak_rss_mb = {"main": peak_rss_mb(), "worker": worker_peak if jobs > 1 or engine == "dask" else 0.0}
    _write_manifest(out, summary)
    return summary


def _run_models(stages: list[Stage], pool, out: Path, summary: RunSummary, options: dict,
                progress: bool) -> dict[str, float]:
    """Fit each model stage on a seeded sample of the written articles, then apply it to every partition."""
    seconds = {}
    for stage in stages:
        t0 = time.perf_counter()
        sample = sample_articles(out, int(options.get(f"{stage.name}_sample", 20000)),
                                 seed=int(options.get("seed", 0)))
        model = stage.fit(sample, options)
        parts = sorted((out / "articles").glob("part-*.parquet"))
        futures = [pool.submit(apply_model, stage.name, model, str(p), str(out), options) for p in parts]
        for fut in futures:
            for name, n in fut.result().items():
                summary.tables[name] = summary.tables.get(name, 0) + n
        seconds[stage.name] = time.perf_counter() - t0
    return seconds


def apply_model(stage_name: str, model, partition: str, out: str, options: dict) -> dict[str, int]:
    """Apply a fitted model stage to one written articles partition; write its tables; return their rows."""
    stage = {s.name: s for s in STAGES}[stage_name]
    index = int(Path(partition).stem.split("-")[1])
    articles = pd.read_parquet(partition)
    produced = stage.run(articles, {}, {**options, "model": model})
    rows = {}
    for name, df in produced.items():
        write_partition(df, out, name, index)
        rows[name] = len(df)
    return rows


def sample_articles(out: str | Path, n: int, seed: int = 0, columns: list[str] | None = None) -> pd.DataFrame:
    """Return a seeded sample of ``n`` written articles (the same whatever the chunking), sorted by doc_id."""
    ids = read_table(out, "articles", columns=["doc_id"])["doc_id"]
    ranked = sorted(ids, key=lambda d: hashlib.blake2b(f"{seed}:{d}".encode("utf-8"), digest_size=8).digest())
    keep = set(ranked[:n])
    frames = []
    for part in sorted((Path(out) / "articles").glob("part-*.parquet")):
        df = pd.read_parquet(part, columns=columns)
        frames.append(df[df["doc_id"].isin(keep)])
    return sort_table(pd.concat(frames, ignore_index=True))


def _jsonable(options: dict) -> dict:
    return {k: v if isinstance(v, (str, int, float, bool, type(None), list)) else repr(v) for k, v in options.items()}


def _write_manifest(out: Path, summary: RunSummary) -> None:
    data = summary.to_dict()
    data["tables"] = {name: {"rows": rows, "path": f"{name}/",
                             "partitions": len(list((out / name).glob("part-*.parquet")))}
                      for name, rows in sorted(summary.tables.items())}
    from corelib import __version__

    data["corelib_version"] = __version__
    (out / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
