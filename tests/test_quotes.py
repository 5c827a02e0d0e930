"""Quotations and speakers: every seed quotation against the hand-annotated gold, each pattern on short
realistic snippets, unbalanced and mixed quotation marks, and properties on arbitrary text."""
from __future__ import annotations

import csv
import re
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corelib import quotes
from corelib.cli import main as cli_main
from corelib.parse import parse_documents
from corelib.quotes import QUOTE_COLUMNS, extract

TITLE_WORDS = {"mr", "mrs", "ms", "dr", "gen", "brig", "maj", "lt", "col", "colonel", "general", "president", "prime",
               "minister", "sheikh", "the", "brigadier", "iii", "jr"}


def speaker_matches(gold: str, pred: str) -> bool:
    """The gold speaker's surname (or half the words of an organisation or description) is in the prediction."""
    def words(s):
        return [w.strip(".") for w in re.findall(r"[a-z0-9][a-z0-9.'’\-]*", s.lower()) if w.strip(".") not in TITLE_WORDS]
    g, p = words(gold), set(words(pred))
    if not g or not p:
        return False
    return g[-1] in p or len(set(g) & p) / len(set(g)) >= 0.5


def match_gold(pred: pd.DataFrame, gold: list[dict], texts: dict,
               threshold: float) -> list[tuple[dict, int | None, float]]:
    """Greedy one-to-one matching as the shared scorer does it: for each gold quotation (located in its
    article), the unused predicted row covering most of its characters, if at least ``threshold`` of them;
    (gold row, row index or None, coverage)."""
    used, out = set(), []
    for g in gold:
        gs = texts[g["doc_id"]].find(g["quote"])
        assert gs >= 0, g["quote"]
        ge = gs + len(g["quote"])
        best, best_i = 0.0, None
        for i, p in pred[pred["doc_id"] == g["doc_id"]].iterrows():
            cover = max(0, min(ge, p["end"]) - max(gs, p["start"])) / (ge - gs)
            if i not in used and cover > best:
                best, best_i = cover, i
        if best_i is None or best < threshold:
            best_i = None
        else:
            used.add(best_i)
        out.append((g, best_i, best))
    return out


def run(body: str, doc_id: str = "t") -> pd.DataFrame:
    """Quotations of one article made of a headline and ``body``."""
    return extract(parse_documents([{"doc_id": doc_id, "text": "Security news from Iraq\n\n" + body}]))


def rows(body: str) -> list[tuple[str, str, str]]:
    return [(r.quote, r.kind, r.speaker) for r in run(body).itertuples()]


# --------------------------------------------------------------------------- seeds against the gold

@pytest.fixture(scope="module")
def seed_quotes(parsed_seeds) -> pd.DataFrame:
    return extract(parsed_seeds)


@pytest.fixture(scope="module")
def seed_gold(seeds_dir) -> list[dict]:
    with open(seeds_dir / "gold" / "quotes.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_seed_quotation_is_found_with_its_speaker(parsed_seeds, seed_quotes, seed_gold):
    texts = dict(zip(parsed_seeds.articles["doc_id"], parsed_seeds.articles["text"]))
    used = set()
    for g, best_i, _ in match_gold(seed_quotes, seed_gold, texts, 0.8):
        assert best_i is not None, f"not found: {g['quote'][:80]}"
        used.add(best_i)
        p = seed_quotes.loc[best_i]
        gs = texts[g["doc_id"]].find(g["quote"])
        assert (p["start"], p["end"]) == (gs, gs + len(g["quote"])), f"span differs: {p['quote'][:80]!r}"
        assert speaker_matches(g["speaker"], p["speaker"]), (g["quote"][:60], g["speaker"], p["speaker"])
        assert (p["kind"] == "direct") == (g["kind"] == "direct"), (g["quote"][:60], p["kind"])
    extras = seed_quotes.drop(index=list(used))
    assert extras.empty, f"unexpected quotations: {list(extras['quote'].str[:60])}"


def test_quote_text_is_the_slice_of_the_article(parsed_seeds, seed_quotes):
    texts = dict(zip(parsed_seeds.articles["doc_id"], parsed_seeds.articles["text"]))
    for r in seed_quotes.itertuples():
        assert texts[r.doc_id][r.start:r.end] == r.quote
        assert not r.quote.endswith(",") and r.quote == r.quote.strip()
        if pd.notna(r.speaker_start):
            assert texts[r.doc_id][r.speaker_start:r.speaker_end].strip()


def test_seed_table_shape_and_order(seed_quotes):
    assert list(seed_quotes.columns) == QUOTE_COLUMNS
    assert seed_quotes.equals(seed_quotes.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True))
    assert set(seed_quotes["kind"]) <= {"direct", "indirect", "partial"}
    for _, g in seed_quotes.groupby("doc_id"):
        assert list(g["quote_id"]) == list(range(len(g)))


def test_same_person_has_one_speaker_id_across_articles(seed_quotes):
    caggins = seed_quotes[seed_quotes["speaker"].str.contains("Caggins")]
    assert set(caggins["doc_id"].str[:3]) == {"001", "004"}
    assert set(caggins["speaker_id"]) == {"myles-b-caggins-iii"}


def test_titles_and_roles_are_split_from_names(seed_quotes):
    by_name = {r.speaker: r for r in seed_quotes.itertuples()}
    glynn = by_name["James F. Glynn"]
    assert glynn.speaker_title == "Brig. Gen."
    assert "deputy commanding general" in glynn.speaker_role
    assert by_name["Myles B. Caggins III"].speaker_role in ("coalition spokesman", "OIR spokesman")
    assert by_name["Yahya Rasool"].speaker_title == "Brigadier-General"
    assert by_name["Adi al-Khadran"].speaker_role == "mayor of Khalis"
    assert by_name["Jabar Yawar"].speaker_role == "chief of staff at the Ministry of Peshmerga Affairs"
    assert by_name["Chrystia Freeland"].speaker_role == "Canadian Foreign Affairs Minister"


def test_affiliation_comes_from_actors_when_available(seed_quotes):
    actors = pytest.importorskip("corelib.actors")
    for r in seed_quotes.drop_duplicates("speaker_id").itertuples():
        if r.speaker:
            assert r.speaker_affiliation == actors.affiliation_of(
                re.sub(r"\s+(?:who|that|speaking)\b.*$", "", " ".join(
                    x for x in (r.speaker_title, r.speaker_role, r.speaker) if x)))


def test_extract_is_deterministic(parsed_seeds, seed_quotes):
    again = extract(parsed_seeds)
    assert again.to_csv(index=False) == seed_quotes.to_csv(index=False)


TEAM_SETS = ["heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9",
             "heldout10", "heldout11", "heldout12", "heldout13"]
# heldout8 gives a partial quotation two rows (the reporter's lead-in, the quoted fragment); the other sets and
# the dev corpus give the fragment alone, which the extractor's one partial row matches (tests/data/heldout8)
MIN_F1 = {"heldout8": 0.90}


@pytest.mark.parametrize("name", TEAM_SETS)
def test_team_set_gold_is_consistent(name):
    """Every team set's gold quotation occurs verbatim in its article, with a known kind and stance."""
    import pathlib

    root = pathlib.Path(__file__).parent / "data" / name
    with open(root / "gold_quotes.csv", encoding="utf-8") as fh:
        gold = list(csv.DictReader(fh))
    assert gold and set(gold[0]) >= {"doc_id", "quote", "speaker", "kind", "stance"}
    for g in gold:
        text = (root / "articles" / f"{g['doc_id']}.txt").read_text(encoding="utf-8")
        assert g["quote"] and g["quote"] in text, (name, g["doc_id"], g["quote"][:60])
        assert g["kind"] in ("direct", "indirect") and g["stance"] in ("resurgent", "contained", "none", "")  # "": no agreement


@pytest.mark.parametrize("name", TEAM_SETS)
def test_held_out_articles_meet_the_targets(name):
    """Team-written sets (tests/data/heldout*; each was blind when first scored): quote F1 at 0.3 coverage,
    speaker match and indirect recall stay at or above the levels reached (0.95-0.99, 0.90-1.0, 0.90-1.0
    in session 3; heldout8 0.91, 0.95, 0.97, heldout9 0.96, 0.95, 0.93 and heldout10 0.97, 0.92, 0.93 in session 4;
    heldout11 0.99, 0.94, 0.98, heldout12 0.97, 0.97, 0.92 and heldout13 0.98, 0.94, 0.94 in session 5)."""
    import pathlib

    root = pathlib.Path(__file__).parent / "data" / name
    if not (root / "gold_quotes.csv").exists():
        pytest.skip("held-out set not present")
    from corelib.parse import parse_corpus

    parsed = parse_corpus(root / "articles")
    pred = extract(parsed)
    texts = dict(zip(parsed.articles["doc_id"], parsed.articles["text"]))
    with open(root / "gold_quotes.csv", encoding="utf-8") as fh:
        gold = list(csv.DictReader(fh))
    matched, speaker_ok, indirect = 0, 0, [0, 0]
    for g, best_i, _ in match_gold(pred, gold, texts, 0.3):
        hit = best_i is not None
        if g["kind"] == "indirect":
            indirect[0] += hit
            indirect[1] += 1
        if hit:
            matched += 1
            speaker_ok += speaker_matches(g["speaker"], pred.loc[best_i, "speaker"])
    precision, recall = matched / len(pred), matched / len(gold)
    assert 2 * precision * recall / (precision + recall) >= MIN_F1.get(name, 0.93)
    assert speaker_ok / matched >= 0.88
    assert indirect[0] / indirect[1] >= 0.88


# --------------------------------------------------------------------------- patterns on snippets

@pytest.mark.parametrize("body, expected", [
    # trailing attribution with an apposition giving title and role
    ("The militants have lost most of their ground, Lt. Col. Sarah Whitford, a spokeswoman for the task force, "
     "said on Tuesday.",
     [("The militants have lost most of their ground", "indirect", "Sarah Whitford")]),
    # told OUTLET that ...: the outlet is the addressee, not the speaker
    ("Dr. Hassan Kareem, a researcher at the University of Duhok, told Kurdistan Chronicle that the cells are "
     "reorganising in the Hamrin hills.",
     [("the cells are reorganising in the Hamrin hills", "indirect", "Hassan Kareem")]),
    # according to X, ... / ..., according to X.
    ("According to local police, the convoy was hit by a roadside bomb near Tarmiyah.\n\n"
     "The attack killed three soldiers, according to a security source in Salahuddin.",
     [("the convoy was hit by a roadside bomb near Tarmiyah", "indirect", "local police"),
      ("The attack killed three soldiers", "indirect", "a security source in Salahuddin")]),
    # inverted attribution, then a second quotation by the same speaker
    ("\"We will not let them return,\" said Sheikh Faris al-Jubouri, a tribal leader in Qayyarah. "
     "\"They know the desert better than anyone.\"",
     [("We will not let them return", "direct", "Faris al-Jubouri"),
      ("They know the desert better than anyone.", "direct", "Faris al-Jubouri")]),
    # ``...'' marks
    ("``The situation is calm now,'' the mayor said.", [("The situation is calm now", "direct", "the mayor")]),
    # an organisation's statement, then "the statement added"
    ("The Interior Ministry said in a statement that four suspects were arrested in Baiji.\n\n"
     "“The suspects were planning attacks during Ashura,” the statement added.",
     [("four suspects were arrested in Baiji", "indirect", "The Interior Ministry"),
      ("The suspects were planning attacks during Ashura", "direct", "The Interior Ministry")]),
    # colon attribution
    ("Colonel Ahmed Saleh warned: \"These cells are still dangerous and they are waiting for a chance.\"",
     [("These cells are still dangerous and they are waiting for a chance.", "direct", "Ahmed Saleh")]),
    # plural source and "they"
    ("Kurdish officials believe the militants cross the river at night.\n\nThey stressed that more drones were needed.",
     [("the militants cross the river at night", "indirect", "Kurdish officials"),
      ("more drones were needed", "indirect", "Kurdish officials")]),
    # a quotation that runs over two paragraphs
    ("“The fighters moved into the valley at dawn.\n\n“By noon they had taken the ridge,” the commander said.",
     [("The fighters moved into the valley at dawn.", "direct", "the commander"),
      ("By noon they had taken the ridge", "direct", "the commander")]),
    # a partial quotation inside reported speech stays in the indirect row; surname and pronoun resolved
    ("Gen. Kenneth McKenzie told reporters that the group was \"down but not out.\" McKenzie added that the coalition "
     "would keep pressure on the cells.\n\nHe said the number of attacks had fallen by half.",
     [("the group was \"down but not out.\"", "partial", "Kenneth McKenzie"),
      ("the coalition would keep pressure on the cells", "indirect", "Kenneth McKenzie"),
      ("the number of attacks had fallen by half", "indirect", "Kenneth McKenzie")]),
    # unnamed source kept as described, through a relative clause
    ("A senior Iraqi intelligence official, who asked not to be named, said the network was financed from Syria.",
     [("the network was financed from Syria", "indirect", "A senior Iraqi intelligence official")]),
    # interrupted quotation: two rows; the role noun "the colonel" resolves to the named colonel
    ("Army Col. Dana Pierce, the task force spokesman, spoke from Baghdad.\n\n"
     "“The cells are isolated,” the colonel said, “and they are running out of money.”",
     [("The cells are isolated", "direct", "Dana Pierce"),
      ("and they are running out of money.", "direct", "Dana Pierce")]),
    # participle after the main verb opens another reported clause
    ("The governor condemned the bombing, adding that security in the market would be tightened.",
     [("security in the market would be tightened", "indirect", "The governor")]),
    # dash attribution after a quotation
    ("“We lost two men in the ambush.” — a Peshmerga commander in Makhmour",
     [("We lost two men in the ambush.", "direct", "a Peshmerga commander in Makhmour")]),
    # a speech act with only a noun phrase is not a quotation; scare quotes are not quotations
    ("The ministry condemned the attack and called for a “swift” response.\n\n"
     "The so-called \"Islamic State of Iraq and the Levant\" claimed the attack through its Amaq agency.", []),
    # adjuncts with a participle between the verb and "that"; a partial in single marks
    ("The Pentagon’s inspector general warned in a report released Tuesday that ISIS ‘remains a threat’ in both "
     "countries.",
     [("ISIS ‘remains a threat’ in both countries", "partial", "The Pentagon’s inspector general")]),
    # a noun that is also a verb form ("report") as the speaker
    ("ISIS “remains a potent force in rural areas,” the report said.",
     [("remains a potent force in rural areas", "direct", "the report")]),
    # passive "was quoted as saying" after the quotation; a name with a relative clause
    ("“Daesh is finished,” Hadi al-Amiri, head of the Badr Organization, was quoted as saying by state media.\n\n"
     "Mohammed, who did not want to give his full name, said the group still collects taxes from farmers.",
     [("Daesh is finished", "direct", "Hadi al-Amiri"),
      ("the group still collects taxes from farmers", "indirect", "Mohammed")]),
    # a description named later in the article takes the name
    ("Militants attacked a Peshmerga post near Makhmour overnight, a Peshmerga commander said.\n\n"
     "Lt. Col. Rebwar Salih, a Peshmerga commander on the Makhmour front, told Rudaw that two fighters were wounded.",
     [("Militants attacked a Peshmerga post near Makhmour overnight", "indirect", "Rebwar Salih"),
      ("two fighters were wounded", "indirect", "Rebwar Salih")]),
    # ... but not when the later person's role does not cover the description
    ("A senior U.S. official said the cells were isolated.\n\n"
     "Col. Ryan Dillon, a U.S. military spokesman, said the strikes would continue.",
     [("the cells were isolated", "indirect", "A senior U.S. official"),
      ("the strikes would continue", "indirect", "Ryan Dillon")]),
    # reported speech split by the attribution gives one row per part
    ("The attacks have dropped sharply, the general said, but the group is not defeated.",
     [("The attacks have dropped sharply", "indirect", "the general"),
      ("the group is not defeated", "indirect", "the general")]),
    # a question with an inverted "asked", then "he continued"; an age in the apposition
    ("“Where is the state?” asked one resident of Hawija. “Nobody protects us,” he continued.\n\n"
     "Ahmed Ali, 34, said the militants took his sheep.",
     [("Where is the state?", "direct", "one resident of Hawija"),
      ("Nobody protects us", "direct", "one resident of Hawija"),
      ("the militants took his sheep", "indirect", "Ahmed Ali")]),
    # any prepositional phrase between the verb and "that"; a relative "that" is not a complementiser
    ("Abu Bakr al-Baghdadi, the group's leader, said in an audio recording that the fight would go on.\n\n"
     "The governor spoke in the town that was attacked on Friday.",
     [("the fight would go on", "indirect", "Abu Bakr al-Baghdadi")]),
    # a passive with no agent: the source is unnamed
    ("On Monday, it was announced that the army would stay in the old city.",
     [("the army would stay in the old city", "indirect", "unnamed announcement")]),
    # a second reporting verb of the same subject opens a second reported clause
    ("The governor said the main road to Hawija had reopened, and warned that the curfew would return if the "
     "attacks resumed.",
     [("the main road to Hawija had reopened", "indirect", "The governor"),
      ("the curfew would return if the attacks resumed", "indirect", "The governor")]),
    ("A border guard officer, quoted by a local radio station, insisted the crossing was “fully secured” against "
     "smugglers and said two more towers had been built.",
     [("the crossing was “fully secured” against smugglers", "partial", "A border guard officer"),
      ("two more towers had been built", "indirect", "A border guard officer")]),
    # "it" after a conjunction stands for the organisation or document named before
    ("The interior ministry said the border strip was quiet, though it warned that smugglers could still cross "
     "at night.",
     [("the border strip was quiet", "indirect", "The interior ministry"),
      ("smugglers could still cross at night", "indirect", "The interior ministry")]),
    # a trailing attribution with an addressee that is an occasion or an outlet with a number in its name
    ("Troops carried out 210 raids in the first half of the year, up from 150 a year earlier, spokesman Brig. Gen. "
     "Salam Hadi told a news conference in Erbil.",
     [("Troops carried out 210 raids in the first half of the year, up from 150 a year earlier", "indirect",
       "Salam Hadi")]),
    ("An official at the migration ministry said a convoy had left the camp.\n\n"
     "The families will be moved to a rehabilitation centre in Anbar next week, the official told France 24.",
     [("a convoy had left the camp", "indirect", "An official at the migration ministry"),
      ("The families will be moved to a rehabilitation centre in Anbar next week", "indirect",
       "An official at the migration ministry")]),
    # the source behind figures, data or a statement; a thousands separator is not a clause boundary
    ("More than 3,000 families still live in the camp, according to figures from the local council.\n\n"
     "Four soldiers were wounded, according to a statement by the army.",
     [("More than 3,000 families still live in the camp", "indirect", "the local council"),
      ("Four soldiers were wounded", "indirect", "the army")]),
    # an aside between the subject and the verb, or between the verb and "that"
    ("Farmers in Hawija, however, say the threat is growing. Analysts caution, however, that the calm is fragile.",
     [("the threat is growing", "indirect", "Farmers in Hawija"),
      ("the calm is fragile", "indirect", "Analysts")]),
    # a time phrase or a participle phrase between the speaker and the verb stays out of the speaker
    ("A Pentagon report in March estimated that about 2,500 fighters remained in the region.\n\n"
     "A British intelligence assessment published in April said the group was recruiting again.",
     [("about 2,500 fighters remained in the region", "indirect", "A Pentagon report"),
      ("the group was recruiting again", "indirect", "A British intelligence assessment")]),
    # a partial quotation in a relative clause whose subject is a pronoun does not split the reported clause
    ("The police said in a statement that six suspects had been detained in Baiji, including a woman it described "
     "as a \"recruiter\" for the group.",
     [("six suspects had been detained in Baiji, including a woman it described as a \"recruiter\" for the group",
       "partial", "The police")]),
    # a relative clause after the speaker of "according to" opens a clause of its own
    ("The wounded were taken to the hospital in Tikrit, according to the officer, who added that troops had "
     "sealed off the valley.",
     [("The wounded were taken to the hospital in Tikrit", "indirect", "the officer"),
      ("troops had sealed off the valley", "indirect", "the officer")]),
    # described first, named in the next attribution, then referred to by the noun of the description
    ("Militants shelled a village near Tuz overnight, a police commander in Tuz Khurmatu said on Friday.\n\n"
     "Col. Karim Jabbar, who commands the district police, told Rudaw that two civilians were hurt.\n\n"
     "The commander added that more troops were needed in the area.",
     [("Militants shelled a village near Tuz overnight", "indirect", "Karim Jabbar"),
      ("two civilians were hurt", "indirect", "Karim Jabbar"),
      ("more troops were needed in the area", "indirect", "Karim Jabbar")]),
    ("Gunmen killed 12 shepherds near Palmyra, a war monitor said.\n\n"
     "The Syrian Observatory for Human Rights said the gunmen fled east.",
     [("Gunmen killed 12 shepherds near Palmyra", "indirect", "The Syrian Observatory for Human Rights"),
      ("the gunmen fled east", "indirect", "The Syrian Observatory for Human Rights")]),
    # ... but not a different person with the same noun in another office
    ("An official at the defence ministry said the convoy had arrived.\n\n"
     "Ali Hassan, an official in the camp administration, said the families were tired.",
     [("the convoy had arrived", "indirect", "An official at the defence ministry"),
      ("the families were tired", "indirect", "Ali Hassan")]),
    # name, title, then an aside before the verb
    ("Navy Capt. Laura Benson, spokeswoman for U.S. Central Command, speaking from Tampa, said the raid killed a "
     "senior leader.",
     [("the raid killed a senior leader", "indirect", "Laura Benson")]),
    # "he said" goes to the nearest source before it, an unnamed one included; asking for anonymity is no quote
    ("Col. Sami Rashid said the village was quiet.\n\n"
     "A local notable, who asked not to be named, told Rudaw that gunmen still came at night.\n\n"
     "“They come after dark and leave before dawn,” he said, asking that his name be withheld.",
     [("the village was quiet", "indirect", "Sami Rashid"),
      ("gunmen still came at night", "indirect", "A local notable"),
      ("They come after dark and leave before dawn", "direct", "A local notable")]),
    # a second verb after "but" when the first verb is no reporting verb; "IS" after "that" is no auxiliary
    ("Speaking in Washington, Pentagon press secretary Brig. Gen. Pat Ryder declined to give details but said the "
     "raid showed that the army \"can strike anywhere.\"\n\n"
     "Its director, Rami Khalil, told the AP that IS cells had stepped up attacks.",
     [("the raid showed that the army \"can strike anywhere.\"", "partial", "Pat Ryder"),
      ("IS cells had stepped up attacks", "indirect", "Rami Khalil")]),
    # a plural noun that is also a verb form ("states") before a verb; an adverb before "that"
    ("Some member states believe the leadership moved to the desert, the report said.\n\n"
     "U.S. officials have warned repeatedly that the group still has thousands of fighters.",
     [("Some member states believe the leadership moved to the desert", "indirect", "the report"),
      ("the group still has thousands of fighters", "indirect", "U.S. officials")]),
    # a word of the not-a-name list inside a full name
    ("Iraq does not need foreign combat troops, Prime Minister Mohammed Shia al-Sudani said on Tuesday.",
     [("Iraq does not need foreign combat troops", "indirect", "Mohammed Shia al-Sudani")]),
    # a person named without a reporting verb, then described ("the Yazidi farmer", "the 52-year-old")
    ("Khalil Qasim, 52, has not returned to his village in three years.\n\n"
     "“How can I go back?” the Yazidi farmer told AFP.",
     [("How can I go back?", "direct", "Khalil Qasim")]),
    # "the statement" is the statement named last; a subject that speaks no row is no antecedent of "he"
    ("Col. Ali Rashid said the roads were open.\n\n"
     "Jets struck a hideout near Hatra, according to a statement published Friday. “The strike destroyed two "
     "tunnels,” the statement reads.\n\n"
     "A low intensity insurgency has continued. Attacks are rare now, he said.",
     [("the roads were open", "indirect", "Ali Rashid"),
      ("Jets struck a hideout near Hatra", "indirect", "a statement published Friday"),
      ("The strike destroyed two tunnels", "direct", "a statement published Friday"),
      ("Attacks are rare now", "indirect", "Ali Rashid")]),
    # a passive agent speaks the fragment; an outlet after "the"; a whole clause in quotation marks is direct
    ("The suspects included a man described by police as \"the main financier of the group in the province.\"\n\n"
     "The group is weaker but still dangerous, the general told the BBC.\n\n"
     "A security source told INA that \"gunmen attacked a post in the Mutaibija area with light weapons.\"",
     [("the main financier of the group in the province.", "direct", "police"),
      ("The group is weaker but still dangerous", "indirect", "the general"),
      ("gunmen attacked a post in the Mutaibija area with light weapons.", "direct", "A security source")]),
    # "said X, a local official, who added that ...": the named speaker with the role
    ("Three farmers were killed, said Khalid Hamad, a local official, who added that the militants burned two "
     "houses.",
     [("Three farmers were killed", "indirect", "Khalid Hamad"),
      ("the militants burned two houses", "indirect", "Khalid Hamad")]),
    # a hyphenated role noun; a time phrase before "that"; a claim of responsibility is no quotation; a shorter
    # form of a name of several words
    ("Its secretary-general, Bakhtiyar Karim, said last month that an agreement had been reached.\n\n"
     "ISIS claimed responsibility on Friday for the attack, and claimed it had killed five soldiers.\n\n"
     "Omar Abu Layla, director of a local news network, said the cells were active. “They are everywhere,” "
     "Abu Layla said.",
     [("an agreement had been reached", "indirect", "Bakhtiyar Karim"),
      ("it had killed five soldiers", "indirect", "ISIS"),
      ("the cells were active", "indirect", "Omar Abu Layla"),
      ("They are everywhere", "direct", "Omar Abu Layla")]),
    # an addressee-looking subject before a modal; more reporting verbs (made clear, hope, went on to say)
    ("The governor warned the group could return to the villages.\n\n"
     "The general made it clear that the troops would stay. The mayor hopes the families will return before winter. "
     "He went on to say that the roads were safe.",
     [("the group could return to the villages", "indirect", "The governor"),
      ("the troops would stay", "indirect", "The general"),
      ("the families will return before winter", "indirect", "The mayor"),
      ("the roads were safe", "indirect", "The mayor")]),
    # "the statement" goes back to the organisation that issued it, even when that sentence is no quotation
    ("In a statement on Sunday, the Ministry of Interior announced the arrest of four suspects.\n\n"
     "A low intensity insurgency has continued.\n\n"
     "“The suspects were planning to attack a market,” the statement reads.",
     [("The suspects were planning to attack a market", "direct", "the Ministry of Interior")]),
    # "she" passes over a man to a speaker named as a woman; "he" passes over a woman
    ("Dr. Rana Khalil, a political scientist, said the calm was fragile.\n\n"
     "Col. Ahmed Ali said the army was ready.\n\n"
     "“We need jobs for young men,” she said.\n\n"
     "The spokeswoman for the council said the roads were open. “We will not leave,” he said.",
     [("the calm was fragile", "indirect", "Rana Khalil"),
      ("the army was ready", "indirect", "Ahmed Ali"),
      ("We need jobs for young men", "direct", "Rana Khalil"),
      ("the roads were open", "indirect", "The spokeswoman for the council"),
      ("We will not leave", "direct", "Ahmed Ali")]),
    # an inverted attribution between an adverbial and the clause; a number after "said about"; "U.S.-led"
    ("Today, say local officials and security analysts, the valley is the heart of the insurgency.\n\n"
     "The Kurdish commander, who declined to be named, said about 60 fighters had crossed.\n\n"
     "A spokesman for the U.S.-led coalition, Col. Joe Barker, said the strikes would continue.",
     [("the valley is the heart of the insurgency", "indirect", "local officials and security analysts"),
      ("about 60 fighters had crossed", "indirect", "The Kurdish commander"),
      ("the strikes would continue", "indirect", "Joe Barker")]),
    # a second verb after "and" in a sentence with no attribution before it; "said at least"; "said at dawn"
    ("Police arrested the driver and said he had confessed to the attack.\n\n"
     "The sheikh said at least six village heads had been killed. The army said at dawn the road was open.",
     [("he had confessed to the attack", "indirect", "Police"),
      ("at least six village heads had been killed", "indirect", "The sheikh"),
      ("the road was open", "indirect", "The army")]),
    # a trailing attribution to a broadcaster; a clause before the name is no fronted role
    ("The attackers fled toward the desert, Brig. Gen. Yahya Rasool told state television.\n\n"
     "The fighters fled, the mayor told a local radio station.",
     [("The attackers fled toward the desert", "indirect", "Yahya Rasool"),
      ("The fighters fled", "indirect", "the mayor")]),
    # a clause after a colon without quotation marks; the object of a participle is no speaker
    ("The spokesman said: The group is finished in the city.\n\n"
     "The governor, citing police reports, told Rudaw the attackers came from Syria.",
     [("The group is finished in the city", "indirect", "The spokesman"),
      ("the attackers came from Syria", "indirect", "The governor")]),
    # a short quotation after "described ... as"; a document that names its source keeps it
    ("Brig. Gen. Hazhar Omar, a Peshmerga commander, described the joint patrols as \"long overdue.\"\n\n"
     "According to the Pentagon's latest quarterly report, the group has about 2,500 fighters.",
     [("long overdue.", "direct", "Hazhar Omar"),
      ("the group has about 2,500 fighters", "indirect", "the Pentagon's latest quarterly report")]),
    # ", which said" after an organisation or a document
    ("Nine people were killed, according to the Syrian Observatory, which said the toll could rise.",
     [("Nine people were killed", "indirect", "the Syrian Observatory"),
      ("the toll could rise", "indirect", "the Syrian Observatory")]),
    # "the spokesman ..." in the lede with no one before it is named by the next source
    ("Militants in the desert are isolated, the spokesman for the coalition said Thursday.\n\n"
     "Speaking from Baghdad, Air Force Col. Lena Morales said the group could no longer hold ground.",
     [("Militants in the desert are isolated", "indirect", "Lena Morales"),
      ("the group could no longer hold ground", "indirect", "Lena Morales")]),
    # a trailing attribution with a participle inside its adjunct
    ("Four militants were killed, the ministry said in a statement carried by state media.",
     [("Four militants were killed", "indirect", "the ministry")]),
    ("The group said in a document seen by Reuters that its fighters would regroup.",
     [("its fighters would regroup", "indirect", "The group")]),
])
def test_patterns(body, expected):
    assert rows(body) == expected


def test_speaker_title_role_and_offsets():
    df = run("\"The border is sealed,\" said Maj. Gen. Tahsin al-Khafaji, the spokesman for the Joint Operations "
             "Command.")
    r = df.iloc[0]
    assert (r.speaker, r.speaker_title, r.speaker_role, r.cue) == (
        "Tahsin al-Khafaji", "Maj. Gen.", "spokesman for the Joint Operations Command", "said")
    text = "Security news from Iraq\n\n\"The border is sealed,\" said Maj. Gen. Tahsin al-Khafaji, the spokesman"
    assert text[r.speaker_start:r.speaker_end] == "Maj. Gen. Tahsin al-Khafaji"
    assert r.speaker_id == "tahsin-al-khafaji"


def test_role_then_name_after_the_verb():
    """``said the spokesman, NAME``: the name is the speaker and the words before it the role."""
    df = run("\"This is the third transfer this year,\" said the spokesman, Dilovan Sheikhmous.\n\n"
             "\"They were shepherds,\" said a relative, Jassim Hamad, speaking at the family's house. "
             "\"They left in the morning,\" he added.")
    assert [(r.speaker, r.speaker_role) for r in df.itertuples()] == [
        ("Dilovan Sheikhmous", "spokesman"), ("Jassim Hamad", "relative"), ("Jassim Hamad", "relative")]
    r = run("\"We will hold the line,\" said the commander, Brig. Gen. Ali Hassan, in a statement.").iloc[0]
    assert (r.speaker, r.speaker_title, r.speaker_role) == ("Ali Hassan", "Brig. Gen.", "commander")
    # a name followed by its role, and an organisation in apposition, stay as they were
    assert rows("\"It is calm,\" said Ali Hassan, a police spokesman.") == [("It is calm", "direct", "Ali Hassan")]
    assert rows("\"It is calm,\" said the council, the province's highest body.")[0][2] == "the council"


def test_premodifier_role_and_title():
    df = run("Coalition spokesman Army Col. Ryan Xavier said the strikes destroyed two tunnels.")
    r = df.iloc[0]
    assert (r.speaker, r.speaker_title, r.speaker_role) == ("Ryan Xavier", "Army Col.", "Coalition spokesman")


def test_surname_in_one_article_links_to_full_name_in_another():
    docs = [{"doc_id": "a", "text": "News\n\nCol. Myles B. Caggins III said the base was handed over."},
            {"doc_id": "b", "text": "News\n\nArmy Col. Myles Caggins said two soldiers were wounded."}]
    df = extract(parse_documents(docs))
    assert set(df["speaker_id"]) == {"myles-b-caggins-iii"}


def test_unnamed_sources_are_not_merged_across_articles():
    docs = [{"doc_id": "a", "text": "News\n\nA security source said the road was closed."},
            {"doc_id": "b", "text": "News\n\nA security source said the bridge was closed."}]
    df = extract(parse_documents(docs))
    assert df["speaker_id"].nunique() == 2


# --------------------------------------------------------------------------- unbalanced and mixed marks

def test_unclosed_quotation_stops_at_its_paragraph():
    got = rows("The governor said “the roads are closed until further notice.\n\n"
               "Officials said the curfew would be lifted on Friday.\n\n“We are ready,” the police chief said.")
    assert got[1:] == [("the curfew would be lifted on Friday", "indirect", "Officials"),
                       ("We are ready", "direct", "the police chief")]


def test_stray_marks_never_lose_the_rest_of_the_document():
    body = ("He called the plan ” a failure, officials said.\n\n\"\n\n"
            "The spokesman said \"the city is secure.\n\n"
            "‘We saw them leave,’ a shepherd said.\n\n"
            "“Al Qaim base was a critical location,\" the general said.\n\n"
            "“Nobody helped us,” a farmer said.")
    got = rows(body)
    assert ("We saw them leave", "direct", "a shepherd") in got
    assert ("Al Qaim base was a critical location", "direct", "the general") in got
    assert got[-1] == ("Nobody helped us", "direct", "a farmer")


def test_apostrophes_are_not_quotation_marks():
    got = rows("It’s the third attack this month, the mayor’s office said. “It’s not over,” the mayor said.")
    assert got == [("It’s the third attack this month", "indirect", "the mayor’s office"),
                   ("It’s not over", "direct", "the mayor")]


def test_closing_mark_without_opening_mark():
    assert rows("We will not leave,” the commander said. Troops stayed in the town.") == [
        ("We will not leave", "direct", "the commander")]


# --------------------------------------------------------------------------- properties and the command line

_pieces = st.sampled_from([
    "“", "”", "\"", "``", "''", "‘", "’", "'", ",", ".", " ", "\n", "\n\n", " said ", " he said.", " told Rudaw that ",
    " according to ", "Col. ", "Myles Caggins", " the statement reads", ":", " — ", "It’s", "ISIS", " officials ",
    " was announced ", "(", ")", "saying, ", "that ", "§", "Brig. Gen. ", " a ", "the colonel added, ",
    " who added that ", ", however, ", " and warned that ", " though it ", " described as ", " by police ",
    " according to figures from ", " told a news conference ", " 3,000 ", " U.S.-led ", " she said", " said: ",
])
_text = st.lists(st.one_of(_pieces, st.text(max_size=6)), max_size=60).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_text)
def test_extract_never_raises_and_offsets_slice_back(body):
    text = "Title\n\n" + body
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an article skipped after an internal error fails the test
        df = extract(parse_documents([{"doc_id": "h", "text": text}]))
    assert list(df.columns) == QUOTE_COLUMNS
    for r in df.itertuples():
        assert 0 <= r.start < r.end <= len(text)
        assert text[r.start:r.end] == r.quote
        assert r.kind in ("direct", "indirect", "partial")
    assert list(df["start"]) == sorted(df["start"])


def test_empty_corpus_gives_empty_table():
    df = extract(parse_documents([]))
    assert list(df.columns) == QUOTE_COLUMNS and df.empty


def test_cli_quotes_writes_a_table(seeds_dir, tmp_path, seed_quotes):
    out = tmp_path / "q.csv"
    assert cli_main(["quotes", str(seeds_dir), "--out", str(out)]) == 0
    df = pd.read_csv(out, dtype={"doc_id": str}, keep_default_na=False)
    assert list(df.columns) == QUOTE_COLUMNS
    assert len(df) == len(seed_quotes)
    assert cli_main(["quotes", str(seeds_dir), "--format", "jsonl", "--out", str(tmp_path / "q.jsonl")]) == 0


def test_data_files_are_readable_words():
    lex = quotes._lex()
    assert "said" in lex.cues and "according" not in lex.cues
    assert "on" in lex.adjuncts  # YAML would read a bare `on` as a boolean
    assert lex.title_heads["brig. gen."] == "general"


def test_speaker_id_links_join_name_variants_only():
    links = quotes.speaker_id_links(["myles-caggins", "myles-b-caggins-iii", "glynn", "a:a-security-source",
                                     "b:a-security-source", "james-f-glynn", "ryan-dillon"])
    assert links == {"myles-caggins": "myles-b-caggins-iii"}


# --------------------------------------------------------------------------- session 2: speaker rules

@pytest.mark.parametrize("body,expected", [
    # a verb form after a possessive or in a compound noun is no reporting verb
    ("Lena Roth, a researcher at a Berlin think tank, said the cells had grown bolder.",
     [("the cells had grown bolder", "indirect", "Lena Roth")]),
    ("“They pick their targets carefully,” Omar Faris, an analyst who follows the group’s claims, told me.",
     [("They pick their targets carefully", "direct", "Omar Faris")]),
    # the name an unnamed source goes by, given right after the description
    ("A Syrian farmer in his sixties, who gave his name as Abu Hamid, said the men came at night.",
     [("the men came at night", "indirect", "Abu Hamid")]),
    ("The accused, identified in court only as Karim S., sat in the dock.\n\n"
     "“I only drove the truck,” the accused told the judge.",
     [("I only drove the truck", "direct", "Karim S.")]),
    # a lede source named later by an apposition with the same noun
    ("Police will close the roads on Friday, a senior official on the security committee said.\n\n"
     "The official, Colonel Aram Jalal, told reporters that the ban would end at noon.",
     [("Police will close the roads on Friday", "indirect", "Aram Jalal"),
      ("the ban would end at noon", "indirect", "Aram Jalal")]),
    # ... or as the next paragraph's first titled name, who has no other role
    ("The group can no longer hold ground, a coalition official told reporters on Tuesday.\n\n"
     "Army Col. Mark Tedder, speaking by video from Baghdad, said patrols would go on.",
     [("The group can no longer hold ground", "indirect", "Mark Tedder"),
      ("patrols would go on", "indirect", "Mark Tedder")]),
    # ... but not when the lede says the source stays anonymous
    ("The group can no longer hold ground, a coalition official who spoke on condition of anonymity said.\n\n"
     "Army Col. Mark Tedder, speaking by video from Baghdad, said patrols would go on.",
     [("The group can no longer hold ground", "indirect", "a coalition official who spoke on condition of anonymity"),
      ("patrols would go on", "indirect", "Mark Tedder")]),
    # "the 44-year-old" and "the farmer" take the person named just before (an outlet in the dateline is no person)
    ("HAJIN – Enab Baladi – The pumps in Ali al-Hamdan’s field stopped in May.\n\n"
     "“Nobody comes at night,” said the 61-year-old farmer.",
     [("Nobody comes at night", "direct", "Ali al-Hamdan")]),
    # a sentence that introduces the next quotation without a reporting verb
    ("A shepherd from the nearby village of Tal Abtah described the visits.\n\n"
     "“They come after dark and ask who works for the army.”",
     [("They come after dark and ask who works for the army.", "direct",
       "A shepherd from the nearby village of Tal Abtah")]),
    # a pronoun bound by the name that opens its own sentence
    ("An official said the camp would close.\n\n"
     "In her tent, Umm Saad, a mother of three, sorted rice as she described her years in the camp.\n\n"
     "“We want to go home,” she said.",
     [("the camp would close", "indirect", "An official"), ("We want to go home", "direct", "Umm Saad")]),
    # a clause joined after a partial quotation of four words or more, or by ", and that", is a row of its own
    ("Rashid said the cells were “weaker than at any time before” and had lost their funding.",
     [("the cells were “weaker than at any time before”", "partial", "Rashid"),
      ("had lost their funding", "indirect", "Rashid")]),
    ("Rashid said the cells had been “broken” by raids, and that families were coming home.",
     [("the cells had been “broken” by raids", "partial", "Rashid"),
      ("families were coming home", "indirect", "Rashid")]),
    # ... but "A “q” and that B" without a comma stays one clause
    ("Rashid said the cells were “on the run” and that families were coming home.",
     [("the cells were “on the run” and that families were coming home", "partial", "Rashid")]),
    # a plural noun with a prepositional phrase, organisation plurals, and negative modals in the clause
    ("Shepherds in at least three villages told AFP they had been asked to pay.",
     [("they had been asked to pay", "indirect", "Shepherds in at least three villages")]),
    ("Rights groups say many trials last only minutes.",
     [("many trials last only minutes", "indirect", "Rights groups")]),
    ("Kurdish officials have warned that the camps cannot be guarded for ever.",
     [("the camps cannot be guarded for ever", "indirect", "Kurdish officials")]),
    # an idiom with an object is no reported clause
    ("Truck drivers on the desert road tell a different story.", []),
    # an organisation the lede leaves unnamed, named as the subject that opens the next paragraph
    ("Attacks fell by half, an international panel of analysts has said in a new review.\n\n"
     "The Levant Conflict Monitoring Group, which reports to the council, estimated that 900 fighters remain.\n\n"
     "In Syria, the analysts wrote, the cells are smaller. The document said that funding had dried up.",
     [("Attacks fell by half", "indirect", "The Levant Conflict Monitoring Group"),
      ("900 fighters remain", "indirect", "The Levant Conflict Monitoring Group"),
      ("the cells are smaller", "indirect", "The Levant Conflict Monitoring Group"),
      ("funding had dried up", "indirect", "The Levant Conflict Monitoring Group")]),
    # a participle clause whose subject has an adjunct-like first word and a past-tense verb
    ("Mayor Salim Jabr urged Baghdad to send more troops, saying local police lacked armoured vehicles.",
     [("local police lacked armoured vehicles", "indirect", "Salim Jabr")]),
    # "“...,” adding that ...": the participle after a closing mark reports a clause of the same speaker
    ("Lt. Col. Aras Nuri told reporters that the cells \"can no longer reach the city centre,\" adding that "
     "patrols would continue.",
     [('the cells "can no longer reach the city centre,"', "partial", "Aras Nuri"),
      ("patrols would continue", "indirect", "Aras Nuri")]),
    # "he" after a paragraph that opens (past fronted place phrases) with a named person, no source between
    ("A council member, Faisal Omar, said the clinic was full.\n\n"
     "In the village of Kocho, south of the mountain, Dakhil Murad, 63, has rebuilt two rooms of his home.\n\n"
     "“Nobody comes at night any more,” he said.",
     [("the clinic was full", "indirect", "Faisal Omar"), ("Nobody comes at night any more", "direct", "Dakhil Murad")]),
    # "the same official" is the last source, whatever noun it was given
    ("A police source in Ramadi, who spoke on condition of anonymity, said cells were taxing trucks.\n\n"
     "The same official said the money went west.",
     [("cells were taxing trucks", "indirect", "A police source in Ramadi"),
      ("the money went west", "indirect", "A police source in Ramadi")]),
])
def test_speaker_rules_session2(body, expected):
    assert rows(body) == expected


@pytest.mark.parametrize("body, expected", [
    # a quotation of four words or more that ends a second "and that" clause is a row of its own
    ("Col. Sami Rahim said the militants had been pushed out of the river villages and that they “no longer have "
     "the men to hold ground.”",
     [("the militants had been pushed out of the river villages", "indirect", "Sami Rahim"),
      ("they “no longer have the men to hold ground.”", "partial", "Sami Rahim")]),
    ("The ministry said patrols had doubled since March, and that “the roads are open day and night.”",
     [("patrols had doubled since March", "indirect", "The ministry"),
      ("the roads are open day and night.", "direct", "The ministry")]),
    # ... but a short one stays inside the clause
    ("Col. Sami Rahim said the militants had been pushed out and that they were “on the run.”",
     [("the militants had been pushed out and that they were “on the run.”", "partial", "Sami Rahim")]),
    # a fronted phrase opens a clause that is credited at its end
    ("Across the river, by contrast, the cells have stepped up raids on checkpoints, the monitors said.",
     [("Across the river, by contrast, the cells have stepped up raids on checkpoints", "indirect", "the monitors")]),
    ("In the old souq, most shops are still shuttered, and few traders have returned, local officials say.",
     [("In the old souq, most shops are still shuttered, and few traders have returned", "indirect",
       "local officials")]),
    # ... but a fronted time phrase alone is no clause
    ("On Sunday, the officials said nothing.", []),
    # ", said NAME, ROLE." at the end of a sentence whose subject has asides of its own
    ("The convoy, about 40 trucks, most of them carrying flour, reached the camp on Monday, said Karim Saleh, a "
     "spokesman for the governor.",
     [("The convoy, about 40 trucks, most of them carrying flour, reached the camp on Monday", "indirect",
       "Karim Saleh")]),
    # ... but "told" takes an addressee, never a speaker
    ("“We pay or they burn the shop,” a trader in the market, who asked not to be named, told Rudaw.",
     [("We pay or they burn the shop", "direct", "a trader in the market")]),
    # relatives and neighbours are people who speak
    ("The bodies were handed over on Friday morning, according to a relative of one of the dead men.",
     [("The bodies were handed over on Friday morning", "indirect", "a relative of one of the dead men")]),
    # adverbs between the auxiliary and the verb; organisations in the plural
    ("Kurdish officials have long argued that the camps are a threat.",
     [("the camps are a threat", "indirect", "Kurdish officials")]),
    ("Humanitarian agencies say funding for the camps has halved.",
     [("funding for the camps has halved", "indirect", "Humanitarian agencies")]),
    # a second verb after a comma and "and" shares the sentence's subject, even with commas in the first object
    ("The ministry has paid each family a grant of 1.5 million dinars, about $1,150, and has said that the camp "
     "will close in June.",
     [("the camp will close in June", "indirect", "The ministry")]),
    ("Every few months, a general visited the front and told reporters the war was over.",
     [("the war was over", "indirect", "a general")]),
    # a relative clause with "where" inside the speaker phrase
    ("Farmers in Bashiqa, where the orchards were burned in 2016, said that the olive harvest was back.",
     [("the olive harvest was back", "indirect", "Farmers in Bashiqa")]),
    # "One of them" names a speaker
    ("Two officers at the prison said the fence had been cut. One of them said the men fled on foot.",
     [("the fence had been cut", "indirect", "Two officers at the prison"),
      ("the men fled on foot", "indirect", "One of them")]),
    # a participle aside naming who carried the statement stands between the verb and "that"
    ("The army said in a statement, carried by state television, that two bombs were defused.",
     [("two bombs were defused", "indirect", "The army")]),
    # a long role opening the sentence before the name
    ("The head of the office for tracing kidnapped Yazidis, Salwa Qadir, told AFP that 40 graves had been found.",
     [("40 graves had been found", "indirect", "Salwa Qadir")]),
    # figures and data "show" a clause; other things that show do not report
    ("Health ministry figures show more than 900 families have gone home.",
     [("more than 900 families have gone home", "indirect", "Health ministry figures")]),
    ("UN data showed that attacks had fallen by half.", [("attacks had fallen by half", "indirect", "UN data")]),
    ("The video shows fighters have returned to the village.", []),
    # "IS" (the group) before a verb is no passive "is"; irregular participles head modifiers and asides
    ("Many families from towns once held by IS say they cannot get new papers.",
     [("they cannot get new papers", "indirect", "Many families from towns once held by IS")]),
    ("Doctors at the clinic, run with help from a charity, said the wards were full.",
     [("the wards were full", "indirect", "Doctors at the clinic")]),
    # a short quoted fragment that completes "describing ... as" or "urging ... to" is a row
    ("The army said it had cleared the valley, describing the cells there as “scattered and hungry.”",
     [("it had cleared the valley", "indirect", "The army"), ("scattered and hungry.", "direct", "The army")]),
    ("The cleric appeared on television, urging young men to “stay at home” during the curfew.",
     [("stay at home", "direct", "The cleric")]),
    # ... but not a short fragment after "to" with no such verb
    ("The cleric appeared on television and asked young men to “stay at home” during the curfew.", []),
    # ... also after a comma, or after "and" and a short subject, when the quotation goes on in lower case
    ("The commander said troops seized rifles and food, “which proves the cells are short of supplies.”",
     [("troops seized rifles and food", "indirect", "The commander"),
      ("which proves the cells are short of supplies.", "direct", "The commander")]),
    ("Police said raids had continued and the cells “are now confined to the desert valleys.”",
     [("raids had continued", "indirect", "Police"),
      ("the cells “are now confined to the desert valleys.”", "partial", "Police")]),
    # review fixes: an "and that" inside an earlier quotation is no place to split ...
    ("The governor said the town was “quiet and that is thanks to the army” while the militants “can no longer "
     "hold ground anywhere.”",
     [("the town was “quiet and that is thanks to the army” while the militants “can no longer hold ground "
       "anywhere.”", "partial", "The governor")]),
    # ... and only a plural time word ("months"), not any word one letter longer than one ("One"), is a time phrase
    ("One, officials said, was a child.", []),
    ("Every few months, officials say the cells have been weakened.",
     [("the cells have been weakened", "indirect", "officials")]),
])
def test_quote_rules_session3(body, expected):
    assert rows(body) == expected


@pytest.mark.parametrize("body, expected", [
    # "said about" a quantity opens a clause; "said about" a topic does not
    ("A maintenance sergeant said about a fifth of the trucks had needed new tyres before the drive south.",
     [("about a fifth of the trucks had needed new tyres before the drive south", "indirect",
       "A maintenance sergeant")]),
    ("The governor said about two hundred families had returned to the district.",
     [("about two hundred families had returned to the district", "indirect", "The governor")]),
    # an apposition that ends in a participle phrase ("based in Beirut") still names the speaker before it
    ("Rana Khoury, an analyst based in Amman, argues that the cells have no way to hold territory.",
     [("the cells have no way to hold territory", "indirect", "Rana Khoury")]),
    # age and home town between a name and its role; US Army ranks are titles
    ("Spc. Dale Brooks, 24, of Dayton, Ohio, a mechanic with the battalion, said the dust ruins the engines.",
     [("the dust ruins the engines", "indirect", "Dale Brooks")]),
    # "retired" before a title belongs to neither the name nor an aside
    ("A security expert, retired Maj. Gen. Salem Hadi, told reporters that the cells now move in pairs.",
     [("the cells now move in pairs", "indirect", "Salem Hadi")]),
    # a person called by the given name alone links to the one full name that starts with it ...
    ("For a year, Huda al-Rawi has searched the camps for her brother.\n\nHuda says the lists are never "
     "complete.\n\nFor Huda, the search goes on.",
     [("the lists are never complete", "indirect", "Huda al-Rawi")]),
    # ... not to a capitalised run across a sentence end, and not when two full names start with it
    ("Omar Salih runs a bakery in Mosul. Omar said the market was busy. Omar Karim, a farmer, disagreed.",
     [("the market was busy", "indirect", "Omar")]),
    # an unnamed source that shares only a place with a named one is another person
    ("Fadel Jasim, a commander in the Anbar Operations Command, said attacks had doubled.\n\nAn official in the "
     "Interior Ministry in Anbar rejected that account, insisting that the roads were safe.",
     [("attacks had doubled", "indirect", "Fadel Jasim"),
      ("the roads were safe", "indirect", "An official in the Interior Ministry in Anbar")]),
])
def test_quote_rules_session4(body, expected):
    assert rows(body) == expected
