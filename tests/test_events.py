"""corelib.events: attacks, casualties, places, actors and dates, one row per event."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from corelib import actors, cli, events
from corelib.events import casualties, number_value
from corelib.parse import parse_documents


@pytest.fixture(scope="module")
def seed_events(parsed_seeds):
    return events.extract(parsed_seeds)


def one(df: pd.DataFrame, **where) -> pd.Series:
    m = df
    for k, v in where.items():
        m = m[m[k] == v]
    assert len(m) == 1, f"expected one row with {where}, got {len(m)}"
    return m.iloc[0]


def snippet(body: str, published: str | None = "2020-04-09", **kw) -> pd.DataFrame:
    rec = {"doc_id": "t", "text": "A headline\n\n" + body}
    if published:
        rec["published"] = published
    return events.extract(parse_documents([rec]), **kw)


# --------------------------------------------------------------------------- seeds

def test_seed_000_double_suicide_bombing(seed_events):
    e = one(seed_events[seed_events.doc_id.str.startswith("000")], event_type="suicide_bombing")
    assert (e.killed, e.wounded, e.place, e.place_id, e.governorate) == (38, 100, "Baghdad", "baghdad", "Baghdad")
    assert e.date_text == "Monday" and e.date == ""       # the publication date is only estimated
    assert e.sentence.startswith("Iraq’s fragile security was exposed")


def test_seed_001_airstrike_and_attacks(seed_events):
    d = seed_events[seed_events.doc_id.str.startswith("001")]
    air = one(d, event_type="airstrike")
    assert (air.killed, air.place_id, air.actor, air.date_text) == (20, "wadi_al_shay", "coalition", "Monday")
    hawija = one(d, place_id="hawija")
    assert (hawija.killed, hawija.perpetrator, hawija.target, hawija.date_text) == (1, "militants", "federal_police",
                                                                                     "Sunday")
    kolajo = one(d, place_id="kolajo")
    assert (kolajo.event_type, kolajo.killed, kolajo.wounded) == ("attack", 2, 1)
    assert (kolajo.perpetrator, kolajo.target) == ("isis", "peshmerga")
    assert (kolajo.date_text, kolajo.date) == ("early April", "2020-04")
    tuz = one(d, place_id="tuz_khurmatu")
    assert (tuz.killed, tuz.target) == (2, "pmf")
    assert kolajo.sent_id == tuz.sent_id and kolajo.end <= tuz.start     # two events, one sentence


def test_seed_001_base_handover(seed_events):
    h = one(seed_events[seed_events.doc_id.str.startswith("001")], event_type="base_handover")
    assert (h["count"], h.actor, h.target) == (6, "coalition", "isf")
    assert {"abu_ghraib", "k1_base", "al_qaim", "qayyarah", "al_sqoor", "al_taqaddum"} <= set(h.places.split("|"))


def test_seed_001_generic_mentions_are_dropped_unless_asked(parsed_seeds, seed_events):
    d = seed_events[seed_events.doc_id.str.startswith("001")]
    assert not set(d.event_type) & {"ambush", "kidnapping"}       # "bombings, ambushes, kidnappings" in a list
    all_ = events.extract(parsed_seeds, include_generic=True)
    assert {"ambush", "kidnapping"} <= set(all_[all_.doc_id.str.startswith("001")].event_type)


def test_seed_002_003_004(seed_events):
    ex = one(seed_events[seed_events.doc_id.str.startswith("002")], event_type="execution")
    assert (ex.killed, ex.place_id, ex.perpetrator, ex.target) == (1, "mosul", "federal_police", "isis")
    mur = one(seed_events[seed_events.doc_id.str.startswith("003")], place_id="miqdadiyah")
    assert (mur.killed, mur.perpetrator, mur.date, mur.date_text) == (2, "isis", "2018-01", "January 2018")
    d4 = seed_events[seed_events.doc_id.str.startswith("004")]
    assert one(d4, event_type="base_handover").target == "isf"
    assert one(d4, event_type="rocket_attack")["count"] == 12               # "more than a dozen rocket attacks"


def test_offsets_evidence_and_columns(parsed_seeds, seed_events):
    assert list(seed_events.columns) == events.EVENT_COLUMNS
    assert seed_events.event_id.is_unique
    for e in seed_events.itertuples():
        text = parsed_seeds.text_of(e.doc_id)
        assert text[e.start:e.end] in e.sentence
        for ev in e.evidence:
            assert text[ev["start"]:ev["end"]] == ev["text"]
        assert any(ev["what"] == "trigger" for ev in e.evidence)


def test_deterministic(parsed_seeds):
    pd.testing.assert_frame_equal(events.extract(parsed_seeds), events.extract(parsed_seeds))


# --------------------------------------------------------------------------- snippets

@pytest.mark.parametrize("body,kind,killed,wounded", [
    ("Four of the Americans were also wounded in the attack on the base in Anbar.", "attack", None, 4),
    ("A roadside bomb killed a police officer and wounded two others in Tarmiyah.", "bombing", 1, 2),
    ("Dozens of civilians were killed when mortar shells hit a market in Khanaqin.", "rocket_attack", 24, None),
    ("Twenty-five people were killed and 1,200 injured in twin suicide bombings in Karrada.", "suicide_bombing", 25, 1200),
    ("A dozen soldiers died in an ambush near Rutba.", "ambush", 12, None),
    ("Five Peshmerga fighters killed in ISIS attack near Makhmour.", "attack", 5, None),
    ("The death toll rose to 45 after an attack in Tuz Khurmato.", "attack", 45, None),
    ("No casualties were reported after two rockets landed near Baghdad airport.", "rocket_attack", 0, 0),
    ("An airstrike left three militants dead in the Hamrin mountains.", "airstrike", 3, None),
])
def test_casualty_phrases(body, kind, killed, wounded):
    e = one(snippet(body), event_type=kind)
    assert (None if pd.isna(e.killed) else e.killed) == killed
    assert (None if pd.isna(e.wounded) else e.wounded) == wounded


@pytest.mark.parametrize("sentence,expected", [
    ("At least 100 people, including 20 children, were killed in the bombing.", [("killed", 100)]),
    ("Six people, among them 2 policemen, were wounded in a car bomb explosion.", [("wounded", 6)]),
    ("A car bomb killed 12 people, including 3 children, and wounded 10.", [("killed", 12), ("wounded", 10)]),
    ("Three ISIS militants and a soldier were killed in clashes near Rawa.", [("killed", 4)]),
    ("Two days after the bombing and 3 soldiers were killed in Hit.", [("killed", 3)]),
    ("Two brothers aged 12 and 14 were wounded by a landmine.", []),
])
def test_asides_coordinated_groups_and_ages(sentence, expected):
    assert [(c.kind, c.value) for c in casualties(sentence)] == expected
    assert all(sentence[c.start:c.end] == c.text for c in casualties(sentence))


@pytest.mark.parametrize("sentence,expected", [
    ("Five people were İNJURED and two were KILLED in the blast.", [("wounded", 5), ("killed", 2)]),
    ("Five people were ınjured.", [("wounded", 5)]),       # dotless i: case-insensitive patterns match it
    ("Three soldiers were \u212Ailled.", [("killed", 3)]),  # Kelvin sign for K
    ("Ten militants were ſhot dead.", [("killed", 10)]),   # long s
    ("“Two police officers were killed,” he said.", [("killed", 2)]),
])
def test_casualty_words_are_found_in_any_case(sentence, expected):
    # casualties() skips sentences without a casualty word; that check must find what the patterns find
    assert [(c.kind, c.value) for c in casualties(sentence)] == expected


def test_numbers_that_are_not_people():
    assert casualties("Two days later, 30 km north of the city, the convoy was attacked.") == []
    assert casualties("They were killing time until the deal was signed.") == []
    assert [c.value for c in casualties("killing an Iraqi federal police officer")] == [1]
    assert casualties("the operations resulted in the killings of a number of terrorists") == []


@pytest.mark.parametrize("text,value", [("38", 38), ("1,200", 1200), ("twenty-five", 25), ("a dozen", 12),
                                        ("dozens of", 24), ("Two", 2), ("another", 1), ("lots", None)])
def test_number_value(text, value):
    assert number_value(text) == value


def test_weekday_and_relative_dates_resolve_against_exact_publication_date():
    e = one(snippet("A car bomb killed five people in Kirkuk on Monday."), event_type="bombing")
    assert (e.date, e.date_text) == ("2020-04-06", "Monday")
    e = one(snippet("A car bomb killed five people in Kirkuk yesterday."), event_type="bombing")
    assert e.date == "2020-04-08"
    e = one(snippet("A car bomb killed five people in Kirkuk on Monday.", published=None), event_type="bombing")
    assert (e.date, e.date_text) == ("", "Monday")


def test_perpetrator_and_target():
    e = one(snippet("Iraqi security forces arrested 12 ISIS suspects in Kirkuk."), event_type="arrest")
    assert (e.perpetrator, e.target, e["count"]) == ("isf", "isis", 12)
    e = one(snippet("Gunmen abducted three shepherds near Rutba."), event_type="kidnapping")
    assert (e.perpetrator, e["count"], e.place_id) == ("gunmen", 3, "rutba")
    e = one(snippet("A rocket attack targeting US troops hit Ain al-Asad air base."), event_type="rocket_attack")
    assert (e.target, e.place_id) == ("us_military", "ain_al_asad")
    e = one(snippet("Two soldiers were killed in a firefight with Islamic State militants near Makhmour."),
            event_type="attack")
    assert (e.killed, e.perpetrator, e.place_id) == (2, "isis", "makhmur")


def test_victims_counted_before_the_actor_are_targets():
    e = one(snippet("ISIS killed 3 Iraqi soldiers in an attack on an army post in Tarmiyah."), event_type="attack")
    assert (e.killed, e.perpetrator, e.target) == (3, "isis", "iraqi_army")
    e = one(snippet("The coalition said it had killed about 70 militants in 12 airstrikes near Rawa."),
            event_type="airstrike")
    assert (e.killed, e["count"], e.perpetrator) == (70, 12, "coalition")   # the militants were killed


def test_an_actor_reporting_the_event_is_no_party_to_it():
    e = one(snippet("The Iraqi army said an IED attack killed two soldiers and wounded 3 in Tarmiyah."),
            event_type="bombing")
    assert (e.perpetrator, e.killed, e.wounded) == ("", 2, 3)
    e = one(snippet("The coalition said it killed 20 militants in an airstrike near Qaim on Monday."),
            event_type="airstrike")
    assert e.perpetrator == "coalition"                          # what it said is about itself
    e = one(snippet("Five Peshmerga fighters were reported killed in an ISIS attack near Kifri."), event_type="attack")
    assert (e.perpetrator, e.target, e.killed) == ("isis", "peshmerga", 5)


def test_a_modifier_between_the_verb_and_the_victim():
    e = one(snippet("SDF fighters killed a senior Islamic State leader in a raid near Hajin on Monday."),
            event_type="attack")
    assert (e.perpetrator, e.target, e.killed) == ("sdf", "isis", 1)


def test_a_year_is_not_a_count():
    e = one(snippet("The 2016 bombing killed more than 300 people in Karrada."), event_type="bombing")
    assert e.killed == 300 and pd.isna(e["count"])


def test_killer_is_not_counted_as_killed():
    e = one(snippet("A suicide bomber killed himself and two others at a checkpoint near Tikrit."),
            event_type="suicide_bombing")
    assert pd.isna(e.killed)                    # not 1: the bomber is the subject, not a victim
    assert [c.value for c in casualties("Two soldiers killed in an ambush near Rutba")] == [2]


def test_death_toll_with_words_before_the_number():
    e = one(snippet("The death toll from the car bombing in Karrada rose to 45 on Sunday."), event_type="bombing")
    assert e.killed == 45


def test_a_later_definite_mention_of_the_same_event_is_not_a_new_row():
    body = ("A roadside bomb killed two soldiers near Tarmiyah on Monday.\n\n"
            "The governor of Baghdad condemned the attack in a statement on Tuesday.")
    df = snippet(body)
    assert list(df.event_type) == ["bombing"] and df.killed.tolist() == [2]
    assert len(snippet(body, include_generic=True)) == 2
    first = snippet("The attack on the base near Hawija on Monday came after weeks of calm.")
    assert list(first.place_id) == ["hawija"]           # the first mention of an event is kept


def test_the_lede_and_the_next_paragraph_telling_one_attack_give_one_row():
    body = ("Gunmen killed four villagers near Kirkuk on Wednesday, officials said.\n\n"
            "Four villagers were killed and two wounded in an attack by suspected ISIS militants on a village "
            "south of Kirkuk on Wednesday.")
    df = snippet(body)
    e = one(df, event_type="attack")
    assert (e.killed, e.wounded, e.place_id, e.perpetrator) == (4, 2, "kirkuk", "isis")
    full = "A headline\n\n" + body
    assert all(full[ev["start"]:ev["end"]] == ev["text"] for ev in e.evidence)
    assert len(snippet(body, include_generic=True)) == 2


def test_two_incidents_with_the_same_toll_stay_apart():
    df = snippet("Two soldiers were killed in a bombing in Tarmiyah on Monday.\n\n"
                 "Two civilians were killed in a bombing in Rutba on Monday.")
    assert sorted(df.place_id) == ["rutba", "tarmiyah"]


def test_spelling_variants_reach_the_same_place():
    for name in ["Tuz Khurmatu", "Tuz Khurmato", "TUZ KHURMATU"]:
        e = one(snippet(f"A bomb exploded in {name}, wounding two people."), event_type="bombing")
        assert e.place_id == "tuz_khurmatu"


def test_mentions_of_the_wrong_shape_are_a_clear_error(parsed_seeds):
    with pytest.raises(ValueError, match="mentions lack columns"):
        events.extract(parsed_seeds, mentions=pd.DataFrame({"doc_id": ["x"], "start": [0]}))


def test_sentence_without_events():
    assert snippet("Officials met in Baghdad to discuss the budget.").empty


# --------------------------------------------------------------------------- robustness

@settings(max_examples=120, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_never_raises_and_offsets_slice(text):
    parsed = parse_documents([{"doc_id": "h", "text": text}])
    df = events.extract(parsed)
    if len(parsed.articles):
        full = parsed.text_of("h")
        for e in df.itertuples():
            assert full[e.start:e.end] in e.sentence
            for ev in e.evidence:
                assert full[ev["start"]:ev["end"]] == ev["text"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["killed", "at least", "38", "two", "wounded", "bomb", "in", "Baghdad", "on",
                                 "Monday", "were", "a dozen", ",", "ISIS", "attack", "handed over", "bases",
                                 "dozens of", "no one was", "injured", "—", "“", "followed by"]), max_size=40))
def test_adversarial_casualty_fragments(parts):
    sentence = " ".join(parts)
    for c in casualties(sentence):
        assert sentence[c.start:c.end] == c.text and c.value >= 0


_TRIGGER_PIECES = ["attack", "Attack", "ATTACK", "suicide", "bombing", "bomber", "F-16s", "struck", "air", "strike",
                   "air-strike", "ISISʼattack", "éattack", "attack’s", "(attack)", "blew", "himself", "up", "handed",
                   "over", "KILLING", "\u212aidnapped", "İED", "IED", "raid", "-", "\n", "\xa0", "car", "taken",
                   "hostage", "into", "custody", "the", ",", "rocket-attack", "suicide\nbombing",
                   "detonated his explosive vest", "strike by coalition aircraft", "suicide car bombing"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_TRIGGER_PIECES), max_size=14), st.sampled_from(["", " ", "  "]))
def test_triggers_read_near_candidate_words_equal_triggers_of_all_tokens(parts, sep):
    sentence = sep.join(parts)
    expected = events._triggers_of_tokens(sentence, actors.tokenize(sentence))
    assert events.triggers(sentence) == expected


_TAIL_PIECES = ["at least", "no fewer than", "a couple of", "half a dozen", "twenty-five", "1,200", "38", "(12",
                "a", "an", "the", "suspected", "high-ranking", "members of", "soldiers", "were", "have been",
                "also", "by", "of", "killed", ",", "ISIS", "\n", "  ", "-3", "x12"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_TAIL_PIECES), max_size=16), st.sampled_from(["", " ", "  "]))
@example(["by", "no fewer than", "a couple of", "soldiers", "soldiers", "soldiers", "soldiers", "have been", "also"], " ")
@example(["by", "no fewer than", "a couple of", "suspected", "soldiers"], " ")
def test_patterns_that_end_the_text_are_searched_from_the_last_words_only(parts, end):
    text = " ".join(parts) + end
    v = events.vocabulary()
    for name in v.tail_words:
        expected = getattr(v, name).search(text)
        found = events._search_end(v, name, text)
        assert (found and found.span()) == (expected and expected.span())


# --------------------------------------------------------------------------- command line

def test_cli_entities_and_events(seeds_dir, tmp_path):
    out = tmp_path / "events.csv"
    assert cli.main(["events", str(seeds_dir), "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert {"doc_id", "event_type", "killed", "wounded", "place", "date", "start", "end"} <= set(df.columns)
    assert (df.event_type == "suicide_bombing").sum() == 1
    out = tmp_path / "entities.jsonl"
    assert cli.main(["entities", str(seeds_dir), "--format", "jsonl", "--out", str(out), "--known-only"]) == 0
    ent = pd.read_json(out, lines=True)
    assert "unknown" not in set(ent["type"]) and "kolajo" in set(ent["entity"])
