"""Quotations and their speakers: direct, partial and indirect speech with offsets into ``articles.text``.

``extract(parsed)`` returns one row per quotation (columns in ``QUOTE_COLUMNS``):

- ``quote`` is ``text[start:end]`` of the article text as read, without the surrounding quotation marks
  and without a trailing comma (a final full stop inside the quotation is kept);
- ``kind`` is ``direct`` (the words inside quotation marks), ``indirect`` (a reported clause:
  ``X said (that) ...``, ``..., X said.``, ``according to X, ...``) or ``partial`` (a reported clause
  that carries quoted fragments, kept with their marks);
- ``cue`` is the reporting verb as written (``said``, ``told``, ``according to``);
- ``speaker`` is a full name with the title split off into ``speaker_title``, or an organisation, or an
  unnamed source as the article describes it; pronouns, surnames and role nouns (``the colonel``,
  ``the statement``) are resolved inside the article; ``speaker_id`` is the same for the same person
  across articles; ``speaker_start``/``speaker_end`` locate the mention that attributes the quote.

Reporting verbs, titles, role and organisation words are read from ``corelib/data/reporting_verbs.yaml``
and ``corelib/data/speaker_titles.yaml``. The speaker's affiliation comes from
``corelib.actors.affiliation_of`` when that module is available.
"""
from __future__ import annotations

import bisect
import re
import unicodedata
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pandas as pd
import yaml

from corelib.parse import Parsed, match_dateline, outlet_names

DATA = Path(__file__).parent / "data"

QUOTE_COLUMNS = ["doc_id", "quote_id", "quote", "start", "end", "kind", "cue", "speaker", "speaker_id",
                 "speaker_title", "speaker_role", "speaker_affiliation", "speaker_start", "speaker_end",
                 "sent_id"]

MIN_FRAGMENT_WORDS = 4  # a quoted fragment no reporting verb points at needs this many words to count
MAX_FRAME_WORDS = 4     # unquoted words beside quotes under one attribution before the row becomes a clause
MAX_NP_TOKENS = 24      # longest speaker phrase read before or after a reporting verb
GENDER_REACH = 3        # speakers "she" looks back over for one named as a woman before taking the nearest
NAMED_BEFORE = 400      # characters before "the farmer told AFP" in which a person named without a verb is sought
NAMED_LATER = 1200      # characters after a description ("a war monitor said") in which its name may follow
LOOK_BACK = 200         # earlier mentions and rows searched for an antecedent (keeps long articles linear)
QUOTED_ROLES = ("title", "standfirst", "body")


# --------------------------------------------------------------------------- resources

@dataclass(frozen=True)
class _Lexicon:
    cues: dict               # first word -> [(words tuple, lemma, class, takes_object)]
    participles: frozenset   # the -ing forms: "..., adding that ...", "..., saying ..."
    aux: frozenset
    openers: frozenset
    adjuncts: frozenset
    statement_nouns: frozenset
    document_nouns: frozenset  # "figures", "data", "statement": their source may follow ("figures from X")
    document_links: tuple      # ("from",), ("released", "by"), ...
    opinion_nouns: frozenset
    addressees: frozenset      # "told reporters", "told a news conference": the addressee, never a quotation
    noun_objects: frozenset    # "claimed responsibility": an object, not a reported clause
    before_that: frozenset   # adjunct, statement and opinion words that may stand between a verb and "that"
    impersonal: dict
    title_heads: dict        # lower title text -> head
    rank_heads: frozenset    # heads of titles that are ranks or honours, not offices
    title_last: dict         # last word of a title -> [(words tuple, text, head)], longest first
    branches: tuple
    person_nouns: frozenset
    org_nouns: frozenset
    not_name: frozenset
    particles: frozenset
    suffixes: frozenset
    adverbial: frozenset
    female: frozenset        # words of titles, roles and descriptions, and given names, that tell gender
    male: frozenset
    described_names: dict    # noun of a description -> words of the names that fit it (monitor -> observatory)
    asides: frozenset        # word tuples of asides between a speaker and the verb (", however,")
    abbrevs: frozenset
    cue_first: frozenset     # first words of all verb forms, and "according", for a quick test of a sentence
    noun_compounds: frozenset = frozenset()  # (verb form, next word) pairs that make a noun: "think tank"
    document_verbs: frozenset = frozenset()  # lemmas that report only with a document as subject ("figures show")
    past_participles: frozenset = frozenset()  # irregular past participles ("held", "run"), which -ed misses
    title_modifiers: frozenset = frozenset()  # "retired", "former": before a title or name, part of neither


def _words(items: Iterable[str]) -> frozenset:
    items = list(items)
    bad = [x for x in items if not isinstance(x, str)]
    if bad:
        raise ValueError(f"corelib/data word lists hold only words; got {bad!r} (quote on/no/yes in YAML)")
    return frozenset(x.lower() for x in items)


class _Compounds(frozenset):
    """A word set that also holds hyphenated compounds of its words (``secretary-general``, ``ex-minister``)."""

    def __contains__(self, word: object) -> bool:
        if frozenset.__contains__(self, word):
            return True
        return isinstance(word, str) and "-" in word and any(frozenset.__contains__(self, p) for p in word.split("-"))


def _by_last_word(titles: list) -> dict:
    out: dict = {}
    for entry in titles:
        out.setdefault(entry[0][-1], []).append(entry)
    return out


@lru_cache(maxsize=1)
def _lex() -> _Lexicon:
    with open(DATA / "reporting_verbs.yaml", encoding="utf-8") as fh:
        verbs = yaml.safe_load(fh)
    with open(DATA / "speaker_titles.yaml", encoding="utf-8") as fh:
        spk = yaml.safe_load(fh)
    cues: dict = {}
    for lemma, entry in verbs["verbs"].items():
        for form in entry["forms"]:
            words = tuple(form.lower().split())
            cues.setdefault(words[0], []).append((words, lemma, entry["class"], bool(entry.get("object"))))
    for lst in cues.values():
        lst.sort(key=lambda c: -len(c[0]))
    titles, heads = [], {}
    for head, texts in spk["titles"].items():
        for t in texts:
            titles.append((tuple(t.split()), t, head))
            heads[t.lower()] = head
    titles.sort(key=lambda x: -len(x[0]))
    abbrevs = set()
    for line in (DATA / "abbreviations.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            abbrevs.add(line.lower())
    return _Lexicon(
        cues=cues,
        participles=frozenset(w for w in cues if w.endswith("ing")),
        aux=_words(verbs["auxiliaries"]),
        openers=_words(verbs["clause_openers"]),
        adjuncts=_words(verbs["adjunct_words"]),
        statement_nouns=_words(w for s in verbs["statement_nouns"] for w in s.split()),
        document_nouns=_words(verbs["document_nouns"]) | _words(w for w in verbs["statement_nouns"] if " " not in w),
        document_links=tuple(sorted((tuple(x.lower().split()) for x in verbs["document_links"]),
                                    key=lambda w: -len(w))),
        opinion_nouns=_words(verbs["opinion_nouns"]),
        addressees=_words(verbs["addressees"]),
        noun_objects=_words(verbs["noun_objects"]),
        before_that=_words(verbs["adjunct_words"]) | _words(verbs["opinion_nouns"]) |
        _words(w for s in verbs["statement_nouns"] for w in s.split()),
        impersonal={k: v for k, v in verbs["impersonal_passive"].items()},
        title_heads=heads,
        rank_heads=_words(spk["rank_heads"]),
        title_last=_by_last_word(titles),
        branches=tuple(tuple(b.split()) for b in sorted(spk["branches"], key=lambda b: -len(b.split()))),
        person_nouns=_Compounds(_words(w for s in spk["person_nouns"] for w in str(s).split())),
        org_nouns=_words(spk["organisation_nouns"]),
        not_name=frozenset(spk["not_name_words"]),
        particles=_words(spk["name_particles"]),
        suffixes=frozenset(spk["name_suffixes"]),
        adverbial=_words(spk["adverbial_openers"]),
        female=_words(spk["female_words"]) | _words(spk["female_given_names"]),
        male=_words(spk["male_words"]),
        described_names={str(k).lower(): _words(v) for k, v in spk["described_names"].items()},
        asides=frozenset(tuple(str(a).lower().split()) for a in spk["asides"]),
        abbrevs=frozenset(abbrevs),
        cue_first=frozenset(cues) | {"according", "According"},
        noun_compounds=frozenset(tuple(str(c).lower().split()[:2]) for c in verbs.get("noun_compounds", ())),
        document_verbs=frozenset(k for k, v in verbs["verbs"].items() if v.get("subject") == "document"),
        past_participles=_words(verbs.get("irregular_participles", ())),
        title_modifiers=_words(spk.get("title_modifiers", ())),
    )


_AFFILIATION_CACHE: dict = {}


def _affiliation(text: str) -> str:
    """Affiliation of a speaker from corelib.actors (another module), or '' while it is not there."""
    if not text.strip():
        return ""
    if text in _AFFILIATION_CACHE:
        return _AFFILIATION_CACHE[text]
    try:
        from corelib.actors import affiliation_of  # optional: owned by the actors module
    except ImportError:
        return ""
    _AFFILIATION_CACHE[text] = str(affiliation_of(text) or "")
    return _AFFILIATION_CACHE[text]


# --------------------------------------------------------------------------- quotation marks

_MARK = re.compile(r"``|''|[\"“”„«»‘’]")
_D_OPEN = frozenset({"``", "“", "„", "«"})
_D_CLOSE = frozenset({"''", "”", "»"})
_LEFT_CTX = frozenset("([{—–-/:;“‘\"'")
_RIGHT_CTX = frozenset(".,;:!?)]}—–-…”’\"'")


@dataclass
class _Quote:
    qs: int          # first character of the quoted words
    qe: int          # end of the quoted words (trailing comma and spaces removed)
    raw_s: int       # just after the opening mark (or the paragraph start when it is missing)
    raw_e: int       # at the closing mark (or the paragraph end when it is missing)
    os: int          # opening mark start
    ce: int          # closing mark end
    para: int
    chain: int       # pieces of one quotation that runs over paragraphs share a chain


def _scan_paragraph(text: str, ps: int, pe: int) -> list[tuple[int, int, int, int]]:
    """Return (open_start, open_end, close_start, close_end) of the quotations inside one paragraph.

    Marks are paired left to right; a mark that cannot pair is dropped, a quotation left open runs to
    the paragraph end, so an unbalanced mark never reaches past its paragraph.
    """
    out: list[tuple[int, int, int, int]] = []
    state = None  # ('d'|'s', open_start, open_end)
    for m in _MARK.finditer(text, ps, pe):
        i, j = m.span()
        mk = m.group()
        prev = text[i - 1] if i > ps else " "
        nxt = text[j] if j < pe else " "
        left = prev.isspace() or prev in _LEFT_CTX
        right = nxt.isspace() or nxt in _RIGHT_CTX
        if mk in ("‘", "’"):
            if state and state[0] == "d":
                continue  # nested single marks stay inside the double quotation
            if mk == "‘":
                if state is None and left and nxt.isalnum():
                    state = ("s", i, j)
            elif state and not nxt.isalnum() and not prev.isspace():
                out.append((state[1], state[2], i, j))
                state = None
            continue
        if mk in _D_OPEN:
            role = "close" if (mk == "“" and right and not left) else "open"
        elif mk in _D_CLOSE:
            role = "open" if (left and not right) else "close"
        else:
            role = "open" if (left and not right) else "close" if (right and not left) else "either"
        if state is None or state[0] == "s":
            if role != "close":
                state = ("d", i, j)
            elif not out and state is None and any(c.isalpha() for c in text[ps:i]):
                out.append((ps, ps, i, j))  # closing mark whose opening mark is missing
        elif role != "open" or not left:
            out.append((state[1], state[2], i, j))
            state = None
        else:
            state = ("d", i, j)  # two opening marks: the first one was stray
    if state and state[0] == "d":
        out.append((state[1], state[2], pe, pe))
    return out


def _find_quotes(text: str, pars: list[tuple[int, int, int, str]]) -> list[_Quote]:
    """Return the quotations of an article, paragraph by paragraph, trimmed of spaces and commas."""
    quotes: list[_Quote] = []
    chain = 0
    open_chain = None
    for n, (_, ps, pe, _) in enumerate(pars):
        spans = _scan_paragraph(text, ps, pe)
        for k, (os_, oe, cs, ce) in enumerate(spans):
            qs, qe = oe, cs
            while qs < qe and text[qs].isspace():
                qs += 1
            while qe > qs and (text[qe - 1].isspace() or text[qe - 1] == ","):
                qe -= 1
            if qe <= qs or not any(c.isalnum() for c in text[qs:qe]):
                continue
            if k == 0 and open_chain is not None and os_ == ps:
                cid = open_chain
            else:
                chain += 1
                cid = chain
            quotes.append(_Quote(qs, qe, oe, cs, os_, ce, n, cid))
        open_chain = None
        if spans and spans[-1][2] == pe and spans[-1][3] == pe and quotes and quotes[-1].para == n:
            nxt = pars[n + 1] if n + 1 < len(pars) else None
            if nxt is not None and text[nxt[1]:nxt[1] + 2].startswith(tuple(_D_OPEN) + ('"',)):
                open_chain = quotes[-1].chain  # the next paragraph reopens this quotation
    return quotes


def _mask(text: str, quotes: list[_Quote]) -> str:
    """Return ``text`` with quoted words replaced by '§' and marks normalised, same length."""
    chars = list(text.replace("§", " "))
    for q in quotes:
        for i in range(q.raw_s, q.raw_e):
            if chars[i] != "\n":
                chars[i] = "§"
        if q.os < q.raw_s:
            chars[q.os:q.raw_s] = [" "] * (q.raw_s - q.os - 1) + ["“"]
        if q.raw_e < q.ce:
            chars[q.raw_e:q.ce] = ["”"] + [" "] * (q.ce - q.raw_e - 1)
    return "".join(chars)


# --------------------------------------------------------------------------- tokens

_LOWER_WORD = re.compile(r"\b(?:[a-z]+|According)\b")
_TOKEN = re.compile(r"§+|[“”]|\w(?:[\w’'\-]|\.(?=-?\w)|(?<=\d),(?=\d{3}(?!\d)))*|[^\w\s§]")  # 3,000, U.S.-led


class _Tok:
    """One token of a sentence: offsets, text, lower-case text and kind."""

    __slots__ = ("s", "e", "t", "k", "low")

    def __init__(self, s: int, e: int, t: str, k: str) -> None:
        self.s, self.e, self.t, self.k = s, e, t, k  # k: 'q' quoted, 'o'/'c' marks, 'w' word, 'p' punctuation
        self.low = t.lower()


def _tokens(masked: str, s: int, e: int, abbrevs: frozenset) -> list[_Tok]:
    out: list[_Tok] = []
    prev_end = -1
    for m in _TOKEN.finditer(masked, s, e):
        a, b = m.span()
        if a < prev_end:
            continue  # the full stop of an abbreviation, already in the previous token
        t = m.group()
        c = t[0]
        if c.isalnum() or c == "_":
            k = "w"
            if b < e and masked[b] == "." and (len(t) == 1 and t.isupper() or "." in t or t.lower() in abbrevs):
                b += 1
                t += "."
        elif c == "§":
            k = "q"
        elif t == "“":
            k = "o"
        elif t == "”":
            k = "c"
        else:
            k = "p"
        out.append(_Tok(a, b, t, k))
        prev_end = b
    return out


def _cap(t: str) -> bool:
    if not t:
        return False
    if t[0].isupper():
        return True
    low = t.lower()
    for p in ("al-", "el-", "ul-"):
        if low.startswith(p) and len(t) > len(p) and t[len(p)].isupper():
            return True
    return False


_STOP_BACK = frozenset({"that", "but", "while", "as", "because", "although", "though", "if", "when", "so",
                        "since", "whereas", "until", "where", "whether", "than", "or", "nor", "yet", "and",
                        "then", "after", "before", "once", "unless", "what", "whom"})
_SKIP_BEFORE_CUE = frozenset({"has", "have", "had", "also", "later", "previously", "further", "then", "again",
                              "earlier", "reportedly", "once", "would", "will", "may", "might", "could",
                              "recently", "repeatedly", "publicly", "did", "does", "do", "not",
                              "never", "always", "already", "last", "separately", "instead", "allegedly",
                              "purportedly", "apparently", "only", "first", "just", "even", "long", "often",
                              "still", "now"})  # "have long argued", "officials still say"
_DETS = frozenset({"a", "an", "the", "this", "these", "those", "its", "his", "her", "their", "our", "my", "your",
                   "some", "many", "several", "other", "another", "two", "three", "four", "five", "six", "both",
                   "one", "most", "all", "no", "any", "each", "more", "few", "numerous", "various"})
_BE = frozenset({"is", "was", "were", "are", "been", "be", "being", "'s", "’s"})
_PREPS = frozenset({"in", "on", "at", "during", "to", "of", "for", "with", "by", "from", "about", "over", "after",
                    "before", "via", "through", "into", "against", "amid", "under", "without", "within",
                    "towards", "toward", "upon", "across", "around", "near", "as"})
_REL = frozenset({"who", "which", "whose", "whom"})
_TIME = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
                   "yesterday", "tonight", "week", "month", "year", "weekend", "morning", "evening", "night",
                   "afternoon", "earlier", "later", "recently", "previously", "last", "this", "next", "on",
                   "also", "meanwhile", "however", "now", "then", "dawn", "dusk", "noon", "midnight", "overnight"})
_MONTHS = frozenset({"january", "february", "march", "april", "may", "june", "july", "august", "september",
                     "october", "november", "december", "jan.", "feb.", "aug.", "sept.", "oct.", "nov.", "dec."})
_PRONOUNS = {"he": "person", "she": "person", "they": "plural", "it": "org", "we": "plural", "i": "person"}
_PRONOUN_GENDER = {"he": "m", "she": "f"}
_CONTRACTED = frozenset({"he", "she", "it", "that", "there", "who", "what", "where", "here", "one"})  # "he's said"
_DASHES = frozenset({"—", "–", "-", "―"})
_CONTINUING = frozenset({"but", "while", "although", "though", "yet", "whereas"})


# --------------------------------------------------------------------------- speaker phrases

@dataclass
class _Mention:
    text: str            # the words of the mention as written
    start: int
    end: int
    kind: str            # person | org | description (unnamed source) | statement | pronoun | nominal (the colonel)
    name: str = ""       # a person's name without title
    title: str = ""
    role: str = ""
    head: str = ""       # the head noun, lower case (for "the colonel", "the statement")
    definite: bool = False
    plural: bool = False
    resolved: "_Mention | None" = None
    about: str = ""      # a relative clause about the speaker: "commands a Peshmerga battalion"
    subject_only: bool = False  # the subject of a sentence read without a reporting verb pointing at it

    def keywords(self, lex: _Lexicon) -> set:
        """Lower-case words of the title, role and phrase, and the head noun of the title."""
        words = set(re.findall(r"[\w.]+", f"{self.title} {self.role} {self.text}".lower()))
        words = {w.rstrip(".") for w in words} | words
        words.add(_title_head(self.title, lex))
        return words


def _named_after_role(words: list[_Tok], lex: _Lexicon) -> bool:
    """A lower-case role before a name: ``spokesman Maj. Gen. Khalid Aziz``, ``the coalition spokesman Col.
    X``, ``researcher Hiwa Salih`` (not ``the Kataib Hezbollah``)."""
    r = len(words)
    while r > 0 and (_cap(words[r - 1].t) or words[r - 1].low in lex.particles):
        r -= 1
    if r == len(words) or r == 0 or not _cap(words[-1].t):
        return False
    if words[r - 1].t.islower() and words[r - 1].low in lex.person_nouns:
        return True
    return any(w.t in lex.title_last or w.low in lex.title_heads for w in words[r:-1])


def _title_head(title: str, lex: _Lexicon) -> str:
    """The noun a later mention uses for a title: 'Army Col.' -> 'colonel', 'Prime Minister' -> 'prime minister'."""
    words = title.split()
    for n in range(len(words)):
        head = lex.title_heads.get(" ".join(words[n:]).lower())
        if head:
            return head
    return ""


def _last_name(name: str, lex: _Lexicon) -> str:
    """The surname of a full name, without suffixes and articles: 'Myles B. Caggins III' -> 'caggins'."""
    words = [w for w in name.split() if w not in lex.suffixes]
    return _surname(words[-1]) if words else ""


def _surname(word: str) -> str:
    """A surname without its article: 'al-Abadi' -> 'abadi'."""
    return re.sub(r"^(?:al|el|ul|as|ad|an|ar)-", "", word, flags=re.IGNORECASE).lower()


def _noun_position(toks: list[_Tok], i: int, lex: _Lexicon) -> bool:
    """Is the word at ``i`` a noun by its place: after a possessive ("the group's claims") or first
    in a listed compound ("a think tank")?"""
    if i > 0 and toks[i - 1].k == "w" and toks[i - 1].low[-2:] in ("’s", "'s") and \
            toks[i - 1].low[:-2] not in _CONTRACTED:
        return True
    return i + 1 < len(toks) and (toks[i].low, toks[i + 1].low) in lex.noun_compounds


def _is_verbish(toks: list[_Tok], i: int, lex: _Lexicon) -> bool:
    t = toks[i]
    if t.k != "w" or not t.t.islower():
        return False
    low = t.low
    prev = toks[i - 1].low if i > 0 else ""
    if prev in _DETS:
        return False  # "the report", "a retired general"
    if _noun_position(toks, i, lex):
        return False  # "the group's claims", "a think tank"
    if low in lex.aux or low in lex.cues:
        return True
    if low.endswith("ed") and len(low) > 4 and "-" not in low:
        return prev not in ("most", "very", "so-called", "well")
    return False


def _of_them(toks: list[_Tok]) -> bool:
    """A part of a group named before: ``One of them``, ``two of us``, ``Some of them``."""
    return 3 <= len(toks) <= 4 and toks[-1].low in ("them", "us") and toks[-2].low == "of" and \
        (toks[0].low in _DETS or toks[0].t.isdigit())


def _np_ok(toks: list[_Tok], lex: _Lexicon) -> bool:
    """A phrase can name a speaker: a capitalised word, a pronoun, or a person/organisation noun."""
    if not toks or len(toks) > MAX_NP_TOKENS:
        return False
    head_part = []
    for t in toks:
        if t.low in _REL or (t.low in ("speaking", "quoted", "cited", "familiar") and head_part):
            break
        head_part.append(t)
    if not head_part or any(t.k in ("q", "o", "c") for t in head_part):
        return False
    if len(head_part) == 1 and head_part[0].low in _PRONOUNS or _of_them(head_part):
        return True
    for n, t in enumerate(head_part):
        if t.k != "w":
            continue
        if _cap(t.t) and not (n == 0 and t.low in _DETS | lex.adverbial):
            return True
        if t.low in lex.person_nouns or t.low in lex.org_nouns or t.low in lex.statement_nouns:
            return True
    # any short noun phrase with an article: "a shepherd", "the farmers"
    return head_part[0].low in ("a", "an", "the") and 2 <= len(head_part) <= 6 and \
        all(t.k == "w" for t in head_part) and head_part[-1].low not in _PREPS | _DETS | _STOP_BACK


def _collect_back(toks: list[_Tok], k: int, lo: int, lex: _Lexicon, modifiers: bool = False) -> int:
    """Start index of the noun phrase that ends at token ``k`` (reading backwards, at most to ``lo``); with
    ``modifiers``, the phrase ends right before a verb and may end in a phrase like ``released in May``."""
    i = k
    depth = 0
    while i >= lo:
        t = toks[i]
        if t.t == ")":
            depth += 1
        elif t.t == "(":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0:
            if t.k in ("q", "o", "c"):
                break
            if t.k == "p" and not (t.t in _DASHES and 0 < i < len(toks) - 1 and _cap(toks[i - 1].t)
                                   and _cap(toks[i + 1].t)) and t.t not in ("’", "'", "&", "."):
                break
            if t.k == "w" and t.low in _STOP_BACK and not (t.low == "once" and i + 1 <= k and _past_participle(
                    toks[i + 1], lex)):  # "villages once held by IS": an adverb, not a conjunction
                if t.low == "and" and i > lo and toks[i - 1].k == "w" and not (
                        _cap(toks[i + 1].t) and not _cap(toks[i - 1].t)) and toks[i + 1].low not in _PRONOUNS:
                    i -= 1
                    continue
                break
        if k - i >= MAX_NP_TOKENS + 6:
            break
        i -= 1
    start = i + 1
    # a verb inside the stretch ends the phrase unless it sits in a relative clause (who requested ...)
    rel_seen = False
    cut = start
    for n in range(start, k + 1):
        if toks[n].low in _REL:
            rel_seen = True
        elif not rel_seen and _is_verbish(toks, n, lex) and not _noun_use(toks, n, lex) and \
                not (modifiers and _modifier_phrase(toks, n, k, start, lex)):
            cut = n + 1
    start = cut
    if lo < start <= k and toks[start - 1].low in lex.title_modifiers and _cap(toks[start].t):
        start -= 1  # "retired Brig. Gen. X": the modifier is no verb
    # time words before the subject: "Last week Jabar Yawar"
    while start < k and toks[start].low in _TIME and toks[start + 1].k == "w":
        start += 1
    return start


def _noun_use(toks: list[_Tok], i: int, lex: _Lexicon) -> bool:
    """A document noun that is also a verb form, inside a noun phrase: ``A U.N. monitoring report``,
    ``the army's statement`` (not ``Officials report``)."""
    if toks[i].low not in lex.document_nouns:
        return False
    for m in range(i - 1, max(-1, i - 5), -1):
        t = toks[m]
        if t.k != "w" or t.low in lex.aux or t.low in _PRONOUNS:
            return False
        if t.low in ("a", "an", "the", "this", "its", "their", "his", "her") or t.low.endswith(("’s", "'s")):
            return m == i - 1 or not (toks[i - 1].t.islower() and toks[i - 1].low.endswith("s"))
    return False


def _past_participle(t: _Tok, lex: _Lexicon) -> bool:
    return t.k == "w" and t.t.islower() and (t.low.endswith("ed") or t.low in lex.past_participles)


def _modifier_phrase(toks: list[_Tok], n: int, k: int, start: int, lex: _Lexicon) -> bool:
    """The verb-like word at ``n`` heads a short phrase after a noun, up to ``k``: ``A U.N. report in July``,
    ``An assessment released in February``, ``A man wounded in the attack`` (not ``He said on Monday the``)."""
    if n <= start or toks[n - 1].k != "w" or toks[n - 1].low in _DETS | _PREPS | lex.aux or \
            toks[n].low in lex.aux or not (_past_participle(toks[n], lex) or toks[n].low in lex.document_nouns):
        return False
    tail = toks[n + 1:k + 1]
    if not tail or tail[0].low not in _PREPS or len(tail) > 6:
        return False
    for m, t in enumerate(tail[1:], 1):
        if t.k != "w" or (t.low in _DETS and tail[m - 1].low not in _PREPS) or \
                (t.low not in _PREPS and _is_verbish(tail, m, lex)):
            return False
    return True


def _time_tail(toks: list[_Tok], lo: int, hi: int, lex: _Lexicon) -> int:
    """End of a speaker phrase without a final time phrase: ``A U.N. report in July`` -> ``A U.N. report``."""
    for p in range(hi - 2, lo, -1):
        if toks[p].low in ("in", "on", "during", "at", "from", "since", "last", "earlier", "this"):
            rest = toks[p + 1:hi]
            if rest and all(t.low in _TIME or t.low in _MONTHS or t.t.isdigit() for t in rest):
                cut = p - 1 if (toks[p - 1].low.endswith("ed") or toks[p - 1].low in ("late", "early")) and \
                    p - 1 > lo else p
                return cut if cut - lo >= 2 else hi
    return hi


def _looks_name(toks: list[_Tok], lex: _Lexicon) -> bool:
    words = [t for t in toks if t.k == "w"]
    if not words or len(words) > 6 or all(t.low in _TIME or t.low in _MONTHS or t.low in lex.adverbial
                                          for t in words):
        return False  # "Today, say officials, ..."
    if len(words) > 1 and words[0].low in lex.title_modifiers:
        words = words[1:]  # "retired Brig. Gen. X"
    real = 0
    for t in words:
        if t.t in lex.suffixes or (len(t.t) == 2 and t.t.endswith(".")) or t.low in lex.particles:
            continue
        if not _cap(t.t) or t.low in _DETS:
            return False
        if t.t not in lex.not_name and t.low not in lex.org_nouns and t.low not in lex.title_heads:
            real += 1
    return real > 0


def _one_role(toks: list[_Tok], lex: _Lexicon) -> bool:
    """A role of one person, fronted before a name (``President of KRG``, ``The mayor of Khalis``): its
    head is a singular person noun or title, and it has no verb (not ``The attackers fled toward ...``)."""
    words = [t for t in toks if t.k == "w"]
    head = None
    for t in words:
        if t.low in _PREPS:
            break
        head = t
    if head is None or any(t.t.islower() and (t.low in lex.aux or _is_verbish(words, n, lex))
                           for n, t in enumerate(words)):
        return False
    low = head.low
    return (low in lex.person_nouns or low in lex.title_heads) and not (low.endswith("s") and not low.endswith("ss"))


def _looks_role(toks: list[_Tok], lex: _Lexicon) -> bool:
    words = [t for t in toks if t.k == "w"]
    if not words or len(words) > MAX_NP_TOKENS:
        return False
    if words[0].low in ("a", "an", "the") or words[0].low in lex.person_nouns:
        return True
    return any(t.low in lex.person_nouns or t.low in lex.title_heads for t in words)


@dataclass
class _NP:
    lo: int                   # token range of the phrase (inclusive lo, exclusive hi)
    hi: int
    role_lo: int = -1         # apposition or fronted role phrase
    role_hi: int = -1
    name_lo: int = -1         # when the name is in the apposition ("The mayor of Khalis, Adi al-Khadran,")
    name_hi: int = -1
    rel_lo: int = -1          # a relative clause set off by commas ("X, who commands a battalion, said")
    rel_hi: int = -1


def _np_before(toks: list[_Tok], i: int, lo: int, lex: _Lexicon) -> _NP | None:
    """The speaker phrase that ends just before the reporting verb at token ``i``."""
    k = i - 1
    while k >= lo and toks[k].k == "w" and ((toks[k].low in _SKIP_BEFORE_CUE and toks[k].t.islower()) or
                                             (toks[k].low.endswith("ly") and toks[k].t.islower()
                                              and len(toks[k].t) > 4)):
        k -= 1
    if k < lo:
        return None
    if toks[k].t == "," and (aside := _aside_before(toks, k, lo, lex)) >= 0:
        k = aside  # "Residents of the town, however, say": read the speaker before the aside
    if toks[k].t == ",":
        a_hi = k - 1
        if a_hi < lo:
            return None
        rel = (-1, -1)
        aside = False
        for _ in range(2):  # skip asides: "X, speaking on condition of anonymity, said", "X, 34, who ..., said"
            c = a_hi
            while c >= lo and toks[c].t != "," and toks[c].k not in ("q", "o", "c") and k - c <= 30:
                c -= 1
            if not (c > lo and toks[c].t == "," and c + 1 <= a_hi):
                break
            first = toks[c + 1]
            if first.low in lex.title_modifiers and c + 2 <= a_hi and _cap(toks[c + 2].t):
                break  # "A military analyst, retired Brig. Gen. X, told": a name, not an aside
            if not ((first.t.islower() and (first.low.endswith("ing") or first.low in _REL or first.low in _PREPS
                                            or _past_participle(first, lex) or first.low == "where"))
                    or (c + 1 == a_hi and first.t.isdigit())):  # "Residents of Kifri, where ..., said"
                break
            if first.low in _REL and rel[0] < 0:
                rel = (c + 1, a_hi + 1)
            a_hi, aside = c - 1, True
        a_lo = _collect_back(toks, a_hi, lo, lex, modifiers=True)
        if a_lo > a_hi:
            return None
        np_ = None
        if a_lo - 1 >= lo and toks[a_lo - 1].t == ",":
            np_ = _apposition(toks, a_lo, a_hi, lo, lex)
            if aside:
                # "Army Col. X, spokesman for ..., briefing from Baghdad, said" when the name begins the sentence;
                # otherwise the phrase before the aside alone ("..., a senior official, speaking ..., said")
                if np_ is not None and not (_only_adverbials(toks[lo:np_.lo], lex) and _looks_name(
                        toks[np_.name_lo:np_.name_hi] if np_.name_lo >= 0 else toks[np_.lo:np_.hi], lex)):
                    np_ = None
                if np_ is None and _np_ok(toks[a_lo:a_hi + 1], lex):
                    np_ = _NP(a_lo, a_hi + 1)
        elif aside or a_lo - 1 < lo or toks[a_lo - 1].k in ("c", "q"):
            stretch = toks[a_lo:a_hi + 1]
            if _looks_name(stretch, lex) or _np_ok(stretch, lex):
                np_ = _NP(a_lo, a_hi + 1)  # a stray comma before the verb, or a phrase before an aside
        if np_ is not None:
            np_.rel_lo, np_.rel_hi = rel
        return np_
    if toks[k].k != "w" and toks[k].t != ")":
        return None
    start = _collect_back(toks, k, lo, lex, modifiers=True)
    for m in range(k, start, -1):
        if toks[m].low in _PRONOUNS and toks[m - 1].k == "w":
            start = m  # "a man it described as": a relative clause whose subject is the pronoun
            break
    if start > k or not _np_ok(toks[start:k + 1], lex) or (toks[start].t.islower() and toks[start].low.endswith("ing")
                                                         and toks[start].low not in _DETS):
        return None  # "citing police reports": the object of a participle, not a speaker
    last = toks[k]
    if last.k == "w" and last.t.islower() and last.low not in lex.person_nouns and last.low not in lex.org_nouns \
            and last.low not in lex.statement_nouns and last.low not in lex.document_nouns \
            and last.low not in _PRONOUNS and not _of_them(toks[start:k + 1]) \
            and not any(t.low in _REL for t in toks[start:k]) \
            and (toks[start].low not in ("a", "an", "the") or last.low in _PREPS | _DETS | _STOP_BACK) \
            and not (toks[i].low not in lex.participles and _head_before_prep(toks, start, k, lex)):
        return None
    np_ = _NP(start, _time_tail(toks, start, k + 1, lex))
    # a fronted role: "President of KRG, Nechirvan Barzani warned"
    if start - 2 >= lo and toks[start - 1].t == "," and _looks_name(toks[start:k + 1], lex):
        r_hi = start - 2
        r_lo = _collect_back(toks, r_hi, lo, lex)
        role = toks[r_lo:r_hi + 1]
        if role and role[0].low not in lex.adverbial and _looks_role(role, lex) and not _looks_name(role, lex) \
                and (r_lo == lo or toks[r_lo - 1].t == ",") and _one_role(role, lex):
            np_.role_lo, np_.role_hi = r_lo, r_hi + 1
    return np_


def _head_before_prep(toks: list[_Tok], start: int, k: int, lex: _Lexicon) -> bool:
    """The phrase ``toks[start:k + 1]`` is a person or organisation noun with a prepositional phrase after it:
    "Farmers in at least four villages", "Residents of the old quarter"."""
    p = next((n for n in range(start + 1, k) if toks[n].low in _PREPS), -1)
    return p > start and toks[p - 1].k == "w" and (toks[p - 1].low in lex.person_nouns or
                                                    toks[p - 1].low in lex.org_nouns)


def _aside_before(toks: list[_Tok], k: int, lo: int, lex: _Lexicon) -> int:
    """Index of the last word before an aside that ends with the comma at ``k`` (``X, however,``), or -1."""
    for n in range(1, 5):
        c = k - n - 1
        if c - 1 < lo:
            break
        if toks[c].t == "," and tuple(t.low for t in toks[c + 1:k]) in lex.asides and toks[c - 1].k == "w":
            return c - 1
    return -1


def _role_then_name(role: list[_Tok], name: list[_Tok], lex: _Lexicon) -> bool:
    """``ROLE, NAME``: a role phrase (not itself a name) set beside a name (``the spokesman, Ali Hassan``)."""
    return _looks_name(name, lex) and not _looks_name(role, lex) and _looks_role(role, lex)


def _apposition(toks: list[_Tok], a_lo: int, a_hi: int, lo: int, lex: _Lexicon) -> _NP | None:
    """``NAME, ROLE`` or ``ROLE, NAME`` where ``a_lo..a_hi`` is the second part, after a comma."""
    h_hi = a_lo - 2
    h_lo = _collect_back(toks, h_hi, lo, lex) if h_hi >= lo else h_hi + 1
    h_lo, h_hi = _before_home(toks, h_lo, h_hi, lo, lex)
    head, appos = toks[h_lo:h_hi + 1], toks[a_lo:a_hi + 1]
    if head and _np_ok(head, lex):
        if _role_then_name(head, appos, lex):
            return _NP(h_lo, a_hi + 1, h_lo, h_hi + 1, a_lo, a_hi + 1)
        if _looks_role(appos, lex) and (_looks_name(head, lex) or head[-1].k == "w"):
            return _NP(h_lo, h_hi + 1, a_lo, a_hi + 1)
    if lo == 0 < h_lo and h_hi < 16 and _looks_name(appos, lex) and _role_opens_sentence(toks[:h_hi + 1], lex):
        return _NP(0, a_hi + 1, 0, h_hi + 1, a_lo, a_hi + 1)
    return None


def _before_home(toks: list[_Tok], h_lo: int, h_hi: int, lo: int, lex: _Lexicon) -> tuple[int, int]:
    """Step back over an age and a home town between a name and its role: in "Marcus Wheeler, 23, of Tulsa,
    Okla., a truck driver, said" the phrase before the role is "Marcus Wheeler", not "Okla."."""
    def home(seg: list[_Tok], before: list[_Tok]) -> bool:  # "23", "of Tulsa", "Okla." after "of Tulsa"
        return seg[0].low in ("of", "from") or (len(seg) == 1 and seg[0].t.isdigit()) or (
            len(seg) <= 2 and _cap(seg[0].t) and bool(before) and before[0].low in ("of", "from"))

    s_lo, s_hi = h_lo, h_hi
    for _ in range(3):
        if s_lo - 2 < lo or toks[s_lo - 1].t != ",":
            break
        p_lo = _collect_back(toks, s_lo - 2, lo, lex)
        seg, prev = toks[s_lo:s_hi + 1], toks[p_lo:s_lo - 1]
        if not seg or not prev or not home(seg, prev):
            break
        s_lo, s_hi = p_lo, s_lo - 2
        if not home(prev, []):
            return s_lo, s_hi  # the name before the asides
    return h_lo, h_hi


def _role_opens_sentence(toks: list[_Tok], lex: _Lexicon) -> bool:
    """A sentence that opens with a long role before the name: ``The director of the office for rescuing
    kidnapped Yazidis, NAME, told ...`` (an article, a singular person noun, then one prepositional phrase)."""
    if len(toks) < 4 or toks[0].low not in ("the", "a", "an") or not all(t.k == "w" for t in toks):
        return False
    p = next((m for m in range(1, len(toks)) if toks[m].low in _PREPS), -1)
    return p >= 2 and _one_role(toks[:p], lex) and not any(t.low in lex.aux or t.low in lex.cues for t in toks[p:])


def _np_after(toks: list[_Tok], j: int, hi: int, lex: _Lexicon) -> _NP | None:
    """The speaker phrase right after the verb in ``..., said Army Col. Myles Caggins, a spokesman.``"""
    if j >= hi or toks[j].k != "w":
        return None
    first = toks[j]
    if first.low in _PREPS or first.low in lex.adjuncts - _DETS - {"official", "state", "local"} and not _cap(first.t):
        return None
    if first.t.islower() and first.low not in _DETS and first.low not in lex.person_nouns and not any(
            t.low in lex.person_nouns for t in toks[j + 1:min(hi, j + 3)] if t.k == "w" and t.t.islower()):
        return None  # "said on Monday", but "said local officials", "say security analysts"
    k = j
    while k < hi and toks[k].k == "w" and (k == j or toks[k].low not in _STOP_BACK | lex.participles or (
            toks[k].low == "and" and k + 1 < hi and toks[k + 1].k == "w" and toks[k + 1].low not in _PRONOUNS
            and toks[k + 1].low not in lex.aux and not _is_verbish(toks, k + 1, lex))) \
            and not (k > j and _is_verbish(toks, k, lex)):
        k += 1
        if k - j > MAX_NP_TOKENS:
            return None
    if k == j or not _np_ok(toks[j:k], lex) or any(t.low == "to" for t in toks[j:k]) or \
            (k < hi and toks[k].k == "w" and toks[k].low not in lex.participles):
        return None
    np_ = _NP(j, k)
    if k + 1 < hi and toks[k].t == ",":
        m = k + 1
        while m < hi and not (toks[m].k == "p" and toks[m].t in ",.;:") and toks[m].k == "w" and \
                toks[m].low not in lex.participles:
            m += 1
        if m > k + 1 and (m == hi or toks[m].t in ",.;:") and _role_then_name(toks[j:k], toks[k + 1:m], lex):
            # "..., said the spokesman, Dilovan Sheikhmous." / "said a relative, Jassim Hamad, speaking at ..."
            np_ = _NP(j, m, j, k, k + 1, m)
        elif m > k + 1 and _looks_role(toks[k + 1:m], lex) and (m == hi or toks[m].t in ",.;:") and \
                not any(t.low in lex.aux or _is_verbish(toks, n, lex) for n, t in enumerate(toks[k + 1:m], k + 1)):
            np_.role_lo, np_.role_hi = k + 1, m
    return np_


def _named_last(toks: list[_Tok], j: int, hi: int, lex: _Lexicon) -> bool:
    """A name (with its role) right after the verb ends the sentence: ``..., said Ali Hassan, a spokesman.``"""
    np_ = _np_after(toks, j, hi, lex)
    if np_ is None or not _looks_name(toks[np_.lo:np_.hi], lex):
        return False
    return all(t.k == "p" for t in toks[np_.role_hi if np_.role_hi > 0 else np_.hi:hi])


def _span_text(text: str, toks: list[_Tok], lo: int, hi: int) -> str:
    return text[toks[lo].s:toks[hi - 1].e] if hi > lo else ""


def _match_title(words: list[str], end: int, lex: _Lexicon) -> int:
    """Start index of the longest title (with a service branch before it) that ends at ``words[end]``."""
    best = -1
    if end < 0:
        return -1
    for tw, _, _ in lex.title_last.get(words[end], ()):
        n = len(tw)
        if end - n + 1 >= 0 and tuple(words[end - n + 1:end + 1]) == tw:
            best = end - n + 1
            break
    if best < 0:
        return -1
    for bw in lex.branches:
        n = len(bw)
        if best - n >= 0 and tuple(words[best - n:best]) == bw:
            return best - n
    return best


def _mention(text: str, toks: list[_Tok], np_: _NP, lex: _Lexicon) -> _Mention:
    """Read a speaker phrase: name, title and role of a person, or an organisation, or a description; with
    the relative clause set off after it (``X, who commands ...,``) kept in ``about``."""
    m = _read_phrase(text, toks, np_, lex)
    if np_.rel_lo >= 0 and np_.rel_hi - np_.rel_lo > 1:
        m.about = text[toks[np_.rel_lo + 1].s:toks[np_.rel_hi - 1].e]
        words = m.text.split()
        if toks[np_.rel_lo].low == "who" and m.kind == "org" and not any(_cap(w) for w in words[1:]):
            m.kind = "description"  # "a local notable, who asked not to be named": a person
    return m


def _read_phrase(text: str, toks: list[_Tok], np_: _NP, lex: _Lexicon) -> _Mention:
    """The mention a speaker phrase gives, without its relative clause."""
    if np_.name_lo >= 0:
        main = toks[np_.name_lo:np_.name_hi]
        role_toks = toks[np_.role_lo:np_.role_hi]
    else:
        main = toks[np_.lo:np_.hi]
        role_toks = toks[np_.role_lo:np_.role_hi] if np_.role_lo >= 0 else []
    s, e = main[0].s, main[-1].e
    phrase = text[s:e]
    role = text[role_toks[0].s:role_toks[-1].e] if role_toks else ""
    role = re.sub(r"^(?:the|a|an)\s+", "", role, flags=re.IGNORECASE)
    words = [t for t in main if t.k == "w"]
    low0 = words[0].low if words else ""
    if len(words) == 1 and low0 in _PRONOUNS:
        return _Mention(phrase, s, e, "pronoun", head=low0, plural=_PRONOUNS[low0] == "plural")
    # head noun: the last word before a relative clause or a prepositional phrase
    head_words = []
    for t in words:
        if t.low in _REL or (head_words and (t.low in _PREPS or t.low in ("speaking", "published", "released",
                                                                              "issued", "quoted", "cited"))):
            break
        head_words.append(t)
    head = head_words[-1].low if head_words else low0
    head = re.sub(r"[’']s$", "", head)
    if re.fullmatch(r"\d+-year-old", head):
        head = "person"  # "the 52-year-old"
    definite = low0 in ("the", "this", "these", "those")
    modified = low0 in lex.title_modifiers and len(words) > 1 and _cap(words[1].t)  # "retired Gen. X"
    if (low0 in _DETS or not (_cap(words[0].t) or modified)) and not _named_after_role(words, lex):
        if head in lex.statement_nouns:
            return _Mention(phrase, s, e, "statement", head=head, definite=definite, role=role)
        if head in lex.person_nouns or head in lex.title_heads:
            plural = head.endswith("s") and head not in ("headquarters",) and not head.endswith("ss")
            return _Mention(phrase, s, e, "nominal" if definite else "description", head=head,
                            definite=definite, plural=plural, role=role)
        return _Mention(phrase, s, e, "org", head=head, definite=definite, role=role)
    if head in lex.person_nouns and (not head_words[-1].t[0].isupper() or len(head_words) == 1):
        plural = head.endswith("s") and not head.endswith("ss")
        return _Mention(phrase, s, e, "description", head=head, plural=plural, role=role)
    # capitalised: a person's name after titles and role words, or an organisation
    ws = [t.t for t in words]
    i = len(ws) - 1
    name_start = len(ws)
    while i >= 0:
        w = ws[i]
        if w in lex.suffixes or (len(w) == 2 and w[1] == "." and w[0].isupper()) or \
                (w.lower() in lex.particles and name_start < len(ws)):
            name_start = i
            i -= 1
            continue
        if w in lex.not_name and 0 < i and name_start < len(ws) and _cap(ws[i - 1]) and \
                ws[i - 1] not in lex.not_name and ws[i - 1] not in lex.title_last and \
                ws[i - 1].lower() not in lex.title_heads and ws[i - 1].lower() not in lex.org_nouns and \
                "." not in ws[i - 1]:
            name_start = i  # a word of the list inside a name, between a given name and a surname
            i -= 1
            continue
        if not _cap(w) or w in lex.not_name or w.lower() in lex.org_nouns or "’" in w or "'" in w:
            break
        if w in lex.title_last or w.lower() in lex.title_heads:
            t0 = _match_title(ws, i, lex)
            prev_is_name = t0 == i and i > 0 and _cap(ws[i - 1]) and ws[i - 1] not in lex.not_name and \
                ws[i - 1] not in lex.title_last and _match_title(ws, i - 1, lex) < 0 and name_start < len(ws)
            if t0 >= 0 and not prev_is_name:
                break
        if w.isupper() and len(w) > 1 and not w.endswith("."):
            break  # acronyms are organisations
        name_start = i
        i -= 1
    name_words = ws[name_start:]
    real = [w for w in name_words if w not in lex.suffixes and not (len(w) == 2 and w.endswith("."))]
    if not real or (len(name_words) == 1 and name_words[0].lower() in lex.person_nouns):
        return _Mention(phrase, s, e, "org", head=head, definite=definite, role=role)
    name_tok_start = words[name_start]
    name = text[name_tok_start.s:e]
    title = ""
    pre_end = name_start
    t0 = _match_title(ws, name_start - 1, lex) if name_start > 0 else -1
    if t0 >= 0:
        title = " ".join(ws[t0:name_start])
        pre_end = t0
    premod = text[words[0].s:words[pre_end - 1].e] if pre_end > 0 else ""
    premod = re.sub(r"^(?:The|the)\s+", "", premod)
    if not title and premod:
        # a title at the start of the role phrase: "Vice President of the Kurdistan Region"
        pw = premod.split()
        for n in range(len(pw), 0, -1):
            if _match_title(pw, n - 1, lex) == 0:
                title = " ".join(pw[:n])
                break
    if premod:
        if t0 >= 0 and _title_head(title, lex) not in lex.rank_heads:
            premod = f"{premod} {title}"
        role = role or premod
    return _Mention(phrase, s, e, "person", name=name, title=title, role=role, head=name.split()[-1].lower())


# --------------------------------------------------------------------------- attributions in a unit

@dataclass
class _Att:
    cue_lo: int
    cue_hi: int
    mode: str                         # lead | trail | inv | part | acc | none
    np: _NP | None = None
    content: tuple | None = None      # token range of an indirect/partial clause
    direct: list = field(default_factory=list)   # quotes attributed directly
    speaker_mode: str = "np"          # np | unit | context | impersonal
    impersonal: str = ""
    zone: int = -1                    # token index where this attribution's own words begin
    mention: _Mention | None = None   # the speaker phrase, read
    cls: str = ""                     # class of the verb: say | clause | fragment


def _cue_at(toks: list[_Tok], i: int, lex: _Lexicon):
    t = toks[i]
    low = t.low
    if t.k != "w" or low not in lex.cue_first:
        return None
    if low == "according" and i + 1 < len(toks) and toks[i + 1].low == "to":
        return (i + 2, "according to", "say", False)
    if not t.t.islower() and not (i == 0 and low in lex.participles):
        return None
    if _noun_position(toks, i, lex):
        return None  # "the group's claims", "Baghdad's warning", "a European think tank"
    for words, lemma, cls, obj in lex.cues.get(low, ()):
        n = len(words)
        if tuple(x.low for x in toks[i:i + n]) == words and all(x.k == "w" for x in toks[i:i + n]):
            return (i + n, lemma, cls, obj)
    return None


def _find_that(toks: list[_Tok], k: int, hi: int, lex: _Lexicon, free: int) -> tuple[str, int]:
    """What follows a verb's adjuncts (``said in a statement on Wednesday ...``): ('that', index of
    'that'), ('quote', index of the quotation after ``,`` or ``:``), or ('', -1).

    ``free`` is how many tokens of any kind may come first (the addressee of ``told``/``warned``).
    """
    n = 0
    m = k
    in_pp = False  # inside a prepositional phrase ("in an audio recording"), nouns of any kind may follow
    while m < hi and n <= 12:
        t = toks[m]
        if t.k == "w" and t.low == "that":
            if m + 1 < hi and toks[m + 1].low in lex.aux and toks[m + 1].t.islower():
                return "", -1  # "in the town that was attacked": a relative clause (not "that IS cells")
            return "that", m
        if t.k == "w" and (t.low in _PREPS or (toks[m - 1].t == "," and t.low.endswith("ed") and m + 1 < hi and
                                               toks[m + 1].low == "by")):
            in_pp = True  # "in a statement, received by INA, that": a participle aside names a carrier
            if t.low not in _PREPS:
                n += 1
                m += 1
                continue
        if t.k in ("o", "q") and m > k and toks[m - 1].t in (",", ":"):
            return "quote", m
        if t.k == "p" and t.t not in (",", ":", "’", "'", "-", "(", ")"):
            return "", -1
        if t.k in ("q", "o", "c"):
            return "", -1
        ok = t.k == "p" or _cap(t.t) or t.t.isdigit() or t.low in lex.before_that or n < free or in_pp or \
            (t.low.endswith("ly") and len(t.low) > 4) or (  # "warned repeatedly that", "caution, however, that"
                toks[m - 1].t == "," and (t.low,) in lex.asides)
        if t.k == "w" and n >= free and t.low not in lex.before_that \
                and (t.low in lex.aux or _is_verbish(toks, m, lex)):
            return "", -1
        if not ok:
            return "", -1
        n += 1
        m += 1
    return "", -1


def _skip_object(toks: list[_Tok], k: int, hi: int, lex: _Lexicon) -> int:
    """Skip the addressee after told/warned/assured: a capitalised run or a short noun phrase."""
    m = k
    if m < hi and toks[m].k == "w" and _cap(toks[m].t):
        while m < hi and toks[m].k == "w" and (_cap(toks[m].t) or toks[m].low in ("reporters", "media")
                                               or (toks[m].t.isdigit() and len(toks[m].t) <= 3)):
            m += 1  # "told Rudaw", "told Kurdistan 24", "told Pentagon reporters"
        return m
    if m + 1 < hi and toks[m].low == "the" and toks[m + 1].k == "w" and _cap(toks[m + 1].t):
        return _skip_object(toks, m + 1, hi, lex)  # "told the BBC", "told The Associated Press"
    last = k
    while m < hi and toks[m].k == "w" and m - k < 4 and toks[m].low != "that" and toks[m].low not in _PREPS \
            and toks[m].low not in lex.aux and toks[m].low not in lex.openers - {"this", "these", "those"}:
        if toks[m].low in lex.addressees or toks[m].low in lex.person_nouns or toks[m].low in lex.org_nouns:
            last = m + 1
        m += 1
    return last


def _skip_adjuncts(toks: list[_Tok], k: int, hi: int, lex: _Lexicon) -> int:
    """Skip time words right after a verb: `announced Thursday it ...`, `said on Monday the ...`."""
    m = k
    while m < hi and toks[m].k == "w" and toks[m].low in _TIME | {"on", "in", "at", "during", "late", "early"}:
        if toks[m].low in ("on", "in", "at", "during") and not (m + 1 < hi and toks[m + 1].low in _TIME):
            break
        m += 1
    if m < hi and toks[m].t == "," and m > k:
        m += 1
    return m


_NUMBER_WORDS = frozenset("two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty "
                          "hundred hundreds thousand thousands dozen dozens half".split())
_FRACTIONS = frozenset("third quarter fifth tenth half dozen hundred thousand".split())


def _quantity(toks: list[_Tok], m: int, hi: int) -> bool:
    """A number starts at token m: `60`, `two`, `half`, `a fifth`, `a dozen`."""
    t = toks[m].low
    return t[:1].isdigit() or t in _NUMBER_WORDS or \
        (t in ("a", "one") and m + 1 < hi and toks[m + 1].low in _FRACTIONS)


def _clause_like(toks: list[_Tok], k: int, hi: int, cls: str, lex: _Lexicon) -> bool:
    if k >= hi or toks[k].k != "w":
        return False
    first = toks[k].low
    approx = k + 1 < hi and ((first in ("about", "around", "over", "some", "nearly", "almost") and
                              _quantity(toks, k + 1, hi)) or (first == "at" and toks[k + 1].low in ("least", "most")))
    # "said about 60 fighters had crossed", "said about a fifth of the vehicles ...", "said at least six village
    # heads had been killed"
    if (first in ("to", "of", "for", "about", "on", "in", "at", "with", "by", "from", "against", "during",
                  "that", "as", "if", "whether", "how", "what", "why", "when", "where", "who") and not approx) or \
            first in lex.noun_objects or (first in _DETS and any(t.low in lex.noun_objects for t in toks[k + 1:min(hi, k + 3)])):
        return False
    if first in lex.openers and first not in ("its", "their", "this", "these", "those"):
        return k + 1 < hi and toks[k + 1].k == "w"
    for m in range(k + 1, min(hi, k + 12)):
        t = toks[m]
        if t.k == "p" and t.t not in ("-", "’", "'", "(", ")"):
            break
        if t.k == "w" and (t.low in lex.aux or t.low in ("won’t", "can’t", "don’t", "isn’t", "aren’t", "wasn’t",
                                                         "cannot", "won't", "can't", "don't")):
            if cls == "say":
                return True
            subject = toks[k:m]
            return len(subject) <= 5 and not any(x.low in _PREPS or x.low in _REL or x.low in ("that", "whether", "if")
                                                 for x in subject)
        if cls == "say" and m - k <= 4 and t.k == "w" and t.t.islower() and t.low.endswith("ed") and \
                _is_verbish(toks, m, lex) and not any(x.low in _PREPS or x.low in _REL for x in toks[k:m]):
            return True  # "saying local police lacked the vehicles": a short subject and a past-tense verb
        if cls != "say" and t.k == "w" and (t.low in _PREPS or t.low in _REL):
            return False
    if cls == "say":
        return first not in lex.adjuncts or first in _DETS or _cap(toks[k].t)
    return False


def _unit_attributions(toks: list[_Tok], lex: _Lexicon, spoken: frozenset = frozenset()) -> list[_Att]:
    """Find every reporting verb of a sentence and read its speaker phrase and reported words.

    ``spoken`` holds the offsets of closing marks that end like speech (``,”`` ``.”`` ``?”``): only
    those take an attribution that follows them (not ``the so-called "Islamic State" claimed``).
    """

    def after_speech(t: _Tok) -> bool:
        return t.k == "q" or (t.k == "c" and t.s in spoken)

    def place(att: _Att, np_: _NP, j: int, cls: str, obj: bool) -> None:
        """Lead (``X said that ...``), trailing (``..., X said.``) or inside another clause."""
        att.np = np_
        first = np_.role_lo if 0 <= np_.role_lo < np_.lo else np_.lo
        before = toks[:first]
        if _only_adverbials(before, lex):
            att.mode, att.zone = "lead", 0 if not before else first
            _read_after(toks, att, j, n, cls, obj, lex, parenthetical=bool(before))
            if att.content is None and not att.direct and toks[first - 1].t in (",", "—", "–") and \
                    _trail_ok(toks, j, obj, lex) and any(_is_verbish(toks, m, lex) for m in range(first - 1)):
                # "In Syria, by contrast, fighters have carried out ambushes, the report said.": the fronted
                # phrase opens a clause the speaker is credited with at the end
                att.mode, att.zone = "trail", first - 1
        elif after_speech(toks[first - 1]) or (toks[first - 1].t in (",", "—", "–", ":", "(") and
                                                  _trail_ok(toks, j, obj, lex)):
            att.mode, att.zone = "trail", first - 1 if toks[first - 1].k == "p" else first
        else:
            att.mode = "lead"
            before_np = toks[first - 1]
            if before_np.low in _CONTINUING or (before_np.low == "and" and first >= 2 and toks[first - 2].t == ","):
                # a clause of its own after a conjunction: "..., though it warned that ...", "A, and officials said B"
                att.zone = first - 2 if first >= 2 and toks[first - 2].t == "," else first - 1
            else:
                # inside another clause ("added that it had warned ..."): no zone of its own
                att.zone = first if before_np.k == "p" else -1
            _read_after(toks, att, j, n, cls, obj, lex)

    atts: list[_Att] = []
    n = len(toks)
    i = 0
    while i < n:
        hit = _cue_at(toks, i, lex)
        if not hit:
            i += 1
            continue
        j, lemma, cls, obj = hit
        prev = toks[i - 1] if i > 0 else None
        if lemma in lex.document_verbs and not ((d := _np_before(toks, i, 0, lex)) is not None and
                                                toks[d.hi - 1].low in lex.document_nouns):
            i = j  # "figures show ...", but not "the video shows ..."
            continue
        if prev is not None and prev.k == "w" and (prev.low in _DETS or prev.low == "to") and lemma != "according to" \
                or _noun_use(toks, i, lex):
            i = j  # a noun ("the report", "a U.N. report") or an infinitive ("to respond")
            continue
        if j + 1 < n and toks[j].low == "to" and toks[j + 1].low in ("be", "have", "been"):
            i = j  # "believed to have played", "said to be": not a quotation
            continue
        if toks[i].low.endswith("s") and j < n and toks[j].t.islower() and (toks[j].low in lex.aux or
                                                                          toks[j].low in lex.cues) and \
                prev is not None and prev.k == "w" and prev.low not in _PRONOUNS:
            i = j  # a plural noun before a verb: "Some member states believe ...", "Gulf states have ..."
            continue
        att = _Att(i, j, "none", cls=cls)
        if lemma == "according to":
            _read_according(toks, att, lex)
        elif prev is not None and prev.low in _BE and prev.t.islower() and not (j < n and toks[j].low == "by"):
            # passive: only "it was announced (that) ..." is a quotation, by an unnamed source
            if i >= 2 and toks[i - 2].low == "it" and lemma in lex.impersonal:
                att.mode, att.speaker_mode, att.impersonal = "lead", "impersonal", lex.impersonal[lemma]
                att.zone = i - 2
                _read_after(toks, att, j, n, cls, False, lex)
            else:
                i = j
                continue
        elif cls == "fragment" and toks[i].low.endswith("ed") and j + 1 < n and toks[j].low == "by" and \
                any(t.k == "q" for t in toks[j:]) and (agent := _agent(toks, j + 1, lex)) is not None:
            # "a man described by police as “...”": the agent speaks the fragment, inside the sentence
            att.mode, att.np, att.zone = "lead", agent, -1
        elif toks[i].low in ("saying", "stating") and prev is not None and prev.low == "as" and \
                (quoted := _quoted_as(toks, i - 1, lex)) is not None:
            q_i, np_ = quoted
            if np_ is not None:  # "has quoted an Iraqi security report as saying that ..."
                att.np = np_
                att.mode, att.zone = "lead", np_.lo - 1
                _read_after(toks, att, j, n, cls, obj, lex)
            else:  # "..., Hadi al-Amiri was quoted as saying by state media."
                np_ = _np_before(toks, q_i - 1, 0, lex) if q_i >= 1 and toks[q_i - 1].low in _BE else None
                if np_ is None:
                    i = j
                    continue
                place(att, np_, j, cls, obj)
        elif toks[i].low in lex.participles and (prev is None or prev.t in (",", "—", "–") or prev.low in (
                "instead", "also", "while", "before", "after", "by") or (prev.k == "w" and prev.low in
                                                                           lex.statement_nouns) or
                                                 (after_speech(prev) and j < n and toks[j].low == "that")):
            # ("“...,” adding that ...": the comma sits inside the closing mark)
            att.mode, att.speaker_mode = "part", "unit"
            att.zone = i - 1 if prev is not None and prev.k == "p" else i
            if prev is not None and prev.low in ("instead", "also", "while", "before", "after", "by"):
                att.zone = i - 1 if i - 2 < 0 or toks[i - 2].k != "p" else i - 2
            _read_after(toks, att, j, n, cls, obj, lex)
        else:
            np_ = _np_before(toks, i, 0, lex)
            if np_ is not None and prev is not None and prev.t == "," and cls != "fragment" and not obj and \
                    _named_last(toks, j, n, lex):
                np_ = None  # "The families, about 600 people, crossed ..., said Ali Hassan, a spokesman."
            if np_ is not None and np_.lo > 0 and toks[np_.lo - 1].low == "what" and j < n and \
                    toks[j].low in _BE:
                att.mode, att.np, att.zone = "lead", np_, np_.lo - 1
                att.content = (j + 1, n)
            elif np_ is not None:
                place(att, np_, j, cls, obj)
            elif prev is None or after_speech(prev) or prev.t in (",", "—", "–"):
                np_ = _np_after(toks, j, n, lex) if cls != "fragment" else None
                if np_ is not None:
                    att.mode, att.np, att.zone = "inv", np_, i - 1 if prev is not None and prev.k == "p" else i
                    end = np_.role_hi if np_.role_hi > 0 else np_.hi
                    if prev is not None and prev.t == "," and _only_adverbials(toks[:i], lex) and end + 1 < n and \
                            toks[end].t == "," and _clause_like(toks, end + 1, n, "say", lex):
                        # "Today, say local officials, the valley is ...": the clause after the speaker
                        att.mode, att.zone, att.content = "lead", 0, (end + 1, n)
                elif prev is not None:
                    att.mode, att.speaker_mode, att.zone = "trail", "context", i - 1 if prev.k == "p" else i
                else:
                    i = j
                    continue
            elif prev is not None and prev.low in ("who", "which") and i >= 3 and toks[i - 2].t == "," and \
                    (np_ := _np_of_relative(toks, i - 3, atts, lex)) is not None:
                # "..., according to the source, who added that ...": a clause of its own by that speaker
                att.mode, att.np, att.zone = "lead", np_, i - 2
                _read_after(toks, att, j, n, cls, obj, lex)
                if att.content is None and not att.direct:
                    i = j
                    continue
            elif (z := _coordinated(toks, i, atts, lex)) >= 0:
                # a second verb of the same subject: "X said A, and warned that B", "insisted A and said B"
                att.mode, att.speaker_mode, att.zone = "lead", "unit", z
                _read_after(toks, att, j, n, cls, obj, lex)
                if att.content is None and not att.direct:
                    i = j
                    continue
            else:
                i = j
                continue
        atts.append(att)
        i = j
    return atts


def _np_of_relative(toks: list[_Tok], k: int, atts: list[_Att], lex: _Lexicon) -> _NP | None:
    """The phrase that ends at ``k`` before ``, who``: the speaker of an earlier attribution, or a name."""
    for a in atts:
        if a.np is not None and k in (a.np.hi - 1, a.np.role_hi - 1):
            return replace(a.np)  # "said X, a local official, who added": X with the role
    lo = _collect_back(toks, k, 0, lex)
    while lo < k and toks[lo].low in _PREPS:
        lo += 1  # "claimed by Abu Omar, who said": the name, not the preposition
    if lo <= k and (_looks_name(toks[lo:k + 1], lex) or _np_ok(toks[lo:k + 1], lex)) and k - lo < 8:
        return _NP(lo, _time_tail(toks, lo, k + 1, lex))
    return None


def _coordinated(toks: list[_Tok], i: int, atts: list[_Att], lex: _Lexicon) -> int:
    """Where a reporting verb joined by ``and`` to an earlier attribution of the sentence takes over (the
    ``and``, or the comma before it), or -1."""
    if toks[i].low in lex.participles:
        return -1
    k = i - 1
    while k > 0 and toks[k].k == "w" and toks[k].t.islower() and (toks[k].low in _SKIP_BEFORE_CUE or (
            toks[k].low.endswith("ly") and len(toks[k].t) > 4)):
        k -= 1
    if k < 1 or toks[k].low not in ("and", "but"):
        return -1
    if not any(a.np is not None and a.mode != "none" and a.zone >= 0 for a in atts):
        # without an earlier attribution, only in one clause: "(On Monday,) X declined to give details but
        # said ...", "Police arrested the man and said he had confessed"
        first_comma = next((m for m in range(k) if toks[m].t == ","), -1)
        lo = first_comma + 1 if first_comma > 0 and _only_adverbials(toks[:first_comma + 1], lex) else 0
        if any(t.k in ("q", "o", "c") or t.t in (";", ":") for t in toks[lo:k]):
            return -1  # (commas may stand in the first verb's object: "offered a grant, about $1,150, and has said")
    return k - 1 if toks[k - 1].t == "," else k


def _agent(toks: list[_Tok], lo: int, lex: _Lexicon) -> _NP | None:
    """The agent after a passive ``by``: ``described by the police as`` -> ``the police``."""
    hi = lo
    while hi < len(toks) and toks[hi].k == "w" and toks[hi].low not in ("as", "that", "for") and hi - lo < 8 and \
            not _is_verbish(toks, hi, lex):
        hi += 1
    return _NP(lo, hi) if hi > lo and _np_ok(toks[lo:hi], lex) else None


def _quoted_as(toks: list[_Tok], as_i: int, lex: _Lexicon) -> tuple[int, _NP | None] | None:
    """``quoted/cited SOURCE as saying``: (index of 'quoted', the source or None when passive), or None."""
    for q in range(as_i - 1, max(-1, as_i - 16), -1):
        if toks[q].low in ("quoted", "quoting", "quotes", "cited", "citing", "cites"):
            if q + 1 < as_i and _np_ok(toks[q + 1:as_i], lex):
                return q, _NP(q + 1, as_i)
            return (q, None) if q + 1 == as_i else None
        if toks[q].k != "w":
            return None
    return None


def _trail_ok(toks: list[_Tok], j: int, obj: bool, lex: _Lexicon) -> bool:
    """After a trailing verb (``..., the colonel said Monday in a statement.``) there is no clause or object."""
    n = len(toks)
    k = _skip_object(toks, j, n, lex) if obj else j
    while k < n and toks[k].k == "w" and toks[k].low in _TIME:
        k += 1
    if k >= n:
        return True
    t = toks[k]
    if t.k in ("o", "q"):
        return True
    if t.k == "p":
        return t.t in ",.;:!?—–)"
    if t.low not in _PREPS:
        return False
    while k < n and not (toks[k].k == "p" and toks[k].t in ",;:—–") and toks[k].k not in ("o", "q"):
        if toks[k].low == "that" or (_is_verbish(toks, k, lex) and not (  # "in a statement carried by ..."
                toks[k].low.endswith("ed") and k + 1 < n and toks[k + 1].low in _PREPS)):
            return False
        k += 1
    return True


def _only_adverbials(before: list[_Tok], lex: _Lexicon) -> bool:
    """The words before a subject are only fronted adverbials (``On Sunday,``, ``Explaining that ...,``)."""
    if not before:
        return True
    if before[-1].t != ",":
        return len(before) == 1 and before[0].low in ("and", "but", "so", "yet", "meanwhile", "however")
    first: list[_Tok] = []  # the first comma-separated piece decides
    for t in before:
        if t.t == ",":
            if first:
                break
        else:
            first.append(t)
    if not first:
        return True
    if first[0].k != "w":
        return False
    # a short piece counts when it reads as a time phrase ("Two days later,", "In 2019,", "Separately,",
    # "Every few months,"),
    # not when it is a clause of its own ("Attacks fell sharply, according to ...")
    short = len(first) <= 3 and (any(t.low in _TIME or (t.low.endswith("s") and t.low[:-1] in _TIME)
                                     or t.low == "ago" or t.t[0].isdigit()
                                     for t in first)
                                 or (len(first) == 1 and first[0].low.endswith("ly")))
    if first[0].low in lex.adverbial or first[0].low.endswith("ing") or short:
        return not any(t.k in ("q", "o", "c") for t in before) or first[0].low in lex.adverbial
    return False


def _read_according(toks: list[_Tok], att: _Att, lex: _Lexicon) -> None:
    n = len(toks)
    i, j = att.cue_lo, att.cue_hi
    k = j
    while k < n and not (toks[k].k == "p" and toks[k].t in ",.;:!?") and toks[k].k == "w":
        k += 1
    if k == j or not _np_ok(toks[j:k], lex):
        return
    att.np = _source_of_document(toks, j, k, lex) or _NP(j, k)
    if (i == 0 or _only_adverbials(toks[:i], lex)) and k < n and toks[k].t == ",":
        att.mode, att.zone = "lead", 0 if i == 0 else i
        att.content = (k + 1, n)
    elif i > 0 and (toks[i - 1].t in (",", "—", "–") or toks[i - 1].k in ("c", "q")):
        att.mode, att.zone = "acc", i - 1 if toks[i - 1].k == "p" else i


def _source_of_document(toks: list[_Tok], lo: int, hi: int, lex: _Lexicon) -> _NP | None:
    """The source named after figures or a document: ``figures from the council`` -> ``the council``."""
    m = lo
    while m < hi and toks[m].k == "w" and toks[m].low not in lex.document_nouns and m - lo < 4 and \
            toks[m].low not in _PREPS:
        m += 1
    if m >= hi or toks[m].low not in lex.document_nouns:
        return None
    m += 1
    for link in lex.document_links:
        if tuple(t.low for t in toks[m:m + len(link)]) == link:
            s = m + len(link)
            if s < hi and _np_ok(toks[s:hi], lex):
                return _NP(s, hi)
    return None


def _read_after(toks: list[_Tok], att: _Att, j: int, hi: int, cls: str, obj: bool, lex: _Lexicon,
                parenthetical: bool = False) -> None:
    """Read what follows a leading verb: quotations it introduces, or the reported clause."""
    k = j
    if k < hi and toks[k].k in ("o", "q"):
        att.direct = _quotes_from(toks, k, hi)
        return
    if k + 1 < hi and toks[k].t in (",", ":") and toks[k + 1].k in ("o", "q"):
        att.direct = _quotes_from(toks, k + 1, hi)
        return
    if k + 1 < hi and toks[k].t == ":" and cls != "fragment" and _clause_like(toks, k + 1, hi, "say", lex):
        att.content = (k + 1, hi)  # "the spokesman said: The group is finished" without quotation marks
        return
    free = 0
    if obj:
        k2 = _skip_object(toks, k, hi, lex)
        if not (k2 < hi and toks[k2].low in lex.aux and toks[k2].t.islower()):
            free = k2 - k  # not "warned the group could return": there the words are the clause's subject
    what, t = _find_that(toks, k, hi, lex, free)
    if what == "quote":
        att.direct = _quotes_from(toks, t, hi)
        return
    if t < 0 and cls == "fragment":
        # "have conveyed their opinion that ...": a short object made of opinion nouns
        for m in range(k, min(hi, k + 5)):
            if toks[m].low == "that" and any(x.low in lex.opinion_nouns for x in toks[k:m]):
                t = m
                break
    if t >= 0:
        if t + 1 < hi and not _subjunctive(toks, t + 1, hi, lex):
            att.content = (t + 1, hi)
        return
    if cls == "fragment":
        return
    k = k + free
    if parenthetical and k < hi and toks[k].t == ",":
        k += 1
    else:
        k = _skip_adjuncts(toks, k, hi, lex)
    if k < hi and _clause_like(toks, k, hi, cls, lex):
        att.content = (k, hi)


def _subjunctive(toks: list[_Tok], s: int, hi: int, lex: _Lexicon) -> bool:
    """A that-clause with a bare ``be`` after its subject is a request (``asked that his name be withheld``),
    not reported speech."""
    for m in range(s + 1, min(hi, s + 7)):
        t = toks[m]
        if t.k != "w":
            return False
        if t.low == "be":
            return toks[m - 1].low not in lex.aux and toks[m - 1].low not in ("to", "will", "would", "not") or (
                toks[m - 1].low == "not" and toks[m - 2].low not in lex.aux)
        if t.low in lex.aux or _is_verbish(toks, m, lex):
            return False
    return False


def _quotes_from(toks: list[_Tok], k: int, hi: int) -> list[int]:
    """Token indices of the quoted stretches that start at ``k`` and follow one another."""
    out = []
    m = k
    while m < hi:
        if toks[m].k == "q":
            out.append(m)
        elif toks[m].k not in ("o", "c") and not (toks[m].k == "p" and toks[m].t in ",.;:!?"):
            break
        m += 1
    return out


# --------------------------------------------------------------------------- one article

@dataclass
class _Row:
    start: int
    end: int
    kind: str
    cue: str
    mention: _Mention | None
    mention_mode: str     # np (a phrase in this sentence) | context (carried over) | impersonal
    sent_id: object
    para: int
    chain: int = 0
    repeat: str = ""      # a fragment whose speaker is that of the same words quoted elsewhere
    impersonal: str = ""


def _trim_clause(text: str, s: int, e: int, quotes_by_close: dict) -> tuple[int, int]:
    """Trim a reported clause: spaces, the final full stop and commas outside quotation marks."""
    while s < e and (text[s].isspace() or text[s] in ",:;—–-"):
        s += 1
    while e > s:
        ch = text[e - 1]
        if ch.isspace() or ch in ",;:—–-":
            e -= 1
        elif ch in ".!?" and (e - 1) not in quotes_by_close:
            e -= 1
        else:
            break
    if e > s and text[e - 1] == ")" and "(" not in text[s:e]:
        e -= 1
    return s, e


def _doc_rows(doc_id: str, text: str, pars: list[tuple[int, int, int, str]],
              sents: list[tuple[int, int, int, int]], lex: _Lexicon) -> list[dict]:
    """All quotations of one article as row dicts (speaker resolved)."""
    pars = [p for p in pars if p[3] in QUOTED_ROLES]
    if not pars:
        return []
    quotes = _find_quotes(text, pars)
    masked = _mask(text, quotes)
    by_raw = {q.raw_s: q for q in quotes}
    # closing marks after speech-like punctuation ("...,” he said"), which an attribution may follow
    spoken = frozenset(q.raw_e for q in quotes if q.raw_e < q.ce and text[q.raw_s:q.raw_e].rstrip()[-1:] in
                       (",", ".", "?", "!", "…", ":", ";", "—", "–", "-"))
    # a dateline at the head of the first body paragraph is not part of any sentence
    body_from = 0
    for _, ps, pe, role in pars:
        if role == "body":
            dl = match_dateline(text[ps:pe])
            if dl is not None and dl.end < pe - ps:
                body_from = ps + dl.end
            break
    # where reporting verbs occur (lower case, or "According"), to skip sentences without any
    cue_at = [m.start() for m in _LOWER_WORD.finditer(masked) if m.group() in lex.cue_first]
    # sentences grouped by paragraph; sentences bridged by one quotation form one unit
    sent_by_par: dict = {}
    for sid, pid, ss, se in sents:
        sent_by_par.setdefault(pid, []).append([max(ss, body_from) if ss < body_from <= se else ss, se, sid])
    quotes_by_par: dict = {}
    for q in quotes:
        quotes_by_par.setdefault(q.para, []).append(q)
    rows: list[_Row] = []
    mentions: list[_Mention] = []
    for n, (pid, ps, pe, role) in enumerate(pars):
        units = sent_by_par.get(pid) or [[max(ps, body_from) if ps < body_from < pe else ps, pe, None]]
        pq = quotes_by_par.get(n, [])
        merged: list[list] = []
        for u in units:
            if merged and (any(q.os < merged[-1][1] and q.ce > u[0] and q.os < u[0] for q in pq)
                           or text[u[0]] in "—–"):  # "“...” — a commander" is one unit
                merged[-1][1] = u[1]
            else:
                merged.append(list(u))
        for us, ue, sid in merged:
            uq = [q for q in pq if us <= q.qs < ue]
            if not uq and not (cue_at and bisect.bisect_left(cue_at, ue) > bisect.bisect_left(cue_at, us)):
                continue
            toks = _tokens(masked, us, ue, lex.abbrevs)
            if not toks:
                continue
            _unit_rows(text, toks, role, uq, by_raw, spoken, lex, sid, n, rows, mentions)
    return _resolve(doc_id, text, rows, mentions, lex, masked)


def _unit_rows(text, toks, role, uq, by_raw, spoken, lex, sid, para, rows, mentions) -> None:
    """Turn the attributions of one unit into rows (direct, partial, indirect)."""
    nt = len(toks)
    atts = [] if role == "title" else _unit_attributions(toks, lex, spoken)
    qtok = {m: by_raw.get(toks[m].s) for m in range(nt) if toks[m].k == "q"}
    quotes_by_close = {q.qe - 1: q for q in uq} | {q.raw_e - 1: q for q in uq} | {q.raw_e: q for q in uq}
    for a in atts:
        if a.np is not None:
            a.mention = _mention(text, toks, a.np, lex)
            mentions.append(a.mention)
    # the subject of the unit, for participles ("..., saying ...") and fragments
    subject = next((a.mention for a in atts if a.mention is not None and a.mode in ("lead", "trail", "inv", "acc")),
                   None)
    if subject is None and atts:
        lo = 0
        while lo < nt and toks[lo].k != "w":
            lo += 1
        # subject at the head of the main clause: skip fronted adverbial pieces
        first_comma = next((m for m in range(nt) if toks[m].t == ","), -1)
        if first_comma > 0 and _only_adverbials(toks[:first_comma + 1], lex):
            lo = first_comma + 1
        hi = lo
        while hi < nt and toks[hi].k == "w" and not _is_verbish(toks, hi, lex) and hi - lo < 12 and \
                toks[hi].low not in lex.participles:
            hi += 1
        if hi > lo and toks[lo].low not in lex.cue_first and _np_ok(toks[lo:hi], lex):
            subject = _mention(text, toks, _NP(lo, hi), lex)
            subject.subject_only = True
            mentions.append(subject)
    # zones: each attribution owns the stretch from its zone to the next one
    atts.sort(key=lambda a: a.cue_lo)
    claimed: set = set()

    def add(s, e, kind, a, mention, mode):
        if e <= s:
            return
        cue = _span_text(text, toks, a.cue_lo, a.cue_hi) if a is not None else ""
        r = _Row(s, e, kind, cue, mention, mode, sid, para, impersonal=a.impersonal if a is not None else "")
        rows.append(r)
        return r

    def att_speaker(a):
        if a.speaker_mode == "impersonal":
            return None, "impersonal"
        if a.speaker_mode == "unit":
            prior = [b for b in atts if b.cue_lo < a.cue_lo and b.mention is not None]
            top = [b for b in prior if b.zone >= 0]  # the subject of the sentence, not of a reported clause
            if top or prior:
                return (top or prior)[-1].mention, "np"
            return subject, "np" if subject is not None else "context"
        if a.mention is None:
            return None, "context"
        return a.mention, "np"

    zones = sorted({a.zone for a in atts if a.mode != "none" and a.zone >= 0})

    def zone_end(start: int) -> int:
        for z in zones:
            if z > start:
                return z
        return nt

    for idx, a in enumerate(atts):
        mention, mode = att_speaker(a)
        if a.mode == "none":
            continue
        # quotations introduced by the verb ("said: “...”") or right before/after it ("“...,” he said")
        direct = list(a.direct)
        if a.mode in ("trail", "inv", "acc", "part"):
            left = a.zone if a.zone >= 0 else a.cue_lo
            prev_z = max([z for z in zones if z < left] + [0])
            region = list(range(prev_z, left))
            while region and toks[region[-1]].k == "p" and toks[region[-1]].t in ",—–:":
                region.pop()
            region_q = [m for m in region if toks[m].k == "q"]
            ends_quote = bool(region) and toks[region[-1]].k in ("c", "q")
            if a.mode != "part" and region:
                frame = [m for m in region if toks[m].k == "w" and not (m == region[0] and toks[m].low in (
                    "and", "but"))]
                if ends_quote and region_q and len(frame) <= MAX_FRAME_WORDS:
                    direct = region_q + direct
                elif a.mode in ("trail", "inv", "acc") and a.np is not None and \
                        len([m for m in region if toks[m].k == "w"]) >= 2:
                    _clause_rows(text, toks, region[0], region[-1] + 1, a, mention, mode, qtok, quotes_by_close,
                                 claimed, add)
            # a quotation that continues after the attribution: “A,” the colonel added, “B.”
            k = a.cue_hi
            if a.np is not None and a.mode == "inv":
                k = a.np.role_hi if a.np.role_hi > 0 else a.np.hi
            while k < nt and toks[k].k == "w" and (toks[k].low in lex.adjuncts or _cap(toks[k].t)
                                                   or toks[k].low in _TIME) and k - a.cue_hi < 10:
                k += 1
            if k + 1 < nt and toks[k].t in (",", ":") and toks[k + 1].k in ("o", "q") and \
                    zone_end(a.cue_lo) > k:
                direct += _quotes_from(toks, k + 1, zone_end(a.cue_lo))
            # reported speech that goes on after the attribution: "A, he said, while B."
            elif a.mode in ("trail", "inv") and a.np is not None and k + 2 < nt and toks[k].t == "," and \
                    toks[k + 1].low in _CONTINUING and _clause_like(toks, k + 2, nt, "say", lex) and \
                    zone_end(a.cue_lo) > k + 2:
                _clause_rows(text, toks, k + 2, zone_end(a.cue_lo), a, mention, mode, qtok, quotes_by_close,
                             claimed, add)
        for m in direct:
            q = qtok.get(m)
            if q is None or id(q) in claimed:
                continue
            claimed.add(id(q))
            r = add(q.qs, q.qe, "direct", a, mention, mode)
            if r is not None:
                r.chain = q.chain
        if a.content is not None and not (a.zone < 0 and any(
                b.content is not None and b is not a and b.content[0] <= a.cue_lo < b.content[1] for b in atts)):
            cs, ce = a.content
            cut = zone_end(a.cue_lo if a.mode != "lead" or a.zone < 0 else max(a.zone, a.cue_lo))
            if cut < ce:
                # the next attribution starts a few words after a dash or comma: cut at the mark
                ce = cut
                for m in range(cut - 1, max(cs, cut - 5), -1):
                    if toks[m].k == "p" and toks[m].t in ",;:—–":
                        ce = m
                        break
            _clause_rows(text, toks, cs, ce, a, mention, mode, qtok, quotes_by_close, claimed, add)
    # quotations no verb points at
    for m in range(nt):
        q = qtok.get(m)
        if q is None or id(q) in claimed:
            continue
        words = len(text[q.qs:q.qe].split())
        fragment = any(t.k == "w" for t in toks[:m]) and not (m >= 2 and toks[m - 2].t in (":",))
        described = False
        if fragment or role == "title":
            title_case = all(w[0].isupper() for w in re.findall(r"[A-Za-z][\w’'-]*", text[q.qs:q.qe])
                             if w.lower() not in ("of", "the", "and", "in", "on", "for", "a", "to"))
            # "described the step as “long overdue”", "described it as a “ticking bomb”", "urging supporters to
            # “seize the moment”": a short fragment that completes a verb of the fragment class counts
            lead_in = m - 2 if m >= 3 and toks[m - 2].low in ("a", "an") and toks[m - 3].low == "as" else m - 1
            described = lead_in >= 1 and toks[m - 1].k == "o" and toks[lead_in - 1].low in ("as", "to") and any(
                a.cls == "fragment" and (a.mention is not None or a.speaker_mode == "unit") and a.cue_lo < lead_in - 1
                for a in atts)
            if (words < MIN_FRAGMENT_WORDS and not (described and words >= 2)) or title_case:
                continue
        elif words < 2:
            continue
        claimed.add(id(q))
        mode = "context"
        mention = None
        mark = _mark_attribution(toks, m, lex) if role != "title" else None
        if mark is not None:
            np_, mark_i = mark
            mention, mode = _mention(text, toks, np_, lex), "np"
            mentions.append(mention)
            r = add(q.qs, q.qe, "direct", _Att(mark_i, mark_i + 1, "mark"), mention, mode)
            if r is not None:
                r.chain = q.chain
            continue
        if fragment and role != "title" and subject is not None and (described or any(a.mention is not None
                                                                                    for a in atts)):
            mention, mode = subject, "np"
        r = add(q.qs, q.qe, "direct", None, mention, mode)
        if r is not None:
            r.chain = q.chain
            r.repeat = text[q.qs:q.qe] if fragment or role in ("title", "standfirst") else ""


def _mark_attribution(toks: list[_Tok], m: int, lex: _Lexicon) -> tuple[_NP, int] | None:
    """A speaker given by punctuation alone: ``“...” — a Peshmerga commander`` or ``Caggins: “...”``."""
    nt = len(toks)
    if m + 3 < nt and toks[m + 1].k == "c" and toks[m + 2].t in _DASHES:
        lo, hi = m + 3, nt
        while hi > lo and toks[hi - 1].k == "p":
            hi -= 1
        np_toks = toks[lo:hi]
        if np_toks and all(t.k == "w" for t in np_toks) and _np_ok(np_toks, lex) and \
                not any(_is_verbish(toks, i, lex) for i in range(lo, hi)):
            return _NP(lo, hi), m + 2
    if 2 <= m <= 9 and toks[m - 1].k == "o" and toks[m - 2].t == ":":
        np_toks = toks[:m - 2]
        if np_toks and all(t.k == "w" for t in np_toks) and _cap(np_toks[0].t) and _np_ok(np_toks, lex) and \
                not any(_is_verbish(toks, i, lex) for i in range(m - 2)):
            return _NP(0, m - 2), m - 2
    return None


def _clause_rows(text, toks, cs, ce, a, mention, mode, qtok, quotes_by_close, claimed, add) -> None:
    """Rows for a reported clause: one indirect/partial row, plus a direct row for a quotation that
    opens inside the clause and runs on into full sentences."""
    if ce <= cs:
        return
    inner = [m for m in range(cs, ce) if toks[m].k == "q"]
    # a quotation that runs on past a sentence end inside the clause becomes its own direct row
    for m in inner:
        q = qtok.get(m)
        if q is None:
            continue
        body = text[q.qs:q.qe]
        if re.search(r"[.!?…][\"”’]?\s+[A-Z“\"]", body):
            cut = m - 1 if m - 1 >= cs and toks[m - 1].k == "o" else m
            k = cut - 1
            while k > cs and not (toks[k].k == "p" and toks[k].t in ",;:—–"):
                k -= 1
            new_ce = k if k > cs else cut
            if id(q) not in claimed:
                claimed.add(id(q))
                r = add(q.qs, q.qe, "direct", a, mention, mode)
                if r is not None:
                    r.chain = q.chain
            ce = new_ce
            break
    if ce <= cs:
        return
    s, e = toks[cs].s, toks[ce - 1].e
    s, e = _trim_clause(text, s, e, quotes_by_close)
    if e <= s or len(re.findall(r"\w+", text[s:e])) < 2:
        return
    inside = []
    for m in range(cs, ce):
        q = qtok.get(m)
        if q is not None and s <= q.qs < e:
            if id(q) in claimed:
                return  # the words are already a row of their own
            inside.append(q)
    for q in inside:
        claimed.add(id(q))
    if len(inside) == 1 and inside[0].os == s and inside[0].ce >= e:
        # the whole clause is one quotation: "told INA that “a group of terrorists attacked ...”"
        r = add(inside[0].qs, inside[0].qe, "direct", a, mention, mode)
        if r is not None:
            r.chain = inside[0].chain
        return
    # "said the group was “hollowed out” by raids, and that its fighters were on the run": a clause joined after
    # a closing mark by "and (that)" is a row of its own, as a clause after a verb of its own would be
    for n, q in enumerate(inside):
        if q.ce >= e:
            break
        j = _JOINED_CLAUSE.match(text, q.ce, e) or \
            _JOINED_THAT.search(text, q.ce, inside[n + 1].os if n + 1 < len(inside) else e)
        if j is None or len(re.findall(r"\w+", text[j.end():e])) < 3 or \
                not ((j.group(1) and j.group(2)) or (not j.group(2) and len(text[q.qs:q.qe].split()) >= MIN_FRAGMENT_WORDS)):
            continue  # "A “q” and that B" stays one row; ", and that B" or "“four words or more” and B" do not
        add(s, j.start() if j.re is _JOINED_THAT else q.ce, "partial", a, mention, mode)
        s = j.end()
    # "said the cells were weakened and that they “can no longer hold ground.”": a quotation of four words or
    # more that ends the clause opens a row of its own at the "and that" before it (or see _BEFORE_FRAGMENT)
    last = inside[-1] if inside else None
    if last is not None and last.os > s and last.ce >= e and len(text[last.qs:last.qe].split()) >= MIN_FRAGMENT_WORDS:
        j = None
        for m in _AND_THAT.finditer(text, s, last.os):
            if not any(q.os <= m.start() < q.ce for q in inside):  # not an "and that" inside a quotation
                j = m
        if j is None and text[last.qs:last.qs + 1].islower():
            j = _BEFORE_FRAGMENT.search(text, s, last.os)
        if j is not None and len(re.findall(r"\w+", text[s:j.start()])) >= 3:
            add(s, j.start(), "partial" if any(s <= q.qs < j.start() for q in inside) else "indirect", a, mention,
                mode)
            s = j.end()
            if s == last.os:  # the second clause is the quotation itself: "..., and that “most of them ...”"
                r = add(last.qs, last.qe, "direct", a, mention, mode)
                if r is not None:
                    r.chain = last.chain
                return
    add(s, e, "partial" if any(s <= q.qs < e for q in inside) else "indirect", a, mention, mode)


_JOINED_CLAUSE = re.compile(r"[ \t]*(,)?[ \t]+and[ \t]+(that[ \t]+)?(?=[\w“\"])")
_JOINED_THAT = re.compile(r"(,)[ \t]+and[ \t]+(that[ \t]+)(?=[\w“\"])")
_AND_THAT = re.compile(r",?[ \t]+and[ \t]+that[ \t]+")
# ... or, for a quotation that goes on in lower case, at a comma right before it or at "and" before a short subject
_BEFORE_FRAGMENT = re.compile(r",[ \t]*$|,?[ \t]+and[ \t]+(?=(?:the|its|their|his|her|[A-Z][\w’'\-]*)"
                              r"(?:[ \t]+[\w’'\-]+){0,2}[ \t]*$)")


# --------------------------------------------------------------------------- speakers across the article



def _slug(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[.’']", "", s)
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def _full_name(text: str, surname: str, lex: _Lexicon) -> _Mention | None:
    """The longest full name in the article that ends with ``surname`` (titles split off)."""
    best = None
    bare = _surname(surname)
    for m in re.finditer(r"((?:\b(?:[A-Z][\w’'\-]*\.?|al-[A-Z][\w’'\-]*|bin|ibn|[A-Z]\.)[ \t]+){1,6})"
                         r"(?:(?:al|el|Al|El)-)?" + re.escape(surname[0].upper() + surname[1:] if bare == surname.lower()
                                                               else surname) + r"\b", text):
        phrase = m.group(0)
        toks = _tokens(phrase, 0, len(phrase), lex.abbrevs)
        ends = [n for n, t in enumerate(toks) if t.k == "p" and t.t == "."]
        toks = [t for t in toks[ends[-1] + 1 if ends else 0:] if t.k == "w"]  # "Mosul. Ahmed": a sentence end
        while toks and (toks[0].low in _PREPS or toks[0].low in _STOP_BACK or toks[0].low in _DETS):
            toks = toks[1:]  # "For Fatima, the debate ...": a capitalised word that opens the sentence
        if not toks:
            continue
        mm = _mention(phrase, toks, _NP(0, len(toks)), lex)
        if mm.kind == "person" and mm.name != surname and _last_name(mm.name, lex) == bare:
            mm = replace(mm, start=m.start() + mm.start, end=m.start() + mm.end)
            mm.text = text[m.start() + toks[0].s:m.end()]
            if best is None or len(mm.name) > len(best.name):
                best = mm
    return best or _given_name_of(text, surname, lex)


def _given_name_of(text: str, name: str, lex: _Lexicon) -> _Mention | None:
    """The one full name in the article that starts with ``name``: "Fatima says" after "Fatima al-Hassan has
    not known ..." (features call people by their given name); None when no name or several do."""
    found: dict[str, _Mention] = {}
    for m in re.finditer(r"(?<![\w’'\-])" + re.escape(name) + r"(?:[ \t]+(?:al-|el-|bin[ \t]+|ibn[ \t]+|Abu[ \t]+|Umm[ \t]+)?"
                         r"[A-Z][\w’'\-]*){1,3}", text):
        mm = _person_at(text, m.start(), m.end(), lex)
        if mm is not None and mm.kind == "person" and len(mm.name.split()) > 1 and mm.name.split()[0] == name:
            found.setdefault(mm.name, mm)
    return next(iter(found.values())) if len(found) == 1 else None


_NAME_RUN = r"((?:[A-Z][\w’'\-]*\.?|al-[A-Z][\w’'\-]*|bin|ibn|bint)(?:[ \t]+(?:[A-Z][\w’'\-]*\.?|al-[A-Z][\w’'\-]*|bin|ibn|bint)){0,5})"
# "..., who gave his name only as X", "..., identified in court only as X", "..., who asked to be identified as X"
_GIVEN_NAME = re.compile(r"\s*,\s*(?:who\s+)?(?:(?:gave|gives|give)\s+(?:his|her|their)\s+(?:first\s+|full\s+)?name"
                         r"|(?:asked|wanted|wished|agreed)\s+to\s+be\s+(?:identified|named|called)"
                         r"|(?:was\s+|is\s+)?(?:identified|named))"
                         r"(?:\s+(?:in|to|by)\s+[\w\-]+(?:\s+[\w\-]+)?)?\s+(?:only\s+)?(?:as|by)\s+"
                         r"(?:(?:his|her|the)\s+(?:kunya|nickname|first\s+name|name)\s+)?" + _NAME_RUN)
_ANONYMOUS = re.compile(r"anonymity|not\s+authori[sz]ed|(?:declined|asked)\s+not\s+to\s+be|declined\s+to\s+be\s+"
                        r"(?:named|identified)|without\s+being\s+named|who\s+did\s+not\s+want", re.IGNORECASE)


def _person_at(text: str, s: int, e: int, lex: _Lexicon, role: str = "") -> _Mention | None:
    """The person a name written at ``text[s:e]`` gives (a title read off), or None when it is no name."""
    phrase = text[s:e]
    toks = [t for t in _tokens(phrase, 0, len(phrase), lex.abbrevs) if t.k == "w"]
    if not toks or not _cap(toks[-1].t):
        return None
    mm = _mention(phrase, toks, _NP(0, len(toks)), lex)
    if mm.kind != "person" or not mm.name:
        words = [t.t for t in toks]
        if len(words) > 3 or any(w in lex.not_name for w in words):
            return None
        mm = _Mention(text=phrase, start=0, end=len(phrase), kind="person", name=phrase.strip())
    mm = replace(mm, start=s + mm.start, end=s + mm.end, role=mm.role or role)
    mm.text = phrase
    return mm


def _given_name(text: str, m: _Mention, lex: _Lexicon) -> _Mention | None:
    """The name an unnamed source goes by when the article gives it right after the description: "an Iraqi
    woman, who gave her name as Umm Ali", "The defendant, identified in court only as Ziyad K."."""
    g = _GIVEN_NAME.match(text, m.end, min(len(text), m.end + 200))
    if g is None:
        return None
    return _person_at(text, g.start(1), g.end(1), lex, role=re.sub(r"^(?:the|a|an)\s+", "", m.text, flags=re.I))


def _named_in_apposition(text: str, head: str, lo: int, hi: int, lex: _Lexicon, last: bool) -> _Mention | None:
    """A name set beside a definite role noun between ``lo`` and ``hi``: "The official, Colonel X, told ...",
    "the commander, Delil Amed, said" (the first such name, or the last with ``last``)."""
    if not head or not head.isalpha():
        return None
    found = None
    for g in re.finditer(r"\b[Tt]he\s+(?:[\w\-’']+\s+){0,2}?" + re.escape(head) + r"(?:" + _GIVEN_NAME.pattern +
                         r"|\s*,\s*" + _NAME_RUN + r")\s*,", text[lo:hi]):
        k = 1 if g.group(1) else 2
        mm = _person_at(text, lo + g.start(k), lo + g.end(k), lex)
        if mm is not None and len(mm.name.split()) >= 2:
            found = mm
            if not last:
                break
    return found


def _named_next_paragraph(text: str, m: _Mention, lex: _Lexicon) -> _Mention | None:
    """The first person named, with a title or a role set off by a comma, in the paragraph after ``m``'s."""
    nl = text.find("\n", m.end)
    if nl < 0:
        return None
    ps = nl + len(text[nl:]) - len(text[nl:].lstrip())
    pe = text.find("\n", ps)
    pe = len(text) if pe < 0 else pe
    for g in re.finditer(r"\b(?:[A-Z][\w’'\-]*\.?[ \t]+){1,5}[A-Z][\w’'\-]+\b", text[ps:pe]):
        mm = _person_at(text, ps + g.start(), ps + g.end(), lex)
        if mm is None or len(mm.name.split()) < 2:
            continue
        if mm.title or text[ps + g.end():ps + g.end() + 1] == ",":
            return mm
    return None


def _sentence_start(masked: str, lo: int, end: int, opening: str = "[A-Z“]") -> int:
    """Where the sentence that runs up to ``end`` starts, looking back no further than ``lo``: after the
    last line break or sentence end ([.!?], a closing mark, space, then an ``opening`` character)."""
    breaks = [m.end() for m in re.finditer(rf"[.!?][”\"’']?\s+(?={opening})", masked[lo:end])]
    return max(masked.rfind("\n", lo, end) + 1, lo + (breaks[-1] if breaks else 0))


def _introduced_speaker(text: str, masked: str, qs: int, lex: _Lexicon) -> _Mention | None:
    """The person the sentence right before an unattributed quotation introduces: "A schoolteacher in Dhiban
    described the visits. “They come with a notebook.”" (the subject of that sentence, when it is a person or
    an unnamed person, the sentence holds no quotation and ends just before the opening mark)."""
    k = qs
    while k > 0 and masked[k - 1] in "“\"'‘«„`":
        k -= 1
    while k > 0 and masked[k - 1] in " \t\n":
        k -= 1
    if k <= 0 or masked[k - 1] not in ".:" or "\n\n\n" in text[k:qs]:
        return None
    ss = _sentence_start(masked, max(0, k - 400), k - 1, "[A-Z]")
    sent = masked[ss:k]
    if "§" in sent or any(ch in sent for ch in "“”\""):
        return None
    toks = _tokens(masked, ss, k, lex.abbrevs)
    if any((_cue_at(toks, i, lex) or (0, "", "fragment"))[2] != "fragment" and
           not (i and toks[i - 1].low in _PREPS | _DETS) for i in range(len(toks))):  # not "in detail"
        return None  # an attribution of its own, read elsewhere ("described the visits" attributes nothing)
    m = _sentence_subject(text, masked, toks, lex)
    if m is None or m.kind not in ("person", "description", "nominal") or m.plural or m.head in _PRONOUNS:
        return None
    return m


def _person_subject(text: str, masked: str, toks: list[_Tok], lex: _Lexicon) -> _Mention | None:
    """The person named as the subject of a sentence, read over fronted pieces set off by commas ("In the village
    of Kocho, south of the mountain, Dakhil Hassan, 63, has rebuilt ..."), or None."""
    lo = 0
    for hi in [n for n, t in enumerate(toks) if t.t == ","] + [len(toks)]:
        verb = next((n for n in range(lo, hi) if _is_verbish(toks, n, lex)), hi)
        part = toks[lo:verb]
        if part and all(t.k == "w" for t in part) and _cap(part[0].t) and part[0].low not in _PREPS | lex.adverbial \
                and not any(t.low in _PREPS for t in part):
            m = _mention(masked, toks, _NP(lo, verb), lex)
            if m.kind == "person" and m.name:
                m.text = text[m.start:m.end]
                return m
        if verb < hi:
            return None
        lo = hi + 1
    return None


def _sentence_subject(text: str, masked: str, toks: list[_Tok], lex: _Lexicon) -> _Mention | None:
    """The noun phrase that opens a sentence's main clause (after a fronted adverbial), read as a mention."""
    nt = len(toks)
    lo_t = 0
    first_comma = next((i for i in range(nt) if toks[i].t == ","), -1)
    if first_comma > 0 and _only_adverbials(toks[:first_comma + 1], lex):
        lo_t = first_comma + 1
    hi = lo_t
    while hi < nt and toks[hi].k == "w" and not _is_verbish(toks, hi, lex) and hi - lo_t < 12:
        hi += 1
    if hi == lo_t or hi >= nt or toks[hi].k != "w" and toks[hi].t != "," or not _np_ok(toks[lo_t:hi], lex):
        return None
    m = _mention(masked, toks, _NP(lo_t, hi), lex)
    m.text = text[m.start:m.end] if m.end > m.start else m.text
    return m


def _resolve(doc_id: str, text: str, rows: list[_Row], mentions: list[_Mention], lex: _Lexicon,
             masked: str = "") -> list[dict]:
    """Resolve pronouns, surnames, role nouns and carried-over speakers; return the finished rows
    (``masked`` is the text with quoted words hidden, for names given outside quotations)."""
    masked = masked or text
    rows.sort(key=lambda r: (r.start, r.end))
    mentions.sort(key=lambda m: m.start)
    starts = [m.start for m in mentions]
    full_names: dict = {}
    persons_named = [m for m in mentions if m.kind == "person"]
    quoted = {id(r.mention) for r in rows if r.mention is not None}  # mentions that speak a row

    def antecedent(m: _Mention, pos: int) -> _Mention | None:
        idx = bisect.bisect_left(starts, pos)
        before = [x for x in mentions[max(0, idx - LOOK_BACK):idx] if x is not m]
        if m.kind in ("description", "nominal", "org") and not m.plural:
            given = _given_name(text, m, lex)  # "an Iraqi woman, who gave her name as Umm Ali, said"
            if given is not None:
                return given
        if m.kind == "pronoun":
            want = "plural" if m.plural else ("org" if m.head == "it" else "person")
            sex = _PRONOUN_GENDER.get(m.head, "")
            if want == "person" and not (before and before[-1].start >= pos - 300 and
                                         masked.rfind(".", before[-1].end, pos) < 0):
                # "Umm Yasser, a mother of four, folded laundry as she described ...": a person named earlier in
                # the pronoun's own sentence, when no source mention stands between them
                ss = _sentence_start(masked, max(0, pos - 300), pos)
                own = _person_subject(text, masked, _tokens(masked, ss, pos, lex.abbrevs), lex)
                if own is not None and own.kind == "person" and len(own.name.split()) >= 2 and own.end <= pos and \
                        _gender(own, lex) in ("", sex or "m", sex):
                    return own
                # "Dakhil Hassan, 63, has rebuilt two rooms ..." then "“...,” he said": the person who opens the
                # sentence before, when no source mention stands in or after it
                k = ss - 1
                while k > 0 and masked[k - 1].isspace():
                    k -= 1
                ps = _sentence_start(masked, max(0, k - 400), k)
                if 0 <= ps < k and not (before and before[-1].end > ps):
                    prev_subj = _person_subject(text, masked, _tokens(masked, ps, k, lex.abbrevs), lex)
                    if prev_subj is not None and prev_subj.kind == "person" and len(prev_subj.name.split()) == 1:
                        prev_subj = antecedent(prev_subj, prev_subj.start)  # "Murad planted ..." -> Khalida Murad
                    if prev_subj is not None and prev_subj.kind == "person" and len(prev_subj.name.split()) >= 2 \
                            and _gender(prev_subj, lex) in ("", sex or "m", sex):
                        return prev_subj
            unknown, persons = None, 0
            for x in reversed(before):
                r = _final(x)
                if want == "person" and (r.kind == "person" or (r.kind in ("description", "nominal")
                                                                 and not r.plural) or
                                         (_unknown_one(r, lex) and id(r) in quoted)):
                    # gender only passes over a speaker known not to fit; "she" looks a little further for a
                    # woman named as such, "he" takes the first speaker not known to be a woman
                    g = _gender(r, lex)
                    if g == sex or (g == "" and sex != "f"):
                        return r
                    if g == "" and unknown is None:
                        unknown = r
                    persons += 1
                    if unknown is not None and persons >= GENDER_REACH:
                        return unknown
                    continue
                if want == "plural" and (r.plural or r.kind == "org"):
                    return r
                if want == "org" and r.kind in ("org", "statement"):
                    return r
            if want == "person":
                return unknown or _last_named_person(text, pos, lex)
            return None
        if m.kind == "person" and len(m.name.split()) > 1:
            for x in reversed(before):  # "Abu Layla said" after "Omar Abu Layla, director of ..."
                r = _final(x)
                if r.kind == "person" and r.name.endswith(" " + m.name):
                    return r
        if m.kind == "person" and len(m.name.split()) == 1:
            for x in reversed(before):
                r = _final(x)
                if r.kind == "person" and r.name != m.name and _last_name(r.name, lex) == _surname(m.name):
                    return r
            if m.name not in full_names:  # one search of the article per surname
                full_names[m.name] = _full_name(text, m.name, lex)
            return full_names[m.name]
        if m.kind == "nominal" or (m.kind == "description" and m.definite):
            if m.text.lower().startswith("the same "):  # "The same official said": the last source of a person
                for x in reversed(before):
                    r = _final(x)
                    if id(x) in quoted and r.kind in ("person", "description", "nominal") and not r.plural:
                        return r
            for x in reversed(before):
                r = _final(x)
                if r is not m and r.kind == "org" and x.kind == "org" and x is not r and \
                        m.head in re.findall(r"[\w\-]+", x.text.lower()):
                    return r  # "a UN panel of experts" (named later) ... "the experts wrote"
                if r is m or r.kind not in ("person", "description", "nominal"):
                    continue
                if m.head in r.keywords(lex) or m.head in _title_heads_of(r, lex) or \
                        (x is not r and m.head in x.keywords(lex)):
                    return r  # the last with that noun, or a description of a person named later
            # a role phrase before the name: "..., the Foreign Affairs Minister announced" ... "Minister X"
            for x in mentions[idx:idx + LOOK_BACK]:
                if x.start > pos and x.kind == "person" and (m.head in x.keywords(lex) or
                                                             m.head in _title_heads_of(x, lex)):
                    return _final(x)
            # a titled name the article gave without a reporting verb ("Col. Dana Pierce spoke from ...")
            if not m.definite:
                return None
            # "The defendant, identified in court only as Ziyad K., stood ..." then "the defendant told the court"
            found = _named_in_apposition(text, m.head, max(0, m.start - 3000), m.start, lex, last=True)
            if found is not None:
                return found
            found = _last_named_person(text, pos, lex, head=m.head, reach=3000)
            if found is None and m.head in lex.person_nouns and m.head not in lex.title_heads:
                # "Khalil Qasim, 52, has not returned ..." then "..., the Yazidi farmer told AFP": the person
                # named just before, when no other source comes between
                found = _last_named_person(masked, pos, lex, reach=NAMED_BEFORE)  # not a name inside quotes
                if found is not None and any(x.end > found.start for x in before):
                    found = None
            if found is None and m.head in lex.person_nouns and not any(
                    x.kind in ("person", "description", "nominal") for x in before):
                # "the spokesman for the coalition said" in the lede, named by the next source: "Col. X said"
                nxt = next((x for x in mentions[idx:idx + LOOK_BACK] if x.start > m.end and x.kind != "statement"),
                           None)
                if nxt is not None and nxt.kind == "person" and nxt.start - m.end <= NAMED_LATER:
                    found = _final(nxt)
            return found
        if m.kind == "statement" and m.definite and not (len(m.text.split()) > 3 or "’s" in m.text or "'s" in m.text
                                                         or any(_cap(w) for w in m.text.split()[1:])):
            # a bare "the statement"; "the Pentagon's latest quarterly report" names its own source
            for x in reversed(before):
                r = _final(x)
                if r is not m and (id(x) in quoted or not x.subject_only) and (r.kind == "person" or (
                        r.kind == "org" and _names_organisation(r, lex))):
                    return r
                if x.kind == "statement" and not x.definite and id(x) in quoted:
                    return x  # "according to a statement published Wednesday" ... "the statement reads"
            return None
        if m.kind == "org" and m.definite and len(m.text.split()) <= 2:
            for x in reversed(before):
                r = _final(x)
                if r.kind == "org" and r is not m and m.head == r.head and len(r.text) > len(m.text):
                    return r
            return None
        if m.kind == "org" and not m.plural and m.text.split()[0].lower() in ("a", "an") and not before:
            # the lede's "a United Nations panel of experts has said" named as the subject that opens the next
            # paragraph: "The Analytical Support and Sanctions Monitoring Team, which ..., estimated that ..."
            nxt = next((x for x in mentions[idx:idx + LOOK_BACK] if x.start > m.end and "\n" in text[m.end:x.start]),
                       None)
            if nxt is not None and nxt.kind == "org" and nxt.definite and \
                    sum(_cap(w) for w in nxt.text.split()[1:]) >= 2 and \
                    len(re.findall(r"\n\s*", text[m.end:nxt.start])) == 1 and \
                    text[text.rfind("\n", m.end, nxt.start) + 1:nxt.start].strip() == "":
                return _final(nxt)
        if m.kind == "description" and not m.plural:
            caps = {w for w in re.findall(r"[A-Z][\w\-]+", m.text)} - {"The", "A", "An"}
            if len(caps) >= 2:
                for x in persons_named[:LOOK_BACK]:
                    shared = caps & set(re.findall(r"[A-Z][\w\-]+", x.role))
                    if x is not m and len(shared) >= 2 and any(w.lower() in lex.org_nouns for w in shared):
                        return _final(x)  # one body ("Security Media Cell"), not only a place ("Deir Ezzor")
            # "a Peshmerga commander said ..." then "Lt. Col. X, a Peshmerga commander on the front, told ..."
            words = _content_words(m.text)
            if words and not m.definite:
                for x in mentions[idx:idx + LOOK_BACK]:
                    if x.start > m.start and x.kind in ("person", "org") and x.role and \
                            words <= _content_words(x.role):
                        return _final(x)
            # "a Peshmerga commander said" then, as the next named source, "Lt. Col. X, who commands a Peshmerga
            # battalion, told ..."; "a war monitor said" then "The Syrian Observatory ... said"
            if m.text.split()[0].lower() in ("a", "an"):
                nxt = next((x for x in mentions[idx:idx + LOOK_BACK] if x.start > m.end and (
                    x.kind == "person" or (x.kind == "org" and any(_cap(w) for w in x.text.split()[1:])))), None)
                if nxt is not None and nxt.start - m.end <= NAMED_LATER and _described_as(m, nxt, lex):
                    return _final(nxt)
            # a source the lede leaves unnamed and the story names next: "..., a senior official said." then
            # "The official, Colonel X, told ..." or, as the first named person of the next paragraph, "Army Col. X,
            # speaking from Baghdad, said ..." (not when the lede says the source stays anonymous)
            if m.text.split()[0].lower() in ("a", "an") and m.head in lex.person_nouns and \
                    not _ANONYMOUS.search(text[m.start:m.end + 250].split(". ")[0]):
                found = _named_in_apposition(text, m.head, m.end, m.end + NAMED_LATER, lex, last=False)
                if found is None and not any(x.kind in ("person", "description", "nominal") for x in before):
                    found = _named_next_paragraph(text, m, lex)
                    same = None if found is None else next(
                        (x for x in mentions[idx:idx + LOOK_BACK] if x.kind == "person" and x.start < found.end
                         and x.end > found.start), None)
                    if same is not None:  # a source of its own with another role is another person
                        found = None if same.role and not _described_as(m, same, lex) else _final(same)
                    elif found is not None and not found.title:
                        found = None  # a name without a rank or office that says nothing is no source
                if found is not None:
                    return found
        return None

    def _final(m: _Mention) -> _Mention:
        seen = 0
        while m.resolved is not None and seen < 5:
            m = m.resolved
            seen += 1
        return m

    for m in mentions:
        if m.resolved is None:
            r = antecedent(m, m.start)
            if r is not None and r is not m:
                m.resolved = r
    # carried-over speakers: same chain, same/previous paragraph, next quotation in the paragraph
    by_chain: dict = {}
    for r in rows:
        if r.mention is not None:
            by_chain.setdefault(r.chain, r)
    out = []
    for n, r in enumerate(rows):
        m = r.mention
        if m is None and r.repeat:
            words = r.repeat.rstrip(" .,;:!?")
            for o in rows:
                if o is not r and o.mention is not None and words in text[o.start:o.end]:
                    m = o.mention
                    break
        if m is None and r.chain and r.chain in by_chain and by_chain[r.chain] is not r:
            m = by_chain[r.chain].mention
        if m is None and r.mention_mode == "context":
            prev = nxt = None
            for o in reversed(rows[max(0, n - LOOK_BACK):n]):
                if r.para - o.para > 1:
                    break
                if o.mention is not None:
                    prev = o
                    break
            for o in rows[n + 1:n + LOOK_BACK]:
                if o.para != r.para:
                    break
                if o.mention is not None:
                    nxt = o
                    break
            intro = _introduced_speaker(text, masked, r.start, lex)
            if intro is not None and (prev is None or prev.end < intro.start):
                m = intro
                if intro.kind == "person" and len(intro.name.split()) == 1:
                    m = antecedent(intro, intro.start) or intro  # "Mustafa"; "Salim" -> "Mohannad Salim"
                r.mention = m  # the next paragraphs of the same quotation, and quotes after it, keep the speaker
                if r.chain:
                    by_chain.setdefault(r.chain, r)
            elif prev is not None and prev.para == r.para:
                m = prev.mention
            elif nxt is not None:
                m = nxt.mention
            elif prev is not None:
                m = prev.mention
            else:
                m = _last_named_person(text, r.start, lex)
        fin = _final(m) if m is not None else None
        out.append(_finish(doc_id, text, r, m, fin))
    # one title and role per speaker in the article: the first the article gives
    known: dict = {}
    for row in out:
        if row["speaker_id"]:
            t, ro = known.get(row["speaker_id"], ("", ""))
            known[row["speaker_id"]] = (t or row["speaker_title"], ro or row["speaker_role"])
    for row in out:
        if row["speaker_id"] in known:
            row["speaker_title"], row["speaker_role"] = known[row["speaker_id"]]
            row["_affil"] = " ".join(x for x in (row["speaker_title"], row["speaker_role"],
                                                 _head_phrase(row["speaker"])) if x)
    return out


def _described_as(m: _Mention, x: _Mention, lex: _Lexicon) -> bool:
    """The named source ``x`` fits the description ``m``: its role, title or relative clause has the noun
    of the description (``commander`` ~ ``commands``) and shares another of its words (``Peshmerga``), or its
    name has a word the data file gives for that noun (``monitor`` -> ``Observatory``)."""
    head = m.head
    named = _content_words(" ".join((x.title, x.role, x.about, x.text)))
    if any(w in named for w in lex.described_names.get(head, ())):
        return True
    if len(head) < 4 or not (head in _title_heads_of(x, lex) or
                             any(len(w) >= 4 and w[:6] == head[:6] for w in named)):
        return False
    others = _content_words(m.text) - {head}
    return not others or bool(others & named)


def _gender(m: _Mention, lex: _Lexicon) -> str:
    """'f' or 'm' when the title, role, description or given name tells, else ''."""
    words = [w.strip(",.").lower() for w in f"{m.title} {m.role} {m.text}".split()]
    if m.kind == "person" and m.name:
        words.append(m.name.split()[0].lower())
    if any(w in lex.female for w in words):
        return "f"
    if any(w in lex.male for w in words):
        return "m"
    return ""


def _names_organisation(m: _Mention, lex: _Lexicon) -> bool:
    """An organisation mention that can issue a statement: a name or an organisation noun (not ``a low
    intensity insurgency``)."""
    return m.head in lex.org_nouns or any(_cap(w) for w in m.text.split() if w.lower() not in _DETS)


def _unknown_one(m: _Mention, lex: _Lexicon) -> bool:
    """An unnamed source whose noun is neither a known person nor organisation word, introduced as one
    (``a local notable``, ``one tribal elder``): ``he`` or ``she`` may stand for it."""
    words = m.text.split()
    return m.kind == "org" and len(words) >= 2 and words[0].lower() in ("a", "an", "one") and \
        m.head.isalpha() and m.head not in lex.org_nouns and m.head not in lex.document_nouns and \
        not any(_cap(w) for w in words[1:])


def _content_words(phrase: str) -> set:
    """Lower-case words of a description without articles and prepositions."""
    return {w for w in re.findall(r"[\w.\-]+", phrase.lower()) if w not in _DETS and w not in _PREPS}


def _title_heads_of(m: _Mention, lex: _Lexicon) -> set:
    heads = set()
    if m.title:
        heads.add(_title_head(m.title, lex))
        heads.update(w.lower().rstrip(".") for w in m.title.split())
    return heads


def _last_named_person(text: str, pos: int, lex: _Lexicon, head: str = "", reach: int = 600) -> _Mention | None:
    """The last name (two words or more, after any title) before ``pos`` that reads as a person; with
    ``head``, only a person whose title or role has that noun ("the colonel" -> "Col. Dana Pierce")."""
    window_start = max(0, pos - reach)
    window = text[window_start:pos]
    found = None
    for m in re.finditer(r"\b(?:[A-Z][\w’'\-]*\.?[ \t]+){1,5}(?:[A-Z][\w’'\-]+|(?:al|el)-[A-Z][\w’'\-]+)\b", window):
        phrase = re.sub(r"[’']s$", "", m.group(0))  # "Abu Khalil’s courtyard"
        if phrase in outlet_names():  # never a speaker's personal name
            continue  # "Deir Ezzor – Enab Baladi –": an outlet, not a person
        toks = [t for t in _tokens(phrase, 0, len(phrase), lex.abbrevs) if t.k == "w"]
        if not toks:
            continue
        mm = _mention(phrase, toks, _NP(0, len(toks)), lex)
        if mm.kind == "person" and len(mm.name.split()) >= 2 and (not head or head in _title_heads_of(mm, lex)):
            found = replace(mm, start=window_start + m.start() + mm.start, end=window_start + m.start() + mm.end)
    return found


_MODIFIER = re.compile(r"\s+(?:who|which|whose|that|speaking|quoted|cited|familiar|published|released|issued)\b.*$")


def _head_phrase(speaker: str) -> str:
    """A speaker description without its relative clause: 'Two experts who spoke to X' -> 'Two experts'."""
    return _MODIFIER.sub("", speaker)


def _finish(doc_id: str, text: str, r: _Row, m: _Mention | None, fin: _Mention | None) -> dict:
    speaker = title = role = ""
    sid = ""
    if r.mention_mode == "impersonal":
        speaker = r.impersonal
        sid = f"{doc_id}:{_slug(speaker)}"
    elif fin is not None and not (fin.kind == "pronoun"):
        title, role = fin.title, fin.role
        if fin.kind == "person":
            speaker = fin.name
            sid = _slug(speaker)
        elif fin.kind == "org":
            speaker = fin.text
            sid = _slug(re.sub(r"^(?:the)\s+", "", fin.text, flags=re.IGNORECASE))
        else:
            speaker = fin.text
            sid = f"{doc_id}:{_slug(speaker)}"
        if not role and m is not None and m is not fin and m.kind in ("nominal", "description") and \
                fin.kind == "person":
            role = re.sub(r"^(?:the|a|an)\s+", "", m.text, flags=re.IGNORECASE)
    return {
        "doc_id": doc_id, "quote": text[r.start:r.end], "start": r.start, "end": r.end, "kind": r.kind,
        "cue": r.cue, "speaker": speaker, "speaker_id": sid, "speaker_title": title, "speaker_role": role,
        "_affil": " ".join(x for x in (title, role, _head_phrase(speaker)) if x),
        "speaker_start": m.start if (m is not None and r.mention_mode == "np") else None,
        "speaker_end": m.end if (m is not None and r.mention_mode == "np") else None,
        "sent_id": r.sent_id,
    }


# --------------------------------------------------------------------------- public API

def speaker_id_links(ids: Iterable[str]) -> dict[str, str]:
    """Return {shorter id: longest id} for person ids that share first and last name across articles
    (``myles-caggins`` -> ``myles-b-caggins-iii``); ids of unnamed sources (``doc:...``) never link."""
    key: dict = {}
    for i in set(ids):
        if not i or ":" in i:
            continue
        parts = [p for p in i.split("-") if len(p) > 1 and p not in ("jr", "sr", "ii", "iii", "iv")]
        if len(parts) >= 2:
            key.setdefault((parts[0], parts[-1]), set()).add(i)
    mapping = {}
    for variants in key.values():
        if len(variants) > 1:
            longest = sorted(variants, key=lambda v: (-len(v), v))[0]
            mapping.update({v: longest for v in variants if v != longest})
    return mapping


def _link_person_ids(rows: list[dict]) -> None:
    """Apply ``speaker_id_links`` to row dicts in place."""
    mapping = speaker_id_links(r["speaker_id"] for r in rows)
    for r in rows:
        r["speaker_id"] = mapping.get(r["speaker_id"], r["speaker_id"])


def extract(parsed: Parsed) -> pd.DataFrame:
    """Return one row per quotation in the parsed corpus (columns ``QUOTE_COLUMNS``), sorted by doc_id, start."""
    lex = _lex()
    pars: dict = {}
    for pid, doc, s, e, role in zip(parsed.paragraphs["para_id"], parsed.paragraphs["doc_id"],
                                    parsed.paragraphs["start"], parsed.paragraphs["end"],
                                    parsed.paragraphs["role"]):
        pars.setdefault(doc, []).append((int(pid), int(s), int(e), role))
    sents: dict = {}
    for sid, doc, pid, s, e in zip(parsed.sentences["sent_id"], parsed.sentences["doc_id"],
                                   parsed.sentences["para_id"], parsed.sentences["start"],
                                   parsed.sentences["end"]):
        sents.setdefault(doc, []).append((int(sid), int(pid), int(s), int(e)))
    rows: list[dict] = []
    for doc_id, text in zip(parsed.articles["doc_id"], parsed.articles["text"]):
        if not isinstance(text, str) or not text:
            continue
        try:
            rows.extend(_doc_rows(str(doc_id), text, pars.get(doc_id, []), sents.get(doc_id, []), lex))
        except Exception as exc:  # one article never stops the batch; say which one and why
            warnings.warn(f"corelib.quotes: article {doc_id!r} skipped: {type(exc).__name__}: {exc}",
                          RuntimeWarning, stacklevel=2)
    _link_person_ids(rows)
    for r in rows:
        r["speaker_affiliation"] = _affiliation(r.pop("_affil"))
    df = pd.DataFrame(rows, columns=[c for c in QUOTE_COLUMNS if c != "quote_id"])
    df = df.sort_values(["doc_id", "start", "end"], kind="stable").reset_index(drop=True)
    df.insert(1, "quote_id", df.groupby("doc_id").cumcount().astype("int64"))
    for col in ("speaker_start", "speaker_end", "sent_id"):
        df[col] = df[col].astype("Int64")
    return df[QUOTE_COLUMNS]
