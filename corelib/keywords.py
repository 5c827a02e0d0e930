"""Key terms, keyphrases, collocations, keyness and concordances (KWIC) over parsed articles.

Every table keeps the article metadata (``published``, ``outlet``, ``title``) and points back to the
words: ``doc_id`` with ``start``/``end`` offsets into ``articles.text`` (for a term, its first
occurrence in that article). Groups are any article column (``outlet``, ``dateline_place``, ...) or a
period of ``published`` (``year``, ``month``, ``day``).

Tokens are domain-aware: names from the gazetteer (``data/places.csv``, less the ``never`` list of
``data/place_rules.yaml``) and the actor list (``data/actors.yaml``), both read through
:mod:`corelib.actors`, stay whole (``Tuz Khurmatu``, ``Popular Mobilization Forces``) and keep their
spelling; with ``fold_aliases=True`` every variant becomes its canonical name (ISIL, IS, Daesh ->
Islamic State (ISIS); Tooz -> Tuz Khurmatu). Other words are lower-cased; stop words (scikit-learn's
list plus ``data/keyword_stopwords.txt``), numbers and one-letter tokens are left out.
"""
from __future__ import annotations

import bisect
import heapq
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from corelib.parse import Parsed

DATA = Path(__file__).parent / "data"
DECIMALS = 4
META_COLUMNS = ("published", "outlet", "title")
TEXT_ROLES = ("title", "standfirst", "dateline", "body")
PERIODS = {"year": 4, "month": 7, "day": 10}
MISSING = "(none)"
_WORD_RE = re.compile(r"\w+(?:['’\-.]\w+)*")
# tokens: words (inner hyphens, dots and apostrophes kept, a final possessive 's split off), single
# punctuation marks and line breaks; punctuation and line breaks break phrases and collocations
_TOKEN_RE = re.compile(r"\w+(?:(?:['’](?!s\b)|[\-.])\w+)*|[^\w\s]|\n")


# --------------------------------------------------------------------------- names and stop words

@lru_cache(maxsize=1)
def stop_words() -> frozenset:
    """Return the words left out of terms: scikit-learn's English list plus ``data/keyword_stopwords.txt``."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    extra = set()
    for line in (DATA / "keyword_stopwords.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            extra.add(line.replace("’", "'"))
    return frozenset(ENGLISH_STOP_WORDS) | frozenset(extra)


def _place_names() -> list[tuple[str, str, str]]:
    """(variant, canonical, 'place' or 'place-short') for the gazetteer (``corelib.actors.gazetteer``),
    without the variants ``data/place_rules.yaml`` says never to match."""
    from corelib.actors import gazetteer, place_rules

    rules = place_rules()
    never = set(rules.get("never") or [])
    caps_min = int(rules.get("caps_min_length", 4))
    out = []
    for name, variants in zip(gazetteer()["name"], gazetteer()["variants"]):
        for v in [name, *str(variants).split("|")]:
            v = v.strip()
            if v and v not in never:
                out.append((v, name, "place" if sum(c.isalpha() for c in v) >= caps_min else "place-short"))
    return out


def _actor_names() -> list[tuple[str, str, str]]:
    """(alias, canonical name, 'caps' or 'any') for the actors (``corelib.actors.actor_table``).

    As ``data/actors.yaml`` says: an alias written in capitals only matches only in capitals ('caps');
    any other alias ignores case ('any').
    """
    from corelib.actors import actor_table, is_caps_alias

    return [(alias, name, "caps" if is_caps_alias(alias) else "any")
            for name, aliases in zip(actor_table()["name"], actor_table()["aliases"]) for alias in aliases]


@lru_cache(maxsize=1)
def domain_names() -> tuple[tuple[str, str, str], ...]:
    """Return (variant, canonical, case rule) for every actor alias and place name in ``corelib/data``."""
    seen, out = set(), []
    for variant, canonical, rule in _actor_names() + _place_names():
        if variant not in seen:
            seen.add(variant)
            out.append((variant, canonical, rule))
    return tuple(out)


def _surfaces(variant: str, rule: str) -> set[str]:
    """Spellings that count as the name: as written; for places also with a capital first letter and
    (four letters or more) in capitals; for case-free actor aliases also lower case and title case."""
    if rule == "caps":
        return {variant}
    if rule == "place-short":  # too short to be told from a word in capitals (HIT, ANA)
        return {variant, variant[:1].upper() + variant[1:]}
    forms = {variant, variant.upper(), variant[:1].upper() + variant[1:]}
    if rule == "any":
        forms |= {variant.lower(), " ".join(w[:1].upper() + w[1:] for w in variant.split(" "))}
    return forms


@lru_cache(maxsize=2)
def _name_trie(fold_aliases: bool) -> dict:
    """Names as a trie of tokens: nested dicts keyed by token; the key None holds the term.

    The term is the variant as written or, folded, the canonical name.
    """
    trie: dict = {}
    known = {(v, c) for v, c, _ in domain_names()}
    for variant, canonical, rule in domain_names():
        if re.match(r"(?i)the ", variant) and (variant[4:], canonical) in known:
            continue  # 'the coalition' is 'coalition' after an ordinary 'the'
        term = canonical if fold_aliases else variant
        for surface in sorted(_surfaces(variant, rule)):
            node = trie
            for tok in _TOKEN_RE.findall(surface):
                node = node.setdefault(tok, {})
            node.setdefault(None, term)
    return trie


class _WordTerms(dict):
    """Memo from a word as written to its term ('' when it is left out)."""

    def __init__(self, stops: frozenset):
        super().__init__()
        self.stops = stops

    def __missing__(self, word: str) -> str:
        w = word.lower().replace("’", "'")
        term = w if len(w) > 1 and w not in self.stops and any(c.isalpha() for c in w) else ""
        self[word] = term
        return term


class Tokenizer:
    """Domain-aware tokenizer: names stay whole (folded to canonical names if asked), other words lower-cased.

    Names are matched on token sequences, longest first, so whitespace between their words does not matter.
    """

    def __init__(self, fold_aliases: bool = False):
        self.fold_aliases = fold_aliases
        self._trie = _name_trie(fold_aliases)
        self._words = _WordTerms(stop_words())

    def _matches(self, toks: list[str]) -> list[tuple[int, int, str]]:
        """(index, length, term) of the names in a token list, left to right, longest first."""
        trie, end = self._trie, len(toks)
        out, pos = [], 0
        for i in [i for i, t in enumerate(toks) if t in trie]:
            if i < pos:
                continue
            node, j, best = trie[toks[i]], i + 1, None
            if None in node:
                best = (j, node[None])
            while j < end:
                node = node.get(toks[j])
                if node is None:
                    break
                j += 1
                if None in node:
                    best = (j, node[None])
            if best:
                out.append((i, best[0] - i, best[1]))
                pos = best[0]
        return out

    def _stream(self, toks: list[str], matches: list[tuple[int, int, str]]) -> list[str]:
        word = self._words.__getitem__
        out, pos = [], 0
        for i, n, term in matches:
            out.extend(map(word, toks[pos:i]))
            out.append(term)
            pos = i + n
        out.extend(map(word, toks[pos:]))
        return out

    def stream(self, text: str) -> list[str]:
        """Return every token's term in order, '' for a stop word, number, punctuation mark or line break."""
        toks = _TOKEN_RE.findall(text)
        return self._stream(toks, self._matches(toks))

    def stream_offsets(self, text: str, positions: Iterable[int], offset: int = 0,
                       _matches: list | None = None) -> dict[int, tuple[int, int]]:
        """Return {position in ``stream(text)``: (start, end)} for the given stream positions."""
        matches = self._matches(_TOKEN_RE.findall(text)) if _matches is None else _matches
        # a name takes n tokens for one stream position: shift stream positions back to token indices
        name_pos, shifts, shift = [], [], 0
        for i, n, _ in matches:
            name_pos.append(i - shift)
            shift += n - 1
            shifts.append(shift)
        bounds = {}
        for k in set(positions):
            m = bisect.bisect_right(name_pos, k) - 1
            if m >= 0 and name_pos[m] == k:
                bounds[k] = (k + (shifts[m - 1] if m >= 1 else 0), k + shifts[m])
            else:
                bounds[k] = (k + (shifts[m] if m >= 0 else 0),) * 2
        starts, ends = {}, {}
        it, at = _TOKEN_RE.finditer(text), 0
        for idx in sorted({i for pair in bounds.values() for i in pair}):
            mt = next(islice(it, idx - at, None))
            at = idx + 1
            starts[idx], ends[idx] = mt.start() + offset, mt.end() + offset
        return {k: (starts[a], ends[b]) for k, (a, b) in bounds.items()}

    def first_spans(self, text: str, wanted: Iterable[str], offset: int = 0) -> dict[str, tuple[int, int]]:
        """Return {term: (start, end)} for the first occurrence in ``text`` of each wanted term found there."""
        toks = _TOKEN_RE.findall(text)
        matches = self._matches(toks)
        stream = self._stream(toks, matches)
        at = {}
        for term in set(wanted):
            try:
                at[term] = stream.index(term)
            except ValueError:
                pass
        spans = self.stream_offsets(text, at.values(), offset, matches)
        return {term: spans[k] for term, k in at.items()}

    def terms(self, text: str) -> list[str]:
        """Return the terms of ``text`` in order (stop words, numbers and one-letter tokens left out)."""
        return [t for t in self.stream(text) if t]

    def spans(self, text: str, offset: int = 0) -> list[tuple[int, int, str]]:
        """Return (start, end, term) for every token of ``text`` as in ``stream`` (term '' when left out)."""
        ms = list(_TOKEN_RE.finditer(text))
        toks = [m.group() for m in ms]
        word = self._words
        out, pos = [], 0
        for i, n, term in self._matches(toks):
            out.extend((m.start() + offset, m.end() + offset, word[m.group()]) for m in ms[pos:i])
            out.append((ms[i].start() + offset, ms[i + n - 1].end() + offset, term))
            pos = i + n
        out.extend((m.start() + offset, m.end() + offset, word[m.group()]) for m in ms[pos:])
        return out

    def variants_of(self, name: str) -> list[str]:
        """Return every spelling that folds to the same canonical name as ``name`` (case-insensitive), longest first."""
        key = name.strip().lower()
        canon = {c for v, c, _ in domain_names() if v.lower() == key or c.lower() == key}
        found = {s for v, c, rule in domain_names() if c in canon for s in _surfaces(v, rule)}
        return sorted(found, key=lambda s: (-len(s), s))


# --------------------------------------------------------------------------- groups and units

def group_values(articles: pd.DataFrame, by: str) -> pd.Series:
    """Return the group label of every article (index ``doc_id``) for a column or a ``published`` period."""
    if by in articles.columns:
        col = articles[by]
        if col.map(lambda v: isinstance(v, (list, tuple, dict, set))).any():
            raise ValueError(f"column '{by}' holds lists, not one value per article: choose another column")
        vals = col.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip())
    elif by in PERIODS:
        pub = articles["published"].fillna("").astype(str).str.strip()
        n = PERIODS[by]
        vals = pub.str[:n].where(pub.str.len() >= n, "")
    else:
        usable = [c for c in articles.columns if c not in ("text", "body", "date_mentions")]
        raise ValueError(f"no column '{by}' in the articles: choose one of {', '.join(usable)} "
                         f"or a period of 'published' ({', '.join(PERIODS)})")
    vals = vals.astype(str).replace("", MISSING)
    return pd.Series(vals.to_numpy(), index=articles["doc_id"].to_numpy(), name=by)


def text_units(parsed: Parsed, roles: Iterable[str] = TEXT_ROLES, drop_duplicates: bool = True) -> pd.DataFrame:
    """Return the paragraphs that carry article text (doc_id, para_id, start, end, role, text), sorted."""
    if parsed is None or len(parsed.articles) == 0:
        raise ValueError("the corpus has no articles")
    pars = parsed.paragraphs
    keep = pars["role"].isin(list(roles))
    if drop_duplicates and "duplicate_of" in parsed.articles.columns:
        dups = parsed.articles.loc[parsed.articles["duplicate_of"].fillna("").astype(str) != "", "doc_id"]
        keep &= ~pars["doc_id"].isin(dups)
    out = pars.loc[keep, ["doc_id", "para_id", "start", "end", "role", "text"]]
    return out.sort_values(["doc_id", "para_id"], kind="stable").reset_index(drop=True)


@dataclass
class TermMatrix:
    """Term counts: ``counts`` (units x terms, CSR) for the rows of ``units``; ``terms`` sorted.

    ``paragraphs`` (doc_id, para_id, start, end, role, text) and ``paragraph_counts`` are the
    paragraph rows the counts were summed from (the same as ``units``/``counts`` at paragraph level).
    """

    units: pd.DataFrame
    counts: sp.csr_matrix
    terms: np.ndarray
    paragraphs: pd.DataFrame
    paragraph_counts: sp.csr_matrix


def count_terms(texts: Sequence[str], tokenizer: Tokenizer, vocabulary: Sequence[str] | None = None,
                what: str = "corpus") -> tuple[sp.csr_matrix, np.ndarray]:
    """Return the term counts (texts x terms, CSR) and the sorted terms (or the given ``vocabulary``)."""
    from sklearn.feature_extraction.text import CountVectorizer

    cv = CountVectorizer(analyzer=tokenizer.terms, lowercase=False,
                         vocabulary=None if vocabulary is None else list(vocabulary))
    try:
        counts = cv.fit_transform(list(texts)).tocsr()
    except ValueError:
        raise ValueError(f"no words left in the {what} after removing stop words and numbers") from None
    return counts, cv.get_feature_names_out()


def term_matrix(parsed: Parsed, level: str = "document", tokenizer: Tokenizer | None = None,
                roles: Iterable[str] = TEXT_ROLES, drop_duplicates: bool = True) -> TermMatrix:
    """Return term counts per article (``level='document'``) or per paragraph (``'paragraph'``)."""
    if level not in ("document", "paragraph"):
        raise ValueError(f"level must be 'document' or 'paragraph', not '{level}'")
    pars = text_units(parsed, roles, drop_duplicates)
    tok = tokenizer or Tokenizer()
    counts, terms = count_terms(pars["text"].tolist(), tok)
    if level == "paragraph":
        return TermMatrix(pars.drop(columns=["text"]), counts, terms, pars, counts)
    codes, doc_ids = pd.factorize(pars["doc_id"], sort=True)
    agg = group_indicator(codes, len(doc_ids)) @ counts
    units = pars.groupby("doc_id", sort=True).agg(start=("start", "min"), end=("end", "max"),
                                                    n_paragraphs=("para_id", "size")).reset_index()
    return TermMatrix(units, agg.tocsr(), terms, pars, counts)


def first_occurrences(tm: TermMatrix, doc_ids: Sequence[str], terms: Sequence[str],
                      tokenizer: Tokenizer) -> tuple[np.ndarray, np.ndarray]:
    """Return start and end offsets of the first occurrence of each term in its article (-1 if absent).

    The paragraph that holds it comes from the paragraph counts; only those paragraphs are tokenised again.
    """
    pars = tm.paragraphs
    par_doc = pars["doc_id"].to_numpy()
    col_of = {t: i for i, t in enumerate(tm.terms)}
    cols = np.array([col_of.get(t, -1) for t in terms], dtype=np.int64)
    lo = np.searchsorted(par_doc, np.asarray(doc_ids, dtype=object), side="left")
    hi = np.searchsorted(par_doc, np.asarray(doc_ids, dtype=object), side="right")
    row = np.full(len(cols), -1, dtype=np.int64)
    csc = tm.paragraph_counts.tocsc()
    csc.sort_indices()
    order = np.argsort(cols, kind="stable")
    for c in np.unique(cols[cols >= 0]):
        pick = order[np.searchsorted(cols[order], c, "left"):np.searchsorted(cols[order], c, "right")]
        rows_c = csc.indices[csc.indptr[c]:csc.indptr[c + 1]]
        k = np.searchsorted(rows_c, lo[pick])
        ok = k < len(rows_c)
        found = np.where(ok, rows_c[np.minimum(k, len(rows_c) - 1)], -1)
        row[pick] = np.where(ok & (found < hi[pick]), found, -1)
    need: dict[int, set] = defaultdict(set)
    for r, t in zip(row, terms):
        if r >= 0:
            need[int(r)].add(t)
    where: dict[tuple[int, str], tuple[int, int]] = {}
    texts, starts = pars["text"].to_numpy(), pars["start"].to_numpy()
    for r in sorted(need):
        for t, span in tokenizer.first_spans(texts[r], need[r], int(starts[r])).items():
            where[(r, t)] = span
    pos = [where.get((int(r), t), (-1, -1)) for r, t in zip(row, terms)]
    return (np.array([p[0] for p in pos], dtype=np.int64), np.array([p[1] for p in pos], dtype=np.int64))


def group_indicator(codes: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """Return a sparse 0/1 matrix (groups x items) with a 1 where item i belongs to group codes[i]."""
    n = len(codes)
    return sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))


def with_metadata(df: pd.DataFrame, parsed: Parsed, columns: Iterable[str] = META_COLUMNS) -> pd.DataFrame:
    """Return ``df`` with the article metadata columns appended (joined on doc_id, row order kept)."""
    cols = [c for c in columns if c in parsed.articles.columns and c not in df.columns]
    if not cols or "doc_id" not in df.columns:
        return df
    meta = parsed.articles.drop_duplicates("doc_id").set_index("doc_id")[cols]
    return df.join(meta, on="doc_id")


def _top_per_row(m: sp.spmatrix, top: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (row, col, value, rank) of the ``top`` largest values of every row; ties go to the lower column."""
    coo = sp.coo_matrix(m)
    vals = np.round(coo.data, DECIMALS)
    keep = vals > 0
    row, col, vals = coo.row[keep], coo.col[keep], vals[keep]
    order = np.lexsort((col, -vals, row))
    row, col, vals = row[order], col[order], vals[order]
    idx = np.arange(len(row))
    first = np.r_[True, row[1:] != row[:-1]] if len(row) else np.zeros(0, bool)
    rank = idx - np.maximum.accumulate(np.where(first, idx, 0))
    sel = rank < top
    return row[sel], col[sel], vals[sel], rank[sel] + 1


# --------------------------------------------------------------------------- TF-IDF key terms

def top_terms(parsed: Parsed, by: str | None = None, top: int = 10, fold_aliases: bool = False,
              drop_duplicates: bool = True, tm: TermMatrix | None = None) -> pd.DataFrame:
    """Return the ``top`` TF-IDF terms of every article, or of every group of articles when ``by`` is given.

    Per article: doc_id, rank, term, score (TF-IDF, l2-normalised), count, start, end (first occurrence),
    published, outlet, title. Per group: by, group, rank, term, score (mean TF-IDF over the group's
    articles), count, docs (articles with the term), n_docs, and doc_id/start/end of the first
    occurrence in the group. ``tm``: the document-level ``term_matrix`` of ``parsed`` made with the same
    ``fold_aliases`` and ``drop_duplicates``, to share one between calls.
    """
    from sklearn.feature_extraction.text import TfidfTransformer

    if top < 1:
        raise ValueError(f"top must be at least 1, not {top}")
    tok = Tokenizer(fold_aliases)
    tm = tm if tm is not None else term_matrix(parsed, "document", tok, drop_duplicates=drop_duplicates)
    tfidf = TfidfTransformer().fit_transform(tm.counts).tocsr()
    doc_ids = tm.units["doc_id"].to_numpy()
    if by is None:
        row, col, val, rank = _top_per_row(tfidf, top)
        count = np.asarray(tm.counts[row, col]).ravel().astype(int)
        out = pd.DataFrame({"doc_id": doc_ids[row], "rank": rank, "term": tm.terms[col], "score": val,
                            "count": count})
        out = _add_first_spans(out, tm, tok)
        return with_metadata(out, parsed)

    groups = group_values(parsed.articles, by).reindex(doc_ids).to_numpy()
    codes, labels = pd.factorize(groups, sort=True)
    ind = group_indicator(codes, len(labels))
    n_docs = np.bincount(codes, minlength=len(labels))
    mean_tfidf = sp.diags(1.0 / n_docs) @ ind @ tfidf
    row, col, val, rank = _top_per_row(mean_tfidf, top)
    present = (tm.counts > 0).astype(np.int64)
    counts, docs = (ind @ tm.counts).tocsr(), (ind @ present).tocsr()
    first = _first_doc_in_group(present.tocsc(), codes, row, col)
    out = pd.DataFrame({"by": by, "group": np.asarray(labels, dtype=object)[row], "rank": rank,
                        "term": tm.terms[col], "score": val,
                        "count": np.asarray(counts[row, col]).ravel().astype(int),
                        "docs": np.asarray(docs[row, col]).ravel().astype(int), "n_docs": n_docs[row],
                        "doc_id": doc_ids[first]})
    return _add_first_spans(out, tm, tok)


def _first_doc_in_group(present_csc: sp.csc_matrix, codes: np.ndarray, groups: np.ndarray,
                        cols: np.ndarray) -> np.ndarray:
    """For each (group, term) pair, the index of the first article of the group that has the term."""
    present_csc.sort_indices()
    out = np.empty(len(cols), dtype=np.int64)
    for k, (g, c) in enumerate(zip(groups, cols)):
        docs = present_csc.indices[present_csc.indptr[c]:present_csc.indptr[c + 1]]
        out[k] = docs[np.argmax(codes[docs] == g)]
    return out


def _add_first_spans(out: pd.DataFrame, tm: TermMatrix, tok: Tokenizer) -> pd.DataFrame:
    """Add start/end of the first occurrence of each row's term in its article (``doc_id``)."""
    out = out.copy()
    out["start"], out["end"] = first_occurrences(tm, out["doc_id"].tolist(), out["term"].tolist(), tok)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- keyphrases (RAKE)

def _runs(terms: list[str], max_words: int) -> list[tuple[int, int]]:
    """Index ranges (i, j) of the runs of terms between breaks ('') that have at most ``max_words`` terms."""
    out, i = [], None
    for j, t in enumerate(terms + [""]):
        if t and i is None:
            i = j
        elif not t and i is not None:
            if j - i <= max_words:
                out.append((i, j))
            i = None
    return out


def _rake_scores(counts: Counter) -> dict[tuple[str, ...], float]:
    """RAKE on candidate counts: a word scores degree/frequency over all candidate occurrences
    (degree: the words it appears with, itself included); a phrase scores the sum over its words."""
    freq: Counter = Counter()
    degree: Counter = Counter()
    for c, k in counts.items():
        for w in c:
            freq[w] += k
            degree[w] += k * len(c)
    word = {w: degree[w] / freq[w] for w in freq}
    return {c: sum(word[w] for w in c) for c in counts}


def keyphrases(parsed: Parsed, by: str | None = None, top: int = 10, max_words: int = 4,
               min_count: int | None = None, fold_aliases: bool = False,
               drop_duplicates: bool = True) -> pd.DataFrame:
    """Return the ``top`` RAKE keyphrases of every article, or of every group when ``by`` is given.

    Columns: [by, group,] rank, phrase, score (RAKE), count, [docs,] doc_id, start, end (first
    occurrence), text (as written there); per article also published, outlet, title. ``min_count``
    (default 1 per article, 2 per group) drops rarer phrases.
    """
    if top < 1 or max_words < 1:
        raise ValueError("top and max_words must be at least 1")
    tok = Tokenizer(fold_aliases)
    pars = text_units(parsed, drop_duplicates=drop_duplicates)
    texts, starts = pars["text"].to_numpy(), pars["start"].to_numpy()
    per_doc: dict[str, list] = defaultdict(list)  # doc_id -> [(candidate, paragraph row, i, j)]
    for row, (doc_id, text) in enumerate(zip(pars["doc_id"], texts)):
        terms = tok.stream(text)
        per_doc[doc_id].extend((tuple(terms[i:j]), row, i, j) for i, j in _runs(terms, max_words))

    def rank_block(items: list[tuple[str, tuple, int, int, int]], min_c: int) -> list[dict]:
        count = Counter(it[1] for it in items)
        scores = _rake_scores(count)
        ranked = heapq.nsmallest(top, (c for c in scores if count[c] >= min_c), key=lambda c: (-scores[c], c))
        first = {c: None for c in ranked}
        docs: dict[tuple, set] = {c: set() for c in ranked}
        for it in items:
            if it[1] in first:
                docs[it[1]].add(it[0])
                if first[it[1]] is None:
                    first[it[1]] = it
        return [{"rank": r, "phrase": " ".join(c), "score": round(scores[c], DECIMALS), "count": count[c],
                 "docs": len(docs[c]), "doc_id": first[c][0], "_where": first[c][2:]}
                for r, c in enumerate(ranked, 1)]

    def locate(rows: list[dict]) -> list[dict]:
        need: dict[int, set] = defaultdict(set)
        for r in rows:
            row, i, j = r["_where"]
            need[row] |= {i, j - 1}
        offsets = {row: tok.stream_offsets(texts[row], ks, int(starts[row])) for row, ks in need.items()}
        for r in rows:
            row, i, j = r.pop("_where")
            r["start"], r["end"] = offsets[row][i][0], offsets[row][j - 1][1]
            text = texts[row][r["start"] - int(starts[row]):r["end"] - int(starts[row])]
            r["text"] = " ".join(text.split())
        return rows

    rows = []
    if by is None:
        for d in sorted(per_doc):
            rows.extend(rank_block([(d, *it) for it in per_doc[d]], min_count or 1))
        out = pd.DataFrame(locate(rows), columns=["rank", "phrase", "score", "count", "docs", "doc_id", "start",
                                          "end", "text"]).drop(columns=["docs"])
        out = out[["doc_id", "rank", "phrase", "score", "count", "start", "end", "text"]]
        return with_metadata(out, parsed)
    groups = group_values(parsed.articles, by)
    by_group: dict[str, list] = defaultdict(list)
    for d in sorted(per_doc):
        by_group[groups[d]].extend((d, *it) for it in per_doc[d])
    for g in sorted(by_group):
        rows.extend({"by": by, "group": g, **r} for r in rank_block(by_group[g], min_count or 2))
    return pd.DataFrame(locate(rows), columns=["by", "group", "rank", "phrase", "score", "count", "docs", "doc_id",
                                       "start", "end", "text"])


# --------------------------------------------------------------------------- collocations (NLTK)

def _sentence_streams(parsed: Parsed, tok: Tokenizer, doc_ids: Iterable[str] | None = None) -> list[list[str]]:
    """Token streams per sentence: a term, or '' where a stop word, number or punctuation breaks it."""
    sents = parsed.sentences
    keep = sents["role"].isin(list(TEXT_ROLES)) if "role" in sents.columns else np.ones(len(sents), bool)
    if doc_ids is not None:
        keep &= sents["doc_id"].isin(list(doc_ids))
    sents = sents.loc[keep].sort_values(["doc_id", "sent_id"], kind="stable")
    return [tok.stream(text) for text in sents["text"]]


def _finder(streams: list[list[str]], n: int, min_freq: int):
    """NLTK's collocation finder for ``streams`` (one per sentence), counted as its ``from_documents``
    would (n-grams never cross a sentence), keeping n-grams seen ``min_freq`` times without a break ('')."""
    from nltk.collocations import BigramCollocationFinder, TrigramCollocationFinder
    from nltk.probability import FreqDist

    def count(*shifts: int) -> Counter:
        return Counter(chain.from_iterable(zip(*(s[k:] for k in shifts)) for s in streams))

    words = FreqDist(Counter(chain.from_iterable(streams)))
    grams = count(*range(n))
    kept = FreqDist({g: c for g, c in grams.items() if c >= min_freq and all(g)})
    if n == 2:
        return BigramCollocationFinder(words, kept)
    return TrigramCollocationFinder(words, FreqDist(count(0, 1)), FreqDist(count(0, 2)), kept)


def collocations(parsed: Parsed, n: int = 2, top: int = 20, min_freq: int = 3, by: str | None = None,
                 fold_aliases: bool = False, drop_duplicates: bool = True) -> pd.DataFrame:
    """Return the ``top`` n-word collocations (n = 2 or 3) by likelihood ratio, with PMI and frequency.

    Columns: [by, group,] rank, collocation, w1, w2[, w3], freq, likelihood_ratio, pmi, doc_id, start,
    end (first occurrence). Counted within sentences by NLTK's collocation finders; n-grams with a stop
    word, number or punctuation inside are left out.
    """
    from nltk.collocations import BigramAssocMeasures, TrigramAssocMeasures

    if n not in (2, 3):
        raise ValueError(f"n must be 2 or 3, not {n}")
    tok = Tokenizer(fold_aliases)
    pars = text_units(parsed, drop_duplicates=drop_duplicates)
    doc_ids = sorted(set(pars["doc_id"]))
    measures = BigramAssocMeasures if n == 2 else TrigramAssocMeasures
    words = [f"w{i}" for i in range(1, n + 1)]

    def block(ids: list[str]) -> pd.DataFrame:
        finder = _finder(_sentence_streams(parsed, tok, ids), n, min_freq)
        lr = dict(finder.score_ngrams(measures.likelihood_ratio))
        pmi = dict(finder.score_ngrams(measures.pmi))
        ranked = sorted(lr, key=lambda g: (-round(lr[g], DECIMALS), g))[:top]
        df = pd.DataFrame({"rank": np.arange(1, len(ranked) + 1, dtype=np.int64),
                           "collocation": [" ".join(g) for g in ranked],
                           **{w: [g[i] for g in ranked] for i, w in enumerate(words)},
                           "freq": np.array([finder.ngram_fd[g] for g in ranked], dtype=np.int64),
                           "likelihood_ratio": [round(lr[g], DECIMALS) for g in ranked],
                           "pmi": [round(pmi[g], DECIMALS) for g in ranked]})
        df["doc_id"], df["start"], df["end"] = _first_ngram_spans(pars[pars["doc_id"].isin(ids)], ranked, tok)
        return df

    if by is None:
        return block(doc_ids)
    groups = group_values(parsed.articles, by).reindex(doc_ids)
    blocks = []
    for g in sorted(set(groups)):
        df = block(list(groups.index[groups.to_numpy() == g]))
        df.insert(0, "group", g)
        df.insert(0, "by", by)
        blocks.append(df)
    return pd.concat(blocks, ignore_index=True)


def _first_ngram_spans(pars: pd.DataFrame, ngrams: list[tuple[str, ...]],
                       tok: Tokenizer) -> tuple[list[str], list[int], list[int]]:
    """doc_id, start, end of the first occurrence of each n-gram (scanning articles in doc_id order)."""
    need = set(ngrams)
    where: dict[tuple, tuple] = {}
    sizes = sorted({len(g) for g in need})
    for doc_id, start, text in zip(pars["doc_id"], pars["start"], pars["text"]):
        if not need:
            break
        toks = tok.spans(text, int(start))
        terms = [t for _, _, t in toks]
        for n in sizes:
            for j in range(len(terms) - n + 1):
                g = tuple(terms[j:j + n])
                if g in need:
                    where[g] = (doc_id, toks[j][0], toks[j + n - 1][1])
                    need.discard(g)
    got = [where.get(g, ("", -1, -1)) for g in ngrams]
    return [w[0] for w in got], [int(w[1]) for w in got], [int(w[2]) for w in got]


# --------------------------------------------------------------------------- keyness

def keyness_scores(freq_target: Sequence[float] | np.ndarray, freq_reference: Sequence[float] | np.ndarray,
                   total_target: float, total_reference: float) -> pd.DataFrame:
    """Return g2, p_g2, chi2, p_chi2 and log_ratio for term frequencies in a target and a reference corpus.

    ``g2`` is the log-likelihood (Dunning/Rayson), ``chi2`` Pearson's chi-squared on the 2x2 table (no
    continuity correction); both are signed: negative when the term is relatively more frequent in the
    reference. ``log_ratio`` is Hardie's log2 ratio of relative frequencies (0.5 in place of a zero).
    p-values are from the chi-squared distribution with one degree of freedom (4 significant digits).
    """
    from scipy.special import xlogy
    from scipy.stats import chi2 as chi2_dist

    a = np.asarray(freq_target, dtype=float)
    b = np.asarray(freq_reference, dtype=float)
    c, d = float(total_target), float(total_reference)
    if c <= 0 or d <= 0:
        raise ValueError("both the target and the reference need at least one counted word")
    n = c + d
    e1, e2 = c * (a + b) / n, d * (a + b) / n
    g2 = 2 * (xlogy(a, np.divide(a, e1, out=np.ones_like(a), where=e1 > 0))
              + xlogy(b, np.divide(b, e2, out=np.ones_like(b), where=e2 > 0)))
    denom = (a + b) * (n - a - b) * c * d
    chi2 = np.divide(n * (a * (d - b) - b * (c - a)) ** 2, denom, out=np.zeros_like(a), where=denom > 0)
    sign = np.where(a / c >= b / d, 1.0, -1.0)
    log_ratio = np.log2((np.where(a == 0, 0.5, a) / c) / (np.where(b == 0, 0.5, b) / d))
    return pd.DataFrame({
        "g2": np.round(sign * g2, DECIMALS), "p_g2": _sig(chi2_dist.sf(g2, 1)),
        "chi2": np.round(sign * chi2, DECIMALS), "p_chi2": _sig(chi2_dist.sf(chi2, 1)),
        "log_ratio": np.round(log_ratio, DECIMALS)})


def _sig(x: np.ndarray, digits: int = 4) -> np.ndarray:
    """Round to ``digits`` significant digits (p-values keep their size)."""
    return np.array([float(f"{v:.{digits}g}") for v in np.asarray(x, dtype=float)])


@dataclass
class _Groups:
    """Articles of a term matrix split by a column: per-group term frequencies and article counts."""

    by: str
    labels: list[str]
    codes: np.ndarray          # group of each article (row of the term matrix)
    freq: np.ndarray           # groups x terms, token counts
    docs: np.ndarray           # groups x terms, articles with the term
    present: sp.csc_matrix     # articles x terms, 1 where the term occurs


def _groups(parsed: Parsed, tm: TermMatrix, by: str) -> _Groups:
    groups = group_values(parsed.articles, by).reindex(tm.units["doc_id"].to_numpy()).to_numpy()
    codes, labels = pd.factorize(groups, sort=True)
    ind = group_indicator(codes, len(labels))
    present = (tm.counts > 0).astype(np.int64)
    return _Groups(by, [str(x) for x in labels], codes, (ind @ tm.counts).toarray(), (ind @ present).toarray(),
                   present.tocsc())


def keyness(parsed: Parsed, by: str, target: str, reference: str | None = None, top: int | None = None,
            fold_aliases: bool = False, drop_duplicates: bool = True) -> pd.DataFrame:
    """Return terms ranked by keyness of the ``target`` group of ``by`` against the rest (or ``reference``).

    Columns: by, target, reference, rank, term, freq_target, freq_reference, docs_target,
    docs_reference, per_10k_target, per_10k_reference, g2, p_g2, chi2, p_chi2, log_ratio, doc_id, start,
    end (first occurrence, in the target if the term is there). Sorted by signed g2, most key first;
    ``top`` keeps the ``top`` most key terms of each side (target and reference).
    """
    tok = Tokenizer(fold_aliases)
    tm = term_matrix(parsed, "document", tok, drop_duplicates=drop_duplicates)
    return _keyness(tm, _groups(parsed, tm, by), str(target), reference, top, tok)


def _keyness(tm: TermMatrix, g: _Groups, target: str, reference: str | None, top: int | None,
             tok: Tokenizer) -> pd.DataFrame:
    by = g.by
    if target not in g.labels:
        raise ValueError(f"no articles with {by} = '{target}': values are {_listing(g.labels)}")
    t = g.labels.index(target)
    if reference is None:
        ref_label = "rest"
        ref_rows = [i for i in range(len(g.labels)) if i != t]
    else:
        reference = str(reference)
        if reference == target:
            raise ValueError(f"target and reference are the same group ({by} = '{target}')")
        if reference not in g.labels:
            raise ValueError(f"no articles with {by} = '{reference}': values are {_listing(g.labels)}")
        ref_label, ref_rows = reference, [g.labels.index(reference)]
    if not ref_rows:
        raise ValueError(f"target {by} = '{target}' is the whole corpus: keyness needs a reference "
                         f"(other values of '{by}'), but every article has this value")
    a, b = g.freq[t], g.freq[ref_rows].sum(axis=0)
    da, db = g.docs[t], g.docs[ref_rows].sum(axis=0)
    used = (a + b) > 0
    c, d = a.sum(), b.sum()
    out = pd.DataFrame({
        "by": by, "target": target, "reference": ref_label, "term": tm.terms[used],
        "freq_target": a[used].astype(np.int64), "freq_reference": b[used].astype(np.int64),
        "docs_target": da[used].astype(np.int64), "docs_reference": db[used].astype(np.int64),
        "per_10k_target": np.round(a[used] / c * 1e4, DECIMALS),
        "per_10k_reference": np.round(b[used] / d * 1e4, DECIMALS)})
    out = pd.concat([out, keyness_scores(a[used], b[used], c, d)], axis=1)
    out = out.sort_values(["g2", "term"], ascending=[False, True], kind="stable").reset_index(drop=True)
    if top is not None:
        out = pd.concat([out[out["g2"] > 0].head(top), out[out["g2"] < 0].tail(top)]).reset_index(drop=True)
    out.insert(3, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    # first occurrence: in the first target article with the term, else in the first reference article
    col_of = {term: i for i, term in enumerate(tm.terms)}
    in_ref = np.isin(g.codes, ref_rows)
    doc_ids = tm.units["doc_id"].to_numpy()
    pres = g.present
    first = []
    for term in out["term"]:
        docs = pres.indices[pres.indptr[col_of[term]]:pres.indptr[col_of[term] + 1]]
        hit = docs[g.codes[docs] == t]
        first.append(doc_ids[hit.min()] if len(hit) else doc_ids[docs[in_ref[docs]].min()])
    out["doc_id"] = first
    return _add_first_spans(out, tm, tok)


def keyness_by_group(parsed: Parsed, by: str, top: int = 20, fold_aliases: bool = False,
                     drop_duplicates: bool = True, tm: TermMatrix | None = None) -> pd.DataFrame:
    """Return the ``top`` key terms of every group of ``by`` against all other articles, group after group
    (``tm`` as in ``top_terms``)."""
    tok = Tokenizer(fold_aliases)
    tm = tm if tm is not None else term_matrix(parsed, "document", tok, drop_duplicates=drop_duplicates)
    g = _groups(parsed, tm, by)
    if len(g.labels) < 2:
        raise ValueError(f"every article has {by} = '{g.labels[0]}': keyness needs at least two groups")
    blocks = []
    for target in g.labels:
        df = _keyness(tm, g, target, None, top, tok)
        blocks.append(df[df["g2"] > 0])
    return pd.concat(blocks, ignore_index=True)


def _listing(values: list[str], most: int = 20) -> str:
    shown = ", ".join(f"'{v}'" for v in values[:most])
    return shown + (f" ... ({len(values)} in all)" if len(values) > most else "")


# --------------------------------------------------------------------------- concordance (KWIC)

def kwic_pattern(pattern: str, regex: bool = False, aliases: bool = False,
                 case_sensitive: bool = False) -> re.Pattern:
    """Return the compiled pattern for a word, phrase (any whitespace between words) or regular expression."""
    if not pattern or not pattern.strip():
        raise ValueError("the pattern is empty")
    flags = 0 if case_sensitive else re.IGNORECASE
    if regex:
        try:
            return re.compile(pattern, flags)
        except re.error as exc:
            raise ValueError(f"invalid regular expression '{pattern}': {exc}") from None
    forms = [pattern.strip()]
    if aliases:
        forms = Tokenizer().variants_of(pattern)
        if not forms:
            raise ValueError(f"'{pattern}' is not a name in corelib/data (actors.yaml, places.csv): "
                             "search without aliases")
        flags = 0  # the spellings of a name are matched as written (IS is not 'is')
    alts = "|".join(r"\s+".join(re.escape(w) for w in f.split()) for f in forms)
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", flags)


def _context(text: str, start: int, end: int, window: int, unit: str, lo: int, hi: int) -> tuple[str, str]:
    """Left and right context of a hit within ``text[lo:hi]`` (its paragraph): ``window`` words or
    characters, whitespace collapsed."""
    if unit == "chars":
        left, right = text[max(lo, start - window):start], text[end:min(hi, end + window)]
    elif window == 0:
        left = right = ""
    else:
        words = list(_WORD_RE.finditer(text, lo, start))
        left = text[words[-window].start():start] if len(words) >= window else text[lo:start]
        words = []
        for m in _WORD_RE.finditer(text, end, hi):
            words.append(m)
            if len(words) == window:
                break
        right = text[end:words[-1].end()] if len(words) >= window else text[end:hi]
    return " ".join(left.split()), " ".join(right.split())


def kwic(parsed: Parsed, pattern: str, window: int = 5, unit: str = "words", regex: bool = False,
         aliases: bool = False, case_sensitive: bool = False, roles: Iterable[str] = TEXT_ROLES) -> pd.DataFrame:
    """Return every hit of ``pattern`` with its left/right context, offsets and the article's metadata.

    Columns: doc_id, para_id, start, end, left, match, right, published, outlet, title. The context
    stays inside the hit's paragraph: ``window`` words (``unit='words'``) or characters (``'chars'``) on
    each side. ``aliases=True`` matches every spelling of a known name (ISIS finds ISIL, IS, Daesh).
    """
    if unit not in ("words", "chars"):
        raise ValueError(f"unit must be 'words' or 'chars', not '{unit}'")
    if window < 0:
        raise ValueError(f"window must be 0 or more, not {window}")
    rx = kwic_pattern(pattern, regex, aliases, case_sensitive)
    roles = set(roles)
    pars = parsed.paragraphs.sort_values(["doc_id", "start"], kind="stable")
    p_doc, p_start, p_end = pars["doc_id"].to_numpy(), pars["start"].to_numpy(), pars["end"].to_numpy()
    p_id, p_role = pars["para_id"].to_numpy(), pars["role"].to_numpy()
    uniq, first = np.unique(p_doc, return_index=True)
    bounds = dict(zip(uniq, zip(first, np.r_[first[1:], len(p_doc)])))
    rows = []
    for doc_id, text in zip(parsed.articles["doc_id"], parsed.articles["text"]):
        if doc_id not in bounds or not isinstance(text, str):
            continue
        lo, hi = bounds[doc_id]
        for m in rx.finditer(text):
            s, e = m.span()
            if s == e:
                continue
            i = lo + int(np.searchsorted(p_start[lo:hi], s, side="right")) - 1
            if i < lo or s >= p_end[i] or p_role[i] not in roles:
                continue
            left, right = _context(text, s, e, window, unit, int(p_start[i]), int(p_end[i]))
            rows.append((doc_id, int(p_id[i]), s, e, left, text[s:e], right))
    out = pd.DataFrame(rows, columns=["doc_id", "para_id", "start", "end", "left", "match", "right"])
    out = out.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
    return with_metadata(out, parsed)
