"""The stance engine's fast paths give exactly what the plain computation gives: the cue matcher against
trying every pattern at every word, the model's features against scikit-learn's own transform, and a fit
read back from the disk cache against the fit itself."""
import re
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from corelib import stance

PATTERNS = ["a dozen", "a few (attacks|raids)", "re-?form*", "regroup*", "(isis|daesh)'s comeback",
            "n't defeated", "attack(s|ed)?", "not ... defeated", "no longer (a threat|able to)", "sleeper cells",
            "re:\\b\\d+ attacks\\b", "(the )?remnants", "prevent* (isis|it) from", "is", "isis"]
WORDS = ["a", "dozen", "few", "attacks", "attack", "raids", "reform", "reforming", "re-form", "regrouping",
         "isis", "ISIS's", "daesh's", "comeback", "isn't", "defeated", "not", "no", "longer", "threat", "able",
         "to", "sleeper", "cells", "12", "the", "remnants", "preventing", "it", "from", "is", "an", "about"]


def _naive(entries: list[tuple[str, str, int]], text: str) -> list[tuple[int, int, int]]:
    """Every pattern tried at every position, best rank first, then leftmost non-overlapping."""
    found = []
    for rank, (_, src, payload) in enumerate(entries):
        rx = re.compile(src, re.IGNORECASE)
        for p in range(len(text) + 1):
            m = rx.match(text, p)
            if m and m.end() > p:
                found.append((p, rank, m.end(), payload))
    best = {}
    for p, rank, end, payload in sorted(found):
        best.setdefault(p, (rank, end, payload))
    out, cursor = [], 0
    for p in sorted(best):
        rank, end, payload = best[p]
        if p >= cursor:
            out.append((p, end, payload))
            cursor = end
    return out


ENTRIES = [(pat, stance.compile_pattern(pat), i) for i, pat in enumerate(PATTERNS)]
MATCHER = stance._Matcher(ENTRIES)


def test_first_words_know_whole_words_from_prefixes():
    assert stance._first_words("a dozen") == {("a", True)}
    assert stance._first_words("re-?form*") == {("re", False)}  # the hyphen is optional: 'reform' too
    assert stance._first_words("re-form*") == {("re", True)}
    assert stance._first_words("regroup*") == {("regroup", False)}
    assert stance._first_words("attack(s|ed)?") == {("attack", False)}
    assert stance._first_words("(isis|daesh)'s comeback") == {("isis", False), ("daesh", False)}
    assert stance._first_words("(the )?remnants") == {("the", False), ("remnants", True)}  # safe side
    assert stance._first_words("re:\\bfoo") is None


def test_matcher_finds_cues_in_a_sentence():
    text = "Officials said ISIS's comeback is not yet defeated, and a dozen sleeper cells are reforming."
    found = [(text[s:e], PATTERNS[k]) for s, e, k in MATCHER.find(text)]
    assert ("ISIS's comeback", "(isis|daesh)'s comeback") in found
    assert ("a dozen", "a dozen") in found and ("sleeper cells", "sleeper cells") in found
    assert ("reforming", "re-?form*") in found


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=25), st.lists(st.sampled_from([" ", "  ", ", ", ". ", "-"]),
                                                               min_size=25, max_size=25))
def test_matcher_equals_trying_every_pattern_everywhere(words, seps):
    text = "".join(w + s for w, s in zip(words, seps))
    assert MATCHER.find(text) == _naive(ENTRIES, text)


CASED_ENTRIES = ENTRIES + [("IS", stance._alias_regex("IS"), len(ENTRIES)),
                           ("Daesh", "(?<!\\w)Daesh(?!\\w)", len(ENTRIES) + 1)]
CASED_MATCHER = stance._Matcher(CASED_ENTRIES)
# upper case, a case-sensitive alias, the Kelvin sign, sigma and a combining dot: the matcher reads a
# lower-cased copy of such texts and tries patterns without re.IGNORECASE on it where that changes nothing
CASED_WORDS = WORDS + ["ISIS", "IS", "Is", "DAESH", "Daesh", "Sleeper", "CELLS", "attac\u212as", "ΣΑΣ",
                       "a\u0307", "ATTACKED", "Re-Forming"]
# dotted and dotless i and long s: re.IGNORECASE takes them for i and s, str.lower() does not, so the matcher
# reads these texts as they are and looks patterns up by the word with those letters made i and s
SPECIAL_WORDS = CASED_WORDS + ["İsis", "ıs", "İS", "ſleeper", "İ", "raıds", "cellſ"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(CASED_WORDS), max_size=25), st.lists(st.sampled_from([" ", ", ", ". ", "-"]),
                                                                    min_size=25, max_size=25))
def test_matcher_on_any_case_equals_trying_every_pattern_everywhere(words, seps):
    text = "".join(w + s for w, s in zip(words, seps))
    assert CASED_MATCHER.find(text) == _naive(CASED_ENTRIES, text)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(SPECIAL_WORDS), max_size=25), st.lists(st.sampled_from([" ", ", ", "-"]),
                                                                      min_size=25, max_size=25))
def test_matcher_reads_a_lower_cased_copy_only_where_that_changes_nothing(words, seps):
    text = "".join(w + s for w, s in zip(words, seps))
    with mock.patch.object(stance, "_lower_case_safe", lambda src: False), \
            mock.patch.object(stance, "_CASE_SPECIAL", re.compile(r"[\s\S]")):
        plain = stance._Matcher(CASED_ENTRIES).find(text)  # every pattern with re.IGNORECASE on the text
    assert CASED_MATCHER.find(text) == plain == _naive(CASED_ENTRIES, text)


def test_fast_model_features_equal_scikit_learn_transform(parsed_seeds):
    model = stance.fitted_model()
    texts = model._prepare(parsed_seeds.sentences["text"].tolist() + ["", "  Name  0 ", "ISIS isn't finished."])
    union = model.pipeline_.named_steps["features"]
    for _, vec in union.transformer_list:
        ours, theirs = stance._tfidf_features(vec, texts), vec.transform(texts).tocsr()
        theirs.sort_indices()
        assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
        assert np.array_equal(ours.data, theirs.data)


def test_fast_word_ngram_counts_equal_scikit_learn_for_other_ranges(parsed_seeds):
    texts = parsed_seeds.sentences["text"].tolist()[:60] + ["", "one", "two words", "ISIS isn't finished."]
    for ngram_range in ((1, 3), (2, 3), (2, 2)):
        vec = TfidfVectorizer(ngram_range=ngram_range, sublinear_tf=True, token_pattern=r"(?u)\b\w[\w'’]*\b")
        vec.fit(texts[:40])
        ours, theirs = stance._tfidf_features(vec, texts), vec.transform(texts).tocsr()
        theirs.sort_indices()
        assert np.array_equal(ours.indptr, theirs.indptr) and np.array_equal(ours.indices, theirs.indices)
        assert np.array_equal(ours.data, theirs.data)
    assert stance._ngram_counts(vec, []).shape == (0, len(vec.vocabulary_))


def test_matches_are_cached_per_text_and_codebook():
    cb = stance.load_codebook()
    text = "The group has not been defeated, officials said."
    assert stance._match_doc(cb, text) is stance._match_doc(cb, text)
    other = stance.load_codebook("security_trend")
    assert stance._match_doc(other, text) is not stance._match_doc(cb, text)



def test_a_fit_is_kept_on_disk_and_read_back_the_same(monkeypatch, tmp_path, parsed_seeds):
    monkeypatch.setenv("CORELIB_CACHE", str(tmp_path))
    stance._fitted.cache_clear()
    try:
        first = stance.fitted_stance()
        saved = list(tmp_path.glob("stance-isis_resurgence-*.pkl"))
        assert len(saved) == 1
        texts = parsed_seeds.sentences["text"].tolist()[:40]
        stance._fitted.cache_clear()
        again = stance.fitted_stance()  # read back, not refitted
        assert again is not first
        assert np.array_equal(first.model.predict_proba(texts), again.model.predict_proba(texts))
        saved[0].write_bytes(b"not a pickle")  # a broken cache file means a new fit, not an error
        stance._fitted.cache_clear()
        assert np.array_equal(stance.fitted_stance().model.predict_proba(texts), first.model.predict_proba(texts))
    finally:
        stance._fitted.cache_clear()
