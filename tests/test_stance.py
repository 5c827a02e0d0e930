"""Stance: codebooks and their error messages, each rule on realistic sentences, the four levels on the
seeds against seeds/gold, the learned model, evaluation, determinism and the command line."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import cohen_kappa_score, f1_score

from corelib import stance as S
from corelib.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "seeds" / "gold"
SHIPPED = S.CODEBOOK_DIR / "isis_resurgence.yaml"


def one(text: str, target: str = "isis_resurgence", method: str = "rules") -> dict:
    """Tag one free-standing text; return its row as a dict."""
    return S.tag_texts([text], target, method).iloc[0].to_dict()


def cues(row: dict, role: str | None = None) -> list[str]:
    return [ev["text"] for ev in row["evidence"] if role is None or ev["role"] == role]


# --------------------------------------------------------------------------- codebooks

def test_shipped_codebooks_load_and_have_two_sides():
    assert {"isis_resurgence", "security_trend"} <= set(S.codebook_names())
    cb = S.load_codebook("isis_resurgence")
    assert cb.sides == ["resurgent", "contained"] and cb.neutral == "none"
    assert cb.all_labels == ["resurgent", "contained", "mixed", "none"]
    assert len([c for c in cb.cues if c.kind == "cue"]) > 100
    assert "Daesh" in cb.aliases and "ISIS" in cb.aliases
    trend = S.load_codebook("security_trend")
    assert trend.sides == ["improving", "deteriorating"]


def test_user_codebook_path_works_like_a_shipped_name(tmp_path):
    path = tmp_path / "my_target.yaml"
    path.write_text(
        "target: coalition_presence\n"
        "labels: [support, oppose, none]\n"
        "cues:\n"
        "  support:\n"
        "    - \"(stay|remain) in iraq\"\n"
        "    - welcome*\n"
        "  oppose:\n"
        "    - \"(withdraw*|leave|expel*) (the )?(country|iraq)\"\n"
        "    - {pattern: occupation, weight: 1.5}\n"
        "examples:\n"
        "  support: [\"We welcome the troops and want them to stay in Iraq.\"]\n"
        "  oppose: [\"Parliament voted to expel foreign troops from the country.\"]\n"
        "  none: [\"The minister met the ambassador.\"]\n", encoding="utf-8")
    rows = S.tag_texts(["Lawmakers demanded that US troops leave Iraq, calling them an occupation.",
                        "The governor said he would welcome coalition advisers.",
                        "Rain fell in Basra."], str(path))
    assert rows["stance"].tolist() == ["oppose", "support", "none"]
    assert S.fitted_model(str(path)).classes_.tolist() == ["none", "oppose", "support"]


def _codebook_error(tmp_path, text: str) -> S.CodebookError:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(S.CodebookError) as info:
        S.load_codebook(str(path))
    assert str(path) in str(info.value)
    return info.value


GOOD_HEAD = "target: t\nlabels: [up, down, none]\ncues:\n  up:\n    - rising\n"


@pytest.mark.parametrize("tail, line, problem", [
    ("  dwon:\n    - falling\n", 6, "unknown label 'dwon' in cues"),
    ("  down:\n    - \"re:fall(ing\"\n", 7, "bad regular expression"),
    ("  down:\n    - \"(falling|dropping\"\n", 7, "unclosed '('"),
    ("  down:\n    - no\n", 7, "is not text (YAML reads unquoted no"),
    ("  down:\n    - {pattern: falling, wieght: 2}\n", 7, "unknown key 'wieght'"),
    ("  down:\n    - {pattern: falling, weight: heavy}\n", 7, "'weight' must be a number"),
    ("  down:\n    - {weight: 2}\n", 7, "needs a 'pattern'"),
    ("  down:\n    - falling\nnegation:\n  flip: {up: sideways}\n", 9, "unknown label 'sideways'"),
    ("  down: [falling\n", 7, "not valid YAML"),
    ("  down:\n    - falling\nexamples:\n  upp: [\"It rose.\"]\n", 9, "unknown label 'upp' in examples"),
    ("  down:\n    - falling\ncue: {}\n", 8, "unknown key 'cue'"),
    ("  down:\n    - falling\nevent_reports:\n  pattern: [killed]\n", 9, "unknown key 'pattern' in event_reports"),
    ("  down:\n    - falling\nevent_reports:\n  patterns: [\"killed (\"]\n", 9, "unclosed '('"),
    ("  down:\n    - {pattern: falling, subject: maybe}\n", 7, "'subject' must be true, false or drop"),
    ("  down:\n    - falling\nopponents:\n  words: [\"army (\"]\n", 9, "unclosed '('"),
    ("  down:\n    - falling\ntrends:\n  up: up\n  down: down\n  patterns: ['{now} attacks']\n", 11,
     "needs {now} and {before}"),
    ("  down:\n    - falling\ntrends:\n  up: upward\n  down: down\n", 9, "unknown label 'upward' in trends.up"),
    ("  down:\n    - falling\ntrends:\n  up: up\n  patterns: ['{now} against {before}']\n", 9,
     "trends needs 'down'"),
    ("  down:\n    - falling\ntrends:\n  up: up\n  down: down\n  patterns: ['{now} (against {before}']\n", 11,
     "bad pattern"),
])
def test_codebook_errors_name_file_line_and_problem(tmp_path, tail, line, problem):
    err = _codebook_error(tmp_path, GOOD_HEAD + tail)
    assert err.line == line, str(err)
    assert problem in str(err)
    assert f"line {line}:" in str(err)


def test_codebook_missing_key_and_unknown_target(tmp_path):
    err = _codebook_error(tmp_path, "target: t\nlabels: [up, down, none]\n")
    assert "missing required key 'cues'" in str(err)
    with pytest.raises(S.CodebookError, match="unknown target.*isis_resurgence"):
        S.load_codebook("no_such_target")
    with pytest.raises(S.CodebookError, match="no such codebook file"):
        S.load_codebook(str(tmp_path / "absent.yaml"))


def test_shipped_codebook_error_line_points_into_the_real_file(tmp_path):
    text = SHIPPED.read_text(encoding="utf-8").replace("    - {pattern: \"resurg*\", weight: 1.5}",
                                                       "    - {pattern: \"resurg*(\", weight: 1.5}")
    err = _codebook_error(tmp_path, text)
    expected = next(i for i, ln in enumerate(text.splitlines(), 1) if "resurg*(" in ln)
    assert err.line == expected and "unclosed '('" in err.problem


@pytest.mark.parametrize("pattern, hits, misses", [
    ("regroup*", ["regrouped", "Regrouping"], ["re-grouped", "groups"]),
    ("stepped up (its |their )?attacks", ["stepped up attacks", "stepped-up their attacks"], ["stepped up raids"]),
    ("(sleeper )?cells", ["sleeper cells", "cells"], ["cellular"]),
    ("no ... coordinat*", ["no sign of any coordination", "no coordination"], ["no. Coordination"]),
    ("defeat(ed|s)?", ["defeated", "defeat"], ["defeating"]),
    ("re-?emerg*", ["re-emerged", "reemerging"], ["emerged"]),
    ("ISIS's", ["ISIS's", "ISIS’s"], ["ISIS"]),
    ("(has|have)( not|n't)( yet)? recovered", ["has not recovered", "hasn't yet recovered", "have not yet recovered"],
     ["hasnot recovered", "has recovered"]),
    ("[0-9]*(,[0-9]*)? fighters", ["500 fighters", "10,000 fighters"], ["10,000fighters", "fighters"]),
    ("attacks ... (have )?increased", ["attacks in the north increased", "attacks have increased"], ["attacks, increased"]),
])
def test_pattern_syntax(pattern, hits, misses):
    rx = re.compile(S.compile_pattern(pattern), re.IGNORECASE)
    for text in hits:
        assert rx.fullmatch(text), (pattern, text)
    for text in misses:
        assert not rx.fullmatch(text), (pattern, text)


def test_fast_matcher_equals_one_big_alternation(seeds_dir):
    """The trie-triggered matcher finds exactly what a single alternation of all cue patterns finds
    (count comparisons, `trends`, are matched on their own)."""
    cb = S.load_codebook()
    ranked = [(i, src) for _, i, src in sorted(
        ((S._literal_length(c.pattern), i, S.compile_pattern(c.pattern)) for i, c in enumerate(cb.cues)
         if c.kind != "trend"),
        key=lambda t: (-t[0], t[1]))]
    big = re.compile("|".join(f"(?P<k{i}>{src})" for i, (_, src) in enumerate(ranked)), re.IGNORECASE)
    texts = [p.read_text(encoding="utf-8") for p in sorted(seeds_dir.glob("*.txt"))]
    texts.append("ISIS isn't regrouping; it can't. No-one said the group was NOT defeated, but 3,000-strong cells...")
    for text in texts:
        expected = [(m.start(), m.end(), ranked[int(m.lastgroup[1:])][0]) for m in big.finditer(text)]
        assert cb.main.find(text) == expected


# --------------------------------------------------------------------------- rules, one by one

def test_cue_words_and_phrases():
    assert one("Security officials say ISIS is regrouping in the desert.")["stance"] == "resurgent"
    assert one("Daesh sleeper cells have stepped up attacks on checkpoints.")["stance"] == "resurgent"
    assert one("The Islamic State was territorially defeated in 2017.")["stance"] == "contained"
    assert one("Only scattered remnants of the group remain in the mountains.")["stance"] == "contained"
    assert one("The minister opened a new water plant in Basra on Monday.")["stance"] == "none"


def test_negation_flips_the_nearest_cue():
    row = one("The pandemic has not slowed the ISIS resurgence either.")
    assert row["stance"] == "resurgent"
    assert "slowed" in cues(row, "negated_cue") and "resurgence" in cues(row, "cue")
    assert one("ISIS has not been defeated.")["stance"] == "resurgent"
    assert one("Despite the raids, the militants are no longer able to hold any ground.")["stance"] == "contained"
    row = one("Officials said there was no indicator of any coordination between the militants.")
    assert row["stance"] == "contained" and any("coordination" in c for c in cues(row))
    row = one("The police chief said there was no coordination between the cells.")
    assert row["stance"] == "contained" and "coordination" in cues(row, "negated_cue")


def test_negation_reaches_across_a_list_but_not_a_new_clause():
    row = one("Our forces will not give the militants the time, money or safe haven they need.")
    assert row["stance"] == "contained" and "safe haven" in cues(row, "negated_cue")
    row = one("The army did not answer our calls, and the militants set up checkpoints on the road.")
    assert row["stance"] == "resurgent" and "set up checkpoints" in cues(row, "cue")


@pytest.mark.parametrize("text, label, evidence", [
    ("Police recorded 209 attacks by the militants in 2022, against 488 the year before.", "contained",
     "209 attacks by the militants in 2022, against 488"),
    ("The monitor counted 214 attacks in the first half of the year, compared with 96 a year earlier.", "resurgent",
     "214 attacks in the first half of the year, compared with 96"),
    ("Assassinations in the province went from 35 in 2023 to 80 last year.", "resurgent",
     "Assassinations in the province went from 35 in 2023 to 80"),
    ("The report counted from 1,200 bombings in 2016 to about 300 in 2019.", "contained",
     "from 1,200 bombings in 2016 to about 300"),
    # a comparison says more than the count inside it ("carried out 61 attacks" alone is resurgent)
    ("ISIS carried out 61 attacks in March, compared with 140 in March last year.", "contained",
     "61 attacks in March, compared with 140"),
])
def test_trends_compare_a_count_with_an_earlier_one(text, label, evidence):
    row = one(text)
    assert row["stance"] == label
    assert cues(row) == [evidence]


def test_trends_ignore_years_equal_counts_and_the_security_forces_operations():
    assert one("Attacks were recorded from 2019 to 2021 in the ministry's tables.")["stance"] == "none"
    assert one("Officials logged 40 attacks in May, compared with 40 in April.")["stance"] == "none"
    assert one("Security forces carried out 1,730 operations, compared with 1,200 the year before.")["stance"] == "none"


@pytest.mark.parametrize("text, label", [
    # a `subject: true` cue said of the target's opponents counts for the other side
    ("The militants lack the manpower to hold territory.", "contained"),
    ("The army lacks the manpower to hold territory in the desert, and the militants know it.", "resurgent"),
    ("The group moves freely in the desert because the regime forces there are weak.", "resurgent"),
    ("Iraqi forces have shown that they can carry out complex operations on their own.", "contained"),
    # ... unless the target is named between the opponent and the cue
    ("The army said the militants are still capable of mounting complex attacks.", "resurgent"),
    # `subject: drop`: the coalition carrying on says nothing of the group's strength
    ("U.S. forces will continue to carry out operations against the group with their partners.", "none"),
    # one side's fact conceded to claim the other
    ("Losing ground in Raqqa is not the same as being defeated, the commander said.", "resurgent"),
    ("They lost their cities, but they did not lose their networks.", "resurgent"),
    ("A small insurgency does not mean a harmless one, and the villages pay for it.", "resurgent"),
    # who holds the ground, and a group that waits
    ("Villagers say that after dark the roads belong to the militants.", "resurgent"),
    ("Two shepherds were killed when gunmen believed to belong to ISIS opened fire on them.", "none"),
    ("The militants know that the army now has fewer men in the desert.", "resurgent"),
    ("Security forces have killed 200 militants since January, the ministry said.", "none"),
    ("The militants are patient. They know how to wait for the checkpoints to thin out.", "resurgent"),
    ("The group has changed its fighting tactics, moving between the valleys at night.", "resurgent"),
    # not what it was; forces that can cope; counts that are low
    ("This is not the ISIS of 2014, and the army is not the army of 2014 either.", "contained"),
    ("The Iraqi army is fully capable of securing the border on its own, the minister said.", "contained"),
    ("The group has lost about 95 percent of the territory it once held.", "contained"),
    ("ISIS still attacks in Anbar, but the numbers are historically low this year, the governor said.", "contained"),
    ("ISIS does not have the manpower to hold a single village here.", "contained"),
    ("The pressure on the group's financiers is working, the Treasury official said.", "contained"),
    ("Nobody should tell us that ISIS is finished, the tribal leader said.", "resurgent"),
    ("The cells are still dangerous, but the momentum is clearly with the army.", "contained"),
    ("What remains is a rural insurgency that the security forces can manage.", "contained"),
    ("Government troops have retaken about 60 percent of the territory the militants held.", "contained"),
    ("Militant attacks have killed at least 40 shepherds in the desert since January.", "resurgent"),
    ("If the prison falls, we will be back to 2014 within weeks.", "resurgent"),
    ("Thousands of children are being raised in the camp under ISIS ideology.", "resurgent"),
    ("Most of the arrests of ISIS suspects came from information provided by residents.", "contained"),
])
def test_opponents_concessions_ground_and_counts(text, label):
    assert one(text)["stance"] == label, one(text)["evidence"]


@pytest.mark.parametrize("text, label", [
    # "X does not mean Y", "a mistake to think Y", "cannot say Y": Y is denied, X conceded
    ("Losing its territory does not mean the group is finished.", "resurgent"),
    ("A weaker ISIS does not mean a defeated ISIS.", "resurgent"),
    ("The drop in attacks does not mean the threat has diminished.", "resurgent"),
    ("The militants have lost ground, but that was not the end of ISIS.", "resurgent"),
    ("It would be a mistake to think that Daesh is gone.", "resurgent"),
    ("We cannot say that ISIS has been defeated.", "resurgent"),
    ("Nobody can guarantee that the militants will not come back.", "resurgent"),
    ("Killing its leaders has not stopped the group from carrying out attacks.", "resurgent"),
    ("If nothing is done, this will get much worse.", "resurgent"),
    # capability denied
    ("Daesh is not capable of holding a single village, let alone a city.", "contained"),
    ("ISIS is too weak to hold a single village.", "contained"),
    ("The militants lack the manpower to hold territory.", "contained"),
    ("The Islamic State has lost nearly all of the territory it once held.", "contained"),
    ("The group has not recovered from the loss of its leaders.", "contained"),
    ("“ISIS is not the force it was, and our partners can handle what is left,” the official said.", "contained"),
    # events, history and names are not claims
    ("Five ISIS militants were killed in an air strike on a hideout in the mountains, the military said.", "none"),
    ("The remnants of a car bomb were found near the checkpoint.", "none"),
    ("Mass graves containing victims of the group are still being excavated in Sinjar.", "none"),
    ("The new strategy aims to degrade and ultimately destroy the terrorist organisation.", "none"),
    ("Troops liberated the last villages of the district in 2017 and handed them to the police.", "none"),
])
def test_denials_rebuttals_and_events(text, label):
    row = one(text)
    assert row["stance"] == label, row["evidence_text"]


@pytest.mark.parametrize("text, label", [
    # the scene-setting clause ("When/As X, Y") weighs less than the claim after it
    ("When the militants lose territory, they go back to what they know best: roadside bombs and assassinations.",
     "resurgent"),
    ("As the caliphate crumbled, the group's leaders prepared for a long insurgency.", "resurgent"),
    # official optimism called premature or rosy
    ("Officials declared victory over ISIS too early, the tribal sheikh said.", "resurgent"),
    ("The government's view of the ISIS threat is dangerously optimistic.", "resurgent"),
    ("The militants are weak, yes, but they are not gone.", "resurgent"),
    # "they tell us that X": a claim the speaker holds up to rebut
    ("They tell us every month that Daesh is finished. Then who planted this bomb?", "resurgent"),
    # retreat, damage, local forces that no longer need help
    ("Daesh fighters are fleeing, and they have left behind their weapons and vehicles.", "contained"),
    ("This is the beginning of the end for Daesh in the valley.", "contained"),
    ("The organisation's finances have been severely damaged by the arrests of its couriers.", "contained"),
    ("Iraqi units now carry out most raids against ISIS on their own.", "contained"),
    ("The army can now handle the terrorist threat without coalition air support.", "contained"),
    ("A new era of security has begun in the province since the last ISIS cells were broken up.", "contained"),
    ("“The days when they could hold a village are over. Now they hide,” said the district mayor of the militants.",
     "contained"),
    ("“We are seeing the last chapter of this organisation in Diyala,” the brigade commander said of ISIS.", "contained"),
    ("The interior minister said the province was now safer than at any time since 2003.", "contained"),
    ("“The ISIS network in the city is broken. Those who are left are isolated and hunted,” the police chief said.",
     "contained"),
    ("“The jihadists are fewer, but they have not disappeared,” the general said.", "resurgent"),
    # capability denied, a gang not an army, a setback for the group, attacks down from a higher count
    ("Commanders say the militants no longer have the ability to mass fighters and seize a town.", "contained"),
    ("“They are not an army any more. They are a gang that robs shepherds,” the mayor said of the jihadists.",
     "contained"),
    ("The failed prison raid was a setback for the group, officials said.", "contained"),
    ("Police recorded 95 bombings in the province this year, down from 240 in 2019.", "contained"),
    # a danger more immediate, the intent to attack
    ("For the families in the valley, the ISIS danger is more immediate than ever.", "resurgent"),
    ("The general said ISIS still has the intent to carry out attacks in the cities.", "resurgent"),
    # counted attacks, taxes in scare quotes, night visits and patience
    ("Local officials said ISIS fighters had carried out at least five attacks on farms near Tuz Khurmatu.",
     "resurgent"),
    ("Farmers say the group is collecting “zakat” from every harvest in the valley.", "resurgent"),
    ("Villagers said masked men had come three times at night to ask about the families of soldiers.", "resurgent"),
    ("“They are waiting for the army to make a mistake,” the sheikh said.", "resurgent"),
    ("The jihadists are biding their time in the desert, a Kurdish officer said.", "resurgent"),
    # moving in small groups is a way of moving, not a sign of weakness
    ("Officers say the militants travel in small groups of four or five.", "none"),
    # a tally of militants killed supports a contained reading only next to another cue
    ("Security forces have killed more than 200 suspected militants since January, leaving only scattered remnants.",
     "contained"),
    ("Counter-terrorism forces carried out 60 operations against ISIS hideouts last month.", "none"),
    # reports of one attack or one operation, background and other things that deteriorate are no claims
    ("The bombing was the deadliest attack on the city's markets this year, police said.", "none"),
    ("Kurdish forces conducted a series of raids on villages near Hawija, detaining three suspects.", "none"),
    ("Seven years after the Islamic State group was driven out of the town, its market reopened on Friday.", "none"),
    ("Large areas of farmland were mined by the jihadists before the group's defeat.", "none"),
    ("Much of the old city was reduced to rubble in the battle against the militants.", "none"),
    ("The jihadists held prisoners in the basement, according to survivors.", "none"),
    ("Conditions in the camp have deteriorated as aid money has dried up.", "none"),
    ("Demining teams have cleared only a small part of the fields the militants left behind.", "none"),
])
def test_scene_setting_rebuttals_retreat_and_reports(text, label):
    row = one(text)
    assert row["stance"] == label, row["evidence_text"]


def test_not_needing_to_hold_towns_is_no_inability():
    row = one("The jihadists no longer need to hold towns, a researcher said.")
    assert row["score_contained"] == 0.0 and not cues(row, "negated_cue")


def test_the_model_gives_no_side_to_the_report_of_one_event():
    cb = S.load_codebook()
    event = "Gunmen killed four shepherds in an attack on a village near Tuz Khurmatu on Tuesday, police said."
    count = "Gunmen have killed four shepherds in the villages near Tuz Khurmatu since January, police said."
    assert cb.reports_event(event) and cb.reports_event("The blast wounded three soldiers at the checkpoint.")
    assert not cb.reports_event(count) and not cb.reports_event("ISIS is regrouping in the desert.")
    # a model that reads killings as resurgent (the shipped one, trained on casualty reports labelled
    # none, no longer does); combined, no cue gives these reports a side, with or without a combination
    reports = ["Suspected ISIS militants killed at least nine people, most of them farmers, in the desert south of "
               "Raqqa on Friday.", "ISIS jihadists killed 11 soldiers and pro-regime fighters in the Syrian desert on Monday."]
    eager = S.StanceModel().fit(["Militants killed ten soldiers in the desert.", "Jihadists killed nine farmers.",
                                 "The group is defeated.", "Only remnants are left.",
                                 "The minister met the ambassador.", "Voters went to the polls."],
                                ["resurgent", "resurgent", "contained", "contained", "none", "none"])
    assert set(S.tag_texts(reports, method="model", fitted=S.FittedStance(eager, None))["stance"]) == {"resurgent"}
    for fitted in (S.FittedStance(eager, None), S.FittedStance(eager, S.fitted_stance().combiner)):
        rows = S.tag_texts(reports, method="combined", fitted=fitted)
        assert set(rows["stance"]) == {"none"} and set(rows["decided_by"]) == {"rules"}


def test_the_model_gives_no_side_in_an_article_no_rule_reads_as_taking_one():
    """decision.model_min_side_sentences: in an article where no sentence takes a side by the rules, the
    model gives its quotations and sentences none; one sentence with a side lets it speak again."""
    from corelib.parse import parse_documents
    from corelib.quotes import extract

    eager = S.StanceModel().fit(["The sheep are back in the hills.", "Shepherds take the sheep out again.",
                                 "The group is defeated.", "Only remnants are left.",
                                 "The minister met the ambassador.", "Voters went to the polls."],
                                ["resurgent", "resurgent", "contained", "contained", "none", "none"])
    fitted = S.FittedStance(eager, None)
    quote = '"The sheep are back in the hills and the shepherds are out again," said Ahmed Saleh, a farmer.'
    quiet = "Market day in Khanaqin\n\nKHANAQIN, Iraq – Farmers brought lambs to the market on Monday.\n\n" + quote
    loud = quiet + "\n\nSecurity officials say ISIS is regrouping in the hills near the town."
    parsed = parse_documents([{"doc_id": "quiet", "text": quiet}, {"doc_id": "loud", "text": loud}])
    quotes = extract(parsed)
    cb = S.load_codebook()
    assert cb.decision["model_min_side_sentences"] == 1
    quotes = quotes[quotes["speaker"] == "Ahmed Saleh"]
    got = S.tag_quotes(parsed, quotes, cb, "combined", fitted).set_index("doc_id")
    assert got.loc["quiet", "stance"] == "none" and got.loc["loud", "stance"] == "resurgent"
    assert got.loc["loud", "decided_by"] == "model"
    sents = S.tag_sentences(parsed, cb, "combined", fitted)
    assert set(sents.loc[sents["doc_id"] == "quiet", "stance"]) == {"none"}
    # the sentence pass leaves its count for tag_quotes: the same answer with or without it
    S._MATCH_CACHE.clear()
    alone = S.tag_quotes(parsed, quotes, cb, "combined", fitted)
    S.tag_sentences(parsed, cb, "rules")
    pd.testing.assert_frame_equal(alone, S.tag_quotes(parsed, quotes, cb, "combined", fitted))
    # 0 switches the rule off: the model speaks in the quiet article too
    off = S.parse_codebook(SHIPPED.read_text(encoding="utf-8"), SHIPPED)
    off.decision["model_min_side_sentences"] = 0
    assert S.tag_quotes(parsed, quotes, off, "combined", fitted).set_index("doc_id").loc["quiet", "stance"] == "resurgent"


def test_the_group_killing_fighters_is_no_tally_of_its_losses():
    row = one("ISIS has killed more than 100 pro-government fighters in the desert since January.")
    assert row["score_contained"] == 0.0


def test_declining_to_call_it_an_insurgency_is_contained():
    row = one("The general declined to describe the current state of ISIS as an insurgency.")
    assert row["stance"] == "contained"
    assert "declined to describe" in cues(row, "negator")


def test_denial_and_prevention_frames():
    assert one("The spokesman denied that ISIS was regrouping in Anbar.")["stance"] == "contained"
    assert one("The army will not allow the militants to regroup in the valley.")["stance"] == "contained"
    assert one("Local officials said the operation did not achieve its goal of eradicating ISIS.")["stance"] == "resurgent"


def test_contrast_the_clause_after_but_weighs_more():
    row = one("ISIS was defeated territorially, but it is still dangerous.")
    assert row["stance"] == "resurgent" and "but" in cues(row, "contrast")
    assert one("ISIS is still dangerous, but it has been defeated territorially.")["stance"] == "contained"
    row = one("Although the militants still carry out attacks, Daesh has lost all its territory.")
    assert row["stance"] == "contained" and "Although" in cues(row, "contrast")


def test_hedges_lower_confidence_not_the_label():
    plain = one("ISIS is regrouping in the Hamrin mountains.")
    hedged = one("ISIS may be regrouping in the Hamrin mountains.")
    assert plain["stance"] == hedged["stance"] == "resurgent"
    assert hedged["hedged"] and not plain["hedged"]
    assert hedged["confidence"] < plain["confidence"]


def test_reported_claims_are_marked_and_distancing_lowers_confidence():
    said = one("Kurdish officials said ISIS is regrouping in the disputed territories.")
    claimed = one("Kurdish officials claimed ISIS is regrouping in the disputed territories.")
    assert said["reported"] and claimed["reported"]
    assert said["stance"] == claimed["stance"] == "resurgent"
    assert claimed["confidence"] < said["confidence"]


def test_anchored_cues_need_the_target():
    assert one("The group's fighters proved resilient after the raids.")["stance"] == "resurgent"
    assert one("The economy proved resilient after the drought.")["stance"] == "none"


def test_names_and_goals_are_not_claims():
    assert one("The Global Coalition to Defeat ISIS will meet in Rome next week.")["stance"] == "none"
    assert one("Two hospitals destroyed by ISIS were rebuilt with help from donors.")["stance"] == "none"
    assert one("The coalition remains committed to the lasting defeat of ISIS.")["stance"] == "none"


def test_codebook_examples_are_tagged_as_labelled():
    cb = S.load_codebook()
    texts = [t for lab in cb.labels for t in cb.examples[lab]]
    gold = [lab for lab in cb.labels for _ in cb.examples[lab]]
    pred = S.tag_texts(texts)["stance"].tolist()
    wrong = [(t, g, p) for t, g, p in zip(texts, gold, pred) if g != p]
    assert not wrong


def test_security_trend_target():
    rows = S.tag_texts(["Security has improved and families are returning to their homes.",
                        "The security situation is deteriorating after a spate of bombings.",
                        "The ministry of security met on Tuesday."], "security_trend")
    assert rows["stance"].tolist() == ["improving", "deteriorating", "none"]
    # the same `trends` section as isis_resurgence, with this codebook's own labels
    rows = S.tag_texts(["The province recorded 12 killings in March, compared with 31 in February.",
                        "Casualties rose from 40 in 2022 to 95 last year."], "security_trend", "rules")
    assert rows["stance"].tolist() == ["improving", "deteriorating"]


# --------------------------------------------------------------------------- levels on the seeds

@pytest.fixture(scope="module")
def seed_sentences(parsed_seeds):
    return S.tag_sentences(parsed_seeds, method="rules")


@pytest.fixture(scope="module")
def gold_quotes(parsed_seeds):
    gold = pd.read_csv(GOLD / "quotes.csv", dtype=str, keep_default_na=False)
    return S.locate_gold_quotes(parsed_seeds, gold)


def test_sentence_table_columns_offsets_and_evidence(parsed_seeds, seed_sentences):
    df = seed_sentences
    assert list(df.columns[:8]) == ["doc_id", "sent_id", "start", "end", "role", "sentence", "stance", "confidence"]
    assert len(df) == len(parsed_seeds.sentences)
    assert set(df["stance"]) <= {"resurgent", "contained", "none"}
    n_ev = 0
    for rec in df.itertuples():
        text = parsed_seeds.text_of(rec.doc_id)
        assert text[rec.start:rec.end] == rec.sentence
        for ev in rec.evidence:
            assert text[ev["start"]:ev["end"]] == ev["text"] and rec.start <= ev["start"] < rec.end
            n_ev += 1
    assert n_ev > 30


def test_sentences_against_seed_gold(seed_sentences):
    gold = pd.read_csv(GOLD / "sentences.csv", dtype=str, keep_default_na=False)
    result = S.evaluate(gold.assign(start=gold["start"].astype(int), end=gold["end"].astype(int)), seed_sentences)
    assert result.n == len(gold)
    assert result.macro_f1 >= 0.85, result.summary()


def test_quotes_against_seed_gold(parsed_seeds, gold_quotes):
    assert (gold_quotes["start"] >= 0).all()
    tagged = S.tag_quotes(parsed_seeds, gold_quotes.drop(columns=["stance"]), method="rules")
    assert len(tagged) == len(gold_quotes)
    for col in ("speaker", "kind", "stance", "confidence", "evidence", "evidence_text"):
        assert col in tagged.columns
    result = S.evaluate(gold_quotes, tagged)
    assert result.macro_f1 >= 0.9, result.summary()
    by_quote = dict(zip(tagged["quote"], tagged["stance"]))
    assert by_quote["ISIS is regrouping in the disputed territories"] == "resurgent"
    assert by_quote["It’s too early for that."] == "none"


def test_articles_against_seed_gold(parsed_seeds, seed_sentences, gold_quotes):
    quotes = S.tag_quotes(parsed_seeds, gold_quotes.drop(columns=["stance"]))
    arts = S.tag_articles(parsed_seeds, seed_sentences, quotes)
    gold = pd.read_csv(GOLD / "articles.csv", dtype=str, keep_default_na=False)
    assert S.evaluate(gold, arts).macro_f1 == 1.0
    combined = S.tag_articles(parsed_seeds, S.tag_sentences(parsed_seeds), quotes)
    assert S.evaluate(gold, combined).macro_f1 == 1.0 and set(combined["method"]) == {"combined"}
    row = arts.set_index("doc_id").loc["001_812abe2d57e416d9"]
    assert row["stance"] == "resurgent" and row["start"] == 0
    assert row["end"] == len(parsed_seeds.text_of("001_812abe2d57e416d9"))
    assert any(ev["text"].lower().startswith("resurg") for ev in row["evidence"])
    assert all(arts["method"] == "rules")


def test_articles_without_quotations_fall_back_to_sentences(parsed_seeds, seed_sentences):
    arts = S.tag_articles(parsed_seeds, seed_sentences, None)
    gold = pd.read_csv(GOLD / "articles.csv", dtype=str, keep_default_na=False)
    assert S.evaluate(gold, arts).macro_f1 >= 0.8


# --------------------------------------------------------------------------- hand-built quotation tables

@pytest.fixture(scope="module")
def two_voice_corpus():
    from corelib.parse import parse_documents

    text = ("Officials split over ISIS threat\n\n"
            "BAGHDAD – Iraqi and Kurdish officials gave opposite accounts of the Islamic State on Monday.\n\n"
            "“Daesh is finished. Only scattered remnants hide in the desert,” said Interior Minister Ali Hassan.\n\n"
            "A Kurdish commander, Karwan Aziz, warned that ISIS is regrouping and has stepped up attacks in Kirkuk.\n\n"
            "“They are stronger than at any time since 2017,” Aziz said.\n\n"
            "The ministry denied that the group was regrouping.\n")
    parsed = parse_documents([{"doc_id": "split", "text": text}])
    quotes = pd.DataFrame([
        {"doc_id": "split", "quote": "Daesh is finished. Only scattered remnants hide in the desert",
         "speaker": "Ali Hassan", "speaker_id": "ali_hassan", "cue": "said", "kind": "direct"},
        {"doc_id": "split", "quote": "ISIS is regrouping and has stepped up attacks in Kirkuk",
         "speaker": "Karwan Aziz", "speaker_id": "karwan_aziz", "cue": "warned", "kind": "indirect"},
        {"doc_id": "split", "quote": "They are stronger than at any time since 2017",
         "speaker": "Karwan Aziz", "speaker_id": "karwan_aziz", "cue": "said", "kind": "direct"},
        {"doc_id": "split", "quote": "the group was regrouping", "speaker": "the ministry",
         "speaker_id": "interior_ministry", "cue": "denied", "kind": "indirect"},
        {"doc_id": "missing_doc", "quote": "ISIS is back", "speaker": "nobody", "speaker_id": "", "cue": "said",
         "kind": "direct"},
    ])
    return parsed, quotes


def test_tag_quotes_finds_offsets_and_applies_denials(two_voice_corpus):
    parsed, quotes = two_voice_corpus
    tagged = S.tag_quotes(parsed, quotes)
    by = dict(zip(tagged["quote"], tagged["stance"]))
    assert by["Daesh is finished. Only scattered remnants hide in the desert"] == "contained"
    assert by["ISIS is regrouping and has stepped up attacks in Kirkuk"] == "resurgent"
    assert by["They are stronger than at any time since 2017"] == "resurgent"  # anchored by the sentence before
    assert by["the group was regrouping"] == "contained"  # reported with "denied"
    lost = tagged[tagged["doc_id"] == "missing_doc"].iloc[0]  # article not in the corpus: no crash
    assert lost["start"] == -1 and lost["rule_stance"] == "none"
    text = parsed.text_of("split")
    for rec in tagged[tagged["doc_id"] == "split"].itertuples():
        assert text[rec.start:rec.end] == rec.quote


def test_speakers_aggregate_across_quotes(two_voice_corpus):
    parsed, quotes = two_voice_corpus
    tagged = S.tag_quotes(parsed, quotes)
    speakers = S.tag_speakers(tagged).set_index("speaker_id")
    assert speakers.loc["karwan_aziz", "stance"] == "resurgent"
    assert speakers.loc["karwan_aziz", "n_quotes"] == 2 and speakers.loc["karwan_aziz", "n_resurgent"] == 2
    assert speakers.loc["ali_hassan", "stance"] == "contained"
    assert speakers.loc["nobody", "n_quotes"] == 1
    both = pd.concat([tagged[tagged["speaker_id"] == "karwan_aziz"].head(1),
                      tagged[tagged["speaker_id"] == "ali_hassan"]]).assign(speaker_id="one_voice")
    assert S.tag_speakers(both).iloc[0]["stance"] == "mixed"


def test_article_is_mixed_when_voices_go_both_ways(two_voice_corpus):
    parsed, quotes = two_voice_corpus
    tagged = S.tag_quotes(parsed, quotes)
    arts = S.tag_articles(parsed, S.tag_sentences(parsed), tagged)
    row = arts.iloc[0]
    assert row["stance"] == "mixed", row.to_dict()
    assert row["quotes_resurgent"] > 0 and row["quotes_contained"] > 0
    assert {ev["source"] for ev in row["evidence"]} >= {"quote: Karwan Aziz", "quote: Ali Hassan"}


def test_a_headline_stating_both_sides_makes_the_article_mixed_only_with_voices_both_ways():
    from corelib.parse import parse_documents

    body = ("BAGHDAD – The Islamic State has lost its last strongholds in the province, and attacks have fallen "
            "sharply this year.\n\n"
            "“Daesh is finished here. Only scattered remnants hide in the desert,” said ministry spokesman Saad Nouri.\n\n"
            "A Kurdish commander, Karwan Aziz, warned that the militants were regrouping in the valleys.\n\n"
            "“The security situation is stable and under our control,” said police chief Ali Hassan.\n\n"
            "“Daesh attacks our positions every night,” said a tribal leader, Ahmed Salih.\n")
    both_ways = "ISIS weakened but far from defeated, officials say\n\n"
    parsed = parse_documents([
        {"doc_id": "both", "text": both_ways + body},
        {"doc_id": "one", "text": "Iraq says ISIS reduced to scattered remnants\n\n" + body},
        {"doc_id": "lone", "text": both_ways + body.replace(body.split("\n\n")[2], "The commander did not comment.")
         .rsplit("\n\n", 1)[0] + "\n"},  # neither the Kurdish commander nor the tribal leader
    ])
    said = [("Daesh is finished here. Only scattered remnants hide in the desert", "Saad Nouri"),
            ("the militants were regrouping in the valleys", "Karwan Aziz"),
            ("The security situation is stable and under our control", "Ali Hassan"),
            ("Daesh attacks our positions every night", "Ahmed Salih")]
    quotes = pd.DataFrame([{"doc_id": d, "quote": q, "speaker": who, "speaker_id": who.split()[-1].lower()}
                           for d in ("both", "one", "lone") for q, who in said
                           if not (d == "lone" and who in ("Ahmed Salih", "Karwan Aziz"))])
    tagged = S.tag_quotes(parsed, quotes, method="rules")
    arts = S.tag_articles(parsed, S.tag_sentences(parsed, method="rules"), tagged).set_index("doc_id")
    # the headline states both sides and the body voices each side through two sources or more
    assert arts.loc["both", "stance"] == "mixed"
    assert arts.loc["both", "voices_resurgent"] >= 3 and arts.loc["both", "voices_contained"] >= 3  # headline counted
    # a one-sided headline, or a resurgent side voiced by the headline alone, is not enough
    assert arts.loc["one", "stance"] == "contained"
    assert arts.loc["lone", "stance"] == "contained" and arts.loc["lone", "voices_resurgent"] == 1
    assert S._balanced_headline(S.load_codebook(), "ISIS lost its territory, not its intent", 0, 39)


def test_one_passing_voice_does_not_make_an_article_take_a_side():
    from corelib.parse import parse_documents

    body = ("MOSUL – The old bakery on Nabi Jarjis street opened its doors again on Saturday, its ovens rebuilt "
            "with money from a local charity.\n\n"
            "“We sold two thousand loaves before noon,” said the owner, Yunis Fathi, who fled the city in 2016.\n\n"
            "“Daesh is gone from here. Now we need electricity and work,” said a customer, Omar Salem.\n\n"
            "The charity said it planned to help three more shops in the neighbourhood this year.\n")
    police = "“The militants are on the run,” said the city's police chief, Col. Adel Rashid.\n"
    governor = "“Daesh has been defeated in this city,” said the provincial governor, Najm Saleh.\n"
    parsed = parse_documents([{"doc_id": "one", "text": "A Mosul bakery reopens\n\n" + body},
                              {"doc_id": "two", "text": "A Mosul bakery reopens\n\n" + body + "\n" + police},
                              {"doc_id": "three", "text": "A Mosul bakery reopens\n\n" + body + "\n" + police + "\n" + governor}])
    said = [("We sold two thousand loaves before noon", "Yunis Fathi"),
            ("Daesh is gone from here. Now we need electricity and work", "Omar Salem"),
            ("The militants are on the run", "Adel Rashid"),
            ("Daesh has been defeated in this city", "Najm Saleh")]
    speakers = {"one": 2, "two": 3, "three": 4}
    quotes = pd.DataFrame([{"doc_id": d, "quote": q, "speaker": who, "speaker_id": who.split()[-1].lower()}
                           for d, n in speakers.items() for q, who in said[:n]])
    tagged = S.tag_quotes(parsed, quotes, method="rules")
    assert set(tagged.loc[tagged["speaker"] == "Omar Salem", "stance"]) == {"contained"}  # the quotation takes a side
    assert set(tagged.loc[tagged["speaker"] == "Najm Saleh", "stance"]) == {"contained"}
    arts = S.tag_articles(parsed, S.tag_sentences(parsed, method="rules"), tagged).set_index("doc_id")
    # a side needs min_side_voices (3) voices, or single_voice_weight (2.25) from fewer
    assert S.load_codebook().aggregate["min_side_voices"] == 3
    assert arts.loc["one", "stance"] == "none" and arts.loc["one", "voices_contained"] == 1
    assert arts.loc["two", "stance"] == "none" and arts.loc["two", "voices_contained"] == 2
    assert arts.loc["three", "stance"] == "contained" and arts.loc["three", "voices_contained"] == 3


def test_two_passing_voices_either_way_do_not_make_an_article_mixed():
    from corelib.parse import parse_documents

    text = ("Families return to a Sinjar village\n\n"
            "SINJAR, Iraq – Forty families moved back to the village of Gohbal this week, the district council "
            "said, after a road to the town was repaired.\n\n"
            "“Daesh is gone from here. Now we need water and a school,” said one returnee, Khalil Murad.\n\n"
            "“Daesh is regrouping in the hills,” said his neighbour, Adla Qasim, who keeps her goats close.\n\n"
            "The council said it would open a clinic in the spring.\n")
    parsed = parse_documents([{"doc_id": "v", "text": text}])
    quotes = pd.DataFrame([{"doc_id": "v", "quote": "Daesh is gone from here. Now we need water and a school",
                            "speaker": "Khalil Murad", "speaker_id": "murad"},
                           {"doc_id": "v", "quote": "Daesh is regrouping in the hills",
                            "speaker": "Adla Qasim", "speaker_id": "qasim"}])
    tagged = S.tag_quotes(parsed, quotes, method="rules").set_index("speaker")
    assert tagged.loc["Khalil Murad", "stance"] == "contained" and tagged.loc["Adla Qasim", "stance"] == "resurgent"
    art = S.tag_articles(parsed, S.tag_sentences(parsed, method="rules"), tagged.reset_index()).iloc[0]
    # one voice each way, each below single_voice_weight: the weights alone say mixed (the smaller side has
    # over 40% and min_side), but these are passing remarks, not a position
    cb = S.load_codebook()
    totals = {lab: art[f"score_{lab}"] for lab in cb.sides}
    assert S._aggregate(cb, totals, cb.aggregate["min_total"])[0] == "mixed"
    assert art["voices_resurgent"] == 1 and art["voices_contained"] == 1
    assert max(totals.values()) < cb.aggregate["single_voice_weight"]
    assert art["stance"] == "none"


# --------------------------------------------------------------------------- the learned model

def test_model_is_an_sklearn_estimator():
    data = S.training_data()
    assert {"text", "stance", "group"} <= set(data.columns) and data["stance"].nunique() == 3
    assert (data["group"] == "examples").sum() == sum(len(v) for v in S.load_codebook().examples.values())
    written = data[data["group"].str.startswith("written")]
    assert len(written) >= 600 and set(written["stance"]) == {"resurgent", "contained", "none"}
    assert not written["text"].duplicated().any()
    model = S.new_model().fit(data["text"], data["stance"])
    assert hasattr(model, "pipeline_") and list(model.classes_) == ["contained", "none", "resurgent"]
    texts = ["ISIS is regrouping and stepped up its attacks.", "The minister visited a school."]
    proba = model.predict_proba(texts)
    assert proba.shape == (2, 3) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(texts).tolist() == ["resurgent", "none"]
    assert np.array_equal(proba, S.new_model().fit(data["text"], data["stance"]).predict_proba(texts))
    params = clone(model).get_params()
    assert params["random_state"] == 0 and "Daesh" in params["keep_words"]
    with pytest.raises(ValueError, match="not fitted"):
        S.StanceModel().predict(texts)
    with pytest.raises(ValueError, match="two labels"):
        S.StanceModel().fit(["a", "b"], ["x", "x"])


def test_mask_names_keeps_wording_and_target():
    assert S.mask_names("In Qarachogh, ISIS and Daesh cells killed 3 people, Rasool said.",
                        frozenset({"daesh"})) == "In Name, ISIS and Daesh cells killed 0 people, Name said."


def test_model_and_combined_methods(parsed_seeds):
    model_rows = S.tag_sentences(parsed_seeds, method="model")
    combined = S.tag_sentences(parsed_seeds, method="combined")
    assert set(model_rows["decided_by"]) == {"model"}
    assert set(combined["decided_by"]) <= {"rules", "model"}
    rules = S.tag_sentences(parsed_seeds, method="rules")
    same = combined["decided_by"] == "rules"
    assert (combined.loc[same, "stance"] == rules.loc[same, "stance"]).all()
    for rec in model_rows.itertuples():
        text = parsed_seeds.text_of(rec.doc_id)
        assert all(text[ev["start"]:ev["end"]] == ev["text"] for ev in rec.evidence)


def test_cross_validation_by_document_and_written_group():
    cv = S.cross_validate(thresholds=(0.45, S.MODEL_PROBABILITY))
    assert list(cv.columns) == ["method", "threshold", "part", "macro_f1", "accuracy", "kappa", "n"]
    assert list(dict.fromkeys(cv["method"])) == ["rules", "model", "combined"]
    table = cv.set_index(["method", "part"])
    data = S.training_data()
    assert table.loc[("rules", "seeds"), "n"] == int((data["set"] == "seeds").sum()) > 100
    assert table.loc[("rules", "written"), "n"] == int(data["set"].str.startswith("written").sum()) >= 600
    assert table.loc[("rules", "team"), "n"] == int(data["set"].str.startswith("heldout").sum())
    assert table.loc[("rules", "all"), "n"] == int((data["set"] != "examples").sum())
    chosen = cv[(cv["method"] == "combined") & (cv["threshold"] == S.MODEL_PROBABILITY)].set_index("part")
    # the shipped threshold costs nothing on the real seed articles, adds to the rules everywhere and to
    # the model alone on gold quotations (on the written sentences, where the rules are weakest, the
    # model alone is ahead: README "Stance")
    assert chosen.loc["seeds", "macro_f1"] >= table.loc[("rules", "seeds"), "macro_f1"]
    assert chosen.loc["all", "macro_f1"] > table.loc[("rules", "all"), "macro_f1"]
    assert chosen.loc["team", "macro_f1"] > table.loc[("model", "team"), "macro_f1"]


# --------------------------------------------------------------------------- evaluation

def test_evaluate_worked_example_matches_sklearn():
    gold = ["resurgent", "resurgent", "contained", "none", "none", "contained", "resurgent", "none"]
    pred = ["resurgent", "contained", "contained", "none", "resurgent", "contained", "resurgent", "none"]
    res = S.evaluate(gold, pred)
    per = res.per_class.set_index("label")
    # resurgent: tp 2, fp 1, fn 1 -> P 2/3, R 2/3; contained: tp 2, fp 1 -> P 2/3, R 1; none: tp 2, fn 1 -> P 1, R 2/3
    assert per.loc["resurgent", "precision"] == round(2 / 3, 4) and per.loc["contained", "recall"] == 1.0
    assert per.loc["none", "f1"] == 0.8 and per.loc["contained", "f1"] == 0.8
    assert res.macro_f1 == round(f1_score(gold, pred, average="macro"), 4)
    assert res.kappa == round(cohen_kappa_score(gold, pred), 4)
    assert res.accuracy == 0.75 and res.n == 8
    assert res.confusion.loc["resurgent", "contained"] == 1 and res.confusion.loc["none", "resurgent"] == 1
    assert "kappa" in res.summary() and "macro_f1" in set(res.to_frame()["label"])


def test_evaluate_tables_by_doc_and_by_span():
    gold = pd.DataFrame({"doc_id": ["a", "b", "c"], "stance": ["resurgent", "contained", ""]})
    pred = pd.DataFrame({"doc_id": ["a"], "stance": ["resurgent"]})
    res = S.evaluate(gold, pred)
    assert res.n == 2 and res.n_missing == 1  # empty gold labels are not scored; missing rows count as wrong
    gold_q = pd.DataFrame({"doc_id": ["a", "a"], "start": [0, 50], "end": [40, 90], "stance": ["resurgent", "none"]})
    pred_q = pd.DataFrame({"doc_id": ["a", "a"], "start": [45, 2], "end": [88, 30], "stance": ["none", "resurgent"]})
    assert S.evaluate(gold_q, pred_q).accuracy == 1.0
    with pytest.raises(ValueError, match="no 'stance' column"):
        S.evaluate(gold_q, pred_q.drop(columns=["stance"]))


# --------------------------------------------------------------------------- robustness and determinism

@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ISIS regroup not but defeated may “”'’-,. \n\tábç")), max_size=200))
def test_rules_never_crash_and_evidence_points_into_text(text):
    row = one(text)
    assert row["stance"] in ("resurgent", "contained", "none")
    assert 0.0 <= row["confidence"] <= 1.0
    for ev in row["evidence"]:
        assert text[ev["start"]:ev["end"]] == ev["text"]


def test_cli_output_is_deterministic_and_scorer_ready(tmp_path, capsys):
    outs = []
    for k in range(2):
        path = tmp_path / f"a{k}.csv"
        assert cli_main(["stance", "seeds", "--level", "article", "--out", str(path)]) == 0
        outs.append(path.read_bytes())
    assert outs[0] == outs[1]
    arts = pd.read_csv(tmp_path / "a0.csv")
    assert {"doc_id", "stance", "start", "end", "evidence"} <= set(arts.columns)
    assert json.loads(arts["evidence"].iloc[0])[0]["text"]
    assert cli_main(["stance", "seeds", "--level", "sentence", "--method", "rules", "--target", "security_trend",
                     "--format", "jsonl", "--out", str(tmp_path / "s.jsonl")]) == 0
    sents = pd.read_json(tmp_path / "s.jsonl", lines=True)
    assert set(sents["stance"]) <= {"improving", "deteriorating", "none"} and "score_improving" in sents


def test_cli_quote_and_speaker_levels(tmp_path):
    quotes_csv, speakers_csv = tmp_path / "q.csv", tmp_path / "s.csv"
    assert cli_main(["stance", "seeds", "--level", "quote", "--out", str(quotes_csv)]) == 0
    assert cli_main(["stance", "seeds", "--level", "speaker", "--out", str(speakers_csv)]) == 0
    q = pd.read_csv(quotes_csv)
    assert {"doc_id", "quote", "start", "end", "stance", "speaker", "evidence"} <= set(q.columns)
    assert set(q["stance"]) <= {"resurgent", "contained", "none"} and (q["stance"] != "none").sum() >= 8
    sp = pd.read_csv(speakers_csv)
    assert sp["n_quotes"].sum() == len(q) and sp["speaker_id"].is_unique
    assert cli_main(["stance", "seeds", "--level", "article", "--method", "model", "--target", "security_trend",
                     "--out", str(tmp_path / "t.csv")]) == 0
    assert set(pd.read_csv(tmp_path / "t.csv")["stance"]) <= {"improving", "deteriorating", "mixed", "none"}


def test_cli_stance_eval(tmp_path, capsys):
    pred = tmp_path / "pred.csv"
    assert cli_main(["stance", "seeds", "--level", "article", "--method", "rules", "--out", str(pred)]) == 0
    assert cli_main(["stance-eval", "--gold", str(GOLD / "articles.csv"), "--pred", str(pred)]) == 0
    out = capsys.readouterr().out
    assert "macro_f1: 1.0000" in out and "kappa" in out and "confusion" in out
    table = tmp_path / "eval.csv"
    assert cli_main(["stance-eval", "seeds", "--gold", str(GOLD / "sentences.csv"), "--level", "sentence",
                     "--method", "rules", "--out", str(table)]) == 0
    res = pd.read_csv(table).set_index("label")
    assert res.loc["macro_f1", "f1"] >= 0.85


def test_cli_reports_a_broken_codebook(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: t\nlabels: [up, down, none]\ncues:\n  sideways: [x]\n", encoding="utf-8")
    assert cli_main(["stance", "seeds", "--target", str(bad), "--level", "sentence"]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml, line 4: unknown label 'sideways'" in err


def test_model_evidence_is_never_function_words_only():
    """The model's evidence terms carry content: "as the" or "of the" never explains a label."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    texts = ["As the army withdrew, the militants came back to the villages at night and took the money.",
             "The attacks of the past year were fewer than at any time since the war ended.",
             "It is the same as it was, and there is nothing new to say about it."]
    model = S.fitted_model()
    labels = [str(x) for x in model.predict(texts)]
    terms = model.explain(texts, labels, top=5)
    assert any(terms)
    for found in terms:
        for term, weight in found:
            assert weight > 0 and not all(w in ENGLISH_STOP_WORDS for w in term.split()), term
