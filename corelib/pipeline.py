"""Run every analysis over a corpus of any size: in chunks with bounded memory, on all cores, or on Dask.

The corpus is streamed (``corpus.iter_documents``) in chunks of ``chunk_size`` documents. Each chunk
goes through two tasks, run in this process (``jobs=1``), in worker processes (``jobs=N``) or on a
Dask cluster (``engine="dask"``):

1. ``chunk_signatures``: the duplicate signature of every text. This process feeds them, in corpus
   order, to one ``corpus.DuplicateIndex`` (signatures only, never texts), so ``duplicate_of``
   is what ``load_corpus`` gives on the whole corpus, before any stage looks at it.
2. ``process_chunk``: parse the chunk and run every per-chunk stage of the registry on it, each a
   function of the parsed chunk (plus the tables of earlier stages) returning DataFrames; every
   table is written as one partition ``OUT/<table>/part-<chunk>.parquet``, sorted by doc_id, start, end.

Then, in registry order, the corpus-level steps: ``finalize`` hooks that need every chunk (one
``speaker_id`` per person across the corpus, stance per speaker), ``sample`` stages that summarise
a seeded sample of the articles (keyness by outlet), and ``model`` stages fitted on that sample
and then applied, in parallel, to fixed groups of ``MODEL_GROUP`` consecutive articles (topics).

The output folder holds one partitioned Parquet dataset per table, which ``pandas.read_parquet``,
DuckDB (``read_parquet('OUT/quotes/*.parquet')``) and ``dask.dataframe.read_parquet`` read
directly, and ``manifest.json``. The results do not depend on ``chunk_size``, ``jobs`` or the engine.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import json
import os
import pickle
import resource
import sys
import time
from collections import deque
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd

from corelib.corpus import (DEFAULT_MAX_BYTES, CorpusError, DuplicateIndex, _Read, corpus_from_records,
                            duplicate_signature, iter_documents, read_metadata)
from corelib.parse import (ARTICLE_COLUMNS, DATE_COLUMNS, PARAGRAPH_COLUMNS, REJECT_COLUMNS, SENTENCE_COLUMNS,
                           Parsed, parse_documents)
from corelib.tables import flatten

DEFAULT_CHUNK_SIZE = 500
DEFAULT_SAMPLE = 20000   # articles in the seeded sample that sample and model stages are fitted on
MODEL_GROUP = 2000       # consecutive articles (in corpus order) a fitted model is applied to at once
SAME_ERROR_LIMIT = 3      # articles failing alone as their chunk did before a stage counts as broken there
SORT_KEYS = ("doc_id", "start", "end")
MANIFEST = "manifest.json"
ENGINES = ("local", "dask")
PARSE_TABLES = {"articles": ARTICLE_COLUMNS, "paragraphs": PARAGRAPH_COLUMNS, "sentences": SENTENCE_COLUMNS,
                "dates": DATE_COLUMNS}


# --------------------------------------------------------------------------- stage registry

@dataclass(frozen=True)
class Stage:
    """One pipeline step and the library function it calls (``module.attr``: the stage is available
    only when that module exists and exposes it).

    ``kind`` says when ``run`` is called:

    - ``"chunk"``: ``run(parsed, tables, options) -> {table: DataFrame}`` on every chunk, where
      ``tables`` holds the tables of earlier stages for the same chunk (``needs`` names those stages);
    - ``"sample"``: ``run(sample, {}, options)`` once, on a ``Parsed`` seeded sample of the articles;
    - ``"model"``: ``fit(sample, options) -> model`` once, then ``run(group, {}, {..., "model": model})``
      on fixed groups of consecutive articles (independent of the chunking), in parallel;
      ``describe(model) -> {table: DataFrame}`` gives the tables of the model itself.

    Sample and model stages read back only the parse tables named in ``reads``.

    ``finalize(out, options) -> {table: rows}`` runs once after every chunk is written, for the
    parts of a stage that need the whole corpus.
    """

    name: str
    module: str
    attr: str
    run: Callable[[Parsed, dict, dict], dict]
    tables: tuple[str, ...]
    needs: tuple[str, ...] = ()
    kind: str = "chunk"
    fit: Callable[[Parsed, dict], object] | None = None
    describe: Callable[[object], dict] | None = None
    reads: tuple[str, ...] = ("articles", "paragraphs", "sentences", "dates")
    finalize: Callable[[Path, dict], dict] | None = None
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


def _run_quotes(parsed: Parsed, tables: dict, options: dict) -> dict:
    from corelib import quotes

    return {"quotes": quotes.extract(parsed)}


def _link_speakers(out: Path, options: dict) -> dict:
    """One speaker_id per person across the corpus (quotes links variants of a name only within a chunk)."""
    from corelib import quotes

    ids = set()
    tables = [t for t in ("quotes", "stance_quotes") if (out / t).is_dir()]
    for table in tables:
        for part in _partitions(out, table):
            ids.update(i for i in pd.read_parquet(part, columns=["speaker_id"])["speaker_id"].dropna() if i)
    rows = [{"speaker_id": i} for i in sorted(ids)]
    quotes._link_person_ids(rows)
    mapping = {i: r["speaker_id"] for i, r in zip(sorted(ids), rows) if r["speaker_id"] != i}
    if mapping:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for table in tables:
            for part in _partitions(out, table):
                data = pq.read_table(part)
                column = data.schema.get_field_index("speaker_id")
                old = data.column(column).to_pylist()
                if any(i in mapping for i in old):
                    new = pa.array([mapping.get(i, i) for i in old], type=data.schema.field(column).type)
                    pq.write_table(data.set_column(column, data.schema.field(column), new), part)
    return {}


def _run_entities(parsed: Parsed, tables: dict, options: dict) -> dict:
    from corelib import actors

    return {"entities": actors.extract(parsed)}


def _run_events(parsed: Parsed, tables: dict, options: dict) -> dict:
    from corelib import events

    return {"events": events.extract(parsed, mentions=tables.get("entities"))}


def _run_stance(parsed: Parsed, tables: dict, options: dict) -> dict:
    from corelib import stance

    target = options.get("target") or stance.DEFAULT_TARGET
    sentences = stance.tag_sentences(parsed, target)
    quotes = stance.tag_quotes(parsed, tables["quotes"], target)
    return {"stance_sentences": sentences, "stance_quotes": quotes,
            "stance_articles": stance.tag_articles(parsed, sentences, quotes, target)}


def _speaker_key(quotes: pd.DataFrame) -> pd.Series:
    """The key stance.tag_speakers groups quotations by: speaker_id, else the speaker's name."""
    key = quotes["speaker_id"].fillna("").astype(str)
    name = quotes["speaker"].fillna("").astype(str)
    return pd.Series([k if k.strip() else (n.strip() or "(unknown)") for k, n in zip(key, name)],
                     index=quotes.index, dtype=object)


def _stance_speakers(out: Path, options: dict, rows_per_pass: int = 100_000) -> dict:
    """Stance per speaker over all their quotations in the corpus, a slice of the speakers at a time
    (every quotation of a speaker is in the same slice, so the result is that of one call on all).

    The quotations are read once and, when there is more than one slice, spread over one temporary
    folder per slice, so memory holds one slice and the table is not read again for every slice."""
    import shutil

    import numpy as np
    import pyarrow.parquet as pq

    from corelib import stance

    target = options.get("target") or stance.DEFAULT_TARGET
    parts = _partitions(out, "stance_quotes")
    total = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
    passes = max(1, -(-total // rows_per_pass))
    wanted = stance.speaker_columns(target)
    # the partitions share one schema (unify_partitions runs before the corpus steps)
    columns = [c for c in wanted if c in pq.read_schema(parts[0]).names] if parts else wanted
    encoded = _json_columns(parts[0]) if parts else []
    spill = out / "_speaker_slices"
    slices: list[list] = [[] for _ in range(passes)]  # per slice: frames (one slice) or spilled files
    try:
        for i, part in enumerate(parts):
            df = pd.read_parquet(part, columns=columns)
            if passes == 1:
                slices[0].append(df)
                continue
            bucket = np.array([_bucket(k, passes) for k in _speaker_key(df)], dtype=np.int64)
            for b in range(passes):
                piece = df[bucket == b]
                if len(piece):
                    path = spill / str(b) / f"{i:05d}.parquet"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    piece.to_parquet(path, index=False)
                    slices[b].append(path)
        frames = []
        for pieces in slices:
            if passes > 1:
                pieces = [pd.read_parquet(path) for path in pieces]
            if pieces:
                frames.append(stance.tag_speakers(_decode_json(pd.concat(pieces, ignore_index=True), encoded), target))
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    speakers = pd.concat(frames, ignore_index=True).sort_values("speaker_id", kind="stable") if frames else \
        stance.tag_speakers(pd.DataFrame(columns=wanted), target)
    write_partition(speakers, out, "stance_speakers", 0)
    return {"stance_speakers": len(speakers)}


def _bucket(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest(), "big") % n


def _run_keywords(sample: Parsed, tables: dict, options: dict) -> dict:
    from corelib import keywords

    by = options.get("by", "outlet")
    top = int(options.get("keywords_top", 20))
    tm = keywords.term_matrix(sample, "document", keywords.Tokenizer())  # counted once for both tables
    return {"group_terms": keywords.top_terms(sample, by=by, top=top, tm=tm),
            "keyness": keywords.keyness_by_group(sample, by=by, top=top, tm=tm)}


def _fit_topics(sample: Parsed, options: dict):
    from corelib import topics

    return topics.fit_topics(sample, k=options.get("topics_k", 10), random_state=int(options.get("seed", 0)))


def _run_topics(group: Parsed, tables: dict, options: dict) -> dict:
    from corelib import topics

    model = options["model"]
    paragraphs = model.transform(group)
    return {"paragraph_topics": paragraphs,
            "document_topics": topics.document_topics(model, paragraphs=paragraphs, parsed=group)}


def _topic_terms(model) -> dict:
    from corelib import topics

    return {"topic_terms": topics.top_terms_table(model)}


STAGES: list[Stage] = [
    Stage("parse", "corelib.parse", "parse_documents", _run_parse, tuple(PARSE_TABLES),
          help="articles, paragraphs, sentences and date mentions (always run)"),
    Stage("quotes", "corelib.quotes", "extract", _run_quotes, ("quotes",), finalize=_link_speakers,
          help="quotations and their speakers"),
    Stage("entities", "corelib.actors", "extract", _run_entities, ("entities",),
          help="mentions of actors and places"),
    Stage("events", "corelib.events", "extract", _run_events, ("events",), needs=("entities",),
          help="attacks, operations and casualties"),
    Stage("stance", "corelib.stance", "tag_articles", _run_stance,
          ("stance_sentences", "stance_quotes", "stance_articles", "stance_speakers"), needs=("quotes",),
          finalize=_stance_speakers, help="stance per sentence, quotation, article and speaker"),
    Stage("keywords", "corelib.keywords", "keyness_by_group", _run_keywords, ("group_terms", "keyness"),
          kind="sample", reads=("articles", "paragraphs"), help="key terms and keyness by outlet, on the seeded sample"),
    Stage("topics", "corelib.topics", "fit_topics", _run_topics,
          ("topic_terms", "paragraph_topics", "document_topics"), kind="model", fit=_fit_topics,
          describe=_topic_terms, reads=("articles", "paragraphs"),
          help="topic model fitted on the seeded sample, applied to every paragraph"),
]


def stage_names(available_only: bool = True) -> list[str]:
    """Return the names of the registered stages (only those whose module exists, by default)."""
    return [s.name for s in STAGES if not available_only or s.available()]


def resolve_stages(names: Iterable[str] | None = None) -> list[Stage]:
    """Return the stages to run, in registry order, with the stages they need; all available ones by default."""
    by_name = {s.name: s for s in STAGES}
    if names is None:
        names = [s.name for s in STAGES if s.available() and all(by_name[n].available() for n in s.needs)]
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


# --------------------------------------------------------------------------- tables on disk

JSON_KEY = b"corelib.json_columns"


def sort_table(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` sorted by doc_id, start, end (those present; stable), with a fresh index."""
    keys = [k for k in SORT_KEYS if k in df.columns]
    if keys and len(df):
        df = df.sort_values(keys, kind="stable")
    return df.reset_index(drop=True)


def _write_parquet(df: pd.DataFrame, path: Path, json_columns: Iterable[str] = ()) -> list[str]:
    """Write ``df`` (list/dict cells as JSON text, noted in the schema metadata); return the JSON columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    flat = flatten(df)
    encoded = sorted(set(json_columns) | {c for c in df.columns if df[c].dtype == object and
                                          df[c].map(lambda v: isinstance(v, (list, tuple, dict))).any()})
    try:
        table = pa.Table.from_pandas(flat, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # a column mixing numbers and text is written as text rather than failing the batch
        for col in flat.columns:
            if flat[col].dtype == object:
                flat[col] = flat[col].map(lambda v: v if v is None or isinstance(v, str) else str(v))
        table = pa.Table.from_pandas(flat, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[JSON_KEY] = json.dumps(encoded).encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path)
    return encoded


def _json_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta.get(JSON_KEY, b"[]"))


def write_partition(df: pd.DataFrame, out: str | Path, table: str, index: int) -> Path:
    """Write one sorted partition ``out/table/part-<index>.parquet`` and return its path."""
    folder = Path(out) / table
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"part-{index:05d}.parquet"
    _write_parquet(sort_table(df), path)
    return path


def _partitions(out: str | Path, table: str) -> list[Path]:
    return sorted((Path(out) / table).glob("part-*.parquet"))


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
    encoded = sorted({c for f in files for c in _json_columns(f)})
    for path, schema, plain in zip(files, schemas, bare):
        if plain.equals(target) and _json_columns(path) == encoded:
            continue
        table = pq.read_table(path)
        columns = [table.column(f.name).cast(f.type) if f.name in table.column_names
                   else pa.nulls(len(table), f.type) for f in target]
        meta = dict(schema.metadata or {})
        meta[JSON_KEY] = json.dumps(encoded).encode("utf-8")
        pq.write_table(pa.Table.from_arrays(columns, schema=target.with_metadata(meta)), path)


def _unify_all(out: Path) -> None:
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        unify_partitions(folder)


def read_table(out: str | Path, table: str, columns: list[str] | None = None, decode: bool = True,
               partitions: Iterable[int] | None = None, doc_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """Return a table of a pipeline output folder as one DataFrame (partitions in chunk order).

    ``decode`` turns the JSON text of list/dict columns back into lists and dicts; ``doc_ids`` keeps
    only those articles' rows (before decoding, a partition at a time).
    """
    files = _partitions(out, table)
    if partitions is not None:
        wanted = {f"part-{i:05d}.parquet" for i in partitions}
        files = [f for f in files if f.name in wanted]
    if not files and partitions is None:
        raise FileNotFoundError(f"no table '{table}' in {out} (expected {Path(out) / table}/part-*.parquet)")
    keep = None if doc_ids is None else (doc_ids if isinstance(doc_ids, (set, frozenset)) else set(doc_ids))
    frames = [_rows_of(pd.read_parquet(f, columns=columns), keep) for f in files]
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns or [])
    return _decode_json(df, _json_columns(files[0])) if decode and files else df


def _rows_of(df: pd.DataFrame, keep: set | frozenset | None) -> pd.DataFrame:
    """The rows of ``df`` whose doc_id is in ``keep`` (all when None): a set look-up per row, because
    Series.isin is slow on Arrow text with many values."""
    return df if keep is None else df[[d in keep for d in df["doc_id"].tolist()]]


def _decode_json(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Return ``df`` with the JSON text of list/dict columns turned back into lists and dicts."""
    for col in columns:
        if col in df.columns:
            df = df.assign(**{col: df[col].map(lambda v: json.loads(v) if isinstance(v, str) else v)})
    return df


def load_parsed(out: str | Path, doc_ids: Iterable[str] | None = None,
                partitions: Iterable[int] | None = None, tables: Iterable[str] = tuple(PARSE_TABLES)) -> Parsed:
    """Return a ``Parsed`` rebuilt from a pipeline output (all articles, or only ``doc_ids``), sorted by doc_id.

    Partitions are read one at a time, so a sample of a large output needs memory for the sample only;
    parse tables not in ``tables`` stay empty.
    """
    keep = None if doc_ids is None else set(doc_ids)
    parts = sorted(set(partitions)) if partitions is not None else \
        [int(p.stem.split("-")[1]) for p in _partitions(out, "articles")]
    frames = {}
    for table, columns in PARSE_TABLES.items():
        pieces = []
        for i in (parts if table in tables else []):  # one partition at a time: memory for the rows kept
            pieces.append(read_table(out, table, partitions=[i], doc_ids=keep))
        df = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame()
        frames[table] = sort_table(df) if len(df) else pd.DataFrame(columns=columns)
    return Parsed(rejects=pd.DataFrame(columns=REJECT_COLUMNS), **frames)


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
    """What a worker reports back: rows per table, wall and CPU seconds per stage, its peak memory, the articles
    in order."""

    index: int
    n_records: int
    rows: dict
    seconds: dict
    cpu_seconds: dict
    peak_rss_mb: float
    positions: list  # (position of the record in the chunk, doc_id) of every article


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
        return _rows_of(df, keep).reset_index(drop=True) if "doc_id" in df.columns else df

    sub = Parsed(articles=cut(parsed.articles), paragraphs=cut(parsed.paragraphs), sentences=cut(parsed.sentences),
                 dates=cut(parsed.dates), rejects=parsed.rejects.iloc[0:0])
    return sub, {name: cut(df) for name, df in tables.items()}


def run_stage(stage: Stage, parsed: Parsed, tables: dict, options: dict) -> tuple[dict, list[dict]]:
    """Run a stage on a parsed chunk; if it fails, run it article by article: the article that makes it
    fail is rejected with the reason, the others go on. Returns (tables, reject rows)."""
    try:
        return stage.run(parsed, tables, options), []
    except Exception as exc:
        chunk_error = f"{type(exc).__name__}: {exc}"
    parts: list[dict] = []
    bad = []
    sources = dict(zip(parsed.articles["doc_id"], parsed.articles["source"]))
    for doc_id in parsed.articles["doc_id"]:
        if len(bad) >= SAME_ERROR_LIMIT and not parts and all(b["_error"] == chunk_error for b in bad):
            # the first articles all fail as the whole chunk did (a broken data file, say): the stage
            # cannot run here, so the other articles get the same reason without trying each one
            bad.append({"doc_id": doc_id, "source": sources.get(doc_id, ""), "_error": chunk_error})
            continue
        sub, sub_tables = _subset(parsed, tables, [doc_id])
        try:
            parts.append(stage.run(sub, sub_tables, options))
        except Exception as exc:
            bad.append({"doc_id": doc_id, "source": sources.get(doc_id, ""),
                        "_error": f"{type(exc).__name__}: {exc}"})
    bad = [{"doc_id": b["doc_id"], "source": b["source"], "reason": f"{stage.name} error: {b['_error']}"}
           for b in bad]
    if not parts:
        return {t: pd.DataFrame({"doc_id": pd.Series(dtype=str)}) for t in stage.tables}, bad
    return {t: pd.concat([p[t] for p in parts], ignore_index=True) for t in parts[0]}, bad


class _Stopwatch:
    """Wall-clock and CPU seconds per named step (CPU time is what a busy machine does not inflate)."""

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str):
        w, c = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - w
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - c


def process_chunk(task: ChunkTask) -> ChunkResult:
    """Parse one chunk, run its per-chunk stages and write one partition per table; return a summary."""
    import gc

    # a chunk builds millions of small objects and frees them together: the cyclic collector runs once
    # per chunk instead of thousands of times during it (memory is bounded by the chunk either way)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _process_chunk(task)
    finally:
        if collecting:
            gc.enable()
            gc.collect()


def _process_chunk(task: ChunkTask) -> ChunkResult:
    clock = _Stopwatch()
    with clock("load"):
        corpus = corpus_from_records(task.records, Path(task.root), duplicates=False, metadata=task.metadata)
        if len(corpus.docs):
            corpus.docs["duplicate_of"] = [task.duplicate_of.get(d, "") for d in corpus.docs["doc_id"]]
    with clock("parse"):
        parsed = parse_documents(corpus.docs.to_dict("records"), corpus.rejects)
    by_name = {s.name: s for s in STAGES}
    tables = _run_parse(parsed, {}, task.options)
    rejects = [parsed.rejects]
    for name in task.stages:
        stage = by_name[name]
        if name == "parse" or stage.kind != "chunk":
            continue
        with clock(name):
            produced, bad = run_stage(stage, parsed, tables, task.options)
        tables.update(produced)
        if bad:
            rejects.append(pd.DataFrame(bad, columns=REJECT_COLUMNS))
    rows = {}
    with clock("write"):
        tables["rejects"] = pd.concat(rejects, ignore_index=True)
        for name, df in tables.items():
            write_partition(df, task.out, name, task.index)
            rows[name] = len(df)
    parsed_ids = set(parsed.articles["doc_id"])
    position = {r.doc_id: i for i, r in enumerate(task.records) if r.text is not None}
    return ChunkResult(index=task.index, n_records=len(task.records), rows=rows, seconds=clock.wall,
                       cpu_seconds=clock.cpu, peak_rss_mb=peak_rss_mb(),
                       positions=[(position[d], d) for d in corpus.docs["doc_id"] if d in parsed_ids])


@lru_cache(maxsize=4)
def _load_model(path: str, stamp: float):
    with open(path, "rb") as fh:
        return pickle.load(fh)


def sample_task(stage_name: str, out: str, doc_ids: list[str], partitions: list[int], options: dict) -> dict:
    """Run a sample stage, or fit a model stage, on the seeded sample read back from ``out``; write its tables.

    Returns {"rows": {table: rows}, "seconds": seconds, "model_path": path of the pickled model or ""}.
    """
    t0 = time.perf_counter()
    stage = {s.name: s for s in STAGES}[stage_name]
    sample = load_parsed(out, doc_ids=doc_ids, partitions=partitions, tables=stage.reads)
    model_path = ""
    if stage.kind == "sample":
        produced = stage.run(sample, {}, options)
    else:
        model = stage.fit(sample, options)
        del sample
        folder = Path(out) / "models"
        folder.mkdir(exist_ok=True)
        model_path = str(folder / f"{stage.name}.pkl")
        with open(model_path, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        produced = stage.describe(model) if stage.describe is not None else {}
    for name, df in produced.items():
        write_partition(df, out, name, 0)
    return {"rows": {name: len(df) for name, df in produced.items()}, "seconds": time.perf_counter() - t0,
            "model_path": model_path}


def apply_model(stage_name: str, model_path: str, group: int, doc_ids: list[str], partitions: list[int],
                out: str, options: dict) -> dict:
    """Apply a fitted model stage to one group of articles read back from ``out``; write its tables.

    Returns {"rows": {table: rows}, "seconds": seconds}.
    """
    t0 = time.perf_counter()
    stage = {s.name: s for s in STAGES}[stage_name]
    model = _load_model(model_path, os.path.getmtime(model_path))
    parsed = load_parsed(out, doc_ids=doc_ids, partitions=partitions, tables=stage.reads)
    produced, _ = run_stage(stage, parsed, {}, {**options, "model": model})
    rows = {}
    for name, df in produced.items():
        write_partition(df, out, name, group)
        rows[name] = len(df)
    return {"rows": rows, "seconds": time.perf_counter() - t0}


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


class _LocalPool:
    """Worker processes on this machine (spawned, so nothing depends on fork)."""

    def __init__(self, jobs: int):
        import multiprocessing

        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn, *args) -> Future:
        return self.pool.submit(fn, *args)

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class _DaskEngine:
    """Tasks on a Dask cluster: an existing one (``scheduler`` address) or a local cluster of processes."""

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
                                        dashboard_address=":0", silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        self.n = 0
        # tasks in flight follow the cluster's size: its worker threads
        self.slots = max(1, sum(w.get("nthreads", 1) for w in self.client.scheduler_info()["workers"].values()))

    def submit(self, fn, *args):
        self.n += 1
        return self.client.submit(fn, *args, pure=False, key=f"corelib-{fn.__name__}-{os.getpid()}-{self.n}")

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
    return _InProcess() if jobs == 1 else _LocalPool(jobs)


# --------------------------------------------------------------------------- the run

@dataclass
class RunSummary:
    """What a run did: documents, rows per table, seconds per stage, peak memory (also in manifest.json)."""

    out: str
    documents: int = 0
    articles: int = 0
    chunks: int = 0
    tables: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    cpu_seconds: dict = field(default_factory=dict)  # CPU time of the per-chunk stages, summed over chunks
    peak_rss_mb: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

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
        if self.meta is None or not len(self.meta):
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
        return None if any(p.suffix.lower() in TABLE_SUFFIXES for p in files) else len(files)
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
        for model in out.glob("models/*.pkl"):
            model.unlink()
        (out / MANIFEST).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)


def _add(counter: dict, items: dict) -> None:
    for k, v in items.items():
        counter[k] = counter.get(k, 0) + v


def run(corpus: str | Path, out: str | Path, stages: Iterable[str] | None = None, jobs: int = 1,
        chunk_size: int = DEFAULT_CHUNK_SIZE, engine: str = "local", scheduler: str | None = None,
        options: dict | None = None, progress: bool = True, overwrite: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES, text_column: str | None = None) -> RunSummary:
    """Run the stages over a corpus in chunks and write partitioned Parquet tables to ``out``; return a summary.

    ``jobs`` worker processes (0: all cores); ``engine="dask"`` runs on the Dask cluster at
    ``scheduler`` or on a local cluster of ``jobs`` worker processes. ``options``: ``target``
    (stance codebook), ``seed``, ``sample`` (articles for sample and model stages, default
    ``DEFAULT_SAMPLE``), ``by`` (group column for keywords, default outlet), ``topics_k``.
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
    options = {"seed": 0, "sample": DEFAULT_SAMPLE, **(options or {})}
    _prepare_out(out, overwrite)
    summary = RunSummary(out=str(out), options={"stages": list(names), "jobs": jobs, "chunk_size": chunk_size,
                                                "engine": engine, "scheduler": scheduler or "",
                                                "corpus": str(path), **_jsonable(options)})
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    peaks = {"worker": 0.0}
    positions: list[tuple[int, str, int]] = []
    pool = _engine(engine, jobs, scheduler)
    try:
        for res in _first_pass(pool, path, out, names, options, jobs, chunk_size, max_bytes, text_column, progress):
            summary.chunks += 1
            summary.documents += res.n_records
            summary.articles += len(res.positions)
            _add(summary.tables, res.rows)
            _add(seconds, res.seconds)
            _add(cpu, res.cpu_seconds)
            peaks["worker"] = max(peaks["worker"], res.peak_rss_mb)
            positions.extend((res.index * chunk_size + i, d, res.index) for i, d in res.positions)
        _unify_all(out)
        if summary.articles:
            _corpus_steps(chosen, pool, out, options, positions, summary, seconds)
        _unify_all(out)
    finally:
        pool.close()
    summary.seconds = {"total": round(time.perf_counter() - started, 3),
                       **{k: round(v, 3) for k, v in sorted(seconds.items())}}
    summary.cpu_seconds = {k: round(v, 3) for k, v in sorted(cpu.items())}
    summary.peak_rss_mb = {"main": peak_rss_mb(), "worker": peaks["worker"] if not isinstance(pool, _InProcess) else 0.0}
    _write_manifest(out, summary)
    return summary


def _first_pass(pool, path: Path, out: Path, names: tuple, options: dict, jobs: int, chunk_size: int,
                max_bytes: int, text_column: str | None, progress: bool) -> Iterator[ChunkResult]:
    """Stream the corpus through signatures, duplicates and ``process_chunk``; yield results in chunk order."""
    from tqdm.auto import tqdm

    meta = _MetadataLookup(path)
    index = DuplicateIndex()
    window = 2 * getattr(pool, "slots", jobs) + 1
    chunks = enumerate(_chunks(path, chunk_size, max_bytes, text_column))
    signing: deque = deque()
    working: deque = deque()
    exhausted = False
    articles = rejects = 0
    with tqdm(total=_count_inputs(path), unit="doc", desc="corelib run", disable=not progress,
              mininterval=0.5, smoothing=0.1, file=sys.stderr) as bar:
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
            elif working:
                res: ChunkResult = working.popleft().result()
                articles += len(res.positions)
                rejects += res.rows.get("rejects", 0)
                bar.update(res.n_records)
                bar.set_postfix(articles=articles, rejects=rejects, refresh=False)
                yield res
            elif exhausted:
                return


def sample_ids(doc_ids: Iterable[str], n: int, seed: int = 0) -> list[str]:
    """Return the seeded sample of ``n`` doc_ids (the same whatever order or chunking they come in), sorted."""
    import heapq

    def rank(d: str) -> bytes:
        return hashlib.blake2b(f"{seed}:{d}".encode("utf-8"), digest_size=8).digest()

    return sorted(heapq.nsmallest(n, doc_ids, key=lambda d: (rank(d), d)))


def _corpus_steps(stages: list[Stage], pool, out: Path, options: dict, positions: list[tuple[int, str, int]],
                  summary: RunSummary, seconds: dict) -> None:
    """The corpus-level steps, after every chunk is written: the sample and model-fitting stages go to a
    worker (one after the other: each holds the sample in memory) while this process runs the finalize
    hooks; then every fitted model is applied to the groups of articles, in parallel."""
    chunk_of = {d: c for _, d, c in positions}
    ids = sample_ids(chunk_of, int(options["sample"]), int(options["seed"]))
    parts = sorted({chunk_of[d] for d in ids})
    on_sample = [s.name for s in stages if s.kind in ("sample", "model")]
    batch = pool.submit(sample_tasks, on_sample, str(out), ids, parts, options) if on_sample else None

    def attempt(stage: Stage, step, key: str) -> None:
        t0 = time.perf_counter()
        try:
            step()
        except Exception as exc:  # a corpus-level step that fails is reported; the chunk tables stay
            summary.notes.append(f"{stage.name}: {key} not completed: {type(exc).__name__}: {exc}")
        seconds[f"{stage.name} ({key})"] = round(time.perf_counter() - t0, 3)

    for stage in stages:
        if stage.finalize is not None:
            attempt(stage, lambda: _add(summary.tables, stage.finalize(out, options)), "corpus")
    results = batch.result() if batch is not None else {}
    for stage in stages:
        if stage.name not in results:
            continue
        res = results[stage.name]
        seconds[f"{stage.name} (sample)"] = round(res.get("seconds", 0.0), 3)
        if "error" in res:
            summary.notes.append(f"{stage.name}: sample not completed: {res['error']}")
            continue
        _add(summary.tables, res["rows"])
        if stage.kind == "model":
            attempt(stage, lambda: _apply_groups(stage, pool, out, options, positions, res["model_path"], summary,
                                                 seconds), "apply")


def sample_tasks(stage_names: list[str], out: str, doc_ids: list[str], partitions: list[int], options: dict) -> dict:
    """Run ``sample_task`` for each stage in turn; a stage that fails reports its error instead of rows."""
    results = {}
    for name in stage_names:
        t0 = time.perf_counter()
        try:
            results[name] = sample_task(name, out, doc_ids, partitions, options)
        except Exception as exc:
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - t0}
    return results


def _apply_groups(stage: Stage, pool, out: Path, options: dict, positions: list[tuple[int, str, int]],
                  model_path: str, summary: RunSummary, seconds: dict) -> None:
    """Apply a fitted model to groups of ``MODEL_GROUP`` consecutive articles (in corpus order), in parallel."""
    groups: dict[int, list[tuple[str, int]]] = {}
    for pos, doc_id, chunk in sorted(positions):
        groups.setdefault(pos // MODEL_GROUP, []).append((doc_id, chunk))
    futures = [pool.submit(apply_model, stage.name, model_path, g, [d for d, _ in members],
                           sorted({c for _, c in members}), str(out), options)
               for g, members in sorted(groups.items())]
    worker = 0.0
    for fut in futures:
        res = fut.result()
        _add(summary.tables, res["rows"])
        worker += res["seconds"]
    seconds[f"{stage.name} (apply, workers)"] = round(worker, 3)


def _jsonable(options: dict) -> dict:
    return {k: v if isinstance(v, (str, int, float, bool, type(None), list)) else repr(v) for k, v in options.items()}


def _write_manifest(out: Path, summary: RunSummary) -> None:
    from corelib import __version__

    data = summary.to_dict()
    data["tables"] = {name: {"rows": rows, "path": f"{name}/", "partitions": len(_partitions(out, name))}
                      for name, rows in sorted(summary.tables.items())}
    data["corelib_version"] = __version__
    (out / MANIFEST).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
