"""Time every stage on generated corpora of 10k and 100k articles, as ratios to TF-IDF, with peak memory.

For each size the runner (each measurement in a fresh process, so peak memory is its own):

1. generates the corpus once (``benchmarks/generate.py``: a folder of .txt files with metadata.csv);
2. times ``TfidfVectorizer().fit_transform`` on the same texts: the floor every ratio is relative to;
3. times ``load_corpus`` (read, decode, metadata, exact and near duplicates) and ``parse_documents``;
4. runs ``corelib run`` with one process (the seconds of every stage, summed over chunks), with two
   processes, and on a local Dask cluster of two worker processes, and reads their manifests.

    python benchmarks/run.py --sizes 10000,100000 --out benchmarks/results.json

``--profile N`` profiles the per-article stages on N articles (cProfile) and prints the hot spots.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PER_ARTICLE = ("parse", "quotes", "entities", "events", "stance")


def _child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python process; it prints one JSON object as its last line."""
    proc = subprocess.run([PYTHON, "-c", code, *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark step failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


_PEAK = """
def peak_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

TFIDF = _PEAK + """
import json, sys, time
from corelib.corpus import iter_documents
texts = [r.text for r in iter_documents(sys.argv[1]) if r.text is not None]
base = peak_mb()
from sklearn.feature_extraction.text import TfidfVectorizer
t, c = time.perf_counter(), time.process_time()
m = TfidfVectorizer().fit_transform(texts)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - c, "docs": len(texts), "terms": m.shape[1],
                  "peak_mb": peak_mb(), "texts_mb": base, "words": sum(len(x.split()) for x in texts)}))
"""

LOAD_PARSE = _PEAK + """
import json, sys, time
from corelib.corpus import load_corpus
from corelib.parse import parse_documents
t = time.perf_counter()
corpus = load_corpus(sys.argv[1])
load = time.perf_counter() - t
records = corpus.docs.to_dict("records")
t = time.perf_counter()
parsed = parse_documents(records, corpus.rejects)
parse = time.perf_counter() - t
print(json.dumps({"load": load, "parse": parse, "articles": len(parsed.articles), "peak_mb": peak_mb()}))
"""

RUN = """
import json, sys, time
from corelib import pipeline
if __name__ == "__main__":
    corpus, out, jobs, engine, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    stages = sys.argv[6].split(",") if len(sys.argv) > 6 and sys.argv[6] else None
    t = time.perf_counter()
    s = pipeline.run(corpus, out, stages=stages, jobs=jobs, engine=engine, chunk_size=chunk, progress=False,
                     overwrite=True)
    print(json.dumps({"wall": time.perf_counter() - t, **s.to_dict()}))
"""


def ensure_corpus(n: int, workdir: Path, seed: int = 0) -> Path:
    """Return the folder of the generated ``n``-article corpus, generating it the first time."""
    folder = workdir / f"generated-{n}-seed{seed}"
    stamp = folder / ".complete"
    if not stamp.exists():
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from generate import write_corpus

        t = time.perf_counter()
        write_corpus(n, folder, seed=seed)
        stamp.write_text(f"{n} articles in {time.perf_counter() - t:.1f} s\n")
    return folder


def pipeline_run(corpus: Path, out: Path, jobs: int, engine: str, chunk: int, stages: str) -> dict:
    """Return the summary of one ``pipeline.run`` in a fresh process (wall seconds, stage seconds, peaks)."""
    return _child(RUN, str(corpus), str(out), str(jobs), engine, str(chunk), stages)


def table_digests(out: Path) -> dict[str, str]:
    """SHA-256 of each table's Parquet partitions (bytes, in partition order) in a ``corelib run`` output."""
    import hashlib

    digests = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and p.name != "models"):
        h = hashlib.sha256()
        for part in sorted(folder.glob("part-*.parquet")):
            h.update(part.read_bytes())
        digests[folder.name] = h.hexdigest()[:16]
    return digests


def reference_run(runs: dict) -> str | None:
    """The run whose per-stage seconds the tables show: one process if it ran, else the first local run."""
    return "local-1" if "local-1" in runs else next((k for k in runs if k.startswith("local-")), None)


def measure(n: int, args: argparse.Namespace) -> dict:
    """Return every figure for one corpus size."""
    workdir = Path(args.workdir)
    corpus = ensure_corpus(n, workdir)
    res: dict = {"articles": n}
    log = lambda msg: print(f"[{n}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    # the floor and load+parse are measured alternately, best of --repeat, so that a busy machine
    # (other processes come and go) weighs on both alike
    tfidf, load_parse = [], []
    for _ in range(args.repeat):
        tfidf.append(_child(TFIDF, str(corpus)))
        load_parse.append(_child(LOAD_PARSE, str(corpus)))
    res["tfidf"] = min(tfidf, key=lambda r: r["seconds"])
    res["tfidf"]["all_seconds"] = [round(r["seconds"], 3) for r in tfidf]
    res["tfidf"]["cpu_seconds"] = min(r["cpu_seconds"] for r in tfidf)
    res["load_parse"] = {"load": min(r["load"] for r in load_parse), "parse": min(r["parse"] for r in load_parse),
                         "peak_mb": max(r["peak_mb"] for r in load_parse), "articles": load_parse[0]["articles"],
                         "all_load": [round(r["load"], 3) for r in load_parse],
                         "all_parse": [round(r["parse"], 3) for r in load_parse]}
    floor = res["tfidf"]["seconds"]
    lp = res["load_parse"]
    log(f"TF-IDF fit_transform: {floor:.1f} s; load {lp['load']:.1f} s, parse {lp['parse']:.1f} s (best of {args.repeat})")
    configs = [(f"local-{jobs}", jobs, "local") for jobs in args.jobs] + ([("dask-2", 2, "dask")] if args.dask else [])
    runs: dict = {}
    for r in range(args.rounds):  # rounds alternate the configurations; the best wall time of each is kept
        for name, jobs, engine in configs:
            got = pipeline_run(corpus, workdir / f"out-{n}-{name}", jobs, engine, args.chunk_size, args.stages)
            log(f"round {r + 1}: pipeline {name}: {got['wall']:.1f} s")
            walls = runs.get(name, {}).get("all_walls", []) + [round(got["wall"], 1)]
            if name not in runs or got["wall"] < runs[name]["wall"]:
                runs[name] = got
            runs[name]["all_walls"] = walls
            runs[name]["digests"] = table_digests(workdir / f"out-{n}-{name}")
    res["runs"] = runs
    # every engine and process count must write the same bytes
    digests = {name: run["digests"] for name, run in runs.items()}
    first = next(iter(digests.values()), {})
    res["identical"] = sorted({t for d in digests.values() for t in d if d.get(t) != first.get(t)}) or "all tables"
    one = runs.get("local-1")
    ratios = {"load": lp["load"] / floor, "load+parse": (lp["load"] + lp["parse"]) / floor}
    if one:
        for stage, sec in one["seconds"].items():
            if stage != "total":
                ratios[stage] = sec / floor
        ratios["per-article pipeline"] = sum(one["seconds"].get(s, 0.0) for s in PER_ARTICLE) / floor
        ratios["end to end, 1 process"] = one["wall"] / floor
    # the same in CPU seconds (summed over the processes that did the work), which other work on the
    # machine does not inflate and which does not depend on the number of processes
    ref = reference_run(runs)
    if ref:
        cpu_floor = res["tfidf"]["cpu_seconds"]
        cpu = runs[ref].get("cpu_seconds", {})
        res["cpu_ratios_from"] = ref
        res["cpu_ratios"] = {k: round(v / cpu_floor, 2) for k, v in cpu.items()}
        res["cpu_ratios"]["per-article pipeline"] = round(sum(cpu.get(s, 0.0) for s in PER_ARTICLE) / cpu_floor, 2)
    res["ratios"] = {k: round(v, 2) for k, v in ratios.items()}
    if "local-1" in runs and "local-2" in runs:
        res["speedup_1_to_2"] = round(runs["local-1"]["wall"] / runs["local-2"]["wall"], 2)
    if "dask-2" in runs and "local-2" in runs:
        res["dask_vs_local_2"] = round(runs["dask-2"]["wall"] / runs["local-2"]["wall"], 2)
    return res


def report(results: dict) -> str:
    """Return the results as Markdown tables."""
    lines = []
    for n, res in results["sizes"].items():
        t = res["tfidf"]
        lines += [f"### {int(n):,} articles ({t['words']:,} words)", "",
                  f"TF-IDF floor (`TfidfVectorizer().fit_transform`): {t['seconds']:.2f} s "
                  f"({t.get('cpu_seconds', t['seconds']):.2f} CPU s), "
                  f"peak {t['peak_mb']:.0f} MB (texts in memory: {t['texts_mb']:.0f} MB)", "",
                  "| stage | seconds (1 process) | ratio to TF-IDF | CPU seconds | CPU ratio |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        lp = res["load_parse"]
        ref = reference_run(res["runs"])
        one = res["runs"].get(ref, {}) if ref else {}
        if ref and ref != "local-1":
            lines[-2] = lines[-2].replace("seconds (1 process)", f"seconds ({ref}, summed over workers)")
        rows = [("load (whole corpus, with duplicates)", lp["load"]), ("parse (whole corpus in memory)", lp["parse"]),
                ("load + parse", lp["load"] + lp["parse"])]
        labels = {"load": "chunk records to a corpus", "write": "write the Parquet partitions"}
        rows += [(f"`corelib run` ({ref}): {labels.get(k, k)}", v)
                 for k, v in one.get("seconds", {}).items() if k != "total"]
        cpu = one.get("cpu_seconds", {})
        cpu_of = {f"`corelib run` ({ref}): {labels.get(k, k)}": v for k, v in cpu.items()}
        rows.append(("per-article pipeline (" + " + ".join(PER_ARTICLE) + ")",
                     sum(one.get("seconds", {}).get(s, 0.0) for s in PER_ARTICLE)))
        cpu_of[rows[-1][0]] = sum(cpu.get(s, 0.0) for s in PER_ARTICLE) if cpu else None
        for name, sec in rows:
            c = cpu_of.get(name)
            cpu_cells = f"{c:.1f} | {c / t['cpu_seconds']:.2f}" if c is not None and t.get("cpu_seconds") else " | "
            lines.append(f"| {name} | {sec:.1f} | {sec / t['seconds']:.2f} | {cpu_cells} |")
        lines += ["", "| run | wall seconds (best) | all rounds | ratio to TF-IDF | peak MB main | peak MB per worker |",
                  "| --- | ---: | --- | ---: | ---: | ---: |"]
        for name, run in res["runs"].items():
            lines.append(f"| {name} | {run['wall']:.1f} | {', '.join(map(str, run.get('all_walls', [])))} | "
                         f"{run['wall'] / t['seconds']:.2f} | "
                         f"{run['peak_rss_mb']['main']:.0f} | {run['peak_rss_mb']['worker']:.0f} |")
        extra = []
        if "per-article pipeline" in res["ratios"]:
            extra.append(f"per-article pipeline ({' + '.join(PER_ARTICLE)}) on one process: "
                         f"{res['ratios']['per-article pipeline']:.2f} x TF-IDF")
        if "speedup_1_to_2" in res:
            extra.append(f"speed-up from 1 to 2 processes: {res['speedup_1_to_2']:.2f} x")
        if "identical" in res:
            extra.append("tables that differ between the runs: " + (
                "none (every table byte-identical)" if res["identical"] == "all tables" else ", ".join(res["identical"])))
        if "dask_vs_local_2" in res:
            extra.append(f"Dask local cluster (2 workers) / in-process engine (2 processes): "
                         f"{res['dask_vs_local_2']:.2f} x the time")
        lines += [""] + [f"- {e}" for e in extra] + [""]
    return "\n".join(lines)


def profile(n: int, workdir: Path, top: int = 12) -> str:
    """Return the cProfile hot spots of each per-article stage on ``n`` generated articles."""
    import cProfile
    import io
    import pstats

    from corelib import load_corpus, pipeline
    from corelib.parse import parse_documents

    records = load_corpus(ensure_corpus(n, workdir)).docs.to_dict("records")
    parsed = None
    out = []
    tables: dict = {}
    for stage in pipeline.resolve_stages(None):
        if stage.kind != "chunk":
            continue
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        if stage.name == "parse":
            parsed = parse_documents(records)
        else:
            tables.update(stage.run(parsed, tables, {}))
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
        out.append(f"## {stage.name}: {time.perf_counter() - t:.2f} s on {n} articles (under cProfile)\n")
        out.append("\n".join(buf.getvalue().splitlines()[4:]))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark runner."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="10000,100000", help="corpus sizes, comma separated (default 10000,100000)")
    p.add_argument("--jobs", default="1,2", help="process counts for the local engine (default 1,2)")
    p.add_argument("--no-dask", dest="dask", action="store_false", help="skip the Dask local cluster run")
    p.add_argument("--chunk-size", type=int, default=500, help="pipeline chunk size (default 500)")
    p.add_argument("--repeat", type=int, default=3, help="TF-IDF and load+parse measurements, best taken (default 3)")
    p.add_argument("--rounds", type=int, default=1,
                   help="rounds of pipeline runs (1 and 2 processes, Dask), alternated, best taken (default 1)")
    p.add_argument("--stages", default="", help="pipeline stages, comma separated (default: all available)")
    p.add_argument("--workdir", default="/tmp/corelib-bench", help="generated corpora and outputs (default /tmp/corelib-bench)")
    p.add_argument("--out", default=None, help="write the results as JSON here")
    p.add_argument("--profile", type=int, default=0, metavar="N", help="only profile the per-article stages on N articles")
    p.add_argument("--report", default=None, metavar="JSON", help="only print the tables of an earlier --out file")
    args = p.parse_args(argv)
    args.jobs = [int(j) for j in args.jobs.split(",") if j]
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    if args.profile:
        print(profile(args.profile, Path(args.workdir)))
        return 0
    if args.report:
        print(report(json.loads(Path(args.report).read_text())))
        return 0
    results = {"command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "platform": platform.platform()},
               "sizes": {}}
    for n in [int(s) for s in args.sizes.split(",") if s]:
        results["sizes"][str(n)] = measure(n, args)
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
