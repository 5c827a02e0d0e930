"""Parse news articles into traceable records: title, standfirst, dateline, people, outlet, dates,
paragraphs and sentences, every piece with ``start``/``end`` offsets into the article text as read.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import pandas as pd
import yaml

from corelib.corpus import Corpus, load_corpus

DATA = Path(__file__).parent / "data"

ARTICLE_COLUMNS = [
    "doc_id", "source", "title", "standfirst", "dateline_place", "dateline_region", "dateline_credit",
    "author", "editor", "outlet", "outlet_evidence", "published", "published_source", "published_estimated",
    "body_start", "body_end", "body", "n_words", "n_paragraphs", "n_sentences", "date_mentions",
    "duplicate_of", "text",
]
PARAGRAPH_COLUMNS = ["doc_id", "para_id", "start", "end", "role", "text"]
SENTENCE_COLUMNS = ["doc_id", "sent_id", "para_id", "start", "end", "role", "text"]
DATE_COLUMNS = ["doc_id", "start", "end", "text", "value", "granularity", "qualifier"]
REJECT_COLUMNS = ["doc_id", "source", "reason"]
TEXT_ROLES = ("title", "standfirst", "dateline", "body")


@dataclass
class Parsed:
    """Parsed corpus: ``articles``, ``paragraphs``, ``sentences``, ``dates`` and ``rejects`` tables."""

    articles: pd.DataFrame
    paragraphs: pd.DataFrame
    sentences: pd.DataFrame
    dates: pd.DataFrame
    rejects: pd.DataFrame
    _texts: dict = field(default_factory=dict, repr=False)

    def text_of(self, doc_id: str) -> str:
        """Return the full text of one article as read (the string all offsets index)."""
        if not self._texts:
            self._texts = dict(zip(self.articles["doc_id"], self.articles["text"]))
        return self._texts[doc_id]

    def __len__(self) -> int:
        return len(self.articles)


# The non-ASCII characters that re.IGNORECASE matches with an ASCII letter and that lower-casing does not turn
# into it (dotted and dotless i, long s; the Kelvin sign lower-cases to k). Mapped to that letter before
# lower-casing, a case-sensitive search for lower-case words finds every place where a case-insensitive
# pattern of those words could match, and is much faster.
_IGNORECASE_FOLD = str.maketrans({"İ": "i", "ı": "i", "ſ": "s"})
_IGNORECASE_SPECIAL = re.compile("[İıſ]")


def ignorecase_lower(text: str) -> str:
    """Return the text lower-cased, with the letters re.IGNORECASE takes for i and s (İ, ı, ſ) made i and s."""
    if not text.isascii() and _IGNORECASE_SPECIAL.search(text):
        text = text.translate(_IGNORECASE_FOLD)
    return text.lower()


# --------------------------------------------------------------------------- resources

@lru_cache(maxsize=1)
def _boilerplate() -> dict:
    with open(DATA / "boilerplate.yaml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return {
        "exact": {s.strip().lower() for s in raw["trailing"]["exact"]},
        "trailing": [re.compile(p) for p in raw["trailing"]["patterns"]],
        "byline": [re.compile(p) for p in raw["byline"]["patterns"]],
        "leading": [re.compile(p) for p in raw.get("leading", {}).get("patterns", ())],
        "anywhere": [re.compile(p) for p in raw.get("anywhere", {}).get("patterns", ())],
        "title_labels": frozenset(str(w).lower() for w in raw.get("title_labels", ())),
        "line_labels": frozenset(str(w).lower() for w in raw.get("line_labels", ())),
    }


@lru_cache(maxsize=1)
def _gazetteer_names() -> frozenset:
    """Lower-cased names and variants of the places in the gazetteer files (for bare datelines)."""
    import csv

    names = set()
    for name in ("places.csv", "places_extra.csv"):
        path = DATA / name
        if path.is_file():
            with open(path, encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    names.update(v.strip().lower() for v in [row.get("name") or ""] + (row.get("variants") or "").split("|"))
    names.discard("")
    return frozenset(names)


def _not_a_place(words: list[str]) -> bool:
    """A dateline place has no stop word and no label word ("ANALYSIS-After Assad, ..." is a Reuters slug,
    "EXCLUSIVE: ..." a label): the test of every dateline form."""
    bp = _boilerplate()
    return any(w in _stop_words() or w in bp["title_labels"] or w in bp["line_labels"] for w in words)


def _bare_place(line: str) -> str:
    """The place of a line that is only a place name in capitals ("ANKARA", "DEIR EZZOR"), else ''."""
    bare = _DATELINE_BARE.match(line)
    if not bare or len(bare["place"]) <= 2:
        return ""
    words = [w.lower() for w in bare["place"].split()]
    if _not_a_place(words):
        return ""
    if len(words) > 1 and " ".join(words) not in _gazetteer_names():  # "JOHN SMITH" is no place
        return ""
    return bare["place"]


@lru_cache(maxsize=1)
def _outlets() -> tuple[dict, list, re.Pattern, re.Pattern]:
    with open(DATA / "outlets.yaml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    alias_to_name = {}
    for o in raw["outlets"]:
        for a in [o["name"], *o.get("aliases", [])]:
            alias_to_name[a] = o["name"]
    alt = "|".join(re.escape(a) for a in sorted(alias_to_name, key=len, reverse=True))
    evidence = [(re.compile(r"\b" + e["pattern"].replace("{outlet}", f"(?P<outlet>{alt})") + r"\b"),
                 float(e["weight"]), e["label"]) for e in raw["evidence"]]
    # the full name of an outlet; words followed by an outlet (the longest alias that ends the text)
    return alias_to_name, evidence, re.compile(rf"^(?:{alt})$"), re.compile(rf"^(?P<names>.+?) (?:{alt})$")


def _without_outlet(author: str) -> str:
    """A byline's names without an outlet written after them: "ZAID AL-OBEIDI Associated Press" -> "ZAID AL-OBEIDI"."""
    m = _outlets()[3].match(author)
    return m["names"].rstrip(" ,|–—-") if m else author


def outlet_names() -> frozenset:
    """Return every name and alias of the outlets in outlets.yaml."""
    return frozenset(_outlets()[0])


def _punkt_parameters():
    from nltk.tokenize.punkt import PunktParameters

    params = PunktParameters()
    abbrevs = set()
    for line in (DATA / "abbreviations.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            abbrevs.add(line.lower())
    abbrevs.update("abcdefghijklmnopqrstuvwxyz")
    params.abbrev_types = abbrevs
    return params


@lru_cache(maxsize=1)
def sentence_tokenizer():
    """Return a Punkt sentence splitter built from explicit parameters (no downloaded model)."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    return PunktSentenceTokenizer(_punkt_parameters())


def _engine(pattern):
    """Return the compiled pattern NLTK itself matches with (NLTK >= 3.9.3 wraps it to add a time limit)."""
    return getattr(pattern, "_rx", pattern)


class FastPunkt:
    """NLTK's Punkt sentence boundaries (``span_tokenize``) for parameters that hold abbreviations only.

    With no collocations, sentence starters or orthographic context, Punkt's decision at a candidate
    boundary reduces to the first-pass annotation of the word before it and the initial/number rule
    of the second pass; this class makes exactly those decisions with the same regular expressions,
    without building a token object per word. ``tests/test_parse.py`` checks it against NLTK.
    """

    def __init__(self, params):
        from nltk.tokenize.punkt import PunktLanguageVars, PunktSentenceTokenizer, PunktToken

        if params.collocations or params.sent_starters or params.ortho_context:
            raise ValueError("FastPunkt covers parameters with abbreviations only")
        lang = PunktLanguageVars()
        self.abbrevs = frozenset(params.abbrev_types)
        self.sent_end = tuple(lang.sent_end_chars)
        self.punctuation = tuple(PunktSentenceTokenizer.PUNCTUATION)
        self.period_context = _engine(lang.period_context_re())
        self.words = _engine(lang._word_tokenizer_re())
        self.realign = _engine(lang.re_boundary_realignment)
        self.numeric = _engine(PunktToken._RE_NUMERIC)
        self.initial = _engine(PunktToken._RE_INITIAL)
        self.ellipsis = _engine(PunktToken._RE_ELLIPSIS)

    def _breaks_after(self, tok: str, nxt: str) -> bool:
        """Return True when Punkt marks ``tok`` (followed by ``nxt``) as a sentence break."""
        if tok not in self.sent_end:
            if self.ellipsis.match(tok) or not tok.endswith(".") or tok.endswith(".."):
                return False
            low = tok[:-1].lower()
            if low in self.abbrevs or low.split("-")[-1] in self.abbrevs:
                return False
        if not tok.endswith("."):
            return True
        typ = self.numeric.sub("##number##", tok.lower())
        if len(typ) > 1 and typ[-1] == ".":
            typ = typ[:-1]
        initial = self.initial.match(tok) is not None
        if initial or typ == "##number##":
            if nxt in self.punctuation or nxt[0].islower():
                return False
            if initial and nxt[0].isupper():
                return False
        return True

    def _contains_break(self, context: str) -> bool:
        toks = []
        for line in context.split("\n"):
            if line.strip():
                toks.extend(self.words.findall(line))
        return any(self._breaks_after(toks[i], toks[i + 1]) for i in range(len(toks) - 1))

    def _contexts(self, text: str):
        prev_start = prev_stop = 0
        prev = None
        for match in self.period_context.finditer(text):
            before = text[prev_stop:match.start()]
            last_ws = max(before.rfind(c) for c in " \t\n\r\x0b\x0c")
            word_start = last_ws + prev_stop + 1 if last_ws > 0 else prev_start
            if prev is not None and prev_stop <= word_start:
                yield prev, text[prev_start:prev_stop] + prev.group() + prev.group("after_tok")
            prev, prev_start, prev_stop = match, word_start, match.start()
        if prev is not None:
            yield prev, text[prev_start:prev_stop] + prev.group() + prev.group("after_tok")

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        """Return the (start, end) spans NLTK's ``PunktSentenceTokenizer.span_tokenize`` gives."""
        slices = []
        last = 0
        for match, context in self._contexts(text):
            if self._contains_break(context):
                slices.append((last, match.end()))
                last = match.start("next_tok") if match.group("next_tok") else match.end()
        slices.append((last, len(text.rstrip())))
        out = []
        realign = 0
        for i, (s1, e1) in enumerate(slices):
            s1 += realign
            if i + 1 < len(slices):
                s2, e2 = slices[i + 1]
                m = self.realign.match(text[s2:e2])
                if m:
                    out.append((s1, s2 + len(m.group(0).rstrip())))
                    realign = m.end()
                    continue
                realign = 0
            if text[s1:e1]:
                out.append((s1, e1))
        return out


@lru_cache(maxsize=1)
def _fast_punkt() -> FastPunkt:
    return FastPunkt(_punkt_parameters())


# --------------------------------------------------------------------------- sentences and tokens

_WORD = re.compile(r"\w+(?:[’'\-.]\w+)*", re.UNICODE)
_ABBR_FOLLOWED_BY_NUMBER = re.compile(r"\b(?:No|Nos|Vol|Art|p|pp)\.\s*$")  # matched on the last 8 characters of a (stripped) sentence


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Return (start, end) spans of the sentences of ``text``, shifted by ``offset``."""
    spans = []
    for s, e in _fast_punkt().span_tokenize(text):
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append([s, e])
    merged: list[list[int]] = []
    for span in spans:
        # a lone closing mark or a sentence that starts in lower case continues the previous one
        piece = text[span[0]:span[1]]
        if merged and (not any(ch.isalnum() for ch in piece) or piece[:1].islower()
                       or _ABBR_FOLLOWED_BY_NUMBER.search(text[max(merged[-1][0], merged[-1][1] - 8):merged[-1][1]])):
            merged[-1][1] = span[1]
        else:
            merged.append(span)
    return [(s + offset, e + offset) for s, e in merged]


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, token) for the word tokens of ``text`` (letters, digits, inner hyphens/apostrophes)."""
    return [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def count_words(text: str) -> int:
    """Return the number of word tokens in ``text``."""
    return len(_WORD.findall(text))


# --------------------------------------------------------------------------- dates

MONTHS = {m.lower(): i for i, m in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
     "November", "December"], 1)}
MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
              "oct": 10, "nov": 11, "dec": 12}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTH_RE = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
             r"|Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)")
_YEAR_RE = r"(?:19[5-9]\d|20[0-4]\d)"
DATE_RE = re.compile(
    rf"(?P<mdy>(?P<m1>{_MONTH_RE})\s+(?P<d1>[0-3]?\d)(?:st|nd|rd|th)?(?:,?\s+(?P<y1>{_YEAR_RE}))?)\b"
    rf"|(?P<dmy>\b(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH_RE})(?:,?\s+(?P<y2>{_YEAR_RE}))?)\b"
    rf"|(?P<part>\b(?P<q>early|mid|late|end of|beginning of|the end of|the beginning of|mid-)\s*(?P<m3>{_MONTH_RE})"
    rf"(?:,?\s+(?P<y3>{_YEAR_RE}))?)\b"
    rf"|(?P<my>\b(?P<m4>{_MONTH_RE})(?:,?\s+(?P<y4>{_YEAR_RE})))\b"
    rf"|(?P<mo>\b(?:in|since|until|by|from|last|next|this|of|during)\s+(?P<m5>January|February|March|April|May|June|July|August|September|October|November|December))\b(?!,?\s+(?:{_YEAR_RE}|[0-3]?\d\b))"
    rf"|(?P<wd>\b(?:on\s+|last\s+|this\s+|next\s+)?(?P<w>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)s?\b)"
    rf"|(?P<yr>\b(?P<y6>{_YEAR_RE})\b)"
)

# Every alternative of DATE_RE holds a month, a weekday or a year and spans a few words, so
# ``_date_matches`` tries DATE_RE only in a window of words around those anchors (same matches as
# ``DATE_RE.finditer``, several times faster; tests/test_parse.py checks that they agree).
_DATE_ANCHOR = re.compile(r"Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun"
                          r"|19[5-9]\d|20[0-4]\d")
_WORDS_BEFORE = re.compile(r"\S*(?:\s+\S+){0,5}")  # matched on the reversed text before an anchor
_WORDS_AFTER = re.compile(r"\S*(?:\s+\S+){0,7}")
_WINDOW_CHARS = 240


def _date_matches(text: str):
    """Yield the matches of ``DATE_RE.finditer(text)``, trying DATE_RE only around month, weekday and year anchors."""
    pos, n = 0, len(text)
    for anchor in _DATE_ANCHOR.finditer(text):
        at = anchor.start()
        if at < pos:
            continue
        seg_lo = max(pos, at - _WINDOW_CHARS)
        back = _WORDS_BEFORE.match(text[seg_lo:at][::-1]).end()
        lo = pos if (back == at - seg_lo and seg_lo > pos) else at - back
        seg_hi = min(n, at + _WINDOW_CHARS)
        ahead = _WORDS_AFTER.match(text, at, seg_hi).end()
        hi = n if (ahead == seg_hi and seg_hi < n) else ahead
        m = DATE_RE.search(text, lo, hi)
        if m is not None and m.start() <= at:
            yield m
            pos = m.end()
        else:
            pos = at + 1  # no date starts at or before this anchor


def _month(s: str) -> int:
    s = s.lower().rstrip(".")
    return MONTHS.get(s) or MONTH_ABBR[s[:4] if s.startswith("sept") else s[:3]]


def find_dates(text: str, published: str = "", exact: bool = True) -> list[dict]:
    """Return the date mentions in ``text`` with offsets, an ISO-like ``value`` and its granularity.

    Dates without a year take the year of ``published`` when it is known; weekdays resolve to the
    latest such day on or before an exact ``published`` date.
    """
    pub = _iso_date(published)
    out = []
    exact_pub = pub if exact else None
    for m in _date_matches(text):
        g = m.groupdict()
        qualifier = ""
        if g["mdy"] or g["dmy"]:
            month, day = _month(g["m1"] or g["m2"]), int(g["d1"] or g["d2"])
            year = g["y1"] or g["y2"]
            if not 1 <= day <= 31:
                continue
            if year:
                value, gran = f"{int(year):04d}-{month:02d}-{day:02d}", "day"
            elif pub:
                value, gran = f"{pub.year:04d}-{month:02d}-{day:02d}", "day"
            else:
                value, gran = f"--{month:02d}-{day:02d}", "day"
            s, e = m.span("mdy") if g["mdy"] else m.span("dmy")
        elif g["part"]:
            month, year = _month(g["m3"]), g["y3"]
            qualifier = {"mid-": "mid", "the end of": "late", "end of": "late", "beginning of": "early",
                         "the beginning of": "early"}.get(g["q"].lower(), g["q"].lower())
            value = f"{int(year):04d}-{month:02d}" if year else (f"{pub.year:04d}-{month:02d}" if pub else f"--{month:02d}")
            gran = "part_of_month"
            s, e = m.span("part")
        elif g["my"]:
            month, year = _month(g["m4"]), int(g["y4"])
            value, gran = f"{year:04d}-{month:02d}", "month"
            s, e = m.span("my")
        elif g["mo"]:
            month = _month(g["m5"])
            value, gran = (f"{pub.year:04d}-{month:02d}" if pub else f"--{month:02d}"), "month"
            s, e = m.span("m5")
        elif g["wd"]:
            wd = WEEKDAYS.index(g["w"].lower())
            if exact_pub:
                back = (exact_pub.weekday() - wd) % 7
                value = (exact_pub - dt.timedelta(days=back)).isoformat()
            else:
                value = g["w"].capitalize()
            gran = "weekday"
            s, e = m.span("w")
        else:
            value, gran = g["y6"], "year"
            s, e = m.span("y6")
        out.append({"start": s, "end": e, "text": text[s:e], "value": value, "granularity": gran,
                    "qualifier": qualifier})
    return out


@lru_cache(maxsize=4096)
def _iso_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)[:10]) else None
    except ValueError:
        return None


_NAME_LINE = re.compile(r"^[A-Z][\w’'.\-]+(?:[ ][A-Z][\w’'.\-]+){1,3}$")
# a time stamp line (not a photo caption, whose date is the picture's)
_STAMP = re.compile(r"(?i:published|updated|posted|last updated|first published|modified)\b"
                    r"|(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?" + _MONTH_RE + r"\s+\d")


def _date_from_text(s: str) -> str:
    found = find_dates(s)
    for d in found:
        if d["granularity"] == "day" and not d["value"].startswith("--"):
            return d["value"]
    return ""


# --------------------------------------------------------------------------- datelines

_DASH = r"[-–—‒―]"
_PW = r"(?:(?:[Aa]l|AL|[Ee]l|EL)-)?[A-Z][\w'’.]*(?:-[\w'’]+)*"
_DATELINE = re.compile(
    rf"""^(?P<place>{_PW}(?:[ ]{_PW}){{0,2}})
        (?:,[ ]?(?P<pdate>{_MONTH_RE}[ ]+[0-3]?\d,?[ ]+{_YEAR_RE})
           |,[ ]?{_MONTH_RE}[ ]+[0-3]?\d(?=[ ]*(?:\(|{_DASH}))
           |,[ ]?(?P<region>[A-Z][\w'’.]*(?:[ ][A-Z0-9][\w'’.]*){{0,2}}(?:,[ ]?[A-Z][\w.]*){{0,2}})
            (?:,[ ]?{_MONTH_RE}[ ]+[0-3]?\d(?=[ ]*[(–—-]))?
           |[ ]\((?P<pregion>[A-Z][\w'’.]*(?:[ ][A-Z][\w'’.]*)?)\)(?=[ ]*\())?
        [ ]*(?:(?:{_DASH}[ ]*)?\((?P<credit>[^()\n]{{1,40}})\))?
        [ ]*(?:{_DASH}+|//)[ ]*
        (?:(?P<date>{_MONTH_RE}[ ]+[0-3]?\d,?[ ]+{_YEAR_RE})[ ]*(?:{_DASH}+[ ]*)?)?""",
    re.VERBOSE,
)
_CREDIT = r"(?P<credit>[A-Z]{2,10}|[A-Z][\w\-]*(?:[ ][A-Z0-9][\w\-]*){1,3})"
_DATELINE_DASHED_CREDIT = re.compile(rf"^(?P<place>{_PW}(?:[ ]{_PW})?)[ ]*{_DASH}[ ]*{_CREDIT}[ ]*{_DASH}[ ]*")
# the outlet after the place and then a colon or the line's end: "Baghdad - Asharq Al-Awsat" (outlets.yaml only)
_DATELINE_PLACE_OUTLET = re.compile(rf"^(?P<place>{_PW}(?:[ ]{_PW})?)[ ]*{_DASH}[ ]*{_CREDIT}(?:[ ]*:[ ]+|[ ]*$)")
# the outlet first: "Enab Baladi – Deir Ezzor" on a line of its own or before the text (the outlet must be in outlets.yaml)
_DATELINE_CREDIT_FIRST = re.compile(
    rf"^(?P<credit>[A-Z][\w]*(?:[ ][A-Z0-9][\w]*){{0,3}})[ ]*{_DASH}[ ]*(?P<place>{_PW}(?:[ ]{_PW}){{0,2}})"
    rf"(?:[ ]*{_DASH}[ ]*|[ ]*$)")
_DATELINE_SLASH_CREDIT = re.compile(r"^(?P<credit>[A-Z][\w]*(?:[ ][A-Z0-9][\w]*){0,3})[ ]*/[ ]+")
# the credit alone, in parentheses, before a dash: "(CNN) —", "(The Conversation) —" (an outlet in outlets.yaml)
_DATELINE_CREDIT_ONLY = re.compile(rf"^\((?P<credit>[A-Z][^()\n]{{0,39}})\)[ ]*{_DASH}+[ ]*(?=[A-Z“\"‘])")
_DATELINE_BARE = re.compile(r"^(?P<place>[A-Z][A-Z'’.\-]+(?:[ ][A-Z][A-Z'’.\-]+){0,2})$")  # "ANKARA" on its own line
_DATELINE_COLON = re.compile(r"^(?P<place>[A-Z][A-Z'’.\-]+(?:[ ][A-Z][A-Z'’.\-]+){0,2}):[ ]+(?=[A-Z“\"‘])")


@lru_cache(maxsize=1)
def _stop_words() -> frozenset:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def _proper(word_group: str) -> str:
    """Return an all-caps place name in title case (ERBIL -> Erbil, AL-QAIM -> Al-Qaim)."""
    if not word_group.isupper():
        return word_group
    return " ".join(w if (len(w) <= 3 and w.isalpha()) and w not in ("AL",) and len(word_group.split()) > 1
                    else w.title() for w in word_group.split())


@dataclass
class Dateline:
    place: str
    region: str
    credit: str
    date: str
    end: int  # offset just after the dateline inside the paragraph


def match_dateline(par: str, colon: bool = True) -> Dateline | None:
    """Return the dateline that opens a paragraph (``ERBIL, Kurdistan Region (Kurdistan 24) –``), or None.

    ``colon`` also accepts the all-caps ``RAMADI:`` form, which headlines (``ISIS: ...``) share.
    """
    m = _DATELINE_DASHED_CREDIT.match(par)
    if m and not m["credit"].isupper() and not _outlets()[2].match(m["credit"]):
        m = None  # a credit of several words must be an outlet in outlets.yaml: "Deir Ezzor – Enab Baladi –"
    if m and not _not_a_place([w.lower() for w in m["place"].split()]):
        return Dateline(_proper(m["place"]), "", m["credit"], "", m.end())
    for rx in (_DATELINE_PLACE_OUTLET, _DATELINE_CREDIT_FIRST):  # the credit must be an outlet in outlets.yaml
        m = rx.match(par)
        if m and _outlets()[2].match(m["credit"]) and not _not_a_place([w.lower() for w in m["place"].split()]):
            return Dateline(_proper(m["place"]), "", m["credit"], "", m.end())
    for rx in (_DATELINE_SLASH_CREDIT, _DATELINE_CREDIT_ONLY):
        m = rx.match(par)
        if m and _outlets()[2].match(m["credit"]):
            return Dateline("", "", m["credit"], "", m.end())
    m = _DATELINE_COLON.match(par) if colon else None
    if m and len(m["place"]) > 2 and not _not_a_place([w.lower() for w in m["place"].split()]):
        return Dateline(_proper(m["place"]), "", "", "", m.end())
    m = _DATELINE.match(par)
    if not m:
        return None
    place, region, credit = m["place"], m["region"] or m["pregion"] or "", (m["credit"] or "").strip()
    if _not_a_place([w.lower().strip(".") for w in place.split()]) or \
            any(w.lower().strip(".") in _stop_words() for w in region.replace(",", " ").split()):
        return None
    if credit and not any(ch.isalpha() for ch in credit):
        return None
    dash_spaced = bool(re.search(rf"[ ]{_DASH}|{_DASH}[ ]", par[m.start("place"):m.end()]))
    if not (place.replace("-", "").replace(" ", "").isupper() or credit or m["date"] or dash_spaced):
        return None
    rest = par[m.end():]
    if rest and not (rest[:1].isupper() or rest[:1].isdigit() or rest[:1] in "“\"‘'("):
        return None
    if not credit and not region and _outlets()[2].match(place):
        return Dateline("", "", place, _date_from_text(m["date"] or ""), m.end())  # "Rudaw –": an outlet, no place
    if not credit and region and _outlets()[2].match(region):
        credit, region = region, ""  # "Deir Ezzor, SANA-": the outlet where a region would stand
    place_out = _proper(place)
    region_out = ", ".join(_proper(r.strip()) if not (r.strip().isupper() and len(r.strip()) <= 4) else r.strip()
                           for r in region.split(",")) if region else ""
    full_place = f"{place_out}, {region_out}" if region_out else place_out
    return Dateline(full_place, region_out, credit, _date_from_text(m["date"] or m["pdate"] or ""), m.end())


# --------------------------------------------------------------------------- paragraphs

_LINE = re.compile(r"[^\n]+")
_SENT_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$")


def split_paragraphs(text: str) -> list[tuple[int, int]]:
    """Return (start, end) spans of the non-blank lines of ``text``, stripped of surrounding white space."""
    spans = []
    for m in _LINE.finditer(text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append((s, e))
    return spans


def _looks_like_title(par: str, n_pars: int) -> bool:
    words = par.split()
    if n_pars < 2 or not words or len(words) > 30 or len(par) > 250:
        return False
    if match_dateline(par, colon=False):
        return False
    if len(words) <= 16 and words[0].rstrip(":").lower() in _boilerplate()["title_labels"] and words[0].endswith(":"):
        return True  # "Opinion: ..." is a headline even when it ends in a full stop
    return not _SENT_END.search(par) or par.rstrip().endswith("?")


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("’", "'").replace("“", '"').replace("”", '"')).strip().lower()


def _first_words(s: str, n: int = 6) -> list[str]:
    return [w.lower() for w in _WORD.findall(s)[:n]]


# --------------------------------------------------------------------------- outlet

def detect_outlet(text: str, credit: str = "", meta_outlet: str = "") -> tuple[str, str]:
    """Return (outlet, evidence): metadata first, then the dateline credit, then phrases in the text."""
    if meta_outlet:
        return meta_outlet, "metadata"
    alias_to_name, evidence = _outlets()[:2]
    if credit:
        name = alias_to_name.get(credit.strip())
        if name:
            return name, f"dateline credit ({credit})"
    scores: dict[str, float] = {}
    first: dict[str, str] = {}
    for rx, weight, label in evidence:
        for m in rx.finditer(text):
            name = alias_to_name[m["outlet"]]
            scores[name] = scores.get(name, 0.0) + weight
            first.setdefault(name, f"{label}: '{m.group(0)}'")
    if not scores:
        return (credit, f"dateline credit ({credit}), not in outlets.yaml") if credit else ("", "")
    best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return best, first[best]


# --------------------------------------------------------------------------- one article

def parse_article(doc_id: str, text: str, meta: dict | None = None) -> dict:
    """Return the parsed pieces of one article: ``article`` (a row) and lists of paragraphs, sentences, dates."""
    meta = meta or {}
    pars = split_paragraphs(text)
    roles = ["body"] * len(pars)
    bp = _boilerplate()
    title = standfirst = author = editor = ""

    i = 0
    meta_title = str(meta.get("title") or "").strip()
    if pars and meta_title and _norm(text[pars[0][0]:pars[0][1]]) == _norm(meta_title):
        roles[0], title, i = "title", text[pars[0][0]:pars[0][1]], 1
    elif pars and not meta_title and _looks_like_title(text[pars[0][0]:pars[0][1]], len(pars)):
        roles[0], title, i = "title", text[pars[0][0]:pars[0][1]], 1
    elif meta_title:
        title = meta_title

    # byline, time stamps and photo captions right under the title (in any order)
    while i < len(pars) - 1:
        par = text[pars[i][0]:pars[i][1]]
        m = None if author else next((m for rx in bp["byline"] if (m := rx.match(par))), None)
        nxt = text[pars[i + 1][0]:pars[i + 1][1]]
        if m:
            roles[i], author = "byline", _without_outlet(m["author"].strip())
        elif not author and _NAME_LINE.match(par) and _STAMP.match(nxt) and any(rx.match(nxt) for rx in bp["leading"]):
            roles[i], author = "byline", par.strip()  # a name on its own line above a date line
        elif any(rx.match(par) for rx in bp["leading"]):
            roles[i] = "boilerplate"
        else:
            break
        i += 1

    # dateline in one of the first paragraphs; paragraphs before it are the standfirst
    dateline, dl_index = None, None
    for j in range(i, min(i + 3, len(pars))):
        dl = match_dateline(text[pars[j][0]:pars[j][1]])
        if dl is None and j == i and i > 0 and j + 1 < len(pars):
            place = _bare_place(text[pars[j][0]:pars[j][1]])  # the place alone on the line under the title
            if place:
                dl = Dateline(_proper(place), "", "", "", len(place))
        if dl:
            dateline, dl_index = dl, j
            break
    if dl_index is not None:
        for j in range(i, dl_index):
            roles[j] = "standfirst"
        s, e = pars[dl_index]
        if dateline.end >= e - s - 1:  # the dateline stands alone on its line
            roles[dl_index] = "dateline"
    elif i > 0 and i + 1 < len(pars):
        # a one-sentence summary whose opening words come back in the next paragraph is a standfirst
        cand = text[pars[i][0]:pars[i][1]]
        nxt = text[pars[i + 1][0]:pars[i + 1][1]]
        if len(split_sentences(cand)) == 1 and len(cand.split()) <= 45 and \
                _first_words(cand, 5) == _first_words(nxt, 5):
            roles[i] = "standfirst"
    standfirst = "\n".join(text[s:e] for (s, e), r in zip(pars, roles) if r == "standfirst")

    # trailing boilerplate, read from the end
    k = len(pars) - 1
    while k > i:
        par = text[pars[k][0]:pars[k][1]]
        hit = par.strip().lower() in bp["exact"]
        if not hit:
            for rx in bp["trailing"]:
                m = rx.match(par)
                if m:
                    hit = True
                    found = m.groupdict()
                    if found.get("editor") and not editor:
                        editor = found["editor"].strip()
                    if found.get("author") and not author:
                        author = found["author"].strip()
                    break
        if not hit:
            break
        roles[k] = "boilerplate"
        k -= 1

    # links to other stories and newsletter prompts, wherever they stand
    for k in range(i, len(pars)):
        if roles[k] == "body" and any(rx.match(text[pars[k][0]:pars[k][1]]) for rx in bp["anywhere"]):
            roles[k] = "boilerplate"

    body_pars = [p for p, r in zip(pars, roles) if r in ("body", "dateline")]
    body_start = body_pars[0][0] if body_pars else 0
    body_end = body_pars[-1][1] if body_pars else 0
    body = text[body_start:body_end]

    # outlet and publication date
    credit = dateline.credit if dateline else ""
    outlet, outlet_evidence = detect_outlet(body, credit, str(meta.get("outlet") or "").strip())
    published, published_source = "", ""
    for key in ("published", "date", "published_date"):
        if str(meta.get(key) or "").strip():
            published, published_source = str(meta[key]).strip()[:10], "metadata"
            break
    if not published and dateline and dateline.date:
        published, published_source = dateline.date, "dateline"
    if not published:  # a time stamp under the headline: "Published Sep 14, 2022 3:42 PM", "Updated: July 10, 2018"
        for (s, e), role in zip(pars[:i], roles[:i]):
            line = text[s:e]
            stamp = _date_from_text(line) if role == "byline" or (role == "boilerplate" and _STAMP.match(line)) else ""
            if stamp:
                published, published_source = stamp, "page time stamp"
                break
    if not published and str(meta.get("published_from") or "").strip():
        lo = str(meta["published_from"]).strip()[:10]
        hi = str(meta.get("published_to") or "").strip()[:10] or lo
        published, published_source = lo, f"estimated: metadata range {lo}..{hi}"

    paragraphs, sentences, dates = [], [], []
    for n, ((s, e), role) in enumerate(zip(pars, roles)):
        paragraphs.append({"doc_id": doc_id, "para_id": n, "start": s, "end": e, "role": role, "text": text[s:e]})
        if role in TEXT_ROLES:
            for ss, se in split_sentences(text[s:e], offset=s):
                sentences.append({"doc_id": doc_id, "sent_id": len(sentences), "para_id": n, "start": ss,
                                  "end": se, "role": role, "text": text[ss:se]})
            for d in find_dates(text[s:e], published, exact=not published_source.startswith("estimated")):
                d["start"] += s
                d["end"] += s
                dates.append({"doc_id": doc_id, **d})
    if not published:
        dated = sorted(d["value"] for d in dates if not d["value"].startswith("--") and d["granularity"] != "weekday")
        if dated:
            published, published_source = dated[-1], "estimated: latest date mentioned"

    article = {
        "doc_id": doc_id, "source": meta.get("source", ""), "title": title, "standfirst": standfirst,
        "dateline_place": dateline.place if dateline else "", "dateline_region": dateline.region if dateline else "",
        "dateline_credit": credit, "author": author, "editor": editor, "outlet": outlet,
        "outlet_evidence": outlet_evidence, "published": published, "published_source": published_source,
        "published_estimated": published_source.startswith("estimated"),
        "body_start": body_start, "body_end": body_end, "body": body, "n_words": count_words(body),
        "n_paragraphs": sum(1 for r in roles if r in ("body", "dateline")),
        "n_sentences": sum(1 for x in sentences if x["role"] in ("body", "dateline")),
        "date_mentions": [_display_date(d) for d in dates], "text": text,
    }
    return {"article": article, "paragraphs": paragraphs, "sentences": sentences, "dates": dates}


def _display_date(d: dict) -> str:
    return f"{d['text']} = {d['value']}"


# --------------------------------------------------------------------------- corpus

_RESERVED = set(ARTICLE_COLUMNS) | {"format", "encoding", "n_bytes"}


def parse_corpus(corpus: Corpus | str | Path, **load_kwargs) -> Parsed:
    """Return a ``Parsed`` corpus: every document parsed, or listed in ``rejects`` with the reason."""
    if not isinstance(corpus, Corpus):
        corpus = load_corpus(corpus, **load_kwargs)
    return parse_documents(corpus.docs.to_dict("records"), corpus.rejects)


def parse_documents(records: Iterable[dict], rejects: pd.DataFrame | None = None) -> Parsed:
    """Return a ``Parsed`` corpus from document records (``doc_id``, ``text`` and metadata columns)."""
    arts, pars, sents, dates = [], [], [], []
    bad = [] if rejects is None else rejects.to_dict("records")
    extra_cols: list[str] = []
    for rec in records:
        try:
            out = parse_article(str(rec["doc_id"]), rec["text"], rec)
        except Exception as exc:  # one bad article never stops the batch
            bad.append({"doc_id": rec.get("doc_id", ""), "source": rec.get("source", ""),
                        "reason": f"parse error: {type(exc).__name__}: {exc}"})
            continue
        row = out["article"]
        row["duplicate_of"] = rec.get("duplicate_of", "") or ""
        for k, v in rec.items():
            if k not in _RESERVED and not k.startswith("_"):
                row[k] = v
                if k not in extra_cols:
                    extra_cols.append(k)
        arts.append(row)
        pars.extend(out["paragraphs"])
        sents.extend(out["sentences"])
        dates.extend(out["dates"])
    cols = ARTICLE_COLUMNS[:-1] + extra_cols + ["text"]
    articles = pd.DataFrame(arts, columns=cols)
    return Parsed(
        articles=articles.sort_values("doc_id", kind="stable").reset_index(drop=True),
        paragraphs=pd.DataFrame(pars, columns=PARAGRAPH_COLUMNS),
        sentences=pd.DataFrame(sents, columns=SENTENCE_COLUMNS),
        dates=pd.DataFrame(dates, columns=DATE_COLUMNS),
        rejects=pd.DataFrame(bad, columns=REJECT_COLUMNS),
    )
