"""Attack and casualty events: bombings, airstrikes, ambushes, rocket attacks, kidnappings, arrests,
executions, base handovers, with killed/wounded counts, place, actors and date.

The vocabulary (trigger words, casualty words, number words, cue words) is in
``corelib/data/events.yaml``; places and actors come from :mod:`corelib.actors`, dates from the
parsed ``dates`` table. :func:`extract` returns one row per event with the clause and sentence it
came from; ``start``/``end`` index ``articles.text`` and ``evidence`` lists the words behind every
field (trigger, killed, wounded, place, actor, date) with their offsets. An event told twice in an
article (the lede, then the paragraph with the details) is one row: the later telling adds what the
first lacks, and its evidence points to where it said so.
"""
from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from corelib import actors
from corelib.parse import Parsed, ignorecase_lower
from corelib.tables import records_by

DATA = Path(__file__).parent / "data"
ROUND = 4
EVENT_COLUMNS = ["doc_id", "event_id", "sent_id", "start", "end", "sentence", "event_type", "trigger",
                 "killed", "wounded", "count", "place", "place_id", "governorate", "country", "lat", "lon",
                 "places", "actor", "perpetrator", "target", "date", "date_text", "evidence"]
_WORDS = re.compile(r"\w+")
_VAGUE_AFTER_A = re.compile(r"^\s+(?:number|lot|series|couple|handful|few|group|string|wave|spate)\b", re.I)
_ISO = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_NO_PLACE_KINDS = {"country"}
_PLACE_BEFORE_CHARS = 60   # a place written before the trigger counts only this close to it
_FUNCTION_WORDS = "after|before|an|a|the|in|of|to|and|or|from|by|with|at|on|for|than|as|that|who|which"
_COUNT_GAP = 2    # words between a count and the casualty noun after it ("14 Iraqi soldiers")
_PEOPLE_GAP = 4   # words between a count and the auxiliary in "three shepherds from the village were ..."
_IGNORED_ACTOR_TYPES = {"media", "think_tank"}


# --------------------------------------------------------------------------- vocabulary

@dataclass
class Vocabulary:
    """Compiled ``events.yaml``."""

    triggers: dict                 # first token -> [(key, type, generic, requires)]
    generic_types: set
    numbers: dict
    qty: str                       # regex of a quantity with its qualifier
    active: re.Pattern
    passive: re.Pattern
    elliptic: re.Pattern
    noun_of: re.Pattern
    toll: re.Pattern
    left_dead: re.Pattern
    none: re.Pattern
    count_re: re.Pattern
    qty_tail: re.Pattern           # a quantity that ends the text ("killed at least 3")
    subset_aside: re.Pattern       # ", including 20 children," inside a count of people
    people_group: re.Pattern       # "a soldier", "two policemen": a number and up to three words
    modifier_tail: re.Pattern      # a word of actor_modifiers that ends the text ("by suspected")
    object_after: re.Pattern       # an object after a verb ("killed himself", "killed two")
    person_nouns: set
    not_counted: set
    clause_breaks: re.Pattern
    perpetrator_cues: list
    target_cues: list
    source_cues: list
    source_after: re.Pattern       # a reporting verb right after an actor ("the army said")
    self_words: frozenset          # "it", "they": what the actor said is about itself
    generic_perpetrators: re.Pattern
    relative_days: dict
    quick: frozenset = frozenset()        # words that can start a trigger or a casualty phrase
    relative_re: re.Pattern | None = None
    relative_words: tuple = ()     # the longest word of each relative day: a text without any has none
    casualty_words: re.Pattern = re.compile("")   # (lower case, on ignorecase_lower text) no match: no casualties
    people_after: re.Pattern = re.compile("(?!)")  # "arrested 12 suspects": a count right after the trigger
    people_before: re.Pattern = re.compile("(?!)")  # "three shepherds were abducted": a count before it
    required_count: dict = field(default_factory=dict)  # required words -> "six military bases" before them
    role_cue_words: int = 0        # the most tokens a source, perpetrator or target cue has
    tail_words: dict = field(default_factory=dict)  # pattern ending the text ($) -> the most words it spans
    trigger_start: re.Pattern | None = None  # (on lower-cased text) where a trigger may start
    trigger_window: re.Pattern = re.compile(r"\S*")  # a word and as many more as a trigger has tokens


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Return the vocabulary of ``corelib/data/events.yaml``, compiled once."""
    with open(DATA / "events.yaml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    alt = actors.alternation
    triggers: dict = {}
    generic_types = set()
    required: set = set()
    for et in raw["event_types"]:
        if et.get("generic"):
            generic_types.add(et["type"])
        req = tuple(actors.phrase_key(r, True) for r in et.get("requires", []))
        required.update(req)
        for t in et["triggers"]:
            key = actors.phrase_key(str(t), True)
            triggers.setdefault(key[0], []).append((key, et["type"], bool(et.get("generic")), req))
    for lst in triggers.values():
        lst.sort(key=lambda x: -len(x[0]))
    numbers = {str(k).lower(): int(v) for k, v in raw["numbers"].items()}
    tens = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
    ones = "one|two|three|four|five|six|seven|eight|nine"
    num = rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+|(?:{tens})-(?:{ones})|{alt(numbers)})"
    qual = alt(raw.get("number_qualifiers", []))
    qty_words = max((len(str(q).split()) for q in raw.get("number_qualifiers", [])), default=0) + \
        max([len(str(n).split()) for n in raw["numbers"]] + [1])  # "no fewer than" + "a couple of"
    qty = rf"(?P<qual>(?:{qual})\s+)?(?P<num>{num})"
    killed, wounded = alt(raw["killed_words"]), alt(raw["wounded_words"])
    verbs = rf"(?P<kverb>{killed})|(?P<wverb>{wounded})"
    participles = rf"(?P<kverb>{alt(raw['killed_participles'])})|(?P<wverb>{alt(raw['wounded_participles'])})"
    be = alt(raw.get("passive_be", []))
    word = r"[\w()'’.-]+"
    # every casualty pattern below contains one of these words: a sentence without any has no casualties
    casualty_words = [w for key in ("killed_words", "wounded_words", "killed_participles", "wounded_participles",
                                    "killed_nouns", "wounded_nouns", "toll_words", "left_killed_words",
                                    "left_wounded_words", "no_harm_words", "no_casualty_nouns") for w in raw.get(key, [])]
    cue_lists = {key: sorted({actors.phrase_key(c, True) for c in raw.get(key, [])}, key=len, reverse=True)
                 for key in ("perpetrator_cues", "source_cues", "target_cues")}
    return Vocabulary(
        triggers=triggers, generic_types=generic_types, numbers=numbers, qty=qty,
        active=re.compile(rf"\b(?:{verbs})\s+{qty}\b", re.I),
        passive=re.compile(rf"(?<![\w-]){qty}\s+(?P<np>(?:{word}\s+){{0,8}}?)(?P<be>(?:(?:{be})\s+)*)"
                           rf"(?:{participles})\b", re.I),
        elliptic=re.compile(rf"\band\s+{qty}\s+(?:(?:others?|more|people|persons)\s+)?(?:{participles})\b", re.I),
        noun_of=re.compile(rf"\b(?:(?P<kverb>{alt(raw.get('killed_nouns', []))})|"
                           rf"(?P<wverb>{alt(raw.get('wounded_nouns', []))}))\s+of\s+{qty}\b", re.I),
        toll=re.compile(rf"\b(?:{alt(raw.get('toll_words', []))})\s+(?:[\w'’-]+\s+){{0,8}}?(?:to|of|at|reached|"
                        rf"is|was|stands\s+at|stood\s+at)\s+{qty}\b", re.I),
        left_dead=re.compile(rf"\bleft\s+{qty}\s+(?:{word}\s+){{0,4}}?(?:(?P<kverb>{alt(raw['left_killed_words'])})|"
                             rf"(?P<wverb>{alt(raw['left_wounded_words'])}))\b", re.I),
        none=re.compile(rf"\bno\s+(?:(?:one|body|soldiers?|civilians?)\s+(?:was|were)\s+(?P<what>{alt(raw['no_harm_words'])})"
                        rf"|(?:{alt(raw['no_casualty_nouns'])})\b(?:\s+(?:was|were)\s+reported)?)", re.I),
        object_after=re.compile(rf"\s+(?:(?:himself|herself|themselves|itself|him|her|them|the|his|their|its)\b"
                                rf"|{qty}\b)", re.I),
        modifier_tail=re.compile(rf"(?<![\w-])(?:{alt(raw.get('actor_modifiers', []))})\s*$", re.I),
        subset_aside=re.compile(rf",\s+(?:{alt(raw.get('subset_openers', []))})\b[^,;.]*,", re.I),
        people_group=re.compile(rf"\s*{qty}\s+(?:[\w()'’.-]+\s+){{0,3}}", re.I),
        qty_tail=re.compile(rf"(?<![\w-]){qty}\s*$", re.I),
        count_re=re.compile(rf"(?<![\w-]){qty}\s+(?:(?!(?:{_FUNCTION_WORDS})\b)[\w-]+\s+){{0,{_COUNT_GAP}}}$", re.I),
        person_nouns={p.lower() for p in raw.get("person_nouns", [])},
        not_counted={p.lower() for p in raw.get("not_counted_nouns", [])},
        clause_breaks=re.compile(alt(raw.get("clause_breaks", [])).replace(r"\s+", " ")),
        perpetrator_cues=cue_lists["perpetrator_cues"],
        source_cues=cue_lists["source_cues"],
        source_after=re.compile(rf"\s+(?:(?!(?:was|were|is|are|be|been|being)\b)[\w-]+\s+)?"
                                rf"(?:{alt(raw.get('source_verbs', []))})\b", re.I),
        self_words=frozenset(w.lower() for w in raw.get("source_self_words", [])),
        target_cues=cue_lists["target_cues"],
        generic_perpetrators=re.compile(rf"\b(?:{alt(raw.get('generic_perpetrators', []))})\b", re.I),
        relative_days={str(k).lower(): int(v) for k, v in (raw.get("relative_days") or {}).items()},
        quick=frozenset(set(triggers) | {w.split()[0].lower() for key in ("killed_words", "wounded_words",
                                                                            "killed_nouns", "toll_words")
                                          for w in raw.get(key, [])} | {"no", "left"}),
        relative_re=re.compile(rf"\b(?:{alt(raw.get('relative_days') or {})})\b", re.I)
        if raw.get("relative_days") else None,
        relative_words=tuple(sorted({max(str(k).lower().split(), key=len) for k in raw.get("relative_days") or {}})),
        role_cue_words=max((len(c) for lst in cue_lists.values() for c in lst), default=0),
        # the most words each $-anchored pattern spans: its quantity, its gap, and (people_before) the longest
        # auxiliary ("have been": 2) and "also"
        tail_words={"qty_tail": qty_words, "count_re": qty_words + _COUNT_GAP,
                    "people_before": qty_words + _PEOPLE_GAP + 2 + 1,
                    "modifier_tail": max((len(str(m).split()) for m in raw.get("actor_modifiers", [])), default=0)},
        trigger_start=_word_start_pattern(triggers),
        trigger_window=re.compile(r"\S*(?:\s+\S+){0,%d}" % max((len(key) for lst in triggers.values()
                                                                for key, *_ in lst), default=0)),
        casualty_words=re.compile(alt(w.lower() for w in casualty_words)),
        people_after=re.compile(rf"\s+(?:(?:the|of)\s+)?{qty}\b", re.I),
        people_before=re.compile(rf"(?<![\w-]){qty}\s+(?:[\w()'’-]+\s+){{0,{_PEOPLE_GAP}}}?(?:(?:were|was|have been|had been|are)\s+)"
                                 rf"(?:also\s+)?$", re.I),
        required_count={key: re.compile(rf"(?<![\w-]){qty}\s+(?:[\w-]+\s+){{0,2}}{re.escape(' '.join(key))}\b", re.I)
                        for key in required},
    )


def _word_start_pattern(words) -> re.Pattern | None:
    """A pattern for lower-cased text that finds every place where a token equal to one of ``words``
    (lower-case ASCII words) may start, and more; None when a word is no such word."""
    if not words or not all(w.isascii() and re.fullmatch(r"[a-z0-9_]+", w) for w in words):
        return None
    return re.compile(rf"(?<![a-z0-9_])(?:{'|'.join(sorted(words, key=len, reverse=True))})(?![a-z0-9_])")


def _search_end(v: Vocabulary, name: str, text: str) -> re.Match | None:
    """``pattern.search(text)`` for the pattern ``name`` of the vocabulary, which ends at the end of the text
    ($) and spans at most ``v.tail_words[name]`` words: tried only from the white space before that many
    last words (the same match, without trying every earlier position)."""
    words = v.tail_words[name]
    parts = text.rsplit(maxsplit=words)
    return getattr(v, name).search(text, len(parts[0]) if len(parts) > words else 0)


# --------------------------------------------------------------------------- numbers and casualties

def number_value(text: str) -> int | None:
    """Integer value of a number phrase ("38", "1,200", "twenty-five", "a dozen", "dozens of") or None."""
    v = vocabulary()
    t = re.sub(r"\s+", " ", text.strip().lower())
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+", t):
        return int(t.replace(",", ""))
    if t in v.numbers:
        return v.numbers[t]
    m = re.fullmatch(r"(\w+)-(\w+)", t)
    if m and m.group(1) in v.numbers and m.group(2) in v.numbers:
        return v.numbers[m.group(1)] + v.numbers[m.group(2)]
    return None


@dataclass
class Casualty:
    kind: str     # killed | wounded
    value: int
    start: int    # offsets in the sentence
    end: int
    text: str


def _person_follows(after: str, v: Vocabulary, limit: int = 6) -> bool:
    words = re.findall(r"[\w'’-]+", after)[:limit]
    low = [w.lower() for w in words]
    return any(w in v.person_nouns for w in low) or any(" ".join(low[i:i + 2]) in v.person_nouns
                                                         for i in range(len(low) - 1))


def _counted(after: str, v: Vocabulary) -> bool:
    """False when the number counts days, kilometres, ... instead of people."""
    first = re.findall(r"[\w'’.-]+", after)[:2]
    return not any(w.lower().rstrip(".") in v.not_counted for w in first[:1])


_CONJUNCTIONS = re.compile(r"(?<![\w-])(?:and|but|while|after|as|when)\b", re.I)
_AGES_BEFORE = re.compile(r"\b(?:aged|ages|age of)\s+(?:\d+\s*(?:,|and|to|-)\s*)*$", re.I)  # "aged 12 and 14"


def casualties(sentence: str) -> list[Casualty]:
    """Killed and wounded counts stated in a sentence, with offsets into it."""
    v = vocabulary()
    found: list[Casualty] = []
    # "100 people, including 20 children, were killed": the aside is part of the 100, not a count of its own
    text = v.subset_aside.sub(lambda m: " " * len(m.group()), sentence)
    if not v.casualty_words.search(ignorecase_lower(text)):
        return found

    def push(kind: str, value: int, s: int, e: int) -> None:
        if not any(s < c.end and e > c.start and c.kind == kind for c in found):
            found.append(Casualty(kind, value, s, e, sentence[s:e]))

    def counted(m: re.Match, check_person: bool) -> int | None:
        """Value of the number a pattern matched, or None when it counts no people."""
        num = m.group("num")
        value = number_value(num)
        after = text[m.end("num"):]
        if value is None or not _counted(after, v) or _AGES_BEFORE.search(text, 0, m.start("num")):
            return None
        if num.lower() in ("a", "an") and _VAGUE_AFTER_A.match(after):
            return None  # "a number of terrorists", "a series of attacks" are no count
        if check_person and num.lower() in ("a", "an", "one", "another", "single", "lone") \
                and not _person_follows(after, v):
            return None
        return value

    def kind_of(m: re.Match) -> str:
        return "wounded" if "wverb" in m.re.groupindex and m.group("wverb") else "killed"

    for pattern, check in ((v.active, True), (v.noun_of, True), (v.toll, False), (v.left_dead, False),
                           (v.elliptic, False)):
        for m in pattern.finditer(text):
            value = counted(m, check)
            if value is not None:
                push(kind_of(m), value, *m.span())
    pos = 0
    while (m := v.passive.search(text, pos)) is not None:
        pos = m.end()
        np_words = m.group("np").split()
        if not m.group("be") and ((np_words and np_words[-1].lower().strip("(),") not in v.person_nouns)
                                  or v.object_after.match(text, m.end())):
            continue  # no "were": "a double suicide bombing killed", "a suicide bomber killed himself and ..."
        conj = _CONJUNCTIONS.search(m.group("np"))
        if conj is None:
            value = counted(m, True)
            if value is not None:
                push(kind_of(m), value, *m.span())
            continue
        # "Three ISIS militants and a soldier were killed": two counted groups of people add up
        first, rest = m.group("np")[:conj.start()].split(), m.group("np")[conj.end():]
        second = v.people_group.fullmatch(rest)
        value = counted(m, True)
        if conj.group().lower() == "and" and first and first[-1].lower().strip("(),") in v.person_nouns \
                and second and rest.split()[-1].lower().strip("(),") in v.person_nouns \
                and value is not None and number_value(second.group("num")) is not None:
            push(kind_of(m), value + number_value(second.group("num")), *m.span())
        else:  # "Two days after the bombing and 3 soldiers were killed": look again after the conjunction
            pos = m.start("np") + conj.end()
    for m in v.none.finditer(text):
        what = (m.group("what") or "").lower()
        kinds = ["killed"] if what == "killed" else ["wounded"] if what in ("injured", "wounded", "hurt") \
            else ["killed", "wounded"]
        if "injuries" in m.group().lower():
            kinds = ["wounded"]
        for kind in kinds:
            if not any(c.kind == kind and c.start < m.end() and m.start() < c.end for c in found):
                found.append(Casualty(kind, 0, m.start(), m.end(), sentence[m.start():m.end()]))
    return sorted(found, key=lambda c: c.start)


# --------------------------------------------------------------------------- triggers and clauses

@dataclass
class Trigger:
    type: str
    generic: bool
    start: int     # offsets in the sentence
    end: int
    text: str
    requires: tuple


def triggers(sentence: str) -> list[Trigger]:
    """Event trigger words in a sentence (longest match), with offsets into it."""
    v = vocabulary()
    low = sentence.lower()
    if v.trigger_start is None or len(low) != len(sentence):
        return _triggers_of_tokens(sentence, actors.tokenize(sentence))
    # Only the words a trigger can start with are looked at, each with the few words after it: tokens never
    # cross white space, so tokenizing from a white space before the word to one after it gives the tokens
    # that tokenizing the whole sentence gives there.
    out: list[Trigger] = []
    taken = 0   # the tokens before this offset belong to the last trigger found
    for cand in v.trigger_start.finditer(low):
        at = cand.start()
        if at < taken:
            continue
        lo = sentence.rfind(" ", 0, at) + 1
        hi = v.trigger_window.match(sentence, at).end()
        toks = actors.tokenize(sentence[lo:hi], lo)
        i = next((k for k, t in enumerate(toks) if t.start == at), None)
        if i is None:
            continue  # inside a word ("éattack"): no token starts here
        found = _triggers_of_tokens(sentence, toks[i:], first_only=True)
        if found:
            out.append(found[0])
            taken = found[0].end
    return out


def _triggers_of_tokens(sentence: str, toks: list, first_only: bool = False) -> list[Trigger]:
    """Triggers in the tokens of a sentence, left to right, longest match first; with ``first_only``, the
    trigger that starts at the first token, if any."""
    v = vocabulary()
    low = [t.text.lower() for t in toks]
    out: list[Trigger] = []
    i = 0
    while i < len(toks):
        hit = None
        for key, typ, generic, req in v.triggers.get(low[i], ()):
            if tuple(low[i:i + len(key)]) == key:
                hit = (key, typ, generic, req)
                break
        if hit:
            key, typ, generic, req = hit
            s, e = toks[i].start, toks[i + len(key) - 1].end
            out.append(Trigger(typ, generic, s, e, sentence[s:e], req))
            i += len(key)
        else:
            i += 1
        if first_only:
            break
    return out


def clauses(sentence: str) -> list[tuple[int, int]]:
    """Clause spans of a sentence, cut at the ``clause_breaks`` of events.yaml."""
    v = vocabulary()
    cuts = [0]
    for m in v.clause_breaks.finditer(sentence):
        if m.start() > cuts[-1]:
            cuts.append(m.start())
    cuts.append(len(sentence))
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if sentence[a:b].strip()]


def _has_required(sentence: str, span: tuple[int, int], req: tuple) -> bool:
    if not req:
        return True
    toks = [t.text.lower() for t in actors.tokenize(sentence[span[0]:span[1]])]
    return any(tuple(toks[i:i + len(k)]) == k for k in req for i in range(len(toks) - len(k) + 1))


# --------------------------------------------------------------------------- actors' roles

_PASSIVE_VICTIM = re.compile(
    r"^\s*(?:[\w()'’-]+\s+){0,3}?(?:were|was|have been|had been|are|is)\s+(?:(?:also|reportedly|reported|all|both)\s+)*"
    r"(?:killed|wounded|injured|kidnapped|abducted|arrested|detained|executed|targeted|attacked|ambushed)", re.I)


def _role(sentence: str, m_start: int, m_end: int, anchor: Trigger, v: Vocabulary) -> str:
    """perpetrator | target | source (the actor reports the event) for an actor mention and an event trigger."""
    pre = sentence[max(0, m_start - 60):m_start]
    while True:  # "by suspected ISIS", "on the PMF", "killed at least 3 Iraqi soldiers"
        tail = _search_end(v, "modifier_tail", pre) or _search_end(v, "qty_tail", pre)
        if tail is None:
            break
        pre = pre[:tail.start()]
    # the cues are read from the last words only; tokens never cross white space, so tokenizing from the
    # white space before the last few words gives the same last tokens as tokenizing all of ``pre``
    parts = pre.rsplit(maxsplit=v.role_cue_words)
    before = actors.tokenize(pre[len(parts[0]):] if len(parts) > v.role_cue_words else pre)
    k = len(before)
    if actors.ends_with_phrase(before, k, v.source_cues):
        return "source"
    said = v.source_after.match(sentence, m_end)
    if said and not v.self_words.intersection(w.lower() for w in _WORDS.findall(sentence[said.end():])[:4]):
        return "source"  # "the Iraqi army said an IED attack killed", but "the coalition said it killed"
    if actors.ends_with_phrase(before, k, v.perpetrator_cues):
        return "perpetrator"
    # "the attack on X", "targeting X", "killing X" (but "an ISIS attack" leaves ISIS the perpetrator)
    if actors.ends_with_phrase(before, k, v.target_cues) and not (
            anchor.type == "base_handover" and m_start < anchor.start):
        return "target"
    if _PASSIVE_VICTIM.match(sentence[m_end:m_end + 60]):
        return "target"
    return "perpetrator" if m_start < anchor.start else "target"


# --------------------------------------------------------------------------- dates

def _published(article) -> dt.date | None:
    pub = str(getattr(article, "published", "") or "")
    if getattr(article, "published_estimated", False) is True:
        return None
    try:
        return dt.date.fromisoformat(pub[:10]) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", pub[:10]) else None
    except ValueError:
        return None


def _relative_dates(sentence: str, offset: int, pub: dt.date | None, v: Vocabulary) -> list[dict]:
    out = []
    if v.relative_re is None:
        return out
    for m in v.relative_re.finditer(sentence):
        days = v.relative_days[re.sub(r"\s+", " ", m.group().lower())]
        value = (pub + dt.timedelta(days=days)).isoformat() if pub else ""
        out.append({"start": m.start() + offset, "end": m.end() + offset, "text": m.group(), "value": value})
    return out


# --------------------------------------------------------------------------- extraction

def _pick_place(places: list[dict], anchor: Trigger, offset: int) -> dict | None:
    if not places:
        return None
    a = anchor.start + offset
    specific = [p for p in places if p["subtype"] not in _NO_PLACE_KINDS]
    pool = specific or places
    after = [p for p in pool if p["start"] >= a]
    if after:
        return after[0]
    near = [p for p in pool if a - p["end"] <= _PLACE_BEFORE_CHARS]
    return max(near, key=lambda p: p["start"]) if near else None


def _no_event_words(sentence: str, v: Vocabulary) -> bool:
    """True when no word of the sentence can start a trigger or a casualty phrase (it has no event)."""
    return v.quick.isdisjoint(_WORDS.findall(sentence.lower()))


def events_in_sentence(sentence: str, offset: int, mentions: list[dict], dates: list[dict],
                       include_generic: bool = False) -> list[dict]:
    """Events in one sentence; ``mentions``/``dates`` carry article offsets, ``offset`` is the sentence start."""
    v = vocabulary()
    if _no_event_words(sentence, v):
        return []
    trig = triggers(sentence)
    cas = casualties(sentence)
    if not trig and not cas:
        return []
    out = []
    for cs, ce in clauses(sentence):
        c_trig = [t for t in trig if cs <= t.start < ce and _has_required(sentence, (cs, ce), t.requires)]
        c_cas = [c for c in cas if cs <= c.start < ce]
        specific = [t for t in c_trig if not t.generic]
        anchors: list[Trigger] = []
        for t in (specific or c_trig[:1]):
            if anchors and (t.type == anchors[-1].type or
                            {t.type, anchors[-1].type} == {"suicide_bombing", "bombing"}):
                continue
            anchors.append(t)
        if not anchors and c_cas:
            c0 = c_cas[0]
            anchors = [Trigger("attack", True, c0.start, c0.end, c0.text, ())]
        if not anchors:
            continue
        c_mentions = [m for m in mentions if cs + offset <= m["start"] < ce + offset]
        items = {
            "cas": c_cas,
            "places": [m for m in c_mentions if m["type"] == "place"],
            "actors": [m for m in c_mentions if m["type"] == "actor" and m["subtype"] not in _IGNORED_ACTOR_TYPES],
            "dates": [d for d in dates if cs + offset <= d["start"] < ce + offset],
        }
        share: list[dict] = [{k: [] for k in items} for _ in anchors]
        for k, lst in items.items():
            for x in lst:
                pos = x.start if isinstance(x, Casualty) else x["start"] - offset
                nearest = min(range(len(anchors)), key=lambda i: (abs(anchors[i].start - pos), i))
                share[nearest][k].append(x)
        for anchor, own in zip(anchors, share):
            ev = _event(sentence, offset, (cs, ce), anchor, own["cas"], own["places"], own["actors"],
                        own["dates"], v)
            if include_generic or _specific(ev, anchor):
                out.append(ev)
    return out


def _specific(ev: dict, anchor: Trigger) -> bool:
    """False for generic mentions: nothing but a trigger, or a plural noun with no count, date or casualties."""
    counted = [ev["killed"] is not None, ev["wounded"] is not None, ev["count"] is not None]
    if any(counted):
        return True
    plural = re.search(r"[a-z]s$", anchor.text) is not None and anchor.text.lower() not in ("kills", "hands over")
    if plural:
        return False
    dated = bool(ev["date"]) and len(ev["date"]) > 4
    return dated or (bool(ev["place_id"]) and ev["_place_kind"] not in _NO_PLACE_KINDS)


def _event(sentence, offset, span, anchor, cas, places, c_actors, c_dates, v) -> dict:
    cs, ce = span
    evidence = [{"what": "trigger", "text": anchor.text, "start": anchor.start + offset, "end": anchor.end + offset}]
    killed = wounded = None
    for c in cas:
        if c.kind == "killed":
            killed = c.value if killed is None else killed + c.value
        else:
            wounded = c.value if wounded is None else wounded + c.value
        evidence.append({"what": c.kind, "text": c.text, "start": c.start + offset, "end": c.end + offset})
    place = _pick_place(places, anchor, offset)
    if place:
        evidence.append({"what": "place", "text": place["text"], "start": place["start"], "end": place["end"]})
    perpetrator = target = ""
    best: dict[str, tuple[int, dict]] = {}
    prev = None
    for m in c_actors:
        repeat = prev is not None and prev["entity"] == m["entity"] and \
            sentence[prev["end"] - offset:m["start"] - offset].strip() == "("
        prev = m
        if repeat:  # "Islamic State (ISIS)": the parenthesis repeats the same actor
            continue
        role = _role(sentence, m["start"] - offset, m["end"] - offset, anchor, v)
        if role == "source":
            continue
        dist = abs(m["start"] - offset - anchor.start)
        if role not in best or dist < best[role][0]:
            best[role] = (dist, m)
    actor_spans = [(m["start"] - offset, m["end"] - offset) for m in c_actors]
    for g in v.generic_perpetrators.finditer(sentence, cs, anchor.start if anchor.start > cs else cs):
        if any(s < g.end() and g.start() < e or (e <= g.start() and sentence[e:g.start()].strip() == "")
               for s, e in actor_spans):
            continue  # "ISIS gunmen": the actor named right before the word is the perpetrator
        if _role(sentence, g.start(), g.end(), anchor, v) != "perpetrator":
            continue  # "killed about 70 militants in 12 airstrikes"
        dist = anchor.start - g.start()
        if "perpetrator" not in best or dist < best["perpetrator"][0]:
            best["perpetrator"] = (dist, {"entity": g.group().lower(), "text": g.group(),
                                          "start": g.start() + offset, "end": g.end() + offset})
    if "perpetrator" in best:
        m = best["perpetrator"][1]
        perpetrator = m["entity"]
        evidence.append({"what": "perpetrator", "text": m["text"], "start": m["start"], "end": m["end"]})
    if "target" in best and best["target"][1]["entity"] != perpetrator:
        m = best["target"][1]
        target = m["entity"]
        evidence.append({"what": "target", "text": m["text"], "start": m["start"], "end": m["end"]})
    date = date_text = ""
    if c_dates:
        d = min(c_dates, key=lambda d: abs(d["start"] - offset - anchor.start))
        date_text = d["text"]
        date = d["value"] if _ISO.match(str(d["value"])) else ""
        evidence.append({"what": "date", "text": d["text"], "start": d["start"], "end": d["end"]})
    count = _count(sentence[cs:anchor.end], sentence, anchor, v)
    return {
        "start": cs + offset + (len(sentence[cs:ce]) - len(sentence[cs:ce].lstrip(" ,;"))),
        "end": ce + offset - (len(sentence[cs:ce]) - len(sentence[cs:ce].rstrip(" ,;"))),
        "event_type": anchor.type, "trigger": anchor.text, "killed": killed, "wounded": wounded,
        "count": count,
        "place": place["name"] if place else "", "place_id": place["entity"] if place else "",
        "governorate": place["governorate"] if place else "", "country": place["country"] if place else "",
        "lat": place["lat"] if place else None, "lon": place["lon"] if place else None,
        "_place_kind": place["subtype"] if place else "",
        "_back_reference": killed is None and wounded is None and count is None
        and _DEFINITE_BEFORE.search(sentence, cs, anchor.start) is not None,
        "places": "|".join(dict.fromkeys(p["entity"] for p in places)),
        "actor": perpetrator, "perpetrator": perpetrator, "target": target,
        "date": date, "date_text": date_text,
        "evidence": sorted(evidence, key=lambda e: (e["start"], e["what"])),
    }


_PEOPLE_COUNTED = {"kidnapping", "arrest", "execution"}
# "condemned the attack", "the deadly attack is the third": a definite trigger without numbers may name
# an event already reported
_DEFINITE_BEFORE = re.compile(r"(?<![\w-])(?:the|this|that|these|those)\s+(?:[\w'’-]+\s+){0,2}$", re.I)
_YEAR = re.compile(r"(?:19|20)\d\d")


def _count_value(m: re.Match | None) -> int | None:
    """Value of the quantity a count pattern matched; None for no match or a year ("the 2016 bombing")."""
    if m is None or _YEAR.fullmatch(m.group("num")):
        return None
    return number_value(m.group("num"))


def _count(head: str, sentence: str, anchor: Trigger, v: Vocabulary) -> int | None:
    """Number of events or objects named right before the trigger or its required noun ("six military bases"),
    or of people kidnapped, arrested or executed ("arrested 12 suspects", "three shepherds were abducted")."""
    if anchor.type in _PEOPLE_COUNTED:
        m = v.people_after.match(sentence[anchor.end:])
        value = _count_value(m)
        if value is not None and _person_follows(sentence[anchor.end + m.end():], v):
            return value
        value = _count_value(_search_end(v, "people_before", sentence[:anchor.start]))
        if value is not None:
            return value
    head = head[:len(head) - len(anchor.text)] if head.endswith(anchor.text) else head
    value = _count_value(_search_end(v, "count_re", head[-80:]))
    if value not in (None, 1):
        return value
    if anchor.requires:
        tail = sentence[anchor.end:]
        for key in anchor.requires:
            value = _count_value(v.required_count[key].search(tail[:120]))
            if value is not None:
                return value
    return None


_NEAR_SENTENCES = 2   # a repeated telling of an event comes within this many sentences
_FILLED = (("place", "place_id", "governorate", "country", "lat", "lon"), ("actor", "perpetrator"), ("target",),
           ("date", "date_text"), ("killed",), ("wounded",), ("count",))


def _same_incident(a: dict, b: dict, v: Vocabulary) -> bool:
    """True when event ``b`` of a later sentence tells event ``a`` again: close by, of a compatible type, with
    an equal number of killed or wounded people and no count, date or place that disagrees."""
    if not 0 < b["sent_id"] - a["sent_id"] <= _NEAR_SENTENCES:
        return False
    if a["event_type"] != b["event_type"] and not {a["event_type"], b["event_type"]} & v.generic_types:
        return False
    shared = False
    for k in ("killed", "wounded"):
        if a[k] is not None and b[k] is not None:
            if a[k] != b[k]:
                return False
            shared = shared or a[k] > 0
    if not shared:
        return False
    if a["date_text"] and b["date_text"] and (a["date"] != b["date"] if a["date"] and b["date"]
                                              else a["date_text"].lower() != b["date_text"].lower()):
        return False
    if a["place_id"] and b["place_id"] and a["place_id"] != b["place_id"]:
        same_gov = a["governorate"] and a["governorate"] == b["governorate"]
        country_only = (not a["governorate"] or not b["governorate"]) and a["country"] == b["country"]
        return bool(same_gov or country_only)
    return True


def _fill_from(a: dict, b: dict, v: Vocabulary) -> None:
    """Give event ``a`` what the later telling ``b`` adds (place, actors, date, counts), with its evidence;
    a named perpetrator replaces a generic word ("jihadists", then "suspected ISIS militants")."""
    took = set()
    if v.generic_perpetrators.fullmatch(a["perpetrator"]) and b["perpetrator"] and \
            not v.generic_perpetrators.fullmatch(b["perpetrator"]):
        a["evidence"] = [e for e in a["evidence"] if e["what"] != "perpetrator"]
        a["perpetrator"] = a["actor"] = ""
    for fields in _FILLED:
        if a[fields[0]] in (None, "") and b[fields[0]] not in (None, ""):
            a.update({f: b[f] for f in fields})
            took.add(fields[0])
    what = {"place": "place", "actor": "perpetrator", "target": "target", "date": "date", "killed": "killed",
            "wounded": "wounded"}
    a["evidence"] = sorted(a["evidence"] + [e for e in b["evidence"] if e["what"] in {what.get(t) for t in took}],
                           key=lambda e: (e["start"], e["what"]))
    a["places"] = "|".join(dict.fromkeys(p for p in (a["places"] + "|" + b["places"]).split("|") if p))


def extract(parsed: Parsed, mentions: pd.DataFrame | None = None, include_generic: bool = False) -> pd.DataFrame:
    """Return one row per event in body, standfirst and dateline sentences, by doc_id, start (EVENT_COLUMNS)."""
    if mentions is None:  # unknown names that resolve to a gazetteer spelling come back as places
        mentions = actors.extract(parsed)
    missing = [c for c in actors.MENTION_COLUMNS if c not in mentions.columns]
    if missing:
        raise ValueError(f"mentions lack columns {missing}: pass the table of corelib.actors.extract(parsed)")
    mentions = mentions[mentions["type"].isin(["actor", "place"])]
    ment_by_doc = records_by(mentions, "doc_id")
    dates = parsed.dates if getattr(parsed, "dates", None) is not None else pd.DataFrame()
    dates_by_doc = records_by(dates, "doc_id")
    datelines = actors.dateline_spans(parsed)
    v = vocabulary()
    rows = []
    for art, text, spans in actors.articles_with_sentences(parsed, ["body", "standfirst", "dateline"]):
        pub = _published(art)
        dl_start, dl_end = datelines.get(art.doc_id, (0, 0))
        doc_ment = [m for m in ment_by_doc.get(art.doc_id, []) if not dl_start <= m["start"] < dl_end]
        doc_dates = dates_by_doc.get(art.doc_id, [])
        # a sentence without one of the relative_words (looked up in lower case) has no "yesterday", "today", ...
        folded = ignorecase_lower(text)
        rel_words = [w for w in v.relative_words if w in folded]
        rel_every = len(folded) != len(text)  # offsets in ``folded`` are not those of ``text``
        n = 0
        seen: set[str] = set()   # event types already listed for this article
        doc_from = len(rows)     # this article's rows start here
        for sent_id, start, end in spans:
            sentence = text[start:end]
            if _no_event_words(sentence, v):
                continue  # events_in_sentence would find nothing: its mentions and dates are not gathered
            try:
                in_sent = [m for m in doc_ment if start <= m["start"] < end]
                ds = [d for d in doc_dates if start <= d["start"] < end]
                if rel_words and (rel_every or any(folded.find(w, start, end) >= 0 for w in rel_words)):
                    ds += _relative_dates(sentence, start, pub, v)
                found = events_in_sentence(sentence, start, in_sent, ds, include_generic)
            except Exception as exc:  # one bad sentence never stops a batch
                warnings.warn(f"events.extract: {art.doc_id} sentence {sent_id}: {type(exc).__name__}: {exc}")
                continue
            for ev in found:
                ev.pop("_place_kind", None)
                typ = ev["event_type"]
                if ev.pop("_back_reference") and not include_generic and (
                        typ in seen or (typ in v.generic_types and seen)):
                    continue  # "Barzani condemned the attack": the attack is already a row
                seen.add(typ)
                ev["sent_id"] = sent_id
                earlier = next((r for r in reversed(rows[doc_from:]) if _same_incident(r, ev, v)), None)
                if earlier is not None and not include_generic:
                    _fill_from(earlier, ev, v)  # the lede and the next paragraph often tell one attack twice
                    continue
                n += 1
                rows.append({"doc_id": art.doc_id, "event_id": f"{art.doc_id}:e{n}", "sentence": sentence, **ev})
    df = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    for col in ("killed", "wounded", "count"):
        df[col] = pd.array(df[col].tolist(), dtype="Int64")
    for col in ("lat", "lon"):
        df[col] = pd.to_numeric(df[col], errors="coerce").round(ROUND)
    return df.sort_values(["doc_id", "start", "end"], kind="stable").reset_index(drop=True)
