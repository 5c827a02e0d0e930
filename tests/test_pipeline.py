"""The chunked, parallel and Dask pipeline gives byte-for-byte the results of one process on the whole corpus."""
from __future__ import annotations

import filecmp
import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest

from corelib import pipeline
from corelib.cli import main as cli_main
from corelib.parse import Parsed

ROOT = Path(__file__).resolve().parent.parent
N_ARTICLES = 60
BAD_FILES = {"gen-0000030b": b"\x00\x01\x02binary\x00 data\x00", "gen-0000045b": b"   \n"}


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """60 generated articles (with metadata.csv and syndicated copies) plus a binary and an empty file among them."""
    folder = tmp_path_factory.mktemp("corpus")
    _generator().write_corpus(N_ARTICLES, folder, seed=3)
    for name, data in BAD_FILES.items():
        (folder / "000" / f"{name}.txt").write_bytes(data)
    return folder


def _run(corpus: Path, out: Path, **kwargs) -> pipeline.RunSummary:
    return pipeline.run(corpus, out, progress=False, options={"sample": 40}, **kwargs)


@pytest.fixture(scope="module")
def single(corpus, tmp_path_factory) -> Path:
    """The reference: one process, the whole corpus in one chunk."""
    out = tmp_path_factory.mktemp("single")
    _run(corpus, out, jobs=1, chunk_size=10**6)
    return out


@pytest.fixture(scope="module")
def chunked(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("chunked")
    _run(corpus, out, jobs=1, chunk_size=7)
    return out


def _tables(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.is_dir() and any(p.glob("part-*.parquet")))


def _csv(out: Path, table: str) -> str:
    return pipeline.sort_table(pipeline.read_table(out, table, decode=False)).to_csv(index=False)


def _same_files(a: Path, b: Path) -> None:
    assert _tables(a) == _tables(b)
    for table in _tables(a):
        names = sorted(p.name for p in (a / table).glob("part-*.parquet"))
        assert names == sorted(p.name for p in (b / table).glob("part-*.parquet")), table
        for name in names:
            assert filecmp.cmp(a / table / name, b / table / name, shallow=False), f"{table}/{name} differs"


def test_every_available_stage_writes_its_tables(single):
    manifest = json.loads((single / pipeline.MANIFEST).read_text())
    assert manifest["articles"] == N_ARTICLES
    assert manifest["documents"] == N_ARTICLES + len(BAD_FILES)
    assert manifest["notes"] == []
    for stage in pipeline.resolve_stages(None):
        for table in stage.tables:
            assert table in manifest["tables"], f"{stage.name} wrote no {table}"
    assert manifest["tables"]["articles"]["rows"] == N_ARTICLES
    assert manifest["tables"]["sentences"]["rows"] > 10 * N_ARTICLES


def test_chunked_results_equal_the_single_process_results(single, chunked):
    assert _tables(single) == _tables(chunked)
    assert len(list((chunked / "articles").glob("part-*.parquet"))) == 9  # 62 inputs in chunks of 7
    for table in _tables(single):
        assert _csv(single, table) == _csv(chunked, table), f"table {table} differs"


def test_two_processes_write_the_same_bytes_as_one(corpus, chunked, tmp_path):
    summary = _run(corpus, tmp_path / "two", jobs=2, chunk_size=7)
    assert summary.peak_rss_mb["worker"] > 0
    _same_files(chunked, tmp_path / "two")


def test_dask_local_cluster_writes_the_same_bytes(corpus, chunked, tmp_path):
    pytest.importorskip("dask.distributed")
    _run(corpus, tmp_path / "dask", jobs=2, chunk_size=7, engine="dask")
    _same_files(chunked, tmp_path / "dask")


def test_pipeline_tables_equal_the_library_on_the_whole_corpus(corpus, single):
    from corelib import parse_corpus
    from corelib.tables import flatten

    parsed = parse_corpus(corpus)
    expected = {"articles": parsed.articles, "paragraphs": parsed.paragraphs, "sentences": parsed.sentences,
                "dates": parsed.dates}
    if "quotes" in pipeline.stage_names():
        from corelib import quotes

        expected["quotes"] = quotes.extract(parsed)
    for table, df in expected.items():
        got = pipeline.read_table(single, table, decode=False)
        assert list(got.columns) == list(df.columns)
        assert len(got) == len(df)
        assert pipeline.sort_table(got).to_csv(index=False) == pipeline.sort_table(flatten(df)).to_csv(index=False)


def test_bad_files_go_to_rejects_and_the_rest_is_processed(single):
    rejects = pipeline.read_table(single, "rejects").set_index("doc_id")["reason"]
    assert rejects["gen-0000030b"].startswith("binary")
    assert rejects["gen-0000045b"].startswith("empty")
    articles = pipeline.read_table(single, "articles", columns=["doc_id", "duplicate_of"])
    assert len(articles) == N_ARTICLES and not set(BAD_FILES) & set(articles["doc_id"])


def test_duplicates_are_found_across_chunks(corpus, chunked):
    from corelib import load_corpus

    expected = load_corpus(corpus).docs.set_index("doc_id")["duplicate_of"]
    got = pipeline.read_table(chunked, "articles", columns=["doc_id", "duplicate_of"]).set_index("doc_id")
    assert (expected != "").sum() >= 1  # the generator syndicates copies of earlier articles
    assert got["duplicate_of"].to_dict() == expected.to_dict()


def test_tables_read_directly_with_pandas_duckdb_and_dask(chunked):
    quotes_or_sentences = "quotes" if (chunked / "quotes").is_dir() else "sentences"
    folder = chunked / quotes_or_sentences
    whole = pd.read_parquet(folder)
    assert len(whole) == json.loads((chunked / pipeline.MANIFEST).read_text())["tables"][quotes_or_sentences]["rows"]
    dd = pytest.importorskip("dask.dataframe")
    assert len(dd.read_parquet(str(folder)).compute()) == len(whole)
    duckdb = pytest.importorskip("duckdb")
    n, docs = duckdb.sql(f"select count(*), count(distinct doc_id) from read_parquet('{folder}/*.parquet')").fetchall()[0]
    assert n == len(whole) and docs == whole["doc_id"].nunique()


def _explode_on_one_article(parsed: Parsed, tables: dict, options: dict) -> dict:
    if "gen-0000012" in set(parsed.articles["doc_id"]):
        raise RuntimeError("cannot read this one")
    return {"words": parsed.articles[["doc_id", "n_words"]]}


def test_an_article_that_breaks_a_stage_is_rejected_and_the_rest_goes_on(corpus, tmp_path, monkeypatch):
    stage = pipeline.Stage("words", "corelib.parse", "parse_documents", _explode_on_one_article, ("words",))
    monkeypatch.setattr(pipeline, "STAGES", pipeline.STAGES[:1] + [stage])
    _run(corpus, tmp_path / "out", jobs=1, chunk_size=7, stages=["words"])
    words = pipeline.read_table(tmp_path / "out", "words")
    assert len(words) == N_ARTICLES - 1 and "gen-0000012" not in set(words["doc_id"])
    rejects = pipeline.read_table(tmp_path / "out", "rejects").set_index("doc_id")["reason"]
    assert rejects["gen-0000012"] == "words error: RuntimeError: cannot read this one"


def test_load_parsed_rebuilds_the_parsed_corpus(chunked):
    parsed = pipeline.load_parsed(chunked, doc_ids=["gen-0000003", "gen-0000040"])
    assert list(parsed.articles["doc_id"]) == ["gen-0000003", "gen-0000040"]
    text = parsed.text_of("gen-0000040")
    for row in parsed.sentences.itertuples():
        assert parsed.text_of(row.doc_id)[row.start:row.end] == row.text
    assert isinstance(parsed.articles["date_mentions"].iloc[0], list) and text


def test_seeded_sample_does_not_depend_on_order():
    ids = [f"d{i}" for i in range(100)]
    assert pipeline.sample_ids(ids, 10, seed=1) == pipeline.sample_ids(reversed(ids), 10, seed=1)
    assert pipeline.sample_ids(ids, 10, seed=1) != pipeline.sample_ids(ids, 10, seed=2)
    assert pipeline.sample_ids(ids, 500) == sorted(ids)


def test_existing_output_is_kept_unless_overwrite(corpus, chunked):
    with pytest.raises(ValueError, match="overwrite"):
        _run(corpus, chunked, stages=["parse"])


def test_unknown_stage_and_bad_options_are_clear_errors(corpus, tmp_path):
    with pytest.raises(ValueError, match="unknown stage 'nope'"):
        _run(corpus, tmp_path / "a", stages=["nope"])
    with pytest.raises(ValueError, match="chunk_size"):
        _run(corpus, tmp_path / "b", chunk_size=0)
    with pytest.raises(ValueError, match="--scheduler needs --engine dask"):
        _run(corpus, tmp_path / "c", scheduler="tcp://127.0.0.1:1")


def test_command_line_run(corpus, tmp_path, capsys):
    out = tmp_path / "cli"
    code = cli_main(["run", str(corpus), "--out", str(out), "--stages", "parse", "--chunk-size", "20", "--quiet"])
    assert code == 0
    assert "62 documents, 60 articles, 2 rejected" in capsys.readouterr().err
    manifest = json.loads((out / pipeline.MANIFEST).read_text())
    assert manifest["options"]["stages"] == ["parse"] and manifest["tables"]["articles"]["partitions"] == 4


CALLS: list[int] = []


def _always_broken(parsed: Parsed, tables: dict, options: dict) -> dict:
    CALLS.append(len(parsed.articles))
    raise OSError("codebook.yaml: line 3: bad pattern")


def test_a_stage_broken_for_every_article_is_not_retried_article_by_article(corpus, tmp_path, monkeypatch):
    stage = pipeline.Stage("broken", "corelib.parse", "parse_documents", _always_broken, ("broken",))
    monkeypatch.setattr(pipeline, "STAGES", pipeline.STAGES[:1] + [stage])
    CALLS.clear()
    _run(corpus, tmp_path / "out", jobs=1, chunk_size=20, stages=["broken"])
    reasons = pipeline.read_table(tmp_path / "out", "rejects")["reason"]
    assert (reasons == "broken error: OSError: codebook.yaml: line 3: bad pattern").sum() == N_ARTICLES
    alone = [n for n in CALLS if n == 1]  # 62 inputs in 4 chunks: each tried whole, then 3 articles alone
    assert len(CALLS) - len(alone) == 4 and len(alone) <= 4 * pipeline.SAME_ERROR_LIMIT


def test_stance_per_speaker_in_slices_equals_one_pass(chunked, tmp_path):
    import shutil

    if not (chunked / "stance_quotes").is_dir():
        pytest.skip("no stance stage")
    copy = tmp_path / "copy"
    shutil.copytree(chunked, copy)
    pipeline._stance_speakers(copy, {}, rows_per_pass=50)  # many slices of speakers
    assert _csv(copy, "stance_speakers") == _csv(chunked, "stance_speakers")
    assert not (copy / "_speaker_slices").exists()  # the spilled slices are cleaned up


def test_stance_per_speaker_equals_the_library_on_all_quotations(chunked):
    from corelib import stance
    from corelib.tables import flatten

    if not (chunked / "stance_quotes").is_dir():
        pytest.skip("no stance stage")
    expected = stance.tag_speakers(pipeline.read_table(chunked, "stance_quotes"))
    got = pipeline.read_table(chunked, "stance_speakers", decode=False)
    assert got.to_csv(index=False) == pipeline.sort_table(flatten(expected)).to_csv(index=False)
