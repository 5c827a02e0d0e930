"""Notebook parameters: check what papermill (or a reader) set, and select the articles they ask for.

Every notebook calls :func:`validate_parameters` in the cell right after its ``parameters`` cell, so a
bad value stops the notebook at once with a message saying what to change. The returned
:class:`NotebookParams` carries the resolved values and the parsed corpus restricted to the date range.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import pandas as pd

from corelib.parse import Parsed, parse_corpus

PACKAGE_DIR = Path(__file__).resolve().parent
CODEBOOK_DIR = PACKAGE_DIR / "data" / "codebooks"
NOTEBOOK_DIR = PACKAGE_DIR.parent / "notebooks"
# columns of the articles table that make no sense as groups (free text, offsets, lists)
NOT_GROUPS = {"doc_id", "source", "text", "body", "title", "standfirst", "date_mentions", "body_start",
              "body_end", "outlet_evidence", "published_source", "how_determined"}
_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass
class NotebookParams:
    """Validated notebook parameters plus the parsed corpus limited to the date range."""

    corpus: str
    corpus_given: str
    target: str
    group_by: str
    n_topics: int | str
    start: str
    end: str
    parsed: Parsed = field(repr=False)
    n_outside_range: int = 0
    term: str | None = None
    group: str | None = None

    def k_from(self, selection: pd.DataFrame) -> int:
        """Return the number of topics: ``n_topics`` when set, else the k flagged ``chosen`` in a selection table."""
        if self.n_topics != "auto":
            return int(self.n_topics)
        return int(selection.loc[selection["chosen"].astype(bool), "k"].iloc[0])

    def table(self) -> pd.DataFrame:
        """Return the parameters as a two-column table (parameter, value) for display."""
        rows = [("corpus", self.corpus_given), ("target", self.target), ("group_by", self.group_by),
                ("n_topics", str(self.n_topics)), ("start", self.start or "(all)"), ("end", self.end or "(all)"),
                *([("term", self.term)] if self.term is not None else []),
                *([("group", self.group or "(every group)")] if self.group is not None else []),
                ("articles", str(len(self.parsed.articles))),
                ("articles outside the date range", str(self.n_outside_range))]
        return pd.DataFrame(rows, columns=["parameter", "value"])


def codebook_names() -> list[str]:
    """Return the names of the stance codebooks shipped in ``corelib/data/codebooks``."""
    if not CODEBOOK_DIR.is_dir():
        return []
    return sorted(p.stem for p in CODEBOOK_DIR.glob("*.y*ml"))


def resolve_corpus(corpus: str | Path) -> Path:
    """Return the corpus path as given when it exists from the working directory, else found from ``notebooks/``."""
    if not isinstance(corpus, (str, Path)) or not str(corpus).strip():
        raise ValueError("corpus is empty: set `corpus` to a folder of articles, a file, or a CSV/JSONL/Parquet table")
    path = Path(str(corpus).strip()).expanduser()
    if path.is_absolute() or path.exists():
        candidates = [path]
    else:
        candidates = [path, NOTEBOOK_DIR / path]
    for cand in candidates:
        if cand.exists():
            # a path that works from the working directory stays as given, so sources stay relative
            return cand if cand == path else cand.resolve()
    tried = ", ".join(str(c.resolve()) for c in candidates)
    raise ValueError(f"corpus path does not exist: {corpus!r} (looked at {tried}); "
                     "set `corpus` to a folder of articles, a file, or a CSV/JSONL/Parquet table")


def resolve_target(target: str | Path) -> str:
    """Return a shipped codebook name unchanged, or the path of an existing YAML codebook."""
    names = codebook_names()
    text = str(target).strip() if isinstance(target, (str, Path)) else ""
    if text in names:
        return text
    path = Path(text).expanduser()
    if text and path.suffix.lower() in (".yaml", ".yml"):
        for cand in ([path] if path.is_absolute() or path.is_file() else [path, NOTEBOOK_DIR / path]):
            if cand.is_file():
                return str(cand if cand == path else cand.resolve())
        raise ValueError(f"stance codebook file not found: {target!r}; give an existing .yaml path "
                         f"or one of the shipped codebooks: {', '.join(names) or '(none shipped)'}")
    raise ValueError(f"unknown stance target {target!r}: set `target` to one of the shipped codebooks "
                     f"({', '.join(names) or 'none shipped'}) or to the path of a YAML codebook")


def resolve_n_topics(n_topics) -> int | str:
    """Return ``n_topics`` as a positive int or the string 'auto'."""
    if isinstance(n_topics, str):
        text = n_topics.strip().lower()
        if text == "auto":
            return "auto"
        if text.isdigit() and int(text) > 0:
            return int(text)
    elif isinstance(n_topics, int) and not isinstance(n_topics, bool) and n_topics > 0:
        return n_topics
    elif isinstance(n_topics, float) and n_topics.is_integer() and n_topics > 0:
        return int(n_topics)
    raise ValueError(f"n_topics must be a positive whole number or 'auto', got {n_topics!r}; "
                     "for example n_topics = 4 or n_topics = 'auto'")


def date_bounds(value, name: str) -> tuple[str, str] | None:
    """Return the first and last day (ISO) covered by an ISO date, month or year, or None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.date):
        value = value.isoformat()
    text = str(value).strip()
    m = _ISO.match(text)
    hint = f"set `{name}` to an ISO date such as 2018-01-31 (or 2018-01, or 2018), or to '' for no bound"
    if not m:
        raise ValueError(f"{name} is not an ISO date: {value!r}; {hint}")
    year, month, day = int(m[1]), m[2], m[3]
    try:
        if day:
            d = dt.date(year, int(month), int(day))
            return d.isoformat(), d.isoformat()
        if month:
            last = calendar.monthrange(year, int(month))[1]
            return dt.date(year, int(month), 1).isoformat(), dt.date(year, int(month), last).isoformat()
    except ValueError as exc:
        raise ValueError(f"{name} is not a valid date: {value!r} ({exc}); {hint}") from None
    return f"{year:04d}-01-01", f"{year:04d}-12-31"


def article_dates(articles: pd.DataFrame) -> pd.DataFrame:
    """Return doc_id, date, precision (year|month|day|''), first_day, last_day and estimated per article."""
    rows = []
    for doc_id, published, estimated in zip(articles["doc_id"], articles.get("published", ""),
                                            articles.get("published_estimated", False)):
        text = "" if published is None or (isinstance(published, float) and pd.isna(published)) else str(published)
        m = _ISO.match(text.strip()[:10])
        try:
            bounds = date_bounds(m[0], "published") if m else None
        except ValueError:
            bounds = None
        precision = ("day" if m[3] else "month" if m[2] else "year") if bounds else ""
        rows.append({"doc_id": doc_id, "date": m[0] if bounds else "", "precision": precision,
                     "first_day": bounds[0] if bounds else "", "last_day": bounds[1] if bounds else "",
                     "estimated": bool(estimated) if bounds else False})
    return pd.DataFrame(rows, columns=["doc_id", "date", "precision", "first_day", "last_day", "estimated"])


def select_articles(parsed: Parsed, doc_ids) -> Parsed:
    """Return a Parsed whose tables keep only the given doc_ids (order unchanged)."""
    keep = set(doc_ids)

    def sub(df: pd.DataFrame) -> pd.DataFrame:
        return df[df["doc_id"].isin(keep)].reset_index(drop=True) if "doc_id" in df.columns else df

    tables = {f.name: sub(getattr(parsed, f.name)) for f in fields(parsed)
              if isinstance(getattr(parsed, f.name), pd.DataFrame) and f.name != "rejects"}
    return replace(parsed, **tables, _texts={})


def select_dates(parsed: Parsed, start: str = "", end: str = "") -> Parsed:
    """Return the articles whose publication date overlaps [start, end]; undated ones go when a bound is set."""
    lo, hi = date_bounds(start, "start"), date_bounds(end, "end")
    if lo is None and hi is None:
        return parsed
    dates = article_dates(parsed.articles)
    ok = dates["first_day"] != ""
    if lo is not None:
        ok &= dates["last_day"] >= lo[0]
    if hi is not None:
        ok &= dates["first_day"] <= hi[1]
    return select_articles(parsed, dates.loc[ok, "doc_id"])


def validate_parameters(corpus: str | Path = "../seeds", target: str = "isis_resurgence",
                        group_by: str = "outlet", n_topics: int | str = "auto", start: str = "",
                        end: str = "", term: str | None = None, group: str | None = None,
                        **unknown) -> NotebookParams:
    """Return the checked parameters with the parsed corpus; raise ValueError saying what to change."""
    if unknown:
        raise ValueError(f"unknown parameter(s): {', '.join(sorted(unknown))}; the notebooks take corpus, "
                         "target, group_by, n_topics, start and end (and term, group in 04)")
    if term is not None and (not isinstance(term, str) or not term.strip()):
        raise ValueError(f"term must be a word or phrase to look up (e.g. term = 'resurgence'), got {term!r}")
    path = resolve_corpus(corpus)
    target_ = resolve_target(target)
    k = resolve_n_topics(n_topics)
    lo, hi = date_bounds(start, "start"), date_bounds(end, "end")
    if lo and hi and lo[0] > hi[1]:
        raise ValueError(f"start ({start}) is after end ({end}): swap them or widen the range")
    parsed = parse_corpus(path)
    if len(parsed.articles) == 0:
        reasons = "; ".join(sorted(set(parsed.rejects["reason"].astype(str))))[:300] if len(parsed.rejects) else ""
        raise ValueError(f"no readable articles in {path}" + (f" (rejected: {reasons})" if reasons else "")
                         + "; point `corpus` at .txt/.md/.html files or a table with a text column")
    groups = [c for c in parsed.articles.columns if c not in NOT_GROUPS]
    if not isinstance(group_by, str) or group_by not in groups:
        raise ValueError(f"group_by {group_by!r} is not a column of the articles table; "
                         f"choose one of: {', '.join(groups)}")
    if group is not None and str(group) != "":
        values = sorted(set(parsed.articles[group_by].fillna("").astype(str)) - {""})
        if str(group) not in values:
            raise ValueError(f"group {group!r} is not a value of {group_by}; choose one of: {', '.join(values)} "
                             "(or group = '' to compare every group with the rest)")
    selected = select_dates(parsed, start, end)
    if len(selected.articles) == 0:
        raise ValueError(f"no article of {path} is dated between {start or 'the beginning'} and "
                         f"{end or 'the end'}; widen the date range or set start = '' and end = ''")
    return NotebookParams(corpus=str(path), corpus_given=str(corpus), target=target_, group_by=group_by, n_topics=k,
                          start=lo[0] if lo else "", end=hi[1] if hi else "", parsed=selected,
                          n_outside_range=len(parsed.articles) - len(selected.articles),
                          term=term.strip() if term is not None else None,
                          group=str(group) if group is not None else None)
