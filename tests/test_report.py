"""The report pieces that need no kernel: recorded values, run facts, HTML pages and the index."""
from __future__ import annotations

import json
import re

import nbformat
import pytest

from corelib import report
from corelib.notebook_params import NOTEBOOK_DIR


def glue_output(values: dict) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={report.GLUE_MIME: values, "text/plain": "x"})


def test_glued_collects_values_from_every_cell():
    nb = nbformat.v4.new_notebook()
    a, b = nbformat.v4.new_code_cell("glue(...)"), nbformat.v4.new_code_cell("glue(...)")
    a.outputs = [glue_output({"articles": 5})]
    b.outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi"), glue_output({"events": 2, "k": 3})]
    nb.cells = [a, b]
    assert report.glued(nb) == {"articles": 5, "events": 2, "k": 3}


def test_glue_displays_json_and_a_text_line(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, raw=False: shown.append((obj, raw)))
    import numpy as np

    report.glue(articles=np.int64(5), share=0.123456, labels=("a", "b"))
    (bundle, raw), = shown
    assert raw is True
    assert bundle[report.GLUE_MIME] == {"articles": 5, "share": 0.1235, "labels": ["a", "b"]}
    assert bundle["text/plain"] == "articles = 5; share = 0.1235; labels = ['a', 'b']"
    json.dumps(bundle[report.GLUE_MIME])  # plain JSON


def test_notebooks_found_in_order_with_titles():
    paths = report.notebook_paths()
    assert [p.name[:2] for p in paths] == ["01", "02", "03", "04", "05", "06"]
    title, question = report.notebook_title(paths[0])
    assert title.startswith("Corpus overview") and question.endswith(".")


def test_corpus_fingerprint_is_stable_and_sees_changes(tmp_path, seeds_dir):
    one = report.corpus_fingerprint(seeds_dir)
    assert one == report.corpus_fingerprint(seeds_dir)
    assert one["files"] >= 5 and re.fullmatch(r"[0-9a-f]{64}", one["sha256"])
    (tmp_path / "a.txt").write_text("Mosul, Iraq - ISIS attacked.", encoding="utf-8")
    before = report.corpus_fingerprint(tmp_path)
    (tmp_path / "a.txt").write_text("Mosul, Iraq - ISIS attacked!", encoding="utf-8")
    assert report.corpus_fingerprint(tmp_path)["sha256"] != before["sha256"]


def test_check_parameters_resolves_without_parsing(seeds_dir):
    params = report.check_parameters(str(seeds_dir), "isis_resurgence", "outlet", "4", "2018", "")
    assert params == {"corpus": str(seeds_dir.resolve()), "target": "isis_resurgence", "group_by": "outlet",
                      "n_topics": 4, "start": "2018", "end": ""}
    with pytest.raises(ValueError, match="start \\(2020\\) is after end \\(2019\\)"):
        report.check_parameters(str(seeds_dir), "isis_resurgence", "outlet", "auto", "2020", "2019")
    with pytest.raises(ValueError, match="unknown stance target"):
        report.check_parameters(str(seeds_dir), "nope", "outlet", "auto", "", "")


def test_manifest_facts():
    versions = report.package_versions()
    assert {"python", "corelib", "pandas", "altair", "papermill"} <= set(versions)
    assert report.random_seeds()["PYTHONHASHSEED"] == "0"


def test_html_page_is_offline_escaped_and_hides_injected_parameters(tmp_path):
    nb = nbformat.read(NOTEBOOK_DIR / "01_corpus_overview.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell('corpus = "/secret/path/of/the/injected/corpus"',
                                                      metadata={"tags": ["injected-parameters"]}))
    hostile = nbformat.v4.new_code_cell("charts.articles_table(parsed.articles)")
    hostile.outputs = [nbformat.v4.new_output("stream", name="stdout", text="<script>alert(1)</script>\n")]
    nb.cells.append(hostile)
    src = tmp_path / "01_corpus_overview.ipynb"
    nbformat.write(nb, src)
    page = report.export_html(src, tmp_path / "page.html").read_text(encoding="utf-8")
    assert "/secret/path/of/the/injected/corpus" not in page
    assert "<script" not in page  # no script at all: no CDN loaders, no article text as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(?:src|href)=["']https?://""", page.replace('href="https://pandas.pydata.org', ""))
    charts = re.findall(r'<img alt="([^"]*)" class="corelib-chart" src="data:image/svg\+xml;base64,', page)
    assert charts and all(alt.startswith("Chart: ") for alt in charts)
    assert 'href="index.html"' in page
    assert 'href="02_who_speaks.html"' in page and 'href="02_who_speaks.ipynb"' not in page


def test_index_lists_runs_and_escapes_everything(tmp_path):
    manifest = {
        "created": "2026-01-01T00:00:00+00:00", "seconds": 12.5, "status": "failed",
        "corpus": {"path": "/data/<b>corpus</b>", "sha256": "ab" * 32, "files": 3, "bytes": 1200},
        "parameters": {"corpus": "/data/<b>corpus</b>", "target": "isis_resurgence", "group_by": "outlet",
                       "n_topics": "auto", "start": "", "end": ""},
        "versions": {"python": "3.11"}, "seeds": {"PYTHONHASHSEED": "0"},
        "notebooks": [
            {"notebook": "01_a.ipynb", "title": "A <i>title</i>", "question": "Who?", "status": "ok", "seconds": 3.0,
             "error": "", "ipynb": "01_a.ipynb", "html": "01_a.html", "glued": {"articles": 5, "top": "<script>x</script>"}},
            {"notebook": "02_b.ipynb", "title": "B", "question": "", "status": "failed", "seconds": 1.0,
             "error": "ValueError: group_by 'x' is not a column <img src=x onerror=alert(1)>", "ipynb": "02_b.ipynb",
             "html": "02_b.html", "glued": {}},
        ],
    }
    page = report.write_index(tmp_path, manifest).read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page and "<b>corpus" not in page and "<i>title" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "A &lt;i&gt;title&lt;/i&gt;" in page
    assert 'href="01_a.html"' in page and 'href="02_b.ipynb"' in page and 'href="manifest.json"' in page
    assert "1 of 2 analyses ran" in page and 'class="failed"' in page


def test_cli_report_stops_on_a_bad_parameter_before_running_anything(tmp_path, seeds_dir, capsys):
    from corelib.cli import main

    code = main(["report", str(seeds_dir), "--out", str(tmp_path / "out"), "--k", "0"])
    assert code == 2
    assert "n_topics must be a positive whole number or 'auto', got '0'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
