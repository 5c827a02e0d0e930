"""Key terms, keyphrases, collocations, keyness and concordances (KWIC) over parsed articles.

Every table keeps the article metadata (``published``, ``outlet``, ``title``) and points back to the
words: ``doc_id`` with ``start``/``end`` offsets into ``articles.text`` (for a term, its first
occurrence in that article). Groups are any article column (``outlet``, ``dateline_place``, ...) or a
period of ``published`` (``year``, ``month``, ``day``).

Tokens are domain-aware: names from the gazetteer (``data/places.csv``, ``data/places_extra.csv``) and
the actor list (``data/actors.yaml``) stay whole (``Tuz Khurmatu``, ``Popular Mobilization Forces``)
and keep their spelling; with ``fold_aliases=True`` every variant becomes its canonical name
(ISIL, IS, Daesh -> ISIS; Tooz -> Tuz Khurmatu). Other words are lower-cased; stop words
(scikit-learn's list plus ``data/keyword_stopwords.txt``), numbers and one-letter tokens are left out.
"""
from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
import scipy.sparse as sp
import yaml

from corelib.parse import Parsed

DATA = Path(__file__).parent / "data"
DECIMALS = 4
META_COLUMNS = ("published", "outlet", "title")
TEXT_ROLES = ("title", "standfirst", "dateline", "body")
PERIODS = {"year": 4, "month": 7, "day": 10}
MISSING = "(none)"
_WORD = r"\w+(?:['’\-.]\w+)*"
_WORD_RE = re.compile(_WORD)


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
    """(variant, canonical, 'place') for the gazetteer, in file order."""
    out = []
    for name in ("places.csv", "places_extra.csv"):
        path = DATA / name
        if not path.exists():
            continue
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                canonical = (row.get("name") or "").strip()
                for v in [canonical, *(row.get("variants") or "").split("|")] if canonical else []:
                    if v.strip():
                        out.append((v.strip(), canonical, "place"))
    return out


def _actor_names() -> list[tuple[str, str, str]]:
    """(alias, canonical name, 'caps' or 'any') for the actor list ``data/actors.yaml``, in file order.

    As the file says: an alias written in capitals only matches only in capitals ('caps'); any
    other alias ignores case ('any').
    """
    path = DATA / "actors.yaml"
    if not path.exists():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for entry in raw.get("actors") or []:
        canonical = str(entry.get("name") or entry.get("id") or "").strip()
        for alias in entry.get("aliases") or []:
            alias = str(alias).strip()
            if alias and canonical:
                out.append((alias, canonical, "caps" if alias.isupper() else "any"))
    return out


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
    """Spellings that count as the name: as written; for places also in capitals and with a capital
    first letter; for case-free actor aliases also lower case and title case."""
    if rule == "caps":
        return {variant}
    forms = {variant, variant.upper(), variant[:1].upper() + variant[1:]}
    if rule == "any":
        forms |= {variant.lower(), " ".join(w[:1].upper() + w[1:] for w in variant.split(" "))}
    return forms


def _trie_regex(words: Iterable[str]) -> str:
    """Return a regular expression matching any of ``words``, built as a character trie (fast on thousands)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


@lru_cache(maxsize=2)
def _name_table(fold_aliases: bool) -> tuple[re.Pattern, dict]:
    """The token pattern (names first, then words) and the map from a matched name to its term."""
    surface_to_term: dict[str, str] = {}
    for variant, canonical, rule in domain_names():
        term = canonical if fold_aliases else re.sub(r"^the ", "", variant)
        for s in sorted(_surfaces(variant, rule)):
            surface_to_term.setdefault(s, term)
    if surface_to_term:
        names = _trie_regex(sorted(surface_to_term))
        rx = re.compile(rf"(?P<name>{names})(?!\w)|(?P<word>{_WORD})")
    else:
        rx = re.compile(rf"(?P<name>(?!))|(?P<word>{_WORD})")
    return rx, surface_to_term


class _WordTerms(dict):
    """Memo from a word as written to its term ('' when it is left out)."""

    def __init__(self, stops: frozenset):
        super().__init__()
        self.stops = stops

    def __missing__(self, word: str) -> str:
        w = word.lower().replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        term = w if len(w) > 1 and w not in self.stops and any(c.isalpha() for c in w) else ""
        self[word] = term
        return term


class Tokenizer:
    """Domain-aware tokenizer: names stay whole (folded to canonical names if asked), other words lower-cased."""

    def __init__(self, fold_aliases: bool = False):
        self.fold_aliases = fold_aliases
        self._rx, self._names = _name_table(fold_aliases)
        self._words = _WordTerms(stop_words())

    def terms(self, text: str) -> list[str]:
        """Return the terms of ``text`` in order (stop words, numbers and one-letter tokens left out)."""
        names, words = self._names, self._words
        out = [names[n] if n else words[w] for n, w in self._rx.findall(text)]
        return [t for t in out if t]

    def spans(self, text: str, offset: int = 0) -> Iterator[tuple[int, int, str]]:
        """Yield (start, end, term) for every token of ``text``; term is '' for a token left out."""
        names, words = self._names, self._words
        for m in self._rx.finditer(text):
            n = m.group("name")
            yield m.start() + offset, m.end() + offset, names[n] if n else words[m.group("word")]

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
    """Term counts: ``counts`` (units x terms, CSR) for the rows of ``units``; ``terms`` sorted."""

    units: pd.DataFrame
    counts: sp.csr_matrix
    terms: np.ndarray


def term_matrix(parsed: Parsed, level: str = "document", tokenizer: Tokenizer | None = None,
                roles: Iterable[str] = TEXT_ROLES, drop_duplicates: bool = True) -> TermMatrix:
    """Return term counts per article (``level='document'``) or per paragraph (``'paragraph'``)."""
    from sklearn.feature_extraction.text import CountVectorizer

    if level not in ("document", "paragraph"):
        raise ValueError(f"level must be 'document' or 'paragraph', not '{level}'")
    pars = text_units(parsed, roles, drop_duplicates)
    tok = tokenizer or Tokenizer()
    cv = CountVectorizer(analyzer=tok.terms, lowercase=False)
    try:
        counts = cv.fit_transform(pars["text"].tolist()).tocsr()
    except ValueError:
        raise ValueError("no words left in the corpus after removing stop words and numbers") from None
    terms = cv.get_feature_names_out()
    if level == "paragraph":
        return TermMatrix(pars.drop(columns=["text"]), counts, terms)
    codes, doc_ids = pd.factorize(pars["doc_id"], sort=True)
    agg = _indicator(codes, len(doc_ids)) @ counts
    units = pars.groupby("doc_id", sort=True).agg(start=("start", "min"), end=("end", "max"),
                                                    n_paragraphs=("para_id", "size")).reset_index()
    return TermMatrix(units, agg.tocsr(), terms)


def _indicator(codes: np.ndarray, n_groups: int) -> sp.csr_matrix:
    """Sparse 0/1 matrix (groups x items) with a 1 where item i belongs to group codes[i]."""
    n = len(codes)
    return sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))


def _with_meta(df: pd.DataFrame, parsed: Parsed, columns: Iterable[str] = META_COLUMNS) -> pd.DataFrame:
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


def _first_spans(pars: pd.DataFrame, wanted: dict[str, set[tuple[str, ...]]],
                 tokenizer: Tokenizer) -> dict[tuple[str, tuple[str, ...]], tuple[int, int]]:
    """Find the first occurrence of each wanted term sequence in each article: {(doc_id, seq): (start, end)}.

    ``pars`` are the text units (sorted by doc_id, para_id); a sequence is a tuple of consecutive terms.
    """
    found: dict = {}
    if not wanted:
        return found
    doc_ids = pars["doc_id"].to_numpy()
    starts, texts = pars["start"].to_numpy(), pars["text"].to_numpy()
    bounds = np.searchsorted(doc_ids, sorted(wanted), side="left")
    for doc_id, i in zip(sorted(wanted), bounds):
        need = set(wanted[doc_id])
        longest = max((len(s) for s in need), default=1)
        while i < len(doc_ids) and doc_ids[i] == doc_id and need:
            toks = list(tokenizer.spans(texts[i], int(starts[i])))
            terms = [t for _, _, t in toks]
            for j in range(len(toks)):
                for n in range(1, longest + 1):
                    seq = tuple(terms[j:j + n])
                    if len(seq) == n and seq in need:
                        found[(doc_id, seq)] = (toks[j][0], toks[j + n - 1][1])
                        need.discard(seq)
                if not need:
                    break
            i += 1
    return found


# --------------------------------------------------------------------------- TF-IDF key terms

def top_terms(parsed: Parsed, by: str | None = None, top: int = 10, fold_aliases: bool = False,
              drop_duplicates: bool = True) -> pd.DataFrame:
    """Return the ``top`` TF-IDF terms of every article, or of every group of articles when ``by`` is given.

    Per article: doc_id, rank, term, score (TF-IDF, l2-normalised), count, start, end (first occurrence),
    published, outlet, title. Per group: by, group, rank, term, score (mean TF-IDF over the group's
    articles), count, docs (articles with the term), n_docs, and doc_id/start/end of the first
    occurrence in the group.
    """
    from sklearn.feature_extraction.text import TfidfTransformer

    if top < 1:
        raise ValueError(f"top must be at least 1, not {top}")
    tok = Tokenizer(fold_aliases)
    tm = term_matrix(parsed, "document", tok, drop_duplicates=drop_duplicates)
    tfidf = TfidfTransformer().fit_transform(tm.counts).tocsr()
    pars = text_units(parsed, drop_duplicates=drop_duplicates)
    doc_ids = tm.units["doc_id"].to_numpy()
    if by is None:
        row, col, val, rank = _top_per_row(tfidf, top)
        count = np.asarray(tm.counts[row, col]).ravel().astype(int)
        out = pd.DataFrame({"doc_id": doc_ids[row], "rank": rank, "term": tm.terms[col], "score": val,
                            "count": count})
        out = _add_first_spans(out, pars, tok)
        return _with_meta(out, parsed)

    groups = group_values(parsed.articles, by).reindex(doc_ids).to_numpy()
    codes, labels = pd.factorize(groups, sort=True)
    ind = _indicator(codes, len(labels))
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
    return _add_first_spans(out, pars, tok)


def _first_doc_in_group(present_csc: sp.csc_matrix, codes: np.ndarray, groups: np.ndarray,
                        cols: np.ndarray) -> np.ndarray:
    """For each (group, term) pair, the index of the first article of the group that has the term."""
    present_csc.sort_indices()
    out = np.empty(len(cols), dtype=np.int64)
    for k, (g, c) in enumerate(zip(groups, cols)):
        docs = present_csc.indices[present_csc.indptr[c]:present_csc.indptr[c + 1]]
        out[k] = docs[np.argmax(codes[docs] == g)]
    return out


def _add_first_spans(out: pd.DataFrame, pars: pd.DataFrame, tok: Tokenizer,
                     term_col: str = "term") -> pd.DataFrame:
    """Add start/end of the first occurrence of each row's term in its article (``doc_id``)."""
    wanted: dict[str, set] = defaultdict(set)
    for d, t in zip(out["doc_id"], out[term_col]):
        wanted[d].add((t,))
    spans = _first_spans(pars, wanted, tok)
    pos = [spans.get((d, (t,)), (-1, -1)) for d, t in zip(out["doc_id"], out[term_col])]
    out = out.copy()
    out["start"] = np.array([p[0] for p in pos], dtype=np.int64)
    out["end"] = np.array([p[1] for p in pos], dtype=np.int64)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- keyphrases (RAKE)

def _candidates(tok: Tokenizer, text: str, offset: int, max_words: int) -> Iterator[tuple[tuple[str, ...], int, int]]:
    """Yield RAKE candidates of a paragraph: runs of terms not broken by a stop word, number or punctuation."""
    run: list[tuple[int, int, str]] = []
    prev_end = None
    for s, e, term in tok.spans(text, offset):
        gap = text[prev_end - offset:s - offset] if prev_end is not None else ""
        gap_ok = gap.isspace() and "\n" not in gap
        if term and (gap_ok or not run):
            run.append((s, e, term))
        else:
            if run and len(run) <= max_words:
                yield tuple(t for _, _, t in run), run[0][0], run[-1][1]
            run = [(s, e, term)] if term else []
        prev_end = e
    if run and len(run) <= max_words:
        yield tuple(t for _, _, t in run), run[0][0], run[-1][1]


def _rake_scores(cands: list[tuple[str, ...]]) -> dict[tuple[str, ...], float]:
    """RAKE: a word scores degree/frequency over the candidates; a phrase scores the sum over its words."""
    freq: Counter = Counter()
    degree: Counter = Counter()
    for c in cands:
        for w in c:
            freq[w] += 1
            degree[w] += len(c)
    word = {w: degree[w] / freq[w] for w in freq}
    return {c: sum(word[w] for w in c) for c in set(cands)}


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
    per_doc: dict[str, list] = defaultdict(list)
    for doc_id, start, text in zip(pars["doc_id"], pars["start"], pars["text"]):
        per_doc[doc_id].extend(_candidates(tok, text, int(start), max_words))
    art_text = dict(zip(parsed.articles["doc_id"], parsed.articles["text"]))

    def rank_block(items: list[tuple[str, tuple, int, int]], min_c: int) -> list[dict]:
        cands = [c for _, c, _, _ in items]
        scores = _rake_scores(cands)
        count = Counter(cands)
        docs: dict[tuple, set] = defaultdict(set)
        first: dict[tuple, tuple] = {}
        for d, c, s, e in items:
            docs[c].add(d)
            first.setdefault(c, (d, s, e))
        ranked = sorted((c for c in scores if count[c] >= min_c),
                        key=lambda c: (-round(scores[c], DECIMALS), " ".join(c)))[:top]
        return [{"rank": r, "phrase": " ".join(c), "score": round(scores[c], DECIMALS), "count": count[c],
                 "docs": len(docs[c]), "doc_id": first[c][0], "start": first[c][1], "end": first[c][2],
                 "text": " ".join(art_text[first[c][0]][first[c][1]:first[c][2]].split())}
                for r, c in enumerate(ranked, 1)]

    rows = []
    if by is None:
        for d in sorted(per_doc):
            items = [(d, c, s, e) for c, s, e in per_doc[d]]
            rows.extend(rank_block(items, min_count or 1))
        out = pd.DataFrame(rows, columns=["rank", "phrase", "score", "count", "docs", "doc_id", "start",
                                          "end", "text"]).drop(columns=["docs"])
        out = out[["doc_id", "rank", "phrase", "score", "count", "start", "end", "text"]]
        return _with_meta(out, parsed)
    groups = group_values(parsed.articles, by)
    by_group: dict[str, list] = defaultdict(list)
    for d in sorted(per_doc):
        by_group[groups[d]].extend((d, c, s, e) for c, s, e in per_doc[d])
    for g in sorted(by_group):
        rows.extend({"by": by, "group": g, **r} for r in rank_block(by_group[g], min_count or 2))
    return pd.DataFrame(rows, columns=["by", "group", "rank", "phrase", "score", "count", "docs", "doc_id",
                                       "start", "end", "text"])


# --------------------------------------------------------------------------- collocations (NLTK)

def _sentence_streams(parsed: Parsed, tok: Tokenizer, doc_ids: Iterable[str] | None = None) -> list[list[str]]:
    """Token streams per sentence: a term, or '' where a stop word, number or punctuation breaks it."""
    sents = parsed.sentences
    keep = sents["role"].isin(list(TEXT_ROLES)) if "role" in sents.columns else np.ones(len(sents), bool)
    if doc_ids is not None:
        keep &= sents["doc_id"].isin(list(doc_ids))
    sents = sents.loc[keep].sort_values(["doc_id", "sent_id"], kind="stable")
    streams = []
    for text in sents["text"]:
        stream, prev = [], None
        for s, e, term in tok.spans(text):
            if prev is not None and not text[prev:s].isspace():
                stream.append("")  # punctuation between two words breaks a collocation
            stream.append(term)
            prev = e
        streams.append(stream)
    return streams


def collocations(parsed: Parsed, n: int = 2, top: int = 20, min_freq: int = 3, by: str | None = None,
                 fold_aliases: bool = False, drop_duplicates: bool = True) -> pd.DataFrame:
    """Return the ``top`` n-word collocations (n = 2 or 3) by likelihood ratio, with PMI and frequency.

    Columns: [by, group,] rank, collocation, w1, w2[, w3], freq, likelihood_ratio, pmi, doc_id, start,
    end (first occurrence). Counted within sentences by NLTK's collocation finders; n-grams with a stop
    word, number or punctuation inside are left out.
    """
    from nltk.collocations import (BigramAssocMeasures, BigramCollocationFinder, TrigramAssocMeasures,
                                   TrigramCollocationFinder)

    if n not in (2, 3):
        raise ValueError(f"n must be 2 or 3, not {n}")
    tok = Tokenizer(fold_aliases)
    pars = text_units(parsed, drop_duplicates=drop_duplicates)
    doc_ids = sorted(set(pars["doc_id"]))
    finder_cls, measures = ((BigramCollocationFinder, BigramAssocMeasures) if n == 2
                            else (TrigramCollocationFinder, TrigramAssocMeasures))
    words = [f"w{i}" for i in range(1, n + 1)]

    def block(ids: list[str]) -> pd.DataFrame:
        finder = finder_cls.from_documents(_sentence_streams(parsed, tok, ids))
        finder.apply_freq_filter(min_freq)
        finder.apply_word_filter(lambda w: not w)
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
    for doc_id, start, text in zip(pars["doc_id"], pars["start"], pars["text"]):
        if not need:
            break
        toks = list(tok.spans(text, int(start)))
        for j in range(len(toks)):
            for g in [g for g in need if len(g) + j <= len(toks)]:
                if all(toks[j + i][2] == g[i] for i in range(len(g))) and \
                        all(text[toks[j + i][1] - start:toks[j + i + 1][0] - start].isspace()
                            for i in range(len(g) - 1)):
                    where[g] = (doc_id, toks[j][0], toks[j + len(g) - 1][1])
                    need.discard(g)
    got = [where.get(g, ("", -1, -1)) for g in ngrams]
    return [w[0] for w in got], [int(w[1]) for w in got], [int(w[2]) for w in got]


# --------------------------------------------------------------------------- keyness

def keyness_scores(freq_target, freq_reference, total_target: float, total_reference: float) -> pd.DataFrame:
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


def keyness(parsed: Parsed, by: str, target: str, reference: str | None = None, top: int | None = None,
            fold_aliases: bool = False, drop_duplicates: bool = True, _tm: TermMatrix | None = None) -> pd.DataFrame:
    """Return terms ranked by keyness of the ``target`` group of ``by`` against the rest (or ``reference``).

    Columns: by, target, reference, rank, term, freq_target, freq_reference, docs_target,
    docs_reference, per_10k_target, per_10k_reference, g2, p_g2, chi2, p_chi2, log_ratio, doc_id, start,
    end (first occurrence, in the target if the term is there). Sorted by signed g2, most key first;
    ``top`` keeps the ``top`` most key terms of each side (target and reference).
    """
    tok = Tokenizer(fold_aliases)
    tm = _tm or term_matrix(parsed, "document", tok, drop_duplicates=drop_duplicates)
    doc_ids = tm.units["doc_id"].to_numpy()
    groups = group_values(parsed.articles, by).reindex(doc_ids).to_numpy()
    target = str(target)
    values = sorted(set(groups))
    if target not in values:
        raise ValueError(f"no articles with {by} = '{target}': values are {_listing(values)}")
    in_target = groups == target
    if reference is None:
        in_ref, ref_label = ~in_target, "rest"
    else:
        reference = str(reference)
        if reference == target:
            raise ValueError(f"target and reference are the same group ({by} = '{target}')")
        if reference not in values:
            raise ValueError(f"no articles with {by} = '{reference}': values are {_listing(values)}")
        in_ref, ref_label = groups == reference, reference
    if not in_ref.any():
        raise ValueError(f"target {by} = '{target}' is the whole corpus: keyness needs a reference "
                         f"(other values of '{by}'), but every article has this value")
    present = (tm.counts > 0).astype(np.int64)
    a = np.asarray(tm.counts[in_target].sum(axis=0)).ravel()
    b = np.asarray(tm.counts[in_ref].sum(axis=0)).ravel()
    used = (a + b) > 0
    c, d = a.sum(), b.sum()
    scores = keyness_scores(a[used], b[used], c, d)
    out = pd.DataFrame({
        "by": by, "target": target, "reference": ref_label, "term": tm.terms[used],
        "freq_target": a[used].astype(np.int64), "freq_reference": b[used].astype(np.int64),
        "docs_target": np.asarray(present[in_target].sum(axis=0)).ravel()[used].astype(np.int64),
        "docs_reference": np.asarray(present[in_ref].sum(axis=0)).ravel()[used].astype(np.int64),
        "per_10k_target": np.round(a[used] / c * 1e4, DECIMALS),
        "per_10k_reference": np.round(b[used] / d * 1e4, DECIMALS)})
    out = pd.concat([out, scores], axis=1)
    out = out.sort_values(["g2", "term"], ascending=[False, True], kind="stable").reset_index(drop=True)
    if top is not None:
        pos, neg = out[out["g2"] > 0].head(top), out[out["g2"] < 0].tail(top)
        out = pd.concat([pos, neg]).reset_index(drop=True)
    out.insert(3, "rank", np.arange(1, len(out) + 1, dtype=np.int64))
    # first occurrence: in the first target article with the term, else in the first reference article
    col_of = {t: i for i, t in enumerate(tm.terms)}
    pcsc = present.tocsc()
    pcsc.sort_indices()
    first = []
    for term in out["term"]:
        docs = pcsc.indices[pcsc.indptr[col_of[term]]:pcsc.indptr[col_of[term] + 1]]
        hit = docs[in_target[docs]]
        first.append(doc_ids[hit[0]] if len(hit) else doc_ids[docs[in_ref[docs]][0]])
    out["doc_id"] = first
    return _add_first_spans(out, text_units(parsed, drop_duplicates=drop_duplicates), tok)


def keyness_by_group(parsed: Parsed, by: str, top: int = 20, fold_aliases: bool = False,
                     drop_duplicates: bool = True) -> pd.DataFrame:
    """Return the ``top`` key terms of every group of ``by`` against all other articles, group after group."""
    tok = Tokenizer(fold_aliases)
    tm = term_matrix(parsed, "document", tok, drop_duplicates=drop_duplicates)
    groups = sorted(set(group_values(parsed.articles, by).reindex(tm.units["doc_id"])))
    if len(groups) < 2:
        raise ValueError(f"every article has {by} = '{groups[0]}': keyness needs at least two groups")
    blocks = []
    for g in groups:
        df = keyness(parsed, by, g, top=top, fold_aliases=fold_aliases, drop_duplicates=drop_duplicates, _tm=tm)
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
    by_doc = {d: (g["start"].to_numpy(), g["end"].to_numpy(), g["para_id"].to_numpy(), g["role"].to_numpy())
              for d, g in pars.groupby("doc_id", sort=True)}
    rows = []
    for doc_id, text in zip(parsed.articles["doc_id"], parsed.articles["text"]):
        if doc_id not in by_doc or not isinstance(text, str):
            continue
        p_start, p_end, p_id, p_role = by_doc[doc_id]
        for m in rx.finditer(text):
            s, e = m.span()
            if s == e:
                continue
            i = int(np.searchsorted(p_start, s, side="right")) - 1
            if i < 0 or s >= p_end[i] or p_role[i] not in roles:
                continue
            left, right = _context(text, s, e, window, unit, int(p_start[i]), int(p_end[i]))
            rows.append({"doc_id": doc_id, "para_id": int(p_id[i]), "start": s, "end": e, "left": left,
                         "match": text[s:e], "right": right})
    out = pd.DataFrame(rows, columns=["doc_id", "para_id", "start", "end", "left", "match", "right"])
    out = out.sort_values(["doc_id", "start"], kind="stable").reset_index(drop=True)
    return _with_meta(out, parsed)
