"""Article parsing on the seeds (hand-verified), every dateline form, sentences, and properties."""
from __future__ import annotations

import csv

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corelib.parse import find_dates, match_dateline, parse_article, parse_documents, split_sentences

# Hand-verified values for every field of every seed (read from the texts by a person).
EXPECTED = {
    "000_ea997910685a76f1": dict(
        n_words=337,
        title="Coalition, Iraqi forces focus on security ahead of May elections", standfirst="",
        dateline_place="Erbil, Kurdistan Region", dateline_region="Kurdistan Region", dateline_credit="",
        author="", editor="", outlet="Rudaw", outlet_evidence="metadata", published="2018-01-16",
        published_estimated=True, n_paragraphs=10, n_sentences=12,
        body_first="ERBIL, Kurdistan Region – Iraqi security forces", body_last="intelligence after an operation.",
        dates=["May = 2018-05", "May = 2018-05", "May = 2018-05", "May 12 = 2018-05-12", "Monday = Monday"]),
    "001_812abe2d57e416d9": dict(
        n_words=548,
        title="Coalition training mission in Iraq and Syria ‘will resume as conditions permit’", standfirst="",
        dateline_place="Erbil, Kurdistan Region", dateline_region="Kurdistan Region", dateline_credit="",
        author="", editor="", outlet="Rudaw", outlet_evidence="metadata", published="2020-04-09",
        published_estimated=True, n_paragraphs=19, n_sentences=25,
        body_first="ERBIL, Kurdistan Region – Coalition forces", body_last="they even established bases,” Yawar told Rudaw.",
        dates=["Thursday = Thursday", "early March = 2020-03", "2014 = 2014", "Monday = Monday", "Monday = Monday",
               "Friday = Friday", "Sunday = Sunday", "early April = 2020-04", "December 2017 = 2017-12",
               "Sunday = Sunday", "December 2017 = 2017-12", "2018 = 2018", "2019 = 2019"]),
    "002_34017aebf84e8b53": dict(
        n_words=419,
        title="Canada to send police officers to Iraq, insecurity in Mosul persists",
        standfirst=("Canada will send police officers to Iraq over the next two years to “support efforts to "
                    "re-establish a local police presence” in areas which have been retaken from IS, as well as "
                    "“advise their Iraqi counterparts.”"),
        dateline_place="Erbil, Kurdistan Region", dateline_region="Kurdistan Region", dateline_credit="Kurdistan 24",
        author="", editor="Karzan Sulaivany", outlet="Kurdistan 24", outlet_evidence="metadata",
        published="2017-08-02", published_estimated=True, n_paragraphs=14, n_sentences=17,
        body_first="ERBIL, Kurdistan Region (Kurdistan 24) – The Canadian government",
        body_last="hundreds of thousands of civilians to return home.",
        dates=["Wednesday = Wednesday", "September = 2017-09", "the end of June = 2017-06", "Monday = Monday",
               "Tuesday = Tuesday", "Wednesday = Wednesday"]),
    "003_73fdf65507dea6e1": dict(
        n_words=396,
        title="Anti ISIS operations resume in Diyala as the group targets civilians",
        standfirst=("Iraqi Security Forces have resumed anti-ISIS operations against militants fleeing to Diyala "
                    "Province from other liberated regions of Iraq."),
        dateline_place="", dateline_region="", dateline_credit="", author="", editor="", outlet="",
        outlet_evidence="", published="2018-01-01", published_estimated=True, n_paragraphs=7, n_sentences=17,
        body_first="Iraqi Security Forces have resumed anti-ISIS operations in Diyala Province",
        body_last="were severely understaffed.",
        dates=["January 2018 = 2018-01", "January 2015 = 2015-01", "January 2018 = 2018-01"]),
    "004_35e4e8efc59ea18d": dict(
        n_words=535,
        title="", standfirst="", dateline_place="", dateline_region="", dateline_credit="",
        author="Shawn Snow", editor="", outlet="Military Times", outlet_evidence="metadata",
        published="2020-03-19", published_estimated=True, n_paragraphs=14, n_sentences=19,
        body_first="The U.S. military says some coalition troops", body_last="we will resume our support to Iraqi training,” OIR said in a news release.",
        dates=["Thursday = Thursday", "Tuesday = Tuesday", "2020 = 2020"]),
}


@pytest.mark.parametrize("doc_id", sorted(EXPECTED))
def test_every_field_of_every_seed(parsed_seeds, doc_id):
    row = parsed_seeds.articles.set_index("doc_id").loc[doc_id]
    exp = EXPECTED[doc_id]
    for key in ("title", "standfirst", "dateline_place", "dateline_region", "dateline_credit", "author", "editor",
                "outlet", "outlet_evidence", "published", "published_estimated", "n_paragraphs", "n_sentences"):
        assert row[key] == exp[key], key
    assert row["body"].startswith(exp["body_first"]) and row["body"].endswith(exp["body_last"])
    assert row["text"][row["body_start"]:row["body_end"]] == row["body"]
    assert row["date_mentions"] == exp["dates"]
    # words, not dashes ("Daesh/ISIS" counts two): white-space splitting would count each spaced "–"
    assert row["n_words"] == exp["n_words"]


def test_seed_titles_and_datelines_match_the_gold_file(parsed_seeds, seeds_dir):
    arts = parsed_seeds.articles.set_index("doc_id")
    with open(seeds_dir / "gold" / "articles.csv", encoding="utf-8") as fh:
        for g in csv.DictReader(fh):
            assert arts.loc[g["doc_id"], "title"] == g["title"]
            assert arts.loc[g["doc_id"], "dateline_place"] == g["dateline_place"]
            assert arts.loc[g["doc_id"], "dateline_credit"] == g["dateline_credit"]


def test_outlet_from_text_when_there_is_no_metadata(seeds_dir):
    found = {}
    for p in sorted(seeds_dir.glob("*.txt")):
        art = parse_article(p.stem, p.read_text(encoding="utf-8"))["article"]
        found[p.stem[:3]] = (art["outlet"], art["outlet_evidence"])
    assert found["000"] == ("Rudaw", "asked a question from the outlet: 'question from Rudaw'")
    assert found["001"][0] == "Rudaw"
    assert found["002"] == ("Kurdistan 24", "dateline credit (Kurdistan 24)")
    assert found["003"] == ("", "")
    assert found["004"][0] == "Military Times"  # two 'told/spoke to Military Times' beat one bio line


def test_trailing_boilerplate_is_cut_and_roles_are_kept(parsed_seeds):
    pars = parsed_seeds.paragraphs
    bp = pars[(pars.doc_id == "004_35e4e8efc59ea18d") & (pars.role == "boilerplate")]["text"].tolist()
    assert bp == ["Shawn Snow is the senior reporter for Marine Corps Times and a Marine Corps veteran.",
                  "In Other News", "Load More"]
    bp2 = pars[(pars.doc_id == "002_34017aebf84e8b53") & (pars.role == "boilerplate")]["text"].tolist()
    assert bp2 == ["Editing by Karzan Sulaivany"]


@pytest.mark.parametrize("line,place,region,credit,date", [
    ("ERBIL, Kurdistan Region – Iraqi forces", "Erbil, Kurdistan Region", "Kurdistan Region", "", ""),
    ("ERBIL, Kurdistan Region (Kurdistan 24) – The", "Erbil, Kurdistan Region", "Kurdistan Region", "Kurdistan 24", ""),
    ("ERBIL (Kurdistan 24) – The Peshmerga", "Erbil", "", "Kurdistan 24", ""),
    ("QAIM, Iraq (AP) — The", "Qaim, Iraq", "Iraq", "AP", ""),
    ("BAQUBA, Iraq - Gunmen", "Baquba, Iraq", "Iraq", "", ""),
    ("Cairo – Egypt said", "Cairo", "", "", ""),
    ("BEIRUT — The leader", "Beirut", "", "", ""),
    ("WASHINGTON, DC, USA (North Press) – The", "Washington, DC, USA", "DC, USA", "North Press", ""),
    ("IRBIL, KRG (North Press)- On Monday", "Irbil, KRG", "KRG", "North Press", ""),
    ("Baghdad-INA- The Security Media Cell", "Baghdad", "", "INA", ""),
    ("Shafaq News/ The President of the Region", "", "", "Shafaq News", ""),
    ("Washington, DC–(ENEWSPF)–June 29, 2017", "Washington, DC", "DC", "ENEWSPF", "2017-06-29"),
    ("AL-QAIM, Iraq (AP) — Troops", "Al-Qaim, Iraq", "Iraq", "AP", ""),
    ("RAMADI: Anbar's governor said", "Ramadi", "", "", ""),
    ("BAGHDAD // A car bomb", "Baghdad", "", "", ""),
    ("WASHINGTON, Sept. 12, 2020 — Partner forces", "Washington", "", "", "2020-09-12"),
    ("Hasakeh (Syria) (AFP) - Kurdish-led forces", "Hasakeh, Syria", "Syria", "AFP", ""),
    ("DEIR EZ-ZOR, Syria (North Press) – Gunmen", "Deir Ez-Zor, Syria", "Syria", "North Press", ""),
])
def test_dateline_forms(line, place, region, credit, date):
    dl = match_dateline(line)
    assert dl is not None
    assert (dl.place, dl.region, dl.credit, dl.date) == (place, region, credit, date)


@pytest.mark.parametrize("line", [
    "The Peshmerga – Kurdish forces – said on Monday that the attack was repelled.",
    "On Monday – the day after the attack – officials met.",
    "Coalition forces will resume their training mission when “conditions permit”, officials said.",
    "Iraq’s fragile security was exposed when a bombing killed 38.",
    "Officials with Operation Inherent Resolve — the U.S.-led mission — gave no details.",
    "ISIS: a timeline of the group's rise and fall",
    "Note: figures are provisional.",
    "EXCLUSIVE: Iraq says the cells in Kirkuk are broken",  # a label, as in "ANALYSIS-..."
])
def test_sentences_that_are_not_datelines(line):
    assert match_dateline(line) is None


def test_an_all_caps_headline_with_a_colon_stays_a_headline():
    out = parse_article("t", "ISIS: The return of the sleeper cells\n\nRAMADI: Gunmen attacked a checkpoint, police said.")
    art = out["article"]
    assert art["title"] == "ISIS: The return of the sleeper cells" and art["dateline_place"] == "Ramadi"


def test_dateline_only_line_and_its_date(tmp_path):
    text = "Spokesman: the coalition's progress\n\nWashington, DC–(ENEWSPF)–June 29, 2017\nThe group is on the run, he said."
    out = parse_article("x", text)
    art = out["article"]
    assert art["dateline_place"] == "Washington, DC" and art["published"] == "2017-06-29"
    assert art["published_source"] == "dateline" and not art["published_estimated"]
    assert [p["role"] for p in out["paragraphs"]] == ["title", "dateline", "body"]


@pytest.mark.parametrize("text,expected", [
    ("“There is no indicator,” Brig. Gen. James F. Glynn said. He added more.",
     ["“There is no indicator,” Brig. Gen. James F. Glynn said.", "He added more."]),
    ("The U.S. military and the U.K. agreed. Lt. Col. Smith said so.",
     ["The U.S. military and the U.K. agreed.", "Lt. Col. Smith said so."]),
    ("He was ranked No. 2 in the group. Then he left.", ["He was ranked No. 2 in the group.", "Then he left."]),
    ("“It’s merely a matter of cells.” The coalition is watching.",
     ["“It’s merely a matter of cells.”", "The coalition is watching."]),
    ("“We will win.” “They will lose,” he said.", ["“We will win.”", "“They will lose,” he said."]),
])
def test_sentence_splitting_survives_titles_abbreviations_and_quotes(text, expected):
    assert [text[s:e] for s, e in split_sentences(text)] == expected


def test_date_mentions_are_normalised():
    found = {d["text"]: (d["value"], d["granularity"], d["qualifier"])
             for d in find_dates("On May 12 and in December 2017, in early March, on Monday, 15 January 2018.",
                                 published="2018-01-17")}
    assert found["May 12"] == ("2018-05-12", "day", "")
    assert found["December 2017"] == ("2017-12", "month", "")
    assert found["early March"] == ("2018-03", "part_of_month", "early")
    assert found["Monday"] == ("2018-01-15", "weekday", "")
    assert found["15 January 2018"] == ("2018-01-15", "day", "")


def test_unbalanced_quotes_and_one_line_articles_parse():
    out = parse_article("u", "“The group is back, he said.\nNothing else")
    assert [p["role"] for p in out["paragraphs"]] == ["body", "body"]
    assert parse_article("one", "Just one line of text")["article"]["title"] == ""


def test_a_bad_record_is_rejected_not_fatal():
    parsed = parse_documents([{"doc_id": "ok", "text": "Headline\n\nBody text here."},
                              {"doc_id": "bad", "text": None}])
    assert list(parsed.articles["doc_id"]) == ["ok"]
    assert parsed.rejects.iloc[0]["doc_id"] == "bad" and parsed.rejects.iloc[0]["reason"].startswith("parse error")


def test_offsets_slice_back_on_the_seeds(parsed_seeds):
    texts = dict(zip(parsed_seeds.articles.doc_id, parsed_seeds.articles.text))
    for table in (parsed_seeds.paragraphs, parsed_seeds.sentences, parsed_seeds.dates):
        for row in table.itertuples():
            assert texts[row.doc_id][row.start:row.end] == row.text


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600))
def test_parsing_never_raises_and_offsets_slice_back(text):
    out = parse_article("h", text)
    for key in ("paragraphs", "sentences", "dates"):
        for row in out[key]:
            assert text[row["start"]:row["end"]] == row["text"]
    art = out["article"]
    assert text[art["body_start"]:art["body_end"]] == art["body"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["ERBIL, Kurdistan Region –", "“", "”", "\"", " he said.", "Brig. Gen.", "U.S.",
                                 "\n", "\n\n", "In Other News", "Editing by X Y", "May 12", "2017", " ", "ISIS",
                                 "(AP) —", "Baghdad-INA-", "No. 2", "…", "’"]), max_size=40))
def test_parsing_newsy_fragments_never_raises(parts):
    text = "".join(parts)
    out = parse_article("f", text)
    for row in out["sentences"]:
        assert text[row["start"]:row["end"]] == row["text"]


# --------------------------------------------------------------------------- the fast paths agree with the slow ones

_SENTENCE_BITS = ["Brig. Gen. James F. Glynn", " said.", " He ", "U.S.", "U.K.", "No. 2", "12.", "5.5", " e.g. ", "…",
                  "...", "?", "!", "“", "”", "‘", "’", "\"", "(", ")", " ", "  ", "\n", "\t", "a.", "Mr.", "the",
                  "ISIS", "--", "-", ",", ";", ":", "2017.", "J.", "x"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(st.sampled_from(_SENTENCE_BITS), max_size=40).map("".join),
                 st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)))
def test_fast_punkt_gives_nltk_punkt_boundaries(text):
    from corelib.parse import _fast_punkt, sentence_tokenizer

    assert _fast_punkt().span_tokenize(text) == list(sentence_tokenizer().span_tokenize(text))


_DATE_BITS = ["May", "March", "Mayor", "Sunni", "Monday", "Mondays", "on", "last", "in", "of", "during", "the",
              "beginning", "end", "early", "mid-", "mid-March", "12", "3rd", "31st", "2017", "1999", "2017,", "12,",
              "Sept.", "Dec.", "DecMay", "x", ",", ".", "“"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_DATE_BITS), st.sampled_from([" ", "  ", "\n", "", ", ", "\u00a0"])),
                max_size=30).map(lambda parts: "".join(a + b for a, b in parts)))
def test_anchored_date_search_finds_what_the_full_scan_finds(text):
    from corelib.parse import DATE_RE, _date_matches

    assert [(m.span(), m.groupdict()) for m in _date_matches(text)] == \
        [(m.span(), m.groupdict()) for m in DATE_RE.finditer(text)]


@pytest.mark.parametrize("line,place,credit", [
    ("TIKRIT, Iraq, March 3 (Reuters) - Gunmen", "Tikrit, Iraq", "Reuters"),  # a date after the region
    ("Raqqa – Enab Baladi – Traders in the city", "Raqqa", "Enab Baladi"),  # a credit of two words in outlets.yaml
    ("Enab Baladi – Raqqa", "Raqqa", "Enab Baladi"),  # the outlet first, on a line of its own
    ("Syria Direct – Idlib – Traders in the city", "Idlib", "Syria Direct"),  # the outlet first, before the text
    ("Rudaw – The council met on Sunday", "", "Rudaw"),  # an outlet alone is a credit, never a place
    ("Damascus – Asharq Al-Awsat – The group struck", "Damascus", "Asharq Al-Awsat"),  # a hyphen in the outlet
    ("Baghdad - Asharq Al-Awsat", "Baghdad", "Asharq Al-Awsat"),  # place and outlet on a line of their own
    ("Erbil – Kurdistan 24: Officials said the roads were open", "Erbil", "Kurdistan 24"),
    ("Homs, SANA- Army units combed the desert", "Homs", "SANA"),  # an outlet where a region would stand
    ("Baghdad Today – Kirkuk – A commander said", "Kirkuk", "Baghdad Today"),  # the outlet first, two words
    ("(CNN) — The group claimed the attack", "", "CNN"),  # the credit alone, in parentheses
    ("(The Conversation) — When the gunmen struck", "", "The Conversation"),
])
def test_more_dateline_forms(line, place, credit):
    dl = match_dateline(line)
    assert dl is not None and (dl.place, dl.credit) == (place, credit)


def test_a_dashed_aside_of_capitalised_words_is_no_credit():
    dl = match_dateline("Mosul – Old City Market – a place of rubble, said the mayor.")
    assert dl is None or dl.credit == ""


def test_a_parenthesis_that_is_no_outlet_is_no_credit():
    assert match_dateline("(Updated) — The council met on Sunday.") is None
    dl = match_dateline("BAGHDAD, Kurdistan Region – The council met.")
    assert dl is not None and dl.credit == ""


def test_a_bare_place_line_under_the_title_is_the_dateline():
    out = parse_article("t", "Attacks rise in the desert\nMOSUL\nGunmen killed two shepherds on Monday, police said.")
    assert out["article"]["dateline_place"] == "Mosul"
    assert [p["role"] for p in out["paragraphs"]] == ["title", "dateline", "body"]
    out = parse_article("t", "Attacks rise in the desert\nDEIR EZZOR\nGunmen killed two shepherds, police said.")
    assert out["article"]["dateline_place"] == "Deir Ezzor"


@pytest.mark.parametrize("line", ["ANALYSIS", "EXCLUSIVE", "AP PHOTO", "JOHN SMITH", "BREAKING NEWS"])
def test_a_capitalised_line_that_is_no_place_is_no_dateline(line):
    out = parse_article("t", f"Attacks rise in the desert\n{line}\nGunmen killed two shepherds on Monday, police said.")
    assert out["article"]["dateline_place"] == ""


@pytest.mark.parametrize("slug", ["ANALYSIS", "EXCLUSIVE", "FACTBOX", "INSIGHT"])
def test_a_reuters_slug_opens_the_headline_not_a_dateline(slug):
    head = f"{slug}-After the fall of Assad, militants see an opening in Syria's desert"
    assert match_dateline(head) is None
    out = parse_article("t", f"{head}\n\nBAGHDAD, March 3 (Reuters) - Militants have stepped up attacks, officials said.")
    art = out["article"]
    assert art["title"] == head
    assert art["dateline_place"].split(",")[0] == "Baghdad" and art["dateline_credit"] == "Reuters"


def test_a_labelled_headline_may_end_in_a_full_stop():
    out = parse_article("t", "Analysis: The group is weaker. It is not gone.\n\nFor years, officials have said the war is over.")
    assert out["article"]["title"] == "Analysis: The group is weaker. It is not gone."


def test_web_furniture_under_the_headline_is_boilerplate():
    """A pasted page: byline with the outlet after the names, a time stamp and a photo caption come
    before the dateline; they are not text, the dateline is found after them, and the stamp dates it."""
    text = ("Militants step up raids on villages south of Kirkuk\n\n"
            "By SAMIR HADDAD Associated Press\n\n"
            "Updated: May 4, 2021, 6:10 PM\n\n"
            "Soldiers stand guard at a checkpoint near Daquq last week. (AP Photo/Hadi Nasser)\n\n"
            "KIRKUK, Iraq (AP) — Gunmen attacked two villages overnight, officials said.\n\n"
            "Residents said the raids had become more frequent.\n")
    out = parse_article("x", text)
    art = out["article"]
    assert [p["role"] for p in out["paragraphs"]] == ["title", "byline", "boilerplate", "boilerplate", "body", "body"]
    assert (art["author"], art["dateline_place"], art["dateline_credit"]) == ("SAMIR HADDAD", "Kirkuk, Iraq", "AP")
    assert (art["published"], art["published_source"]) == ("2021-05-04", "page time stamp")
    assert all("Soldiers stand guard" not in s["text"] for s in out["sentences"])


def test_a_file_photo_caption_is_no_dateline_and_no_publication_date():
    text = ("Coalition mission winds down\n\n"
            "FILE - U.S. soldiers patrol near an oil field in Hasakah province, Sept. 4, 2019.\n\n"
            "WASHINGTON — The mission ends in September, officials said.\n")
    art = parse_article("x", text)["article"]
    assert art["dateline_place"] == "Washington" and art["published_source"] != "page time stamp"


@pytest.mark.parametrize("par", [
    "Updated figures from the ministry show that 40 attacks were recorded in 2019, up from 12 the year before, "
    "according to officials in Kirkuk and Diyala who asked not to be named.",
    "The army said the attack was repelled (AP).",
])
def test_text_that_only_starts_like_furniture_stays_text(par):
    out = parse_article("x", "Attacks rise in the north\n\n" + par + "\n\nMore text follows here.\n")
    assert out["paragraphs"][1]["role"] == "body"


@pytest.mark.parametrize("line,place,credit", [
    ("BAGHDAD, Aug 9 (Reuters) - Islamic State has lost ground", "Baghdad", "Reuters"),  # a date without a year
    ("BAGHDAD, March 14 (Xinhua) -- Iraqi aircraft struck a cave", "Baghdad", "Xinhua"),
])
def test_a_date_without_a_year_after_the_place(line, place, credit):
    dl = match_dateline(line)
    assert dl is not None and (dl.place, dl.credit) == (place, credit)


def test_links_and_prompts_in_the_body_are_boilerplate():
    """'Read more:' and 'Related:' links and newsletter prompts are furniture wherever they stand; a name
    on its own line above a date line is the byline; a contributor line at the end is not text."""
    text = ("Kurdish officials warn of a security vacuum\n\n"
            "Lana Aziz\n\n"
            "June 3, 2022\n\n"
            "Officials in Erbil said the gap between the armies had widened.\n\n"
            "Read more: Iraq weighs the coalition's future\n\n"
            "Related: Peshmerga and army agree on joint brigades\n\n"
            "Farmers said armed men came at night.\n\n"
            "Sign up for our Middle East newsletter to get the news in your inbox.\n\n"
            "The ministry did not comment.\n\n"
            "Associated Press writer Omar Said in Baghdad contributed to this report.\n")
    out = parse_article("x", text)
    roles = [p["role"] for p in out["paragraphs"]]
    assert roles == ["title", "byline", "boilerplate", "body", "boilerplate", "boilerplate", "body", "boilerplate",
                     "body", "boilerplate"]
    assert out["article"]["author"] == "Lana Aziz" and out["article"]["published"] == "2022-06-03"
    assert not any("Read more" in s["text"] or "newsletter" in s["text"] for s in out["sentences"])


def test_a_related_word_in_a_sentence_is_still_text():
    out = parse_article("x", "Attacks rise\n\nRelated attacks were reported in Diyala: two soldiers died.\n\nMore.\n")
    assert out["paragraphs"][1]["role"] == "body"


def test_advertisements_and_photo_captions_inside_the_body_are_boilerplate():
    text = ("Attacks rise in Diyala\n\n"
            "BAQUBA, Iraq (AP) — Gunmen attacked a checkpoint overnight, police said.\n\n"
            "Advertisement\n\n"
            "Iraqi soldiers search an orchard near Baquba on Monday. (AP Photo/Khalid Mohammed)\n\n"
            "Residents said the attackers came from the orchards, as they had in the spring (IS/ISIS).\n\n"
            "The ministry did not comment.\n")
    roles = [p["role"] for p in parse_article("x", text)["paragraphs"]]
    assert roles == ["title", "body", "boilerplate", "boilerplate", "body", "body"]
