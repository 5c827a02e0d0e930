"""corelib.keywords: domain-aware tokens, TF-IDF terms, keyphrases, collocations, keyness and KWIC."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corelib import keywords as kw
from corelib.cli import main
from corelib.parse import parse_documents

# Short wire-style articles written for these tests: Kurdish outlet 2020 on ISIS attacks in the
# disputed territories, an international outlet 2017 on Mosul after its recapture.
ARTICLES = [
    ("k1", "Rudaw", "2020-05-03", "ISIS attacks kill farmers near Tuz Khurmatu\n\n"
     "TUZ KHURMATU, Kurdistan Region – ISIS militants attacked a village near Tuz Khurmatu on Saturday, "
     "killing three farmers, a local official said.\n\n"
     "The Popular Mobilization Forces sent reinforcements to the area. Daesh sleeper cells exploit the "
     "security gap in the disputed territories, the official said.\n\n"
     "Kurdish officials have warned that the group is regrouping in the Hamrin mountains."),
    ("k2", "Rudaw", "2020-06-11", "Security gap lets ISIS regroup in disputed territories\n\n"
     "ERBIL, Kurdistan Region – Peshmerga commanders say the security gap between Kurdish and Iraqi forces "
     "lets ISIS militants move freely in the disputed territories.\n\n"
     "An IED attack on Thursday near Tuz Khurmatu wounded two Peshmerga fighters.\n\n"
     "Joint coordination centres are needed to close the security gap, a Peshmerga commander said."),
    ("k3", "Rudaw", "2020-07-20", "Farmers flee villages after night attacks\n\n"
     "KIRKUK, Iraq – Farmers in villages south of Kirkuk are leaving their land after night attacks by "
     "ISIL fighters, residents said.\n\n"
     "The attacks come as the security gap in the disputed territories widens, residents told reporters.\n\n"
     "IS cells burned crops in two villages last week."),
    ("w1", "Reuters", "2017-07-12", "Iraqi forces declare victory in Mosul\n\n"
     "MOSUL, Iraq (Reuters) – Iraqi forces declared victory over Islamic State in Mosul on Monday after "
     "months of urban fighting in the Old City.\n\n"
     "Prime Minister Haider al-Abadi congratulated the armed forces on the liberation of Mosul.\n\n"
     "Reconstruction of the Old City will cost billions of dollars, officials said."),
    ("w2", "Reuters", "2017-08-30", "Mosul residents return to ruined Old City\n\n"
     "MOSUL, Iraq (Reuters) – Residents are returning to the Old City of Mosul, where reconstruction has "
     "barely begun after the liberation of the city.\n\n"
     "Aid agencies say reconstruction needs billions of dollars and years of work."),
    ("w3", "Reuters", "2017-12-09", "Abadi declares final victory over Islamic State\n\n"
     "BAGHDAD (Reuters) – Prime Minister Haider al-Abadi declared final victory over Islamic State on "
     "Saturday after Iraqi forces recaptured the last areas along the Syrian border.\n\n"
     "The liberation of Mosul in July was the biggest defeat for the group, officials said."),
]


@pytest.fixture(scope="module")
def small():
    return parse_documents([{"doc_id": d, "text": t, "outlet": o, "published": p} for d, o, p, t in ARTICLES])




# --------------------------------------------------------------------------- tokens

def first_of(spans: list[tuple[int, int, str]]) -> dict[str, tuple[int, int]]:
    """{term: (start, end)} of the first span of every term in ``spans``."""
    first: dict = {}
    for s, e, t in spans:
        if t:
            first.setdefault(t, (s, e))
    return first


def test_multiword_names_stay_whole_and_words_are_normalised():
    terms = kw.Tokenizer().terms("ISIS militants attacked Tuz Khurmatu; the Popular Mobilization Forces "
                                 "and the coalition’s jets said 38 were killed in 2018.")
    assert "Tuz Khurmatu" in terms and "Popular Mobilization Forces" in terms
    assert "coalition" in terms and "jets" in terms and "killed" in terms
    assert not {"the", "said", "38", "2018", "and"} & set(terms)
    assert "tuz" not in terms and "khurmatu" not in terms


def test_aliases_fold_to_one_canonical_name_only_when_asked():
    text = "Daesh, ISIL and IS are names for ISIS."
    plain = kw.Tokenizer().terms(text)
    folded = kw.Tokenizer(fold_aliases=True).terms(text)
    assert plain == ["Daesh", "ISIL", "IS", "names", "ISIS"]
    assert len(set(folded) - {"names"}) == 1 and folded.count(folded[0]) == 4
    # an alias written in capitals (IS) matches only in capitals: "is" stays a stop word
    assert kw.Tokenizer(fold_aliases=True).terms("This is the place") == ["place"]


def test_first_spans_agree_with_spans(parsed_seeds):
    tok = kw.Tokenizer()
    for text in parsed_seeds.paragraphs["text"]:
        first = first_of(tok.spans(text, 7))
        assert tok.first_spans(text, list(first) + ["absent-term"], 7) == first


def test_token_spans_point_into_the_text():
    text = "Fighting in TUZ KHURMATU and Tuz Khurmatu resumed."
    spans = [(s, e, t) for s, e, t in kw.Tokenizer().spans(text, offset=100) if t]
    assert [(text[s - 100:e - 100], t) for s, e, t in spans] == [
        ("Fighting", "fighting"), ("TUZ KHURMATU", "Tuz Khurmatu"), ("Tuz Khurmatu", "Tuz Khurmatu"),
        ("resumed", "resumed")]


PIECES = list("aIsS dTuzKhrmt’'-.,\n(") + ["ISIS ", "Tuz Khurmatu ", "the coalition", " Daesh", "Iraq’s "]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_tokens_never_crash_and_always_point_into_the_text(text):
    tok = kw.Tokenizer()
    spans = tok.spans(text, 3)
    assert [t for _, _, t in spans] == tok.stream(text)
    assert [t for t in tok.stream(text) if t] == tok.terms(text)
    for s, e, t in spans:
        assert 3 <= s < e <= len(text) + 3
        if t and t[0].islower():  # an ordinary word: its span is the word as written
            assert text[s - 3:e - 3].lower().replace("’", "'") == t
    first = first_of(spans)
    assert tok.first_spans(text, list(first), 3) == first


# --------------------------------------------------------------------------- TF-IDF terms

def test_top_terms_per_article_on_the_seeds(parsed_seeds):
    df = kw.top_terms(parsed_seeds, top=8)
    assert list(df.columns) == ["doc_id", "rank", "term", "score", "count", "start", "end", "published",
                                "outlet", "title"]
    assert set(df["doc_id"]) == set(parsed_seeds.articles["doc_id"])
    assert df.groupby("doc_id")["rank"].max().eq(8).all()
    texts = dict(zip(parsed_seeds.articles["doc_id"], parsed_seeds.articles["text"]))
    for row in df.itertuples():
        span = texts[row.doc_id][row.start:row.end].lower().replace("’", "'")
        assert row.term.lower() in span, (row.term, span)
    for _, g in df.groupby("doc_id"):  # best first, ties by term
        assert list(zip(-g["score"], g["term"])) == sorted(zip(-g["score"], g["term"]))
    police = df[(df["doc_id"] == "002_34017aebf84e8b53") & (df["term"] == "police")]
    assert len(police) == 1 and police["count"].iloc[0] == 5


def test_top_terms_per_group_keep_the_group_and_trace_back(small):
    df = kw.top_terms(small, by="outlet", top=5)
    assert set(df["group"]) == {"Rudaw", "Reuters"} and (df["by"] == "outlet").all()
    rudaw = df[df["group"] == "Rudaw"]
    assert "security gap" not in set(rudaw["term"])  # single terms, not phrases
    assert {"disputed", "territories"} & set(rudaw["term"]) or "gap" in set(rudaw["term"])
    assert (df["n_docs"] == 3).all()
    texts = dict(zip(small.articles["doc_id"], small.articles["text"]))
    for row in df.itertuples():
        assert row.term.lower() in texts[row.doc_id][row.start:row.end].lower()
    by_year = kw.top_terms(small, by="year", top=3)
    assert set(by_year["group"]) == {"2017", "2020"}


def test_top_terms_are_deterministic(parsed_seeds, csv_text):
    assert csv_text(kw.top_terms(parsed_seeds, top=10)) == csv_text(kw.top_terms(parsed_seeds, top=10))


# --------------------------------------------------------------------------- keyphrases and collocations

def test_keyphrases_are_runs_of_content_words_with_offsets(parsed_seeds):
    df = kw.keyphrases(parsed_seeds, top=5)
    texts = dict(zip(parsed_seeds.articles["doc_id"], parsed_seeds.articles["text"]))
    tok = kw.Tokenizer()
    for row in df.itertuples():
        assert " ".join(texts[row.doc_id][row.start:row.end].split()) == row.text
        stream = tok.stream(row.text)  # no stop word, number or punctuation inside a phrase
        assert "" not in stream and " ".join(stream) == row.phrase
    grouped = kw.keyphrases(parsed_seeds, by="outlet", top=3)
    assert (grouped["count"] >= 2).all()  # a group's phrases occur at least twice
    assert "send police officers" in set(grouped["phrase"])


def test_collocations_bigrams_and_trigrams(parsed_seeds):
    bi = kw.collocations(parsed_seeds, n=2, top=5, min_freq=2)
    first = bi.iloc[0]
    assert (first["collocation"], first["freq"]) == ("police officers", 5)
    assert first["likelihood_ratio"] >= bi["likelihood_ratio"].iloc[-1]
    texts = dict(zip(parsed_seeds.articles["doc_id"], parsed_seeds.articles["text"]))
    for row in bi.itertuples():
        assert texts[row.doc_id][row.start:row.end].lower() == row.collocation
    tri = kw.collocations(parsed_seeds, n=3, top=3, min_freq=2)
    assert tri.iloc[0]["collocation"] == "send police officers" and {"w1", "w2", "w3"} <= set(tri.columns)
    with pytest.raises(ValueError, match="n must be 2 or 3"):
        kw.collocations(parsed_seeds, n=4)


@pytest.mark.parametrize("n", [2, 3])
def test_collocation_counts_agree_with_nltk_from_documents(parsed_seeds, n):
    from nltk.collocations import (BigramAssocMeasures, BigramCollocationFinder, TrigramAssocMeasures,
                                   TrigramCollocationFinder)

    streams = kw._sentence_streams(parsed_seeds, kw.Tokenizer())
    cls, measures = ((BigramCollocationFinder, BigramAssocMeasures) if n == 2
                     else (TrigramCollocationFinder, TrigramAssocMeasures))
    reference = cls.from_documents(streams)
    reference.apply_freq_filter(2)
    reference.apply_word_filter(lambda w: not w)
    ours = kw._finder(streams, n, 2)
    for measure in (measures.likelihood_ratio, measures.pmi):
        assert dict(ours.score_ngrams(measure)) == pytest.approx(dict(reference.score_ngrams(measure)))
    assert len(ours.ngram_fd) >= 5


def test_collocations_per_group(small):
    df = kw.collocations(small, n=2, min_freq=2, by="outlet")
    assert ("Rudaw", "security gap") in set(zip(df["group"], df["collocation"]))
    pairs = set(zip(df["group"], df["collocation"]))
    assert ("Reuters", "old city") in pairs and ("Rudaw", "old city") not in pairs
    assert ("Rudaw", "near Tuz Khurmatu") in pairs  # a gazetteer name is one token of the bigram
    assert ("Reuters", "declared victory") not in pairs  # seen once only


# --------------------------------------------------------------------------- keyness

def test_keyness_scores_match_a_hand_worked_two_by_two_table():
    # 'attack' 10 times in 1,000 target words, 5 times in 2,000 reference words.
    # Expected: E1 = 1000*15/3000 = 5, E2 = 10; G2 = 2(10 ln 2 + 5 ln 0.5) = 10 ln 2 = 6.9315;
    # chi2 = 25/5 + 25/10 + 25/995 + 25/1990 = 7.5377; log ratio = log2(0.01/0.0025) = 2.
    s = kw.keyness_scores([10], [5], 1000, 2000).iloc[0]
    assert s["g2"] == pytest.approx(10 * math.log(2), abs=1e-4)
    assert s["chi2"] == pytest.approx(5 + 2.5 + 25 / 995 + 25 / 1990, abs=1e-4)
    assert s["log_ratio"] == pytest.approx(2.0)
    assert s["p_g2"] == pytest.approx(math.erfc(math.sqrt(10 * math.log(2) / 2)), rel=1e-3)
    assert s["p_chi2"] == pytest.approx(math.erfc(math.sqrt(7.537688 / 2)), rel=1e-3)
    # the other way round the statistics change sign
    r = kw.keyness_scores([5], [10], 2000, 1000).iloc[0]
    assert r["g2"] == pytest.approx(-s["g2"]) and r["log_ratio"] == pytest.approx(-2.0)
    # a zero frequency: 0.5 stands in for the log ratio, G2 stays finite
    z = kw.keyness_scores([6], [0], 1000, 1000).iloc[0]
    assert z["log_ratio"] == pytest.approx(math.log2(6 / 0.5), abs=1e-4) and z["g2"] == pytest.approx(2 * 6 * math.log(2),
                                                                                          abs=1e-4)


def test_keyness_of_a_group_against_the_rest(small):
    df = kw.keyness(small, by="outlet", target="Rudaw")
    row = df.set_index("term").loc["disputed"]
    assert (row["freq_target"], row["freq_reference"], row["docs_target"]) == (4, 0, 3)
    assert row["g2"] > 0 and row["log_ratio"] > 0
    assert df.set_index("term").loc["Mosul", "g2"] < 0
    assert list(df["g2"]) == sorted(df["g2"], reverse=True)
    # raw frequencies agree with counting the tokens by hand
    rudaw = " ".join(t for d, o, _, t in ARTICLES if o == "Rudaw")
    terms = kw.Tokenizer().terms(rudaw)
    assert row["freq_target"] == terms.count("disputed")
    assert row["per_10k_target"] == pytest.approx(round(4 / len(terms) * 1e4, 4))
    top = kw.keyness(small, by="outlet", target="Rudaw", top=3)
    assert len(top) == 6 and (top["g2"].head(3) > 0).all() and (top["g2"].tail(3) < 0).all()
    texts = dict(zip(small.articles["doc_id"], small.articles["text"]))
    for r in top.itertuples():
        assert r.term.lower() in texts[r.doc_id][r.start:r.end].lower()


def test_keyness_by_year_and_every_group(small):
    by_year = kw.keyness(small, by="year", target="2017", reference="2020")
    assert (by_year["reference"] == "2020").all()
    every = kw.keyness_by_group(small, by="outlet", top=4)
    assert set(every["target"]) == {"Rudaw", "Reuters"} and (every["g2"] > 0).all()
    assert every.groupby("target").size().max() <= 4


def test_one_term_matrix_shared_by_top_terms_and_keyness_gives_the_same_tables(small):
    tm = kw.term_matrix(small, "document", kw.Tokenizer())
    assert kw.keyness_by_group(small, by="outlet", tm=tm).equals(kw.keyness_by_group(small, by="outlet"))
    assert kw.top_terms(small, by="outlet", tm=tm).equals(kw.top_terms(small, by="outlet"))


def test_keyness_errors_are_clear(small):
    one_outlet = parse_documents([{"doc_id": "a", "text": "Attack in Kirkuk.\n\nMore attacks.", "outlet": "X"},
                                  {"doc_id": "b", "text": "Victory in Mosul.\n\nMore news.", "outlet": "X"}])
    with pytest.raises(ValueError, match="whole corpus"):
        kw.keyness(one_outlet, by="outlet", target="X")
    with pytest.raises(ValueError, match="at least two groups"):
        kw.keyness_by_group(one_outlet, by="outlet")
    with pytest.raises(ValueError, match="no articles with outlet = 'AP'.*'Reuters', 'Rudaw'"):
        kw.keyness(small, by="outlet", target="AP")
    with pytest.raises(ValueError, match="no column 'channel'"):
        kw.keyness(small, by="channel", target="TV")
    with pytest.raises(ValueError, match="same group"):
        kw.keyness(small, by="outlet", target="Rudaw", reference="Rudaw")
    with pytest.raises(ValueError, match="holds lists"):
        kw.keyness(small, by="date_mentions", target="x")


# --------------------------------------------------------------------------- KWIC

def test_kwic_word_phrase_and_metadata(small):
    df = kw.kwic(small, "tuz khurmatu", window=3)
    assert list(df.columns) == ["doc_id", "para_id", "start", "end", "left", "match", "right", "published",
                                "outlet", "title"]
    texts = dict(zip(small.articles["doc_id"], small.articles["text"]))
    assert all(texts[r.doc_id][r.start:r.end] == r.match for r in df.itertuples())
    assert set(df["match"]) == {"Tuz Khurmatu", "TUZ KHURMATU"} and len(df) == 4
    words = kw._WORD_RE.findall
    assert all(len(words(r.left)) <= 3 and len(words(r.right)) <= 3 for r in df.itertuples())
    title_hit = df[(df["doc_id"] == "k1") & (df["para_id"] == 0)].iloc[0]
    assert (title_hit["left"], title_hit["right"]) == ("kill farmers near", "")  # context stays in its paragraph
    assert (df["outlet"] == "Rudaw").all() and df["published"].str.startswith("2020").all()
    assert list(zip(df["doc_id"], df["start"])) == sorted(zip(df["doc_id"], df["start"]))
    near = df[df["doc_id"] == "k2"].iloc[0]
    assert near["left"] == "on Thursday near" and near["right"] == "wounded two Peshmerga"


def test_kwic_aliases_regex_and_chars(small):
    isis = kw.kwic(small, "ISIS")
    every = kw.kwic(small, "ISIS", aliases=True)
    assert set(isis["start"]) < set(every["start"])
    assert {"Daesh", "ISIL", "IS", "Islamic State"} <= set(every["match"])
    assert "is" not in set(every["match"])  # 'the group is regrouping' is not IS
    rx = kw.kwic(small, r"\b(?:re)?captur\w+|liberation", regex=True, unit="chars", window=10)
    assert {"recaptured", "liberation"} <= set(rx["match"])
    assert all(len(r) <= 10 for r in rx["left"])


def test_kwic_errors_and_nothing_found(small):
    with pytest.raises(ValueError, match="invalid regular expression"):
        kw.kwic(small, "(unclosed", regex=True)
    with pytest.raises(ValueError, match="empty"):
        kw.kwic(small, "  ")
    with pytest.raises(ValueError, match="not a name"):
        kw.kwic(small, "farmers", aliases=True)
    assert kw.kwic(small, "Raqqa").empty


def test_awkward_articles_do_not_break_a_batch():
    docs = [{"doc_id": d, "text": t, "outlet": o, "published": p} for d, o, p, t in ARTICLES]
    docs += [{"doc_id": "z1", "text": "Editing by Someone", "outlet": "", "published": ""},
             {"doc_id": "z2", "text": "“ ” — … 2018 12 ,,,\n\n!!!", "outlet": "AP", "published": "not a date"},
             {"doc_id": "z3", "text": "ISIS\n\nISIS ISIS ISIS’s ISIS-linked cells", "outlet": "AP", "published": "2019"}]
    parsed = parse_documents(docs)
    terms = kw.top_terms(parsed, top=3)
    assert "z3" in set(terms["doc_id"]) and "ISIS" in set(terms.loc[terms["doc_id"] == "z3", "term"])
    by_month = kw.top_terms(parsed, by="month", top=2)
    assert "(none)" in set(by_month["group"])  # "2019", "not a date" and "" have no month
    assert len(kw.kwic(parsed, r"\b", regex=True)) == 0  # empty matches are skipped
    assert (kw.keyness(parsed, by="outlet", target="AP")["freq_target"] >= 0).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200), min_size=1, max_size=4),
       st.text(max_size=12))
def test_odd_text_and_patterns_give_tables_that_point_back_or_a_clear_error(texts, pattern):
    parsed = parse_documents([{"doc_id": f"d{i}", "text": t} for i, t in enumerate(texts)])
    for table in (kw.top_terms, kw.keyphrases, lambda p: kw.collocations(p, min_freq=1)):
        try:
            df = table(parsed)
        except ValueError as exc:
            assert "no words left" in str(exc) or "no articles" in str(exc), str(exc)
            continue
        for r in df.itertuples():
            assert parsed.text_of(r.doc_id)[r.start:r.end].strip()
    try:
        hits = kw.kwic(parsed, pattern)
    except ValueError as exc:
        assert "empty" in str(exc)
    else:
        for h in hits.itertuples():
            assert parsed.text_of(h.doc_id)[h.start:h.end] == h.match


def test_no_words_left_is_a_clear_error():
    stop_only = parse_documents([{"doc_id": "a", "text": "It is what it is.\n\nAnd so on, and so on."}])
    with pytest.raises(ValueError, match="no words left"):
        kw.top_terms(stop_only)


# --------------------------------------------------------------------------- command line

def test_cli_keywords_keyness_kwic(seeds_dir, capsys, run_cli):
    code, out = run_cli(["keywords", str(seeds_dir), "--top", "3"])
    assert code == 0 and out.startswith("doc_id,rank,term,score,count,start,end,published,outlet,title")
    assert out == run_cli(["keywords", str(seeds_dir), "--top", "3"])[1]  # same bytes twice
    code, out = run_cli(["keywords", str(seeds_dir), "--by", "year", "--kind", "phrases", "--top", "2"])
    assert code == 0 and "\nyear,2017,1,send police officers," in out
    code, out = run_cli(["keyness", str(seeds_dir), "--by", "outlet", "--target", "Kurdistan 24", "--top", "2"])
    assert code == 0 and len(out.strip().splitlines()) == 5
    code, out = run_cli(["kwic", str(seeds_dir), "Daesh", "--aliases", "--window", "2", "--format", "jsonl"])
    assert code == 0 and '"match":"Islamic State group"' in out
    assert main(["keyness", str(seeds_dir), "--by", "outlet", "--target", "BBC"]) == 2
    assert "no articles with outlet = 'BBC'" in capsys.readouterr().err
