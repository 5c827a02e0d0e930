"""Shared fixtures: the bundled seeds, parsed once per test session."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def parsed_seeds():
    from corelib import parse_corpus

    return parse_corpus(SEEDS)


@pytest.fixture(scope="session")
def csv_text():
    """A function giving a table as the CSV text `corelib` writes (to compare two runs byte for byte)."""
    import io

    from corelib.tables import write_table

    def render(df) -> str:
        buf = io.StringIO()
        write_table(df, "csv", buf)
        return buf.getvalue()
    return render


@pytest.fixture(scope="session")
def run_cli():
    """A function running the `corelib` command line in-process: (exit code, what it wrote to stdout)."""
    import io
    from contextlib import redirect_stdout

    from corelib.cli import main

    def run(argv: list[str]) -> tuple[int, str]:
        buf = io.StringIO()
        with redirect_stdout(buf):
            code = main(argv)
        return code, buf.getvalue()
    return run


# --------------------------------------------------------------------------- notebooks and report
# A second, different small corpus (tests/data/notebook_corpus: one .html article, hostile markup in
# article text) and non-default parameters; the report built on it is shared by test_notebooks.py
# and test_browser.py.
NOTEBOOK_CORPUS = ROOT / "tests" / "data" / "notebook_corpus"
NOTEBOOK_PARAMS = {"target": "security_trend", "group_by": "outlet", "n_topics": 3,
                   "start": "2019-01-01", "end": "2021-12-31"}


@pytest.fixture(scope="session")
def notebook_corpus() -> tuple[Path, dict]:
    """The notebook test corpus and the non-default parameters the notebook tests use."""
    return NOTEBOOK_CORPUS, dict(NOTEBOOK_PARAMS)


@pytest.fixture(scope="session")
def notebook_report(tmp_path_factory) -> tuple[Path, dict]:
    """Run `corelib report` on the notebook test corpus; return the folder and its manifest."""
    from corelib.report import run_report

    out = tmp_path_factory.mktemp("report")
    manifest = run_report(NOTEBOOK_CORPUS, out, progress=False, **NOTEBOOK_PARAMS)
    return out, manifest
