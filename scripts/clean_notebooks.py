"""Strip volatile metadata from notebooks so diffs show only real changes.

Removes execution timings, papermill metadata, the Python version and other per-run notebook and
cell metadata. Keeps cell tags (papermill's ``parameters`` tag), cell ids, outputs and execution
counts (nbval needs both to compare outputs).

Usage::

    python scripts/clean_notebooks.py notebooks/            # clean in place
    python scripts/clean_notebooks.py --check notebooks/    # exit 1 and list notebooks that are not clean
"""
from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

NOTEBOOK_KEYS = {"kernelspec", "language_info"}
LANGUAGE_INFO_KEYS = {"name", "codemirror_mode", "file_extension", "mimetype", "nbconvert_exporter",
                      "pygments_lexer"}
CELL_KEYS = {"tags"}
# metadata of display outputs that only says how a front end last drew them
OUTPUT_METADATA_VOLATILE = {"execution", "papermill"}


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of the notebook without volatile metadata (outputs, counts, tags and ids kept)."""
    nb = copy.deepcopy(nb)
    meta = {k: v for k, v in nb.metadata.items() if k in NOTEBOOK_KEYS}
    if "language_info" in meta:
        meta["language_info"] = {k: v for k, v in meta["language_info"].items() if k in LANGUAGE_INFO_KEYS}
    nb.metadata = nbformat.from_dict(meta)
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict({k: v for k, v in cell.metadata.items()
                                            if k in CELL_KEYS and v})
        for out in cell.get("outputs", []):
            if "metadata" in out:
                out.metadata = nbformat.from_dict({k: v for k, v in out.metadata.items()
                                                   if k not in OUTPUT_METADATA_VOLATILE})
    return nb


def text_of(nb: nbformat.NotebookNode) -> str:
    """Return the notebook as nbformat writes it (stable key order and indentation)."""
    return nbformat.writes(nb) + "\n"


def clean_file(path: Path, check: bool = False) -> bool:
    """Clean one notebook (or only check it); return True when it was (or would be) changed."""
    raw = path.read_text(encoding="utf-8")
    cleaned = text_of(clean(nbformat.reads(raw, as_version=4)))
    if cleaned == raw:
        return False
    if not check:
        path.write_text(cleaned, encoding="utf-8")
    return True


def notebooks_in(paths: list[str]) -> list[Path]:
    """Return the .ipynb files named or found under the given paths (checkpoints skipped), sorted."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found += [q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts]
        else:
            found.append(p)
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="*", default=["notebooks"], help="notebooks or folders (default: notebooks)")
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 when a notebook is not clean")
    args = ap.parse_args(argv)
    changed = [p for p in notebooks_in(args.paths) if clean_file(p, check=args.check)]
    for p in changed:
        print(f"{'not clean' if args.check else 'cleaned'}: {p}")
    if args.check and changed:
        print("run: python scripts/clean_notebooks.py " + " ".join(args.paths), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
