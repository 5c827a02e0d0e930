"""Topic models over paragraphs (scikit-learn NMF and LDA) with their quality, per group and over time.

Five articles are too few documents for a topic model; their paragraphs are not, so the unit is the
paragraph (roles ``standfirst`` and ``body``), tokenised as in :mod:`corelib.keywords` (names stay
whole, stop words out). Every model has a fixed ``random_state``, so two runs give the same tables.

Quality, all computed here:

- **coherence**: mean NPMI over the pairs of a topic's top terms, from their co-occurrence in the
  paragraphs (a pair that never co-occurs scores -1, one that always does scores 1);
- **diversity**: share of unique terms among the top terms of all topics (1 = no term shared);
- **stability**: the model is refitted with other seeds on a resample of the paragraphs; each topic is
  matched with its most similar topic of the refit (Jaccard similarity of the top terms); the mean.

``select_k`` picks the number of topics with the best mean of the three (coherence rescaled to 0..1).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from corelib.keywords import (DECIMALS, MISSING, PERIODS, Tokenizer, count_terms, group_indicator, group_values,
                              text_units, with_metadata)
from corelib.parse import Parsed

METHODS = ("nmf", "lda")
TOPIC_ROLES = ("standfirst", "body")


# --------------------------------------------------------------------------- quality measures

def npmi_coherence(binary: sp.spmatrix, topics: Sequence[Sequence[int]]) -> np.ndarray:
    """Return the coherence of each topic: mean NPMI over pairs of its terms (column indices of ``binary``).

    ``binary`` has one row per document (here: paragraph) and a nonzero where a term occurs;
    P(w) and P(w1, w2) are the shares of rows with the term / with both terms.
    """
    b = sp.csc_matrix(binary, dtype=np.float64, copy=True)
    b.eliminate_zeros()
    b.data[:] = 1.0
    n = b.shape[0]
    if n == 0:
        raise ValueError("coherence needs at least one document")
    used = sorted({int(t) for topic in topics for t in topic})
    pos = {t: i for i, t in enumerate(used)}
    sub = b[:, used]
    co = (sub.T @ sub).toarray()  # document co-occurrence counts of the top terms, all pairs at once
    df = np.diag(co).copy()
    out = []
    for topic in topics:
        idx = [pos[int(t)] for t in topic]
        vals = []
        for x in range(len(idx)):
            for y in range(x + 1, len(idx)):
                vals.append(_npmi(co[idx[x], idx[y]], df[idx[x]], df[idx[y]], n))
        out.append(float(np.mean(vals)) if vals else 0.0)
    return np.round(np.array(out), DECIMALS)


def _npmi(n_xy: float, n_x: float, n_y: float, n: int) -> float:
    """NPMI of two terms from document counts: -1 if they never co-occur, 1 if they always do."""
    if n_xy == 0:
        return -1.0
    p_xy = n_xy / n
    if p_xy == 1.0:
        return 1.0
    return float(np.log(p_xy / ((n_x / n) * (n_y / n))) / -np.log(p_xy))


def coherence_of_texts(texts: Sequence[Iterable[str]], topics: Sequence[Sequence[str]]) -> np.ndarray:
    """Return the NPMI coherence of topics (lists of terms) over documents given as lists of terms."""
    vocab = sorted({t for topic in topics for t in topic})
    col = {t: i for i, t in enumerate(vocab)}
    rows, cols = [], []
    for i, doc in enumerate(texts):
        for t in set(doc) & set(vocab):
            rows.append(i)
            cols.append(col[t])
    binary = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(vocab)))
    return npmi_coherence(binary, [[col[t] for t in topic] for topic in topics])


def topic_diversity(top_terms: Sequence[Sequence[str]]) -> float:
    """Return the share of unique terms among the top terms of all topics (1.0: no topic shares a term)."""
    words = [t for topic in top_terms for t in topic]
    return round(len(set(words)) / len(words), DECIMALS) if words else 0.0


def best_match_jaccard(reference: Sequence[Sequence[str]], other: Sequence[Sequence[str]]) -> float:
    """Return the mean, over reference topics, of the best Jaccard similarity with a topic of ``other``."""
    if not reference or not other:
        return 0.0
    best = []
    for r in map(set, reference):
        best.append(max(len(r & set(o)) / len(r | set(o)) for o in other))
    return round(float(np.mean(best)), DECIMALS)


# --------------------------------------------------------------------------- features

@dataclass
class ParagraphFeatures:
    """Paragraphs as features: ``units`` (doc_id, para_id, start, end, n_terms), ``counts`` and ``tfidf``."""

    units: pd.DataFrame
    counts: sp.csr_matrix
    tfidf: sp.csr_matrix
    terms: np.ndarray


def paragraph_features(parsed: Parsed, roles: Iterable[str] = TOPIC_ROLES, min_df: int = 2, max_df: float = 0.95,
                       max_features: int | None = None, min_terms: int = 3, fold_aliases: bool = False,
                       drop_duplicates: bool = True) -> tuple[ParagraphFeatures, object]:
    """Return the paragraph features for topic models and the fitted TF-IDF weighting.

    Terms in fewer than ``min_df`` paragraphs or in more than ``max_df`` of them are left out
    (``max_features`` keeps the most frequent); so are paragraphs with fewer than ``min_terms`` terms.
    """
    from sklearn.feature_extraction.text import TfidfTransformer

    pars = text_units(parsed, roles, drop_duplicates)
    if len(pars) == 0:
        raise ValueError(f"no paragraphs with role {', '.join(roles)} in the corpus")
    counts, terms = count_terms(pars["text"].tolist(), Tokenizer(fold_aliases), what="paragraphs")
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    keep = (df >= min_df) & (df <= max_df * counts.shape[0])
    if max_features is not None and keep.sum() > max_features:
        total = np.asarray(counts.sum(axis=0)).ravel()
        order = np.lexsort((np.arange(len(total)), -np.where(keep, total, -1)))
        keep = np.zeros_like(keep)
        keep[order[:max_features]] = True
    cols = np.flatnonzero(keep)
    counts, terms = counts[:, cols].tocsr(), terms[cols]
    n_terms = np.asarray(counts.sum(axis=1)).ravel()
    rows = np.flatnonzero(n_terms >= min_terms)
    if len(rows) < 2 or len(terms) < 2:
        raise ValueError(f"too little text for a topic model: {len(rows)} paragraph(s) with at least {min_terms} "
                         f"terms and {len(terms)} term(s) in at least {min_df} paragraphs")
    counts = counts[rows].tocsr()
    units = pars.iloc[rows][["doc_id", "para_id", "start", "end"]].reset_index(drop=True)
    units["n_terms"] = n_terms[rows].astype(np.int64)
    tfidf_model = TfidfTransformer().fit(counts)
    return ParagraphFeatures(units, counts, tfidf_model.transform(counts).tocsr(), terms), tfidf_model


# --------------------------------------------------------------------------- the model

class TopicModel:
    """NMF or LDA topics over paragraphs, scikit-learn style: ``fit(parsed)``, ``transform(parsed)``.

    Parameters are kept as given; ``fit`` sets ``terms_``, ``components_`` (k x terms, rows sum to 1),
    ``top_terms_`` (topic, rank, term, weight), ``labels_``, ``coherence_`` (per topic), ``diversity_``,
    ``paragraphs_`` (the paragraph-topic table of the training paragraphs) and ``model_`` (the
    scikit-learn estimator). NMF is fitted on TF-IDF, LDA on counts.
    """

    def __init__(self, k: int = 10, method: str = "nmf", random_state: int = 0, n_top: int = 10,
                 min_df: int = 2, max_df: float = 0.95, max_features: int | None = None, min_terms: int = 3,
                 roles: Sequence[str] = TOPIC_ROLES, fold_aliases: bool = False, max_iter: int | None = None,
                 drop_duplicates: bool = True):
        self.k = k
        self.method = method
        self.random_state = random_state
        self.n_top = n_top
        self.min_df = min_df
        self.max_df = max_df
        self.max_features = max_features
        self.min_terms = min_terms
        self.roles = roles
        self.fold_aliases = fold_aliases
        self.max_iter = max_iter
        self.drop_duplicates = drop_duplicates

    # ---- fitting
    def _check(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, not '{self.method}'")
        if not isinstance(self.k, (int, np.integer)) or self.k < 1:
            raise ValueError(f"k must be a whole number of topics (1 or more), not {self.k!r}")

    def _estimator(self, random_state: int):
        if self.method == "nmf":
            from sklearn.decomposition import NMF

            return NMF(n_components=self.k, init="nndsvda", random_state=random_state,
                       max_iter=self.max_iter or 400)
        from sklearn.decomposition import LatentDirichletAllocation

        return LatentDirichletAllocation(n_components=self.k, learning_method="batch",
                                         random_state=random_state, max_iter=self.max_iter or 30)

    def _matrix(self, feats: ParagraphFeatures) -> sp.csr_matrix:
        return feats.tfidf if self.method == "nmf" else feats.counts

    def _fit_estimator(self, x: sp.spmatrix, random_state: int):
        from sklearn.exceptions import ConvergenceWarning

        est = self._estimator(random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # sklearn's NMF error of a near-perfect fit on a tiny corpus can round below zero
            warnings.filterwarnings("ignore", "invalid value encountered in sqrt", RuntimeWarning)
            w = est.fit_transform(x)
        return est, w

    def fit(self, parsed: Parsed) -> "TopicModel":
        """Fit the topics on the paragraphs of ``parsed``; return the fitted model."""
        self._check()
        feats, tfidf = paragraph_features(parsed, self.roles, self.min_df, self.max_df, self.max_features,
                                          self.min_terms, self.fold_aliases, self.drop_duplicates)
        return self._fit_features(feats, tfidf, parsed)

    def _fit_features(self, feats: ParagraphFeatures, tfidf, parsed: Parsed) -> "TopicModel":
        self._check()
        if self.k > min(feats.counts.shape):
            raise ValueError(f"k = {self.k} topics is more than the corpus allows: {feats.counts.shape[0]} "
                             f"paragraphs, {feats.counts.shape[1]} terms")
        est, w = self._fit_estimator(self._matrix(feats), self.random_state)
        self.model_, self.tfidf_, self.terms_ = est, tfidf, feats.terms
        comp = est.components_
        self.components_ = np.round(comp / np.maximum(comp.sum(axis=1, keepdims=True), 1e-12), DECIMALS)
        self.top_terms_ = _top_terms_table(self.components_, feats.terms, self.n_top)
        top_lists = self.top_term_lists()
        self.labels_ = [", ".join(t[:3]) for t in top_lists]
        self.coherence_ = npmi_coherence(feats.counts, self._top_indices())
        self.diversity_ = topic_diversity(top_lists)
        self.paragraphs_ = self._table(feats.units, w, parsed)
        self._features = feats
        return self

    def _top_indices(self) -> list[list[int]]:
        col = {t: i for i, t in enumerate(self.terms_)}
        return [[col[t] for t in terms] for terms in self.top_term_lists()]

    def top_term_lists(self) -> list[list[str]]:
        """Return the top terms of every topic, best first."""
        tt = self.top_terms_
        return [tt.loc[tt["topic"] == k, "term"].tolist() for k in range(self.k)]

    def get_feature_names_out(self, input_features: Sequence[str] | None = None) -> np.ndarray:
        """Return the names of the topic columns: topic_0 ... topic_{k-1}."""
        return np.array([f"topic_{i}" for i in range(self.k)], dtype=object)

    # ---- tables
    def _table(self, units: pd.DataFrame, w: np.ndarray, parsed: Parsed | None) -> pd.DataFrame:
        w = np.asarray(w, dtype=float)
        total = w.sum(axis=1, keepdims=True)
        share = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
        share = np.round(share, DECIMALS)
        out = units.reset_index(drop=True).copy()
        out["topic"] = np.where(total.ravel() > 0, share.argmax(axis=1), -1).astype(np.int64)
        out["weight"] = share.max(axis=1) if share.shape[1] else 0.0
        names = self.get_feature_names_out()
        out = pd.concat([out, pd.DataFrame(share, columns=names)], axis=1)
        return with_metadata(out, parsed) if parsed is not None else out

    def transform(self, parsed: Parsed) -> pd.DataFrame:
        """Return the paragraph-topic table of ``parsed``: doc_id, para_id, start, end, n_terms, topic,
        weight (share of the dominant topic), topic_0..topic_{k-1} (shares summing to 1), metadata."""
        if not hasattr(self, "model_"):
            raise ValueError("this TopicModel is not fitted yet: call fit(parsed) first")
        pars = text_units(parsed, self.roles, self.drop_duplicates)
        counts, _ = count_terms(pars["text"].tolist(), Tokenizer(self.fold_aliases), self.terms_, "paragraphs")
        units = pars[["doc_id", "para_id", "start", "end"]].reset_index(drop=True)
        units["n_terms"] = np.asarray(counts.sum(axis=1)).ravel().astype(np.int64)
        x = self.tfidf_.transform(counts) if self.method == "nmf" else counts
        return self._table(units, self.model_.transform(x), parsed)

    def fit_transform(self, parsed: Parsed) -> pd.DataFrame:
        """Fit on ``parsed`` and return its paragraph-topic table."""
        return self.fit(parsed).paragraphs_

    def stability(self, seeds: Sequence[int] = (1, 2, 3), subsample: float = 0.8) -> float:
        """Return the mean best-match Jaccard of the top terms between this model and refits with ``seeds``,
        each on a random ``subsample`` share of the training paragraphs."""
        if not hasattr(self, "_features"):
            raise ValueError("this TopicModel is not fitted yet: call fit(parsed) first")
        if not 0 < subsample <= 1:
            raise ValueError(f"subsample must be in (0, 1], not {subsample}")
        x = self._matrix(self._features)
        ref = self.top_term_lists()
        scores = []
        for seed in seeds:
            rows = np.arange(x.shape[0])
            if subsample < 1:
                size = max(self.k + 1, int(round(subsample * len(rows))))
                rows = np.sort(np.random.default_rng(seed).choice(rows, size=min(size, len(rows)), replace=False))
            est, _ = self._fit_estimator(x[rows], seed)
            other = _top_terms_table(est.components_ / np.maximum(est.components_.sum(axis=1, keepdims=True), 1e-12),
                                     self.terms_, self.n_top)
            scores.append(best_match_jaccard(ref, [other.loc[other["topic"] == k, "term"].tolist()
                                                   for k in range(self.k)]))
        return round(float(np.mean(scores)), DECIMALS) if scores else float("nan")


def _top_terms_table(components: np.ndarray, terms: np.ndarray, n_top: int) -> pd.DataFrame:
    """Top ``n_top`` terms of each topic (ties go to the term that sorts first)."""
    rows = []
    for k, row in enumerate(np.round(components, DECIMALS)):
        order = np.lexsort((np.arange(len(row)), -row))[:n_top]
        rows.extend({"topic": k, "rank": r, "term": terms[i], "weight": float(row[i])}
                    for r, i in enumerate(order, 1) if row[i] > 0)
    return pd.DataFrame(rows, columns=["topic", "rank", "term", "weight"])


# --------------------------------------------------------------------------- selection and summaries

def select_k(parsed: Parsed, ks: Iterable[int] = range(2, 11), method: str = "nmf", seeds: Sequence[int] = (1, 2, 3),
             subsample: float = 0.8, **params) -> pd.DataFrame:
    """Return coherence, diversity, stability and score (their mean, coherence rescaled to 0..1) per k.

    The row with ``chosen`` True has the best score (the smaller k on a tie). ``params`` go to TopicModel.
    """
    probe = TopicModel(method=method, **params)
    feats, tfidf = paragraph_features(parsed, probe.roles, probe.min_df, probe.max_df, probe.max_features,
                                      probe.min_terms, probe.fold_aliases, probe.drop_duplicates)
    limit = min(feats.counts.shape) - 1
    ks = sorted({int(k) for k in ks if 1 <= int(k) <= limit})
    if not ks:
        raise ValueError(f"no usable number of topics: the corpus allows at most {limit} "
                         f"({feats.counts.shape[0]} paragraphs)")
    rows = []
    for k in ks:
        m = TopicModel(k=k, method=method, **params)._fit_features(feats, tfidf, parsed)
        coh = round(float(np.mean(m.coherence_)), DECIMALS)
        stab = m.stability(seeds, subsample)
        score = round(float(np.mean([(coh + 1) / 2, m.diversity_, stab])), DECIMALS)
        rows.append({"method": method, "k": k, "coherence": coh, "diversity": m.diversity_, "stability": stab,
                     "score": score})
    out = pd.DataFrame(rows)
    best = out.sort_values(["score", "k"], ascending=[False, True], kind="stable").index[0]
    out["chosen"] = out.index == best
    return out


def fit_topics(parsed: Parsed, k: int | str = "auto", method: str = "nmf", ks: Iterable[int] = range(2, 11),
               seeds: Sequence[int] = (1, 2, 3), **params) -> TopicModel:
    """Return a fitted TopicModel; ``k='auto'`` picks k with ``select_k`` (the table is in ``selection_``)."""
    if k == "auto":
        selection = select_k(parsed, ks, method, seeds, **params)
        model = TopicModel(k=int(selection.loc[selection["chosen"], "k"].iloc[0]), method=method, **params)
        model.fit(parsed)
        model.selection_ = selection
        return model
    try:
        k = int(k)
    except (TypeError, ValueError):
        raise ValueError(f"k must be a whole number or 'auto', not {k!r}") from None
    return TopicModel(k=k, method=method, **params).fit(parsed)


def top_terms_table(model: TopicModel) -> pd.DataFrame:
    """Return topic, label, rank, term, weight for the top terms of every topic."""
    tt = model.top_terms_.copy()
    tt.insert(1, "label", [model.labels_[k] for k in tt["topic"]])
    return tt


def document_topics(model: TopicModel, paragraphs: pd.DataFrame | None = None,
                    parsed: Parsed | None = None) -> pd.DataFrame:
    """Return the topic shares of every article: paragraph shares averaged with their term counts as weights.

    Columns: doc_id, start, end (first/last paragraph used), n_paragraphs, topic, weight, topic_0...,
    and the article metadata.
    """
    pt = model.paragraphs_ if paragraphs is None else paragraphs
    names = list(model.get_feature_names_out())
    codes, doc_ids = pd.factorize(pt["doc_id"], sort=True)
    weights = pt["n_terms"].to_numpy(dtype=float)
    ind = group_indicator(codes, len(doc_ids))
    summed = ind @ (pt[names].to_numpy() * weights[:, None])
    totals = ind @ weights
    share = np.round(np.divide(summed, totals[:, None], out=np.zeros_like(summed), where=totals[:, None] > 0),
                     DECIMALS)
    spans = pt.groupby("doc_id", sort=True).agg(start=("start", "min"), end=("end", "max"),
                                                 n_paragraphs=("para_id", "size")).reset_index()
    spans["topic"] = np.where(share.sum(axis=1) > 0, share.argmax(axis=1), -1).astype(np.int64)
    spans["weight"] = share.max(axis=1)
    out = pd.concat([spans, pd.DataFrame(share, columns=names)], axis=1)
    return with_metadata(out, parsed) if parsed is not None else out


def topics_by_group(model: TopicModel, parsed: Parsed, by: str, paragraphs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the mean topic share of each group of articles (a column, or year/month/day of ``published``).

    Columns: by, group, topic, label, weight (term-weighted mean share), n_docs, n_paragraphs; long
    format, sorted by group (missing values last) and topic.
    """
    pt = model.paragraphs_ if paragraphs is None else paragraphs
    names = list(model.get_feature_names_out())
    groups = group_values(parsed.articles, by).reindex(pt["doc_id"]).fillna(MISSING).to_numpy()
    codes, labels = pd.factorize(groups, sort=True)
    weights = pt["n_terms"].to_numpy(dtype=float)
    ind = group_indicator(codes, len(labels))
    share = (ind @ (pt[names].to_numpy() * weights[:, None])) / np.maximum(ind @ weights, 1e-12)[:, None]
    n_par = np.bincount(codes, minlength=len(labels))
    n_doc = pd.Series(pt["doc_id"].to_numpy()).groupby(codes).nunique().reindex(range(len(labels))).to_numpy()
    rows = [{"by": by, "group": str(g), "topic": k, "label": model.labels_[k],
             "weight": round(float(share[i, k]), DECIMALS), "n_docs": int(n_doc[i]), "n_paragraphs": int(n_par[i])}
            for i, g in enumerate(labels) for k in range(model.k)]
    out = pd.DataFrame(rows, columns=["by", "group", "topic", "label", "weight", "n_docs", "n_paragraphs"])
    last = out["group"] == MISSING
    return pd.concat([out[~last], out[last]], ignore_index=True)


def topics_over_time(model: TopicModel, parsed: Parsed, period: str = "month",
                     paragraphs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Return the mean topic share per period of ``published`` (``year``, ``month`` or ``day``), oldest first."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not '{period}'")
    out = topics_by_group(model, parsed, period, paragraphs).rename(columns={"group": "period"})
    return out.drop(columns=["by"])


def quality(model: TopicModel, seeds: Sequence[int] = (1, 2, 3), subsample: float = 0.8) -> pd.DataFrame:
    """Return one row per topic: label, top terms, coherence, share, n_dominant, with the model's method,
    k, mean coherence, diversity and stability repeated on every row."""
    pt = model.paragraphs_
    names = list(model.get_feature_names_out())
    w = pt["n_terms"].to_numpy(dtype=float)
    share = (pt[names].to_numpy() * w[:, None]).sum(axis=0) / max(w.sum(), 1e-12)
    dominant = np.bincount(pt["topic"].to_numpy()[pt["topic"].to_numpy() >= 0], minlength=model.k)
    stab = model.stability(seeds, subsample)
    return pd.DataFrame({
        "method": model.method, "k": model.k, "topic": np.arange(model.k), "label": model.labels_,
        "top_terms": [", ".join(t) for t in model.top_term_lists()], "coherence": model.coherence_,
        "share": np.round(share, DECIMALS), "n_dominant": dominant.astype(np.int64),
        "coherence_mean": round(float(np.mean(model.coherence_)), DECIMALS), "diversity": model.diversity_,
        "stability": stab})
