"""The report: run every notebook with papermill on one corpus and write executed notebooks, offline HTML
pages, an ``index.html`` linking them and a run manifest (corpus hash, parameters, versions, timings).

Notebooks run one after another (kernels started in parallel can clash on ports); a notebook that fails
is recorded with its error and the others still run. Cells tagged ``injected-parameters`` are hidden in
the HTML, whose template loads nothing from the network; article text reaches the pages only through
escaped table cells, escaped text outputs and SVG images.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import platform
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path

from corelib.notebook_params import (NOTEBOOK_DIR, date_bounds, resolve_corpus, resolve_n_topics,
                                     resolve_target)

GLUE_MIME = "application/vnd.corelib.glue+json"
KERNEL = "python3"
TEMPLATES = Path(__file__).parent / "data" / "templates"
TEMPLATE = "corelib_report"
DEFAULTS = {"target": "isis_resurgence", "group_by": "outlet", "n_topics": "auto", "start": "", "end": ""}
PACKAGES = ["corelib", "pandas", "numpy", "scikit-learn", "nltk", "altair", "vl-convert-python", "papermill",
            "nbconvert", "nbformat", "ipykernel", "PyYAML", "pyarrow"]
HASH_SEED = "0"
# Report kernels: their own start-up warnings (e.g. about TCP transport on the local machine) stay out of
# the output; and jsonschema (imported by altair) skips rfc3987_syntax, which spends 1-2 s per kernel
# compiling a grammar only to check the "iri" string format, a format the Vega-Lite schema never uses.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR",
                    "--IPKernelApp.exec_lines=import sys; sys.modules.setdefault('rfc3987_syntax', None)"]


# --------------------------------------------------------------------------- values recorded by notebooks

def glue(**values) -> None:
    """Display named values as a JSON output that tests and the report index read back (with a text line)."""
    from IPython.display import display

    clean = {k: _plain(v) for k, v in values.items()}
    text = "; ".join(f"{k} = {clean[k]}" for k in clean)
    display({GLUE_MIME: clean, "text/plain": text}, raw=True)


def _plain(value):
    """Return ``value`` as plain JSON-able Python (numpy scalars become int/float, floats rounded)."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        value = value.item()
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def glued(notebook) -> dict:
    """Return every value recorded with :func:`glue` in an executed notebook (a path or a NotebookNode)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, Path)) else notebook
    values: dict = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if GLUE_MIME in data:
                values.update(data[GLUE_MIME])
    return values


# --------------------------------------------------------------------------- run facts

def notebook_paths(folder: str | Path = NOTEBOOK_DIR) -> list[Path]:
    """Return the numbered analysis notebooks of a folder (``01_*.ipynb`` ...), in order."""
    paths = sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no notebooks named NN_*.ipynb in {folder}")
    return paths


def notebook_title(notebook) -> tuple[str, str]:
    """Return the ``#`` title of a notebook (path or NotebookNode) and the first sentence under it."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4) if isinstance(notebook, (str, Path)) else notebook
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = [ln.strip() for ln in cell.source.splitlines()]
        for i, line in enumerate(lines):
            if line.startswith("# "):
                rest = " ".join(ln for ln in lines[i + 1:] if ln and not ln.startswith("#"))
                question = re.split(r"(?<=[.?!])\s", rest, maxsplit=1)[0] if rest else ""
                return line[2:].strip(), question
    return (Path(notebook).stem if isinstance(notebook, (str, Path)) else "notebook"), ""


def corpus_fingerprint(path: str | Path) -> dict:
    """Return sha256 over the corpus files (relative path and bytes, sorted), with file and byte counts."""
    root = Path(path)
    files = [root] if root.is_file() else sorted(
        (p for p in root.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)),
        key=lambda p: p.relative_to(root).as_posix())
    digest, n_bytes = hashlib.sha256(), 0
    for p in files:
        rel = p.name if root.is_file() else p.relative_to(root).as_posix()
        data = p.read_bytes()
        n_bytes += len(data)
        digest.update(rel.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    return {"sha256": digest.hexdigest(), "files": len(files), "bytes": n_bytes}


def package_versions() -> dict:
    """Return the Python version and the versions of the packages the notebooks use."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def random_seeds() -> dict:
    """Return the fixed seeds the analyses use (hash seed of the kernels, topic-model seeds)."""
    seeds = {"PYTHONHASHSEED": HASH_SEED}
    try:
        from corelib import topics
    except ImportError:
        return seeds
    for name in ("RANDOM_STATE", "SEED", "DEFAULT_SEED", "SEEDS", "STABILITY_SEEDS"):
        if hasattr(topics, name):
            seeds[f"topics.{name}"] = _plain(getattr(topics, name))
    return seeds


def ensure_kernel(name: str = KERNEL) -> str:
    """Return the kernel name, installing an ipykernel spec for this Python into sys.prefix when missing."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        from ipykernel.kernelspec import install

        install(kernel_name=name, prefix=sys.prefix)
    return name


def check_parameters(corpus, target, group_by, n_topics, start, end) -> dict:
    """Return the report parameters checked and resolved (without parsing the corpus); raise ValueError."""
    lo, hi = date_bounds(start, "start"), date_bounds(end, "end")
    if lo and hi and lo[0] > hi[1]:
        raise ValueError(f"start ({start}) is after end ({end}): swap them or widen the range")
    if not isinstance(group_by, str) or not group_by.strip():
        raise ValueError("group_by is empty: give a column of the articles table, e.g. outlet")
    return {"corpus": str(resolve_corpus(corpus).resolve()), "target": resolve_target(target), "group_by": group_by,
            "n_topics": resolve_n_topics(n_topics), "start": str(start or ""), "end": str(end or "")}


# --------------------------------------------------------------------------- running

@dataclass
class NotebookRun:
    """What happened to one notebook of the report."""

    notebook: str
    title: str
    question: str
    status: str = "not run"
    seconds: float = 0.0
    error: str = ""
    ipynb: str = ""
    html: str = ""
    glued: dict = field(default_factory=dict)


def execute(src: Path, dst: Path, parameters: dict, cwd: Path, timeout: int = 1800) -> tuple[str, str]:
    """Run one notebook with papermill into ``dst``; return (status, error message)."""
    import papermill as pm

    try:
        pm.execute_notebook(str(src), str(dst), parameters=parameters, kernel_name=ensure_kernel(),
                            cwd=str(cwd), progress_bar=False, log_output=False, execution_timeout=timeout,
                            extra_arguments=KERNEL_ARGUMENTS)
    except pm.PapermillExecutionError as exc:
        return "failed", f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # a kernel that dies or a notebook that cannot be read fails alone
        return "failed", f"{type(exc).__name__}: {exc}"
    return "ok", ""


def export_html(ipynb: str | Path, out: str | Path) -> Path:
    """Write the HTML page of an executed notebook (injected-parameters cells hidden, no external scripts)."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(str(ipynb), as_version=4)
    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(TEMPLATES)])
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={"injected-parameters"}), enabled=True)
    title, _ = notebook_title(nb)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    # links between the notebooks ("What's next?") point at their pages in the report
    body = re.sub(r'href="(\d\d_[\w.-]+)\.ipynb"', r'href="\1.html"', body)
    Path(out).write_text(body, encoding="utf-8")
    return Path(out)


def run_report(corpus: str | Path, out: str | Path, target: str = DEFAULTS["target"],
               group_by: str = DEFAULTS["group_by"], n_topics: int | str = DEFAULTS["n_topics"],
               start: str = "", end: str = "", notebooks: list[str | Path] | None = None,
               progress: bool = True) -> dict:
    """Run the notebooks on ``corpus`` into ``out``; return the manifest (also written to manifest.json)."""
    from tqdm.auto import tqdm

    params = check_parameters(corpus, target, group_by, n_topics, start, end)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [Path(p) for p in notebooks] if notebooks else notebook_paths()
    os.environ["PYTHONHASHSEED"] = HASH_SEED  # inherited by the kernels
    started = time.perf_counter()
    runs: list[NotebookRun] = []
    bar = tqdm(paths, desc="report", unit="notebook", disable=not progress, file=sys.stderr)
    for src in bar:
        bar.set_postfix_str(src.stem)
        title, question = notebook_title(src)
        run = NotebookRun(notebook=src.name, title=title, question=question,
                          ipynb=src.name, html=src.with_suffix(".html").name)
        t0 = time.perf_counter()
        run.status, run.error = execute(src, out / run.ipynb, params, cwd=src.parent)
        run.seconds = round(time.perf_counter() - t0, 2)
        if (out / run.ipynb).exists():
            try:
                run.glued = glued(out / run.ipynb)
                export_html(out / run.ipynb, out / run.html)
            except Exception as exc:
                run.status, run.error = "failed", run.error or f"HTML export: {type(exc).__name__}: {exc}"
                run.html = ""
        else:
            run.ipynb = run.html = ""
        runs.append(run)
    bar.close()
    manifest = {
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "command": "corelib report",
        "corpus": {"path": params["corpus"], **corpus_fingerprint(params["corpus"])},
        "parameters": params,
        "kernel": KERNEL,
        "versions": package_versions(),
        "seeds": random_seeds(),
        "seconds": round(time.perf_counter() - started, 2),
        "status": "ok" if all(r.status == "ok" for r in runs) else "failed",
        "notebooks": [asdict(r) for r in runs],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    write_index(out, manifest)
    return manifest


# --------------------------------------------------------------------------- index page

def write_index(out: str | Path, manifest: dict) -> Path:
    """Write ``index.html``: one row per notebook (status, time, error, links) and the run facts; all escaped."""
    e = html.escape
    rows = []
    for r in manifest["notebooks"]:
        links = " ".join(f'<a href="{e(href)}">{label}</a>'
                         for href, label in ((r["html"], "page"), (r["ipynb"], "notebook")) if href)
        figures = ", ".join(f"{e(str(k))} = {e(json.dumps(v, ensure_ascii=False))}"
                            for k, v in r["glued"].items() if not isinstance(v, (list, dict)))
        error = f'<div class="error">{e(r["error"])}</div>' if r["error"] else ""
        title = f'<a href="{e(r["html"])}">{e(r["title"])}</a>' if r["html"] else e(r["title"])
        rows.append(f'<tr class="{e(r["status"])}"><td>{title}<div class="question">{e(r["question"])}</div>'
                    f'<div class="figures">{figures}</div>{error}</td>'
                    f'<td class="status">{e(r["status"])}</td><td class="num">{r["seconds"]:.1f} s</td>'
                    f"<td>{links}</td></tr>")
    params = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in manifest["parameters"].items())
    corpus = manifest["corpus"]
    versions = ", ".join(f"{e(k)} {e(v)}" for k, v in manifest["versions"].items())
    n_ok = sum(r["status"] == "ok" for r in manifest["notebooks"])
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>corelib report</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", "Liberation Sans", Arial, sans-serif; color: #1c2833;
       max-width: 1040px; margin: 0 auto; padding: 1em 2em 3em; line-height: 1.45; }}
table {{ border-collapse: collapse; width: 100%; margin: 0.8em 0; }}
th, td {{ border-bottom: 1px solid #e5e8e8; padding: 0.45em 0.6em; text-align: left; vertical-align: top; }}
td.num {{ text-align: right; white-space: nowrap; }}
tr.failed td.status {{ color: #922b21; font-weight: bold; }} tr.ok td.status {{ color: #1e8449; }}
.question {{ color: #566573; font-size: 0.92em; }} .figures {{ color: #7b7d7d; font-size: 0.85em; }}
.error {{ color: #922b21; font-family: monospace; white-space: pre-wrap; font-size: 0.85em; margin-top: 0.3em; }}
.facts th {{ width: 12em; color: #566573; font-weight: normal; }} a {{ color: #1a5276; }}
</style>
</head>
<body>
<h1>corelib report</h1>
<p>{n_ok} of {len(manifest["notebooks"])} analyses ran on the corpus <code>{e(corpus["path"])}</code>
({corpus["files"]} files, {corpus["bytes"]} bytes) in {manifest["seconds"]:.1f} s. Every page works offline.</p>
<table class="notebooks">
<thead><tr><th>Analysis</th><th>Status</th><th>Time</th><th>Files</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<h2>Run</h2>
<table class="facts">
{params}
<tr><th>corpus sha256</th><td><code>{e(corpus["sha256"])}</code></td></tr>
<tr><th>created</th><td>{e(manifest["created"])}</td></tr>
<tr><th>seeds</th><td>{e(json.dumps(manifest["seeds"], sort_keys=True))}</td></tr>
<tr><th>versions</th><td>{versions}</td></tr>
</table>
<p>Details: <a href="manifest.json">manifest.json</a>.</p>
</body>
</html>
"""
    path = Path(out) / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
