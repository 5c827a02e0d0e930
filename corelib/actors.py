"""Actors and places mentioned in articles, with offsets, canonical ids and coordinates.

Everything the matcher knows comes from readable files in ``corelib/data/``: ``actors.yaml``
(groups, forces, governments and their aliases), ``places.csv`` (gazetteer of Iraq and Syria
derived from GeoNames, see ``corelib/data/README.md``), ``place_rules.yaml`` (article forms,
suffixes, ambiguous names) and ``names.yaml`` (the fallback for capitalised names nobody listed).
``affiliations.yaml`` maps role and organisation strings to a speaker affiliation
(:func:`affiliation_of`, used by ``corelib.quotes``).

:func:`extract` returns one row per mention: ``doc_id, sent_id, start, end, text, entity, name,
type (actor|place|unknown), subtype, part_of, governorate, country, lat, lon``; ``start``/``end``
index ``articles.text``. Overlapping candidates are resolved by longest match, so "Islamic State
group" is one mention and "Kurdistan Region Government" is the KRG, not a place. An actor named in
an article's dateline ("WASHINGTON (AP) —") is the place the story was filed from (type unknown,
subtype place).
"""
from __future__ import annotations

import math
import re
import unicodedata
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

import pandas as pd
import yaml

from corelib.parse import Parsed, match_dateline

DATA = Path(__file__).parent / "data"
ROUND = 4
MENTION_COLUMNS = ["doc_id", "sent_id", "start", "end", "text", "entity", "name", "type", "subtype",
                   "part_of", "governorate", "country", "lat", "lon"]
PLACE_COLUMNS = ["place_id", "name", "variants", "kind", "country", "governorate", "lat", "lon",
                 "population", "geonameid", "source", "note"]

# One-to-one character folding so that offsets survive: curly apostrophes -> ', hyphens -> -.
_FOLD = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "‐": "-", "‑": "-"})
_TOKEN = re.compile(r"\w+|[^\w\s]")


# --------------------------------------------------------------------------- tokens

class Token(NamedTuple):
    text: str
    start: int
    end: int


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Word and punctuation tokens with offsets; a hyphen inside a word is dropped ("al-Qaim" = "al Qaim")."""
    folded = text.translate(_FOLD)
    last = len(folded) - 1
    out: list[Token] = []
    for m in _TOKEN.finditer(folded):
        w = m.group()
        s = m.start()
        if w == "-" and 0 < s < last and not folded[s - 1].isspace() and not folded[s + 1].isspace():
            continue
        out.append(Token(w, s + offset, s + len(w) + offset))
    return out


_SKELETON_MAP = (("kh", "k"), ("gh", "g"), ("q", "k"), ("c", "k"), ("dh", "d"), ("th", "t"), ("sh", "s"),
                 ("ch", "s"), ("j", "g"), ("z", "s"), ("x", "k"), ("ph", "f"))


def name_skeleton(name: str, articles: Iterable[str] = (), loose: bool = False) -> str:
    """Consonant skeleton of a transliterated name: "Tuz Khurmato" and "Tuz Khurmatu" give the same one.

    Diacritics, an Arabic article, vowels, h/w/y and doubled letters are dropped and similar letters
    merged (kh/q/c -> k, j -> g, z -> s, ...); ``loose`` also merges g with k.
    """
    s = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).lower()
    for art in sorted({a.lower().rstrip("-") for a in articles}, key=len, reverse=True):
        s = re.sub(rf"^{re.escape(art)}[- ]", "", s)
    s = re.sub(r"[^a-z]", "", s)
    for a, b in _SKELETON_MAP + ((("g", "k"),) if loose else ()):
        s = s.replace(a, b)
    s = re.sub(r"[aeiouyhw]", "", s)
    return re.sub(r"(.)\1+", r"\1", s)


def phrase_key(phrase: str, fold_case: bool) -> tuple[str, ...]:
    """The token sequence a phrase is matched by (lower-cased when ``fold_case``)."""
    toks = tuple(t.text for t in tokenize(phrase))
    return tuple(t.lower() for t in toks) if fold_case else toks


def _is_caps(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def is_caps_alias(alias: str) -> bool:
    """True when an alias is written in capitals (IS, PMF, U.S., K24): it then matches only as written."""
    return any(c.isalpha() for c in alias) and not any(c.islower() for c in alias)


# --------------------------------------------------------------------------- resources

@dataclass(frozen=True)
class Target:
    """What an alias points at: a row of the mentions table minus the offsets."""

    entity: str
    name: str
    type: str          # actor | place
    subtype: str       # actor type or place kind
    part_of: str = ""
    governorate: str = ""
    country: str = ""
    lat: float | None = None
    lon: float | None = None


@dataclass
class _Alias:
    key: tuple[str, ...]
    target: Target
    fold_case: bool
    context_only: bool = False       # "so-called caliphate": needs another mention of the entity
    needs_context: bool = False      # "Hit": needs a locative cue
    caps_alias: bool = False         # all-capitals actor alias (IS, PMF)
    not_after: tuple = ()
    not_before: tuple = ()
    rank: tuple = ()


@dataclass
class Lexicon:
    """Every alias and place variant, indexed by its first token (one-token aliases) or first two
    tokens (longer ones, so that "al" does not scan every "al-X" place), plus the rules around them."""

    by_first_ci: dict = field(default_factory=lambda: defaultdict(list))
    by_first_cs: dict = field(default_factory=lambda: defaultdict(list))
    suffixes: list = field(default_factory=list)
    governorate_words: set = field(default_factory=set)
    governorate_prefixes: list = field(default_factory=list)
    governorate_of: dict = field(default_factory=dict)   # variant text -> governorate Target
    locative_cues: list = field(default_factory=list)
    alias_keys_ci: set = field(default_factory=set)
    first_words_ci: set = field(default_factory=set)   # the first words of all case-folded aliases
    first_words_cs: set = field(default_factory=set)   # ... and of all case-sensitive ones

    def add(self, alias: _Alias) -> None:
        index = self.by_first_ci if alias.fold_case else self.by_first_cs
        index[alias.key[0] if len(alias.key) == 1 else alias.key[:2]].append(alias)
        if alias.key:
            (self.first_words_ci if alias.fold_case else self.first_words_cs).add(alias.key[0])
        if alias.fold_case:
            self.alias_keys_ci.add(alias.key)


def _read_yaml(name: str) -> dict:
    with open(DATA / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


@lru_cache(maxsize=1)
def place_rules() -> dict:
    """Return the place-matching rules of ``corelib/data/place_rules.yaml`` (articles, suffixes, never, ...)."""
    return _read_yaml("place_rules.yaml")


def _num(value) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else round(f, ROUND)


@lru_cache(maxsize=1)
def gazetteer() -> pd.DataFrame:
    """The gazetteer (``corelib/data/places.csv``): one row per place with variants, kind, governorate, coordinates."""
    df = pd.read_csv(DATA / "places.csv", dtype=str, keep_default_na=False)
    missing = [c for c in PLACE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"places.csv lacks columns {missing}; expected {PLACE_COLUMNS}")
    df["lat"] = df["lat"].map(_num)
    df["lon"] = df["lon"].map(_num)
    df["population"] = pd.to_numeric(df["population"], errors="coerce").astype("Int64")
    return df[PLACE_COLUMNS]


@lru_cache(maxsize=1)
def actor_table() -> pd.DataFrame:
    """The actors of ``corelib/data/actors.yaml``: id, name, type, part_of, aliases, context_aliases."""
    rows = []
    for e in _read_yaml("actors.yaml").get("actors", []):
        for req in ("id", "name", "type", "aliases"):
            if req not in e:
                raise ValueError(f"actors.yaml: entry {e.get('id', e)!r} lacks '{req}'")
        rows.append({"id": e["id"], "name": e["name"], "type": e["type"], "part_of": e.get("part_of", ""),
                     "aliases": [str(a) for a in e["aliases"]],
                     "context_aliases": [str(a) for a in e.get("context_aliases", [])],
                     "not_after": [str(a) for a in e.get("not_after", [])],
                     "not_before": [str(a) for a in e.get("not_before", [])]})
    return pd.DataFrame(rows, columns=["id", "name", "type", "part_of", "aliases", "context_aliases",
                                       "not_after", "not_before"])


def _article_forms(variant: str, articles: list[str]) -> list[str]:
    """The variant plus forms with and without an Arabic article ("Qaim" -> "al-Qaim", "Al Qaim")."""
    bare = variant
    lowered = {a.rstrip("-").lower() for a in articles}
    head = re.split(r"[- ]", variant, maxsplit=1)
    if len(head) == 2 and head[0].lower() in lowered and head[1][:1].isupper():
        bare = head[1]
    return [variant, bare, f"al-{bare}", f"Al-{bare}", f"el-{bare}", f"El-{bare}"]


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Return the alias index of every actor alias and place variant, built once from the data files."""
    lex = Lexicon()
    rules = place_rules()
    never = set(rules.get("never", []))
    needs_context = set(rules.get("needs_context", []))
    articles = rules.get("articles", [])
    caps_min = int(rules.get("caps_min_length", 4))
    lex.suffixes = sorted({phrase_key(s, False) for s in rules.get("suffixes", [])}, key=len, reverse=True)
    lex.governorate_words = {phrase_key(s, False) for s in rules.get("governorate_words", [])}
    lex.governorate_prefixes = sorted({phrase_key(s, False) for s in rules.get("governorate_prefixes", [])},
                                      key=len, reverse=True)
    lex.locative_cues = sorted({phrase_key(s, False) for s in rules.get("locative_cues", [])}, key=len, reverse=True)

    # actors: case-insensitive unless written in capitals
    for a in actor_table().itertuples(index=False):
        target = Target(a.id, a.name, "actor", a.type, a.part_of or "")
        na = tuple(phrase_key(x, True) for x in a.not_after)
        nb = tuple(phrase_key(x, True) for x in a.not_before)
        for alias, ctx in [(x, False) for x in a.aliases] + [(x, True) for x in a.context_aliases]:
            caps = is_caps_alias(alias)
            lex.add(_Alias(phrase_key(alias, not caps), target, fold_case=not caps, context_only=ctx,
                           caps_alias=caps, not_after=na, not_before=nb, rank=(0,)))

    # places: case-sensitive variants, their capitals form and article forms; one place per key
    best: dict[tuple, _Alias] = {}
    gaz = gazetteer()
    for r in gaz.itertuples(index=False):
        target = Target(r.place_id, r.name, "place", r.kind, "", r.governorate, r.country, r.lat, r.lon)
        rank = (r.kind == "governorate", not str(r.source).startswith("manual"),
                -(int(r.population) if pd.notna(r.population) else 0), r.place_id)
        if r.kind == "governorate":
            for v in r.variants.split("|"):
                lex.governorate_of[v] = target
        forms: list[str] = []
        for v in (x.strip() for x in r.variants.split("|")):
            if not v or v in never:
                continue
            for f in _article_forms(v, articles):
                if f not in forms and f not in never:
                    forms.append(f)
            if sum(c.isalpha() for c in v) >= caps_min and v.upper() not in forms:
                forms.append(v.upper())
        for f in forms:
            key = phrase_key(f, False)
            if not key:
                continue
            cand = _Alias(key, target, fold_case=False, needs_context=f in needs_context, rank=rank)
            if key not in best or rank < best[key].rank:
                best[key] = cand
    for alias in best.values():
        lex.add(alias)
    for index in (lex.by_first_ci, lex.by_first_cs):
        for lst in index.values():
            lst.sort(key=lambda al: (-len(al.key), al.rank))
    return lex


def alternation(phrases: Iterable[str]) -> str:
    """Return a regex alternation of phrases, longest first, spaces matching any whitespace (never matches if empty)."""
    items = sorted({str(p) for p in phrases if str(p)}, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in items) or "(?!)"


@lru_cache(maxsize=1)
def _names() -> dict:
    raw = _read_yaml("names.yaml")
    titles: set[str] = set()
    title_phrases: set[str] = set()
    branches: set[str] = set()
    roles: set[str] = set()
    titles_file = DATA / "speaker_titles.yaml"  # person titles, service branches and roles (corelib.quotes)
    if titles_file.exists():
        tdata = yaml.safe_load(titles_file.read_text(encoding="utf-8")) or {}
        for group in (tdata.get("titles") or {}).values():
            for t in group:
                title_phrases.add(str(t))
                titles.update(str(t).split())
        for b in tdata.get("branches") or []:
            branches.update(str(b).split())
        roles = {str(r) for r in tdata.get("person_nouns") or []}
    not_names, demonyms = set(raw.get("not_names", [])), set(raw.get("demonyms", []))
    org_heads, place_heads = set(raw.get("organisation_heads", [])), set(raw.get("place_heads", []))
    return {
        "connectors": {c.rstrip("-").lower() for c in raw.get("connectors", [])},
        "not_names": not_names,
        "demonyms": demonyms,
        "org_heads": org_heads,
        "place_heads": place_heads,
        "heads": org_heads | place_heads,
        "skip": not_names | demonyms,                                         # words a name never starts or ends with
        "not_given_name": org_heads | place_heads | not_names | demonyms | titles,  # words after a town ending a name
        "locative_re": re.compile(r"(?:^|\W)(?:" + alternation(raw.get("locative_cues", [])) + r")\s+$", re.I),
        # said_after and apposition are matched at the end of a name: pattern.match(text, end)
        "said_after": re.compile(r",?\s+(?:(?:\w+ly|" + alternation(raw.get("person_verb_adverbs", [])) + r")\s+)?(?:"
                                 + alternation(raw.get("person_verbs", [])) + r")\b"),
        "apposition": re.compile(r",\s+(?:the|a|an)\s+(?:[\w.'’-]+\s+){0,4}?(?:" + alternation(roles) + r")\b"),
        "person_before": re.compile(r"(?<![\w.])(?:" + alternation(title_phrases) + r"|(?i:"
                                    + alternation(roles) + r"))\s+$"),
        "roles": {r.lower() for r in roles},
        "titles": titles,
        "branches": branches - {"U.S.", "US"},
    }


# --------------------------------------------------------------------------- matching

@dataclass
class _Cand:
    i: int            # first token index
    j: int            # one past the last token index
    start: int
    end: int
    target: Target
    alias: _Alias | None = None


def ends_with_phrase(tokens: list[Token], i: int, phrases: Iterable[tuple], fold: bool = True) -> bool:
    """True when the tokens right before index ``i`` spell one of ``phrases``."""
    if not 0 < i <= len(tokens):
        return False
    last = tokens[i - 1].text.lower() if fold else tokens[i - 1].text
    for ph in phrases:  # compare the last word first: most phrases end in another word
        n = len(ph)
        if n and ph[-1] == last and i - n >= 0:
            if n == 1 or tuple(t.text.lower() if fold else t.text for t in tokens[i - n:i]) == ph:
                return True
    return False


def _starts_with(tokens: list[Token], j: int, phrases: Iterable[tuple], fold: bool = True) -> tuple | None:
    if not 0 <= j < len(tokens):
        return None
    first = tokens[j].text.lower() if fold else tokens[j].text
    for ph in phrases:  # compare the first word first: most phrases start with another word
        n = len(ph)
        if n and ph[0] == first and j + n <= len(tokens):
            if n == 1 or tuple(t.text.lower() if fold else t.text for t in tokens[j:j + n]) == ph:
                return ph
    return None


def _adjacent(text: str, tokens: list[Token], i: int, j: int) -> bool:
    """True when tokens i..j-1 are written without line breaks between them."""
    return all("\n" not in text[tokens[k].end:tokens[k + 1].start] for k in range(i, j - 1))


def _candidates(text: str, tokens: list[Token], lex: Lexicon) -> list[_Cand]:
    out = []
    words = [t.text for t in tokens]
    lowered = [w.lower() for w in words]
    firsts_ci, firsts_cs = lex.first_words_ci, lex.first_words_cs
    for i in [i for i, (lo, w) in enumerate(zip(lowered, words)) if lo in firsts_ci or w in firsts_cs]:
        for index, seq in ((lex.by_first_ci, lowered), (lex.by_first_cs, words)):
            hits = index.get(seq[i], [])
            if i + 1 < len(seq):
                hits = index.get((seq[i], seq[i + 1]), []) + hits
            for al in hits:
                n = len(al.key)
                if i + n > len(tokens) or tuple(seq[i:i + n]) != al.key or not _adjacent(text, tokens, i, i + n):
                    continue
                out.append(_Cand(i, i + n, tokens[i].start, tokens[i + n - 1].end, al.target, al))
    return out


def _word_at(tokens: list[Token], k: int) -> str:
    return tokens[k].text if 0 <= k < len(tokens) else ""


def _keep(c: _Cand, tokens: list[Token], lex: Lexicon) -> bool:
    al = c.alias
    if al is None:
        return True
    if al.not_after and ends_with_phrase(tokens, c.i, al.not_after):
        return False
    if al.not_before and _starts_with(tokens, c.j, al.not_before):
        return False
    if al.caps_alias:
        for k in (c.i - 1, c.j):
            w = _word_at(tokens, k)
            if w.isalpha() and len(w) >= 3 and _is_caps(w) and (w.lower(),) not in lex.alias_keys_ci \
                    and not any(a.key == (w,) for a in lex.by_first_cs.get(w, ())):
                return False
    if al.needs_context:
        if not (ends_with_phrase(tokens, c.i, lex.locative_cues, fold=False)
                or _starts_with(tokens, c.j, lex.suffixes, fold=False)):
            return False
    return True


def _extend_place(c: _Cand, tokens: list[Token], lex: Lexicon) -> _Cand:
    """Add a suffix ("Diyala Province") or prefix ("province of Basra"); switch to the governorate."""
    if c.target.type != "place":
        return c
    suffix = _starts_with(tokens, c.j, lex.suffixes, fold=False)
    gov_word = False
    if suffix:
        gov_word = suffix in lex.governorate_words
        c = _Cand(c.i, c.j + len(suffix), c.start, tokens[c.j + len(suffix) - 1].end, c.target, c.alias)
    else:
        for ph in lex.governorate_prefixes:
            if ends_with_phrase(tokens, c.i, [ph], fold=False):
                gov_word = True
                c = _Cand(c.i - len(ph), c.j, tokens[c.i - len(ph)].start, c.end, c.target, c.alias)
                break
    if gov_word and c.target.subtype != "governorate":
        name_tokens = [t.text for t in tokens[c.i:c.j]]
        for size in range(len(name_tokens), 0, -1):
            for s in range(0, len(name_tokens) - size + 1):
                gov = lex.governorate_of.get(" ".join(name_tokens[s:s + size]))
                if gov is not None:
                    return _Cand(c.i, c.j, c.start, c.end, gov, c.alias)
    return c


def _resolve(cands: list[_Cand]) -> list[_Cand]:
    """Non-overlapping candidates: longest first, then actors before places, then leftmost."""
    cands = sorted(cands, key=lambda c: (-(c.end - c.start), c.target.type != "actor", c.start,
                                        c.alias.rank if c.alias else ()))
    taken: list[_Cand] = []
    for c in cands:
        if all(c.end <= t.start or c.start >= t.end for t in taken):
            taken.append(c)
    return sorted(taken, key=lambda c: c.start)


def find_known(text: str, offset: int = 0) -> list[_Cand]:
    """Known actor and place mentions in ``text`` (offsets shifted by ``offset``), resolved by longest match."""
    lex = lexicon()
    tokens = tokenize(text)
    cands = [c for c in _candidates(text, tokens, lex) if _keep(c, tokens, lex)]
    cands = [_extend_place(c, tokens, lex) for c in cands]
    resolved = _resolve(cands)
    return [_Cand(c.i, c.j, c.start + offset, c.end + offset, c.target, c.alias) for c in resolved]


# --------------------------------------------------------------------------- fallback names

_NAME_WORD = re.compile(r"(?:(?:al|el|bin|ibn|Al|El)-)?[A-Z][\w'’]*(?:-[\w'’]+)*\.?")
_NAME_RUN = re.compile(rf"(?: {_NAME_WORD.pattern}){{1,3}}")
_INITIAL = re.compile(r"\b[A-Z]\.(?:\s|$)|\b(?:II|III|IV|Jr\.?)$")


def _given_name(text: str, c: _Cand, offset: int, known: list[_Cand], cfg: dict, doc_lower: set) -> bool:
    """True when a one-word town or city in ``text`` is a person's given name: right after a title or role
    ("Lawmaker Shatha al-Musawi"), or before more name words that a person cue follows ("Walid Khaled, a
    spokesman, said", "Khabat Ahmed told"). A locative cue before it ("in Soran") keeps the place."""
    if c.target.type != "place" or c.alias is None or len(c.alias.key) != 1 \
            or c.target.subtype in ("country", "governorate", "region"):
        return False
    s, e = c.start - offset, c.end - offset
    before = text[max(0, s - 40):s]
    if cfg["locative_re"].search(before):
        return False
    if cfg["person_before"].search(before):
        return True
    run = _NAME_RUN.match(text, e)
    if run is None or any(e < k.end - offset and k.start - offset < run.end() for k in known):
        return False
    stop = cfg["not_given_name"]
    for w in run.group().split():
        w = w.rstrip(".")
        if w in stop or w.lower() in cfg["roles"] or w.lower() in doc_lower:
            return False
    return bool(cfg["said_after"].match(text, run.end()) or cfg["apposition"].match(text, run.end()))


_LONG_WORD = re.compile(r"[A-Za-z][\w'’-]{3,}")  # words of more than three characters


def _title_case_sentence(text: str) -> bool:
    words = _LONG_WORD.findall(text)
    return len(words) >= 3 and sum(w[0].isupper() for w in words) / len(words) >= 0.8


def _unknown_names(text: str, offset: int, known: list[_Cand], doc_lower: set) -> list[dict]:
    """Capitalised names in ``text`` not covered by a known mention (``known``: not overlapping, by start, as
    :func:`find_known` returns them), with a guessed subtype."""
    cfg = _names()
    if _title_case_sentence(text):
        return []
    busy = [(c.start - offset, c.end - offset, c.target.type) for c in known]
    k = 0  # the first known mention that does not end before the current word
    runs: list[list[re.Match]] = [[]]
    prev_end = None
    for m in _NAME_WORD.finditer(text):
        ms, me = m.span()
        while k < len(busy) and busy[k][1] <= ms:
            k += 1
        if k < len(busy) and busy[k][0] < me:  # inside a known mention
            runs.append([])
            prev_end = None
            continue
        if runs[-1] and prev_end is not None:
            gap = text[prev_end:ms]
            gap_words = gap.split()
            joinable = "\n" not in gap and (gap == " " or (
                gap.startswith(" ") and gap.endswith(" ") and bool(gap_words)
                and all(w.lower().rstrip("-") in cfg["connectors"] for w in gap_words)))
            if not joinable:
                runs.append([])
        runs[-1].append(m)
        prev_end = me
    out = []
    for run in runs:
        row = _name_from_run(text, run, cfg, doc_lower) if run else None
        if row is None:
            continue
        if row["subtype"] == "organisation":  # "Diyala Health Directorate": take the place in
            for s, e, kind in busy:
                if kind == "place" and e + 1 == row["start"] and text[e] == " ":
                    row["start"] = s
        row["text"] = text[row["start"]:row["end"]]
        row["entity"] = row["name"] = re.sub(r"\s+", " ", row["text"].translate(_FOLD))
        row["start"] += offset
        row["end"] += offset
        out.append(row)
    return out


def _name_from_run(text: str, run: list[re.Match], cfg: dict, doc_lower: set) -> dict | None:
    """One unknown mention from a run of capitalised words, or None when it is not a name."""
    words = list(run)
    skip = cfg["skip"]
    titled = False
    if words[0].group().rstrip(".").lower() in doc_lower and not text[:words[0].start()].strip(" \"“‘'("):
        words = words[1:]  # a sentence-initial common word ("Bodies", "Coalition") is not a name
    while words:
        w = words[0].group()
        nxt = words[1].group() if len(words) > 1 else ""
        if w in cfg["titles"] or w.rstrip(".") in cfg["titles"] or w.lower() in cfg["roles"] \
                or (w in cfg["branches"] and nxt in cfg["titles"]):
            titled = True
        elif w.rstrip(".") not in skip:
            break
        words = words[1:]
    while words and words[-1].group().rstrip(".") in skip:
        words = words[:-1]
    if not words:
        return None
    s, e = words[0].start(), words[-1].end()
    if text[e - 1] == "." and not re.search(r"\b[A-Z]\.$", text[s:e]):
        e -= 1
    parts = [w.group().rstrip(".") for w in words]
    person_cue = titled or bool(cfg["said_after"].match(text, e) or cfg["apposition"].match(text, e))
    if len(words) == 1:
        if person_cue and not _is_caps(parts[0]) and parts[0] not in cfg["heads"]:
            subtype = "person"
        elif cfg["locative_re"].search(text[max(0, s - 40):s]) and not _is_caps(parts[0]):
            subtype = "place"
        else:
            return None
    elif any(p in cfg["org_heads"] for p in parts):
        subtype = "organisation"
    elif parts[-1] in cfg["place_heads"]:
        subtype = "place"
    elif person_cue or _INITIAL.search(text[s:e]):
        subtype = "person"
    else:
        subtype = "name"
    return {"start": s, "end": e, "text": "", "entity": "", "name": "", "type": "unknown",
            "subtype": subtype, "part_of": "", "governorate": "", "country": "", "lat": None, "lon": None}


@lru_cache(maxsize=1)
def _articles() -> tuple[str, ...]:
    return tuple(place_rules().get("articles", []))


@lru_cache(maxsize=1)
def _places_by_id() -> dict[str, dict]:
    return {r["place_id"]: r for r in gazetteer().to_dict("records")}


@lru_cache(maxsize=1)
def _skeleton_index() -> dict[str, set]:
    """Loose consonant skeleton of every place variant -> the places that have it."""
    articles = _articles()
    index: dict[str, set] = defaultdict(set)
    for r in gazetteer().itertuples(index=False):
        for v in r.variants.split("|"):
            sk = name_skeleton(v, articles, loose=True)
            if len(sk) >= 3:
                index[sk].add(r.place_id)
    return index


def _resolve_spelling(row: dict) -> dict:
    """Turn an unknown place candidate ("in Klajo") into a gazetteer place when one place has its skeleton."""
    if row["subtype"] != "place":
        return row
    ids = _skeleton_index().get(name_skeleton(row["text"], _articles(), loose=True), set())
    if len(ids) != 1:
        return row
    place = _places_by_id()[next(iter(ids))]
    written = row["text"].lower()
    if max(SequenceMatcher(None, written, v.lower()).ratio() for v in place["variants"].split("|")) < 0.8:
        return row  # same consonants, different name (Zarganiya is not Serekaniye)
    return {**row, "entity": place["place_id"], "name": place["name"], "type": "place", "subtype": place["kind"],
            "governorate": place["governorate"], "country": place["country"], "lat": place["lat"],
            "lon": place["lon"]}


# --------------------------------------------------------------------------- public API

def _row(c: _Cand, text: str) -> dict:
    t = c.target
    return {"start": c.start, "end": c.end, "text": text[c.start:c.end], "entity": t.entity, "name": t.name,
            "type": t.type, "subtype": t.subtype, "part_of": t.part_of, "governorate": t.governorate,
            "country": t.country, "lat": t.lat, "lon": t.lon}


def mentions_in_text(text: str, doc_id: str = "", spans: Iterable[tuple[int, int, int]] | None = None,
                     unknown: bool = True) -> list[dict]:
    """Mentions in one article ``text``; ``spans`` are (sent_id, start, end) to scan (default: the whole text)."""
    spans = list(spans) if spans is not None else [(0, 0, len(text))]
    doc_lower = set(re.findall(r"\b[a-z][\w'’-]*", text))  # words written in lower case somewhere
    cfg = _names()
    rows: list[dict] = []
    seen_entities: set[str] = set()
    pending_context: list[tuple[int, _Cand]] = []
    for sent_id, s, e in spans:
        if not (0 <= s <= e <= len(text)):
            continue
        chunk = text[s:e]
        known = find_known(chunk, s)
        known = [c for c in known if not _given_name(chunk, c, s, known, cfg, doc_lower)]
        kept = []
        for c in known:
            if c.alias is not None and c.alias.context_only:
                pending_context.append((sent_id, c))
            else:
                seen_entities.add(c.target.entity)
                kept.append(c)
        for c in kept:
            rows.append({"doc_id": doc_id, "sent_id": sent_id, **_row(c, text)})
        if unknown:
            for r in _unknown_names(chunk, s, known, doc_lower):
                rows.append({"doc_id": doc_id, "sent_id": sent_id, **_resolve_spelling(r)})
    for sent_id, c in pending_context:
        if c.target.entity in seen_entities:
            rows.append({"doc_id": doc_id, "sent_id": sent_id, **_row(c, text)})
    rows.sort(key=lambda r: (r["start"], r["end"]))
    return rows


def dateline_spans(parsed: Parsed) -> dict[str, tuple[int, int]]:
    """Return {doc_id: (start, end)} of each article's dateline ("BEIRUT (AP) —"), where the story was filed."""
    out: dict[str, tuple[int, int]] = {}
    pars = getattr(parsed, "paragraphs", None)
    if pars is None or not len(pars):
        return out
    pars = pars[pars["role"].isin(["dateline", "body"])]
    first: dict = {}  # doc_id -> (start, end, role) of its first dateline or body paragraph
    for doc_id, start, end, role in zip(pars["doc_id"].tolist(), pars["start"].tolist(), pars["end"].tolist(),
                                        pars["role"].tolist()):
        if doc_id not in first or start < first[doc_id][0]:
            first[doc_id] = (int(start), int(end), role)
    texts = dict(zip(parsed.articles["doc_id"], parsed.articles["text"]))
    for doc_id, (start, end, role) in first.items():
        if role == "dateline":
            out[doc_id] = (start, end)
            continue
        d = match_dateline(str(texts.get(doc_id, ""))[start:end])
        if d is not None:
            out[doc_id] = (start, start + d.end)
    return out


def articles_with_sentences(parsed: Parsed, roles: Iterable[str] | None = None) -> Iterator[tuple]:
    """Yield (article row, article text, its (sent_id, start, end) sentences) for every article with text and
    sentences (of ``roles``)."""
    sents = parsed.sentences
    if roles is not None and "role" in sents.columns:
        sents = sents[sents["role"].isin(list(roles))]
    by_doc: dict = {}
    if len(sents):
        for doc_id, sent_id, start, end in zip(sents["doc_id"].tolist(), sents["sent_id"].tolist(),
                                               sents["start"].tolist(), sents["end"].tolist()):
            by_doc.setdefault(doc_id, []).append((int(sent_id), int(start), int(end)))
    for art in parsed.articles.itertuples(index=False):
        text = art.text if isinstance(art.text, str) else ""
        spans = by_doc.get(art.doc_id)
        if spans is not None and text:
            yield art, text, spans


def extract(parsed: Parsed, unknown: bool = True) -> pd.DataFrame:
    """Return the mentions of actors, places and unknown capitalised names: one row per mention, by doc_id, start."""
    rows: list[dict] = []
    datelines = dateline_spans(parsed)
    for art, text, spans in articles_with_sentences(parsed):
        try:
            found = mentions_in_text(text, str(art.doc_id), spans, unknown=unknown)
            dl = datelines.get(art.doc_id)
            for r in found:  # "WASHINGTON, DC, USA (AP) —" is where the story was filed, not the US government
                if dl and r["type"] == "actor" and r["subtype"] != "media" and dl[0] <= r["start"] < r["end"] <= dl[1]:
                    name = re.sub(r"\s+", " ", r["text"].translate(_FOLD))
                    r.update(entity=name, name=name, type="unknown", subtype="place", part_of="")
            rows.extend(r for r in found if unknown or r["type"] != "unknown")
        except Exception as exc:  # one bad article never stops a batch
            warnings.warn(f"actors.extract: {art.doc_id}: {type(exc).__name__}: {exc}")
    df = pd.DataFrame(rows, columns=MENTION_COLUMNS)
    df = df.sort_values(["doc_id", "start", "end"], kind="stable").reset_index(drop=True)
    for col in ("lat", "lon"):
        df[col] = pd.to_numeric(df[col], errors="coerce").round(ROUND)
    return df


def _counts(mentions: pd.DataFrame, kind: str, keys: list[str]) -> pd.DataFrame:
    m = mentions[mentions["type"] == kind]
    cols = keys + ["n_mentions", "n_docs"]
    if m.empty:
        return pd.DataFrame(columns=cols)
    g = m.groupby(keys, dropna=False, sort=False)
    out = g.agg(n_mentions=("doc_id", "size"), n_docs=("doc_id", "nunique")).reset_index()
    return out.sort_values(["n_mentions", "n_docs", "entity"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)[cols]


def place_counts(mentions: pd.DataFrame) -> pd.DataFrame:
    """Return the places with how often and in how many articles they are mentioned (for maps).

    Columns: entity, name, subtype, governorate, country, lat, lon, n_mentions, n_docs.
    """
    return _counts(mentions, "place", ["entity", "name", "subtype", "governorate", "country", "lat", "lon"])


def actor_counts(mentions: pd.DataFrame) -> pd.DataFrame:
    """Return the actors with their number of mentions and articles: entity, name, subtype, part_of, n_mentions, n_docs."""
    return _counts(mentions, "actor", ["entity", "name", "subtype", "part_of"])


def governorate_counts(mentions: pd.DataFrame) -> pd.DataFrame:
    """Return place mentions rolled up to governorates: country, governorate, n_mentions, n_docs.

    Places without a governorate (countries, places abroad) are left out.
    """
    m = mentions[(mentions["type"] == "place") & (mentions["governorate"].fillna("") != "")]
    cols = ["country", "governorate", "n_mentions", "n_docs"]
    if m.empty:
        return pd.DataFrame(columns=cols)
    out = m.groupby(["country", "governorate"], sort=False).agg(
        n_mentions=("doc_id", "size"), n_docs=("doc_id", "nunique")).reset_index()
    return out.sort_values(["n_mentions", "governorate"], ascending=[False, True], kind="stable")\
        .reset_index(drop=True)[cols]


@lru_cache(maxsize=1)
def region_outline() -> dict:
    """The GeoJSON country outlines of Iraq, Syria and their clipped neighbours (``region.geojson``)."""
    import json

    return json.loads((DATA / "region.geojson").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- affiliations

@dataclass(frozen=True)
class _Rule:
    affiliation: str
    groups: tuple  # tuple of tuples of (key, fold_case, length)


@lru_cache(maxsize=1)
def _affiliation_rules() -> tuple[_Rule, ...]:
    raw = _read_yaml("affiliations.yaml").get("rules", [])
    rules = []
    for r in raw:
        if "affiliation" not in r or not (r.get("cues") or r.get("all_of")):
            raise ValueError(f"affiliations.yaml: rule {r!r} needs 'affiliation' and 'cues' or 'all_of'")
        groups = [r["cues"]] if r.get("cues") else r["all_of"]
        compiled = []
        for g in groups:
            cues = []
            for cue in g:
                cue = str(cue)
                caps = is_caps_alias(cue)
                cues.append((phrase_key(cue, not caps), not caps, len(cue)))
            compiled.append(tuple(sorted(cues, key=lambda c: -c[2])))
        rules.append(_Rule(r["affiliation"], tuple(compiled)))
    return tuple(rules)


@lru_cache(maxsize=1)
def _cue_index() -> tuple[dict, dict, int]:
    """The cues of all rules by their words: (lower-cased words -> [(rule, group, length)], words as written ->
    [...], the most words a cue has)."""
    folded: dict = defaultdict(list)
    written: dict = defaultdict(list)
    for r, rule in enumerate(_affiliation_rules()):
        for g, cues in enumerate(rule.groups):
            for key, fold, length in cues:
                (folded if fold else written)[key].append((r, g, length))
    longest = max((len(key) for index in (folded, written) for key in index), default=0)
    return dict(folded), dict(written), longest


def _ngrams(words: list[str], longest: int) -> set:
    """Every run of 1 to ``longest`` consecutive words (and the empty run), as tuples."""
    out = {()}
    for n in range(1, longest + 1):
        out.update(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return out


def affiliation_of(text: str) -> str:
    """Return the affiliation of a speaker role or organisation string, or 'other'.

    Affiliations are those of ``corelib/data/affiliations.yaml``: coalition, us_government,
    iraqi_government, isf, krg, peshmerga, pmf, uk, canada, local_official, analyst, media, ...
    """
    if not isinstance(text, str) or not text.strip():
        return "other"
    words = [t.text for t in tokenize(text)]
    folded, written, longest = _cue_index()
    found: dict = {}  # (rule, group) -> length of the longest cue of that group in the text
    for grams, index in ((_ngrams([w.lower() for w in words], longest), folded), (_ngrams(words, longest), written)):
        for gram in grams:
            for r, g, length in index.get(gram, ()):
                if length > found.get((r, g), 0):
                    found[(r, g)] = length
    rules = _affiliation_rules()
    best, best_len = "other", 0
    for r in sorted({r for r, _ in found}):  # the first rule with the longest cue wins
        lengths = [found.get((r, g), 0) for g in range(len(rules[r].groups))]
        if all(lengths):
            score = max(lengths)
            if score > best_len:
                best, best_len = rules[r].affiliation, score
    return best
