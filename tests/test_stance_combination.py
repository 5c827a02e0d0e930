"""The learned combination of rules and model (stance.StanceCombiner, fit_stance, leave_one_set_out)."""
import numpy as np
import pandas as pd
import pytest

from corelib import parse_corpus
from corelib import stance as S
from corelib.stance import PROJECT_ROOT


@pytest.fixture(scope="module")
def cb():
    return S.load_codebook()


@pytest.fixture(scope="module")
def data(cb):
    return S.training_data(cb)


@pytest.fixture(scope="module")
def units(cb):
    return S.combination_units(cb)


@pytest.fixture(scope="module")
def without_heldout3(cb, data, units):
    return S.fit_stance(cb, data, units, exclude_sets=["heldout3"])


def test_team_gold_quotations_are_training_data_by_set(cb, data):
    sets = set(data["set"])
    assert {"written", "seeds", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "examples"} <= sets
    for name in ("heldout", "heldout2", "heldout3", "heldout4", "heldout5"):
        gold = pd.read_csv(PROJECT_ROOT / "tests" / "data" / name / "gold_quotes.csv", dtype=str, keep_default_na=False)
        assert (data["set"] == name).sum() == int(gold["stance"].isin(cb.labels).sum())
    # the measuring corpus is never training data
    assert not data["source"].str.contains("dev-corpus").any()
    assert cb.training_articles["tests/data/heldout3/gold_quotes.csv"] == "tests/data/heldout3/articles"


def test_training_data_entries_are_checked(tmp_path):
    text = (PROJECT_ROOT / "corelib" / "data" / "codebooks" / "isis_resurgence.yaml").read_text()
    bad = text.replace("- {file: seeds/gold/sentences.csv, set: seeds}", "- {file: seeds/gold/sentences.csv, sets: seeds}")
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(S.CodebookError, match="unknown key 'sets'"):
        S.load_codebook(path)


def test_combination_units_are_gold_quotes_scored_in_their_articles(cb, units):
    assert set(units["set"]) == {"seeds", "heldout", "heldout2", "heldout3", "heldout4", "heldout5"} and len(units) > 800
    assert list(units.columns[:7]) == ["set", "doc_id", "quote", "start", "end", "gold", "rule_stance"]
    # features at training equal the tagger's features for the same unit (same quote span, same article)
    part = units[units["set"] == "heldout2"].reset_index(drop=True)
    parsed = parse_corpus(PROJECT_ROOT / "tests" / "data" / "heldout2" / "articles")
    tagged = S.tag_quotes(parsed, part[["doc_id", "quote", "start", "end"]], cb, method="rules")
    tagged = tagged.set_index(["doc_id", "start", "end"]).loc[list(zip(part["doc_id"], part["start"], part["end"]))]
    proba = np.random.default_rng(0).dirichlet(np.ones(3), size=len(part))
    assert np.array_equal(S.combination_features(cb, part, proba),
                          S.combination_features(cb, tagged.reset_index(), proba))
    assert S.combination_features(cb, part, proba).shape == (len(part), len(S.combination_feature_names(cb, ["a", "b", "c"])))


def test_out_of_fold_probabilities_never_see_the_units_document(cb, data, units):
    part = units[units["set"] == "heldout"].reset_index(drop=True)
    proba, classes = S.out_of_fold_proba(cb, data, part, n_folds=3)
    assert classes == ["contained", "none", "resurgent"] and np.allclose(proba.sum(axis=1), 1.0)
    # fold of the first document, rebuilt by hand: a model fitted without the documents of that fold
    keys = sorted(set(zip(part["set"], part["doc_id"])))
    held = {k for i, k in enumerate(keys) if i % 3 == 0}
    train = data[~pd.Series(list(zip(data["set"], data["group"]))).isin(held).to_numpy()]
    assert len(train) < len(data)
    rows = [i for i, k in enumerate(zip(part["set"], part["doc_id"])) if k in held]
    expected = S.new_model(cb).fit(train["text"], train["stance"]).predict_proba(part["quote"].iloc[rows].tolist())
    assert np.allclose(proba[rows], expected)
    # ... and differs from the in-sample probabilities of the model fitted on everything
    full = S.new_model(cb).fit(data["text"], data["stance"]).predict_proba(part["quote"].iloc[rows].tolist())
    assert not np.allclose(proba[rows], full)


def test_the_combination_is_fitted_deterministically(cb, data, units, without_heldout3):
    again = S.fit_stance(cb, data, units, exclude_sets=["heldout3"])
    assert np.array_equal(without_heldout3.combiner.clf_.coef_, again.combiner.clf_.coef_)
    assert without_heldout3.combiner.classes_.tolist() == ["contained", "none", "resurgent"]
    assert without_heldout3.n_units == int((units["set"] != "heldout3").sum())
    with pytest.raises(ValueError, match="not fitted"):
        S.StanceCombiner().predict(np.zeros((1, 8)))


def test_the_combination_beats_rules_and_keeps_level_with_the_model_on_a_held_out_set(cb, without_heldout3):
    gold = pd.read_csv(PROJECT_ROOT / "tests" / "data" / "heldout3" / "gold_quotes.csv", dtype=str, keep_default_na=False)
    gold = gold[gold["stance"].isin(cb.labels)].reset_index(drop=True)
    parsed = parse_corpus(PROJECT_ROOT / "tests" / "data" / "heldout3" / "articles")
    located = S.locate_gold_quotes(parsed, gold[["doc_id", "quote", "stance"]])
    located = located[located["start"] >= 0]
    f1 = {}
    for method in S.METHODS:
        tagged = S.tag_quotes(parsed, located[["doc_id", "quote", "start", "end"]], cb, method, without_heldout3)
        g, p = S.align(located[["doc_id", "start", "end", "stance"]], tagged)
        f1[method] = S.evaluate(g, p, labels=cb.labels).macro_f1
        if method == "combined":
            assert set(tagged["decided_by"]) <= {"rules", "model", "combination"}
            # a side a cue decided stays unless the combination is sure of another label
            cued = tagged["rule_stance"] != cb.neutral
            changed = cued & (tagged["stance"] != tagged["rule_stance"])
            assert (tagged.loc[changed, "confidence"] >= S.COMBINATION_OVERRIDE_PROBABILITY).all()
            assert (tagged.loc[cued & ~changed, "decided_by"] == "rules").all()
            text = {d: parsed.text_of(d) for d in tagged["doc_id"].unique()}
            for rec in tagged.itertuples():
                assert all(text[rec.doc_id][ev["start"]:ev["end"]] == ev["text"] for ev in rec.evidence)
    # on heldout3 (rules never tuned on it) the combination is far above the rules and level with the
    # model alone (0.801 against 0.807; it wins on the mean of the five sets, README "Stance")
    assert f1["combined"] >= f1["rules"] + 0.1 and f1["combined"] >= f1["model"] - 0.01


def test_without_team_gold_the_fixed_combination_is_used(cb, data, units):
    fitted = S.fit_stance(cb, data, units.iloc[:0])
    assert fitted.combiner is None and fitted.n_units == 0
    texts = ["The militants are slipping back into the villages at night.", "ISIS is regrouping in the desert.",
             "The minister opened a school in Mosul."]
    rows = S.tag_texts(texts, cb, method="combined", fitted=fitted)
    model = S.tag_texts(texts, cb, method="model", fitted=fitted)
    assert set(rows["decided_by"]) <= {"rules", "model"} and rows["stance"].tolist()[1:] == ["resurgent", "none"]
    by_model = rows["decided_by"] == "model"
    assert (rows.loc[by_model, "stance"] == model.loc[by_model, "stance"]).all()


def test_the_second_written_sentences_are_training_data(data):
    written2 = data[data["set"] == "written2"]
    assert len(written2) == 900 and written2["stance"].value_counts().to_dict() == \
        {"contained": 300, "none": 300, "resurgent": 300}
    assert written2["group"].str.startswith("w3-").all()


def test_sentences_use_the_learned_combination_and_cue_sides_stay(cb, without_heldout3):
    assert S.COMBINATION_OVERRIDES_CUES and S.COMBINATION_OVERRIDE_PROBABILITY == 0.85
    parsed = parse_corpus(PROJECT_ROOT / "tests" / "data" / "heldout3" / "articles")
    learned = S.tag_sentences(parsed, cb, "combined", without_heldout3)
    fixed = S.tag_sentences(parsed, cb, "combined", S.FittedStance(without_heldout3.model, None))
    assert set(learned["decided_by"]) <= {"rules", "model", "combination"}
    cued = learned["rule_stance"] != cb.neutral
    changed = cued & (learned["stance"] != learned["rule_stance"])
    assert (learned.loc[changed, "confidence"] >= 0.85).all() and changed.sum() < 0.1 * cued.sum()
    # the learned combination decides some uncued sentences differently from the fixed rule
    assert (learned["stance"] != fixed["stance"]).any()
    assert (learned.loc[~cued, "decided_by"] != "rules").any()


def test_the_combination_overrides_a_cue_only_when_it_is_sure(cb, without_heldout3, monkeypatch):
    parsed = parse_corpus(PROJECT_ROOT / "tests" / "data" / "heldout3" / "articles")
    sure = S.tag_sentences(parsed, cb, "combined", without_heldout3)
    monkeypatch.setattr(S, "COMBINATION_OVERRIDES_CUES", False)
    never = S.tag_sentences(parsed, cb, "combined", without_heldout3)
    cued = never["rule_stance"] != cb.neutral
    assert (never.loc[cued, "stance"] == never.loc[cued, "rule_stance"]).all()
    differ = sure["stance"] != never["stance"]
    assert differ.any() and cued[differ].all()  # only cue-decided sentences change
    assert (sure.loc[differ, "confidence"] >= S.COMBINATION_OVERRIDE_PROBABILITY).all()
    assert set(sure.loc[differ, "decided_by"]) <= {"model", "combination"}
