"""Loading: every input becomes a document or a reject with its reason."""
from __future__ import annotations

import codecs
import json

import pandas as pd
import pytest

from corelib.corpus import CorpusError, decode_bytes, html_to_text, load_corpus

LEDE = ("BAQUBA, Iraq - Gunmen attacked a checkpoint north of Baquba on Sunday, killing two policemen, "
        "a local official said.")


def test_seeds_load_with_metadata_and_no_rejects(seeds_dir):
    corpus = load_corpus(seeds_dir)
    assert list(corpus.docs["doc_id"]) == sorted(p.stem for p in seeds_dir.glob("*.txt"))
    assert corpus.rejects.empty  # gold/ and README.md are excluded by seeds/.corelibignore
    assert set(corpus.docs["outlet"]) == {"Rudaw", "Kurdistan 24", "Military Times", ""}
    assert (corpus.docs["duplicate_of"] == "").all()


def test_bad_inputs_go_to_rejects_and_the_batch_goes_on(tmp_path):
    (tmp_path / "good.txt").write_text("Headline here\n\n" + LEDE, encoding="utf-8")
    (tmp_path / "empty.txt").write_text("  \n\n ", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)
    (tmp_path / "big.txt").write_text("word " * 3000, encoding="utf-8")
    (tmp_path / "bad16.txt").write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")  # lone surrogate
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    corpus = load_corpus(tmp_path, max_bytes=10_000)
    assert list(corpus.docs["doc_id"]) == ["good"]
    reasons = dict(zip(corpus.rejects["doc_id"], corpus.rejects["reason"]))
    assert reasons["empty"].startswith("empty")
    assert reasons["binary"].startswith("binary")
    assert reasons["big"].startswith("over size limit") and "--max-bytes" in reasons["big"]
    assert reasons["bad16"].startswith("undecodable")
    assert reasons["photo"].startswith("unsupported file type")
    assert len(corpus.docs) + len(corpus.rejects) == 6


@pytest.mark.parametrize("encoding,bom", [("utf-8", b""), ("utf-8", codecs.BOM_UTF8),
                                          ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
                                          ("cp1252", b"")])
def test_encodings_and_newlines(tmp_path, encoding, bom):
    text = "Peshmerga – “regrouping” in Qarachogh\r\n\r\nERBIL, Kurdistan Region – The ministry’s statement said so.\r\n"
    (tmp_path / "a.txt").write_bytes(bom + text.encode(encoding))
    doc = load_corpus(tmp_path).docs.iloc[0]
    assert doc["text"] == text.replace("\r\n", "\n")
    assert "\ufeff" not in doc["text"]


def test_cp1252_smart_quotes_are_decoded():
    text, enc = decode_bytes("\u201cWe will win,\u201d he said \u2013 \u20ac5".encode("cp1252"))
    assert enc == "cp1252" and text == "\u201cWe will win,\u201d he said \u2013 \u20ac5"


def test_html_is_turned_into_paragraphs_without_scripts_or_navigation(tmp_path):
    html = """<html><head><title>Site | News</title><script>alert('x')</script><style>p{}</style></head>
    <body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
    <h1>ISIS attack kills two in Kirkuk</h1>
    <p>KIRKUK, Iraq (AP) &mdash; Two soldiers were <b>killed</b> on Monday, officials said.</p>
    <p>&ldquo;The group is regrouping,&rdquo; a local official said.</p>
    <footer>Copyright 2020</footer><script>document.write('x')</script></body></html>"""
    (tmp_path / "story.html").write_text(html, encoding="utf-8")
    doc = load_corpus(tmp_path).docs.iloc[0]
    assert doc["format"] == "html"
    assert doc["text"] == ("ISIS attack kills two in Kirkuk\n\nKIRKUK, Iraq (AP) \u2014 Two soldiers were killed on "
                           "Monday, officials said.\n\n\u201cThe group is regrouping,\u201d a local official said.")
    assert "alert" not in html_to_text(html) and "Home" not in html_to_text(html)


def test_table_corpora_csv_jsonl_parquet(tmp_path):
    rows = [{"id": "a1", "text": LEDE, "title": "Checkpoint attack", "outlet": "INA", "date": "2019-05-02"},
            {"id": "a2", "text": "", "title": "Empty", "outlet": "INA", "date": "2019-05-03"}]
    df = pd.DataFrame(rows)
    df.to_csv(tmp_path / "c.csv", index=False)
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    df.to_parquet(tmp_path / "c.parquet")
    for name in ("c.csv", "c.jsonl", "c.parquet"):
        corpus = load_corpus(tmp_path / name)
        assert list(corpus.docs["doc_id"]) == ["a1"]
        assert corpus.docs.iloc[0]["outlet"] == "INA" and corpus.docs.iloc[0]["title"] == "Checkpoint attack"
        assert list(corpus.rejects["doc_id"]) == ["a2"] and corpus.rejects.iloc[0]["reason"].startswith("empty")


def test_table_without_text_column_is_rejected_with_columns_named(tmp_path):
    pd.DataFrame({"headline": ["x"]}).to_csv(tmp_path / "t.csv", index=False)
    corpus = load_corpus(tmp_path / "t.csv")
    assert corpus.docs.empty and "no text column" in corpus.rejects.iloc[0]["reason"]
    assert "headline" in corpus.rejects.iloc[0]["reason"]


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_exact_and_near_duplicates_are_flagged_not_dropped(tmp_path):
    body = ("Iraqi forces launched an operation against Islamic State remnants in the Hamrin mountains on "
            "Tuesday, the Security Media Cell said. The operation covered villages north of Baquba where "
            "militants had attacked farmers and a police checkpoint last week, killing three people. ")
    (tmp_path / "a.txt").write_text("Operation in Hamrin\n\n" + body * 3, encoding="utf-8")
    (tmp_path / "b.txt").write_text("Operation in Hamrin\n\n" + body * 3, encoding="utf-8")
    (tmp_path / "c.txt").write_text("Iraq launches Hamrin operation\n\n" + body * 3 + "Editing by Someone", encoding="utf-8")
    (tmp_path / "d.txt").write_text("Other news\n\n" + LEDE, encoding="utf-8")
    docs = load_corpus(tmp_path).docs.set_index("doc_id")["duplicate_of"].to_dict()
    assert docs == {"a": "", "b": "a", "c": "a", "d": ""}


def test_metadata_csv_is_joined_by_file_name(tmp_path):
    (tmp_path / "x.txt").write_text("Headline\n\n" + LEDE, encoding="utf-8")
    (tmp_path / "metadata.csv").write_text("file,outlet,published\nx.txt,Shafaq News,2021-03-04\n", encoding="utf-8")
    doc = load_corpus(tmp_path).docs.iloc[0]
    assert doc["outlet"] == "Shafaq News" and doc["published"] == "2021-03-04"


def test_corelibignore_excludes_files(tmp_path):
    (tmp_path / "x.txt").write_text("Headline\n\n" + LEDE, encoding="utf-8")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "n.txt").write_text("my notes", encoding="utf-8")
    (tmp_path / ".corelibignore").write_text("notes/\n", encoding="utf-8")
    assert list(load_corpus(tmp_path).docs["doc_id"]) == ["x"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_big_table_is_read_in_batches_with_the_same_records(tmp_path, monkeypatch, suffix):
    from corelib import corpus

    rows = [{"id": f"d{i}" if i % 5 else "", "text": f"Item {i}. “Quoted,” he said." if i % 7 else "",
             "outlet": None if i % 3 == 0 else "Rudaw", "n": i} for i in range(25)]
    path = tmp_path / f"feed{suffix}"
    df = pd.DataFrame(rows)
    df.to_parquet(path, index=False, row_group_size=6) if suffix == ".parquet" else df.to_csv(path, index=False)

    def records():
        return [(r.doc_id, r.source, r.text, r.reason, repr(r.meta)) for r in corpus.iter_documents(path)]

    monkeypatch.setattr(corpus, "TABLE_BATCH", 1000)
    whole = records()
    monkeypatch.setattr(corpus, "TABLE_BATCH", 4)
    assert records() == whole
    assert [r[0] for r in whole][:6] == ["feed-000001", "d1", "d2", "d3", "d4", "feed-000006"]
    assert sum(r[3] == "empty: no text" for r in whole) == 4
