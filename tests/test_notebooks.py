"""The notebooks, pyhf style: run with papermill on a second, different corpus with non-default
parameters, then assert on the values each notebook recorded (``corelib.report.glue``).

The committed notebooks themselves (outputs on the seeds) are checked by ``pytest --nbval notebooks``;
here also: they are clean, they follow the Pythia skeleton, a bad parameter stops them at once.
"""
from __future__ import annotations

import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from corelib import events, keywords, quotes
from corelib.notebook_params import NOTEBOOK_DIR, validate_parameters
from corelib.report import glued, notebook_paths, run_report

ROOT = NOTEBOOK_DIR.parent

NAMES = ["01_corpus_overview", "02_who_speaks", "03_stance", "04_keywords_keyness", "05_topics",
         "06_places_events"]


@pytest.fixture(scope="module")
def selected(notebook_corpus):
    """The test corpus as the notebooks see it (date range applied): 4 of its 5 articles."""
    corpus, params = notebook_corpus
    return validate_parameters(corpus=str(corpus), **params)


def values(report, name: str) -> dict:
    out, manifest = report
    run = {r["notebook"]: r for r in manifest["notebooks"]}[f"{name}.ipynb"]
    assert run["status"] == "ok", run["error"]
    return glued(out / run["ipynb"])


def execute(tmp_path, name: str, **parameters):
    import papermill as pm

    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(out), parameters=parameters, kernel_name="python3",
                        cwd=str(NOTEBOOK_DIR), progress_bar=False)
    return out


# --------------------------------------------------------------------------- static checks (fast)

def test_committed_notebooks_are_clean():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "clean_notebooks.py"), "--check",
                             str(NOTEBOOK_DIR)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cleaner_strips_volatile_metadata_and_keeps_tags_outputs_counts(tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from clean_notebooks import clean, clean_file
    finally:
        sys.path.pop(0)
    nb = nbformat.read(NOTEBOOK_DIR / "01_corpus_overview.ipynb", as_version=4)
    nb.metadata["papermill"] = {"duration": 4.2, "start_time": "2026-01-01T00:00:00"}
    nb.metadata["language_info"]["version"] = "3.11.9"
    code = [c for c in nb.cells if c.cell_type == "code"]
    code[1].metadata["execution"] = {"iopub.execute_input": "2026-01-01T00:00:01"}
    code[1].metadata["papermill"] = {"status": "completed"}
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    assert clean_file(path) is True and clean_file(path) is False
    cleaned = nbformat.read(path, as_version=4)
    assert "papermill" not in cleaned.metadata and "version" not in cleaned.metadata["language_info"]
    cleaned_code = [c for c in cleaned.cells if c.cell_type == "code"]
    assert cleaned_code[1].metadata == {"tags": ["parameters"]}
    assert [c.execution_count for c in cleaned_code] == [c.execution_count for c in code]
    assert [c.outputs for c in cleaned_code] == [c.outputs for c in clean(nb).cells if c.cell_type == "code"]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_follows_the_skeleton(name):
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for heading in ("## Overview", "## Prerequisites", "## Imports", "## Summary", "### What's next?"):
        assert heading in md, heading
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params_cell, validate_cell = nb.cells[tagged[0]], nb.cells[tagged[0] + 1]
    assert validate_cell.source.startswith("params = validate_parameters(")
    lines = [ln for ln in params_cell.source.splitlines() if ln.strip()]
    assert all("=" in ln and "  # " in ln for ln in lines), "one commented line per parameter"
    assert {ln.split("=")[0].strip() for ln in lines} >= {"corpus", "target", "group_by", "n_topics", "start", "end"}
    imports = [c for c in nb.cells if c.cell_type == "code"][0].source
    assert "charts.use_offline_renderer()" in imports
    assert all(c.execution_count is not None for c in nb.cells if c.cell_type == "code"), "outputs committed"


def test_papermill_reads_every_parameter_with_its_comment():
    from papermill.translators import PythonTranslator

    for path in notebook_paths():
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        found = PythonTranslator.inspect(cell)
        names = [p.name for p in found]
        assert len(names) == len([ln for ln in cell.source.splitlines() if ln.strip()]), path.name
        assert all(p.help for p in found), path.name


# --------------------------------------------------------------------------- every notebook on the test corpus

@pytest.mark.notebooks
def test_report_runs_every_notebook_with_the_parameters(notebook_report):
    out, manifest = notebook_report
    assert [r["notebook"] for r in manifest["notebooks"]] == [f"{n}.ipynb" for n in NAMES]
    assert all(r["status"] == "ok" for r in manifest["notebooks"]), [r["error"] for r in manifest["notebooks"]]
    assert manifest["parameters"]["target"] == "security_trend" and manifest["parameters"]["n_topics"] == 3
    executed = nbformat.read(out / "01_corpus_overview.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and 'target = "security_trend"' in injected[0].source


@pytest.mark.notebooks
def test_01_corpus_overview(notebook_report, selected):
    got = values(notebook_report, "01_corpus_overview")
    arts = selected.parsed.articles
    assert got["articles"] == 4 == len(arts)  # the 2017 article is outside the date range
    assert got["rejects"] == 0 and got["duplicates"] == 0
    assert got["outlets"] == 4  # Rudaw, Kurdistan 24, The National (the .html article), Military Times
    assert got["words"] == int(arts["n_words"].sum())
    assert got["sentences"] == len(selected.parsed.sentences)


@pytest.mark.notebooks
def test_02_who_speaks(notebook_report, selected):
    got = values(notebook_report, "02_who_speaks")
    q = quotes.extract(selected.parsed)
    assert got["quotations"] == len(q) > 10
    assert got["direct"] + got["indirect"] + got["partial"] == got["quotations"]
    assert got["speakers"] == q["speaker_id"].nunique()
    assert got["top_speaker"] in set(q["speaker"])


@pytest.mark.notebooks
def test_03_stance(notebook_report, selected):
    got = values(notebook_report, "03_stance")
    assert got["target"] == "security_trend"
    assert sum(got["articles_by_stance"].values()) == 4
    assert sum(got["quotes_by_stance"].values()) == len(quotes.extract(selected.parsed))
    assert got["evaluation"] == []  # the test corpus has no gold labels


def test_03_committed_on_the_seeds_evaluates_against_their_gold():
    # nbval re-executes this notebook and compares; here: what its committed outputs say
    got = glued(NOTEBOOK_DIR / "03_stance.ipynb")
    levels = {row["level"]: row for row in got["evaluation"]}
    assert set(levels) == {"articles", "quotes", "sentences"}
    assert levels["articles"]["gold_rows"] == 5
    assert all(0.0 <= row["macro_f1"] <= 1.0 for row in levels.values())


@pytest.mark.notebooks
def test_04_keywords_keyness_with_term_and_group(tmp_path, selected, notebook_corpus):
    corpus, params = notebook_corpus
    got = glued(execute(tmp_path, "04_keywords_keyness", corpus=str(corpus), term="Peshmerga", group="Rudaw",
                        **params))
    assert got["term"] == "Peshmerga"
    hits = keywords.kwic(selected.parsed, "Peshmerga", aliases=True)
    assert got["concordance_lines"] == min(25, len(hits)) > 0
    assert {target for target, _ in got["key_terms"]} == {"Rudaw"}


@pytest.mark.notebooks
def test_04_in_the_report_uses_the_default_term(notebook_report):
    got = values(notebook_report, "04_keywords_keyness")
    assert got["term"] == "ISIS" and got["concordance_lines"] > 0
    assert {target for target, _ in got["key_terms"]} == {"Rudaw", "Kurdistan 24", "The National", "Military Times"}


@pytest.mark.notebooks
def test_05_topics(notebook_report):
    got = values(notebook_report, "05_topics")
    assert got["k"] == 3 and len(got["labels"]) == 3  # n_topics = 3, not the automatic choice
    assert -1.0 <= got["coherence_mean"] <= 1.0 and 0.0 < got["diversity"] <= 1.0


@pytest.mark.notebooks
def test_06_places_events(notebook_report, selected):
    got = values(notebook_report, "06_places_events")
    found = events.extract(selected.parsed)
    assert got["events"] == len(found) > 0
    assert got["killed"] == int(pd.to_numeric(found["killed"], errors="coerce").fillna(0).sum())
    assert got["places"] >= 5  # Kirkuk, Hawija, Tuz Khurmatu, Ramadi, Deir ez-Zor, ...


# --------------------------------------------------------------------------- failures

@pytest.mark.notebooks
def test_bad_parameter_stops_the_notebook_at_once(tmp_path, notebook_corpus):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError) as info:
        execute(tmp_path, "01_corpus_overview", corpus=str(notebook_corpus[0]), n_topics=0)
    assert info.value.ename == "ValueError"
    assert "n_topics must be a positive whole number or 'auto', got 0" in info.value.evalue
    nb = nbformat.read(tmp_path / "01_corpus_overview.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    failed = next(i for i, c in enumerate(code) if any(o.get("output_type") == "error" for o in c.outputs))
    assert code[failed].source.startswith("params = validate_parameters(")
    assert all(c.execution_count is None for c in code[failed + 1:])  # nothing ran after it


@pytest.mark.notebooks
def test_a_failing_notebook_is_reported_and_the_others_still_run(tmp_path, notebook_corpus):
    broken = nbformat.v4.new_notebook()
    broken.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    broken.cells = [nbformat.v4.new_markdown_cell("# A broken analysis\n\nIt fails. On purpose."),
                    nbformat.v4.new_code_cell('corpus = ""  # unused', metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell('raise RuntimeError("boom <b>bold</b>")')]
    fine = nbformat.v4.new_notebook(metadata=broken.metadata)
    fine.cells = [nbformat.v4.new_markdown_cell("# A fine analysis"),
                  nbformat.v4.new_code_cell('corpus = ""  # the corpus', metadata={"tags": ["parameters"]}),
                  nbformat.v4.new_code_cell("from corelib.report import glue\nglue(corpus_name=corpus.split('/')[-1])")]
    src = tmp_path / "nb"
    src.mkdir()
    nbformat.write(broken, src / "00_broken.ipynb")
    nbformat.write(fine, src / "01_fine.ipynb")
    manifest = run_report(notebook_corpus[0], tmp_path / "out", notebooks=[src / "00_broken.ipynb",
                                                                         src / "01_fine.ipynb"], progress=False)
    status = {r["notebook"]: (r["status"], r["error"]) for r in manifest["notebooks"]}
    assert status["00_broken.ipynb"] == ("failed", "RuntimeError: boom <b>bold</b>")
    assert status["01_fine.ipynb"] == ("ok", "")
    assert manifest["notebooks"][1]["glued"] == {"corpus_name": "notebook_corpus"}
    assert manifest["status"] == "failed"
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "RuntimeError: boom &lt;b&gt;bold&lt;/b&gt;" in index and "<b>bold</b>" not in index
    assert (tmp_path / "out" / "00_broken.html").exists()  # the partial notebook is still rendered
