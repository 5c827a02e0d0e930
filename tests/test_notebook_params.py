"""Notebook parameters: each bad value stops with a message that says what to change."""
from __future__ import annotations

import pandas as pd
import pytest

from corelib import notebook_params as nbp


def test_defaults_on_the_seeds(seeds_dir):
    params = nbp.validate_parameters(corpus=str(seeds_dir))
    assert params.target == "isis_resurgence"
    assert params.group_by == "outlet" and params.n_topics == "auto"
    assert len(params.parsed.articles) == 5 and params.n_outside_range == 0
    table = params.table()
    assert list(table.columns) == ["parameter", "value"]
    assert table.set_index("parameter").loc["corpus", "value"] == str(seeds_dir)


def test_relative_corpus_found_from_the_notebooks_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # ../seeds does not exist from here, but does from notebooks/
    path = nbp.resolve_corpus("../seeds")
    assert path.is_absolute() and (path / "metadata.csv").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"corpus": "no/such/folder"}, "corpus path does not exist: 'no/such/folder'"),
    ({"corpus": ""}, "corpus is empty"),
    ({"target": "isis_resurgance"}, "unknown stance target 'isis_resurgance': set `target` to one of the shipped"),
    ({"target": "mine.yaml"}, "stance codebook file not found: 'mine.yaml'"),
    ({"group_by": "outlets"}, "group_by 'outlets' is not a column of the articles table; choose one of: "),
    ({"group_by": "text"}, "group_by 'text' is not a column"),
    ({"n_topics": 0}, "n_topics must be a positive whole number or 'auto', got 0"),
    ({"n_topics": "many"}, "got 'many'"),
    ({"n_topics": True}, "got True"),
    ({"start": "21/03/2020"}, "start is not an ISO date: '21/03/2020'; set `start` to an ISO date"),
    ({"end": "2020-02-30"}, "end is not a valid date: '2020-02-30'"),
    ({"start": "2020-05-01", "end": "2020-01-31"}, r"start \(2020-05-01\) is after end \(2020-01-31\)"),
    ({"start": "2030"}, "no article of .* is dated between 2030 and the end; widen the date range"),
    ({"topics": 3}, "unknown parameter\\(s\\): topics"),
])
def test_bad_parameters_say_what_to_change(seeds_dir, kwargs, message):
    args = {"corpus": str(seeds_dir), **kwargs}
    with pytest.raises(ValueError, match=message):
        nbp.validate_parameters(**args)


def test_codebook_path_and_int_like_values(seeds_dir):
    path = nbp.CODEBOOK_DIR / "isis_resurgence.yaml"
    params = nbp.validate_parameters(corpus=str(seeds_dir), target=str(path), n_topics="3", start=2018, end="2018-06")
    assert params.target == str(path) and params.n_topics == 3
    assert (params.start, params.end) == ("2018-01-01", "2018-06-30")
    # 000 (January 2018) and 003 (January 2018) are in; 2017 and 2020 articles are out
    assert sorted(params.parsed.articles["doc_id"]) == ["000_ea997910685a76f1", "003_73fdf65507dea6e1"]
    assert params.n_outside_range == 3
    assert set(params.parsed.sentences["doc_id"]) == set(params.parsed.articles["doc_id"])


def test_article_dates_and_overlap_selection():
    arts = pd.DataFrame({"doc_id": ["y", "m", "d", "none", "bad"],
                         "published": ["2019", "2018-02", "2018-03-04", "", "2018-13"],
                         "published_estimated": [True, False, False, False, False]})
    dates = nbp.article_dates(arts).set_index("doc_id")
    assert dates.loc["y", ["precision", "first_day", "last_day"]].tolist() == ["year", "2019-01-01", "2019-12-31"]
    assert dates.loc["m", "last_day"] == "2018-02-28"
    assert dates.loc["none", "precision"] == "" and dates.loc["bad", "precision"] == ""
    assert nbp.date_bounds("", "start") is None
    assert nbp.date_bounds("2020-02", "end") == ("2020-02-01", "2020-02-29")
