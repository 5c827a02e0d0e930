"""Altair charts of the library's tables, aggregated in pandas first, deterministic, and rendered offline.

Every ``*_chart`` function takes library tables and returns an ``altair`` chart whose inline data is a
small aggregate (at most a few hundred rows), sorted, with fixed selection names, so the same tables
give the same chart specification byte for byte. The matching ``*_table`` functions return the
aggregates themselves. :func:`use_offline_renderer` makes charts display with no network: interactive
Vega-Lite in JupyterLab, a static SVG (drawn by vl-convert) in nbconvert's HTML and in nbval.
"""
from __future__ import annotations

from pathlib import Path

import altair as alt
import pandas as pd

from corelib.notebook_params import article_dates

DATA = Path(__file__).parent / "data"
WIDTH, HEIGHT = 460, 240
UNKNOWN = "(unknown)"
OTHER = "(other)"
# fixed colours for the stance labels of the shipped codebooks; other labels get the default scheme
STANCE_COLORS = {"resurgent": "#c0392b", "contained": "#2471a3", "mixed": "#8e44ad", "none": "#b3b6b7",
                 "improving": "#2471a3", "deteriorating": "#c0392b", "support": "#1e8449", "oppose": "#c0392b"}
RENDERER = "corelib_offline"
# JupyterLab 4 renders Vega-Lite from this MIME type with the Vega it bundles (no network)
LAB_MIME = "application/vnd.vegalite.v5+json"


# --------------------------------------------------------------------------- rendering

def render_bundle(spec: dict, **metadata) -> dict:
    """Return the display bundle of a chart: the Vega-Lite spec for JupyterLab, a static SVG, a text label."""
    from altair.vegalite.v6.display import svg_renderer

    svg = svg_renderer(spec)["image/svg+xml"]
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text", "")
    label = f"Chart: {title}" if title else "Chart"
    return {LAB_MIME: spec, "image/svg+xml": svg, "text/plain": label}


def use_offline_renderer() -> str:
    """Register and enable the offline renderer (Vega-Lite + SVG bundle); return its name."""
    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, render_bundle)
    alt.renderers.enable(RENDERER)
    return RENDERER


# --------------------------------------------------------------------------- helpers

def _label(series: pd.Series) -> pd.Series:
    """Return the values as strings, with empty or missing values shown as '(unknown)'."""
    out = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    return out.where(out != "", UNKNOWN)


def _top(values: pd.Series, top: int) -> pd.Series:
    """Keep the ``top`` most frequent values (ties by name) and fold the rest into '(other)'."""
    counts = values.value_counts()
    order = sorted(counts.index, key=lambda v: (-counts[v], v))
    keep = set(order[:top])
    return values.where(values.isin(keep), OTHER)


def _count_axis(largest, **kwargs) -> alt.Axis:
    """Return an axis for counts that never shows fractional ticks (explicit ticks when counts are small)."""
    largest = int(largest) if pd.notna(largest) else 0
    if largest <= 10:
        return alt.Axis(values=list(range(0, max(largest, 1) + 1)), format="d", **kwargs)
    return alt.Axis(tickMinStep=1, format="d", **kwargs)


def _stance_scale(labels) -> alt.Scale:
    labels = list(labels)
    known = [lab for lab in STANCE_COLORS if lab in labels]
    rest = sorted(lab for lab in labels if lab not in STANCE_COLORS)
    domain = known + rest
    fallback = ["#7f8c8d", "#d68910", "#17a589", "#a04000", "#5d6d7e"]
    colours = [STANCE_COLORS.get(lab) or fallback[i % len(fallback)] for i, lab in enumerate(domain)]
    return alt.Scale(domain=domain, range=colours)


def periods(articles: pd.DataFrame, freq: str = "auto") -> pd.DataFrame:
    """Return doc_id, period ('YYYY' or 'YYYY-MM'; '' when undated) and estimated for each article."""
    dates = article_dates(articles)
    dated = dates[dates["precision"] != ""]
    if freq == "auto":
        by_month = len(dated) and (dated["precision"] != "year").all() and dated["date"].str[:7].nunique() <= 120
        freq = "month" if by_month else "year"
    if freq not in ("year", "month"):
        raise ValueError(f"freq must be 'year', 'month' or 'auto', got {freq!r}")
    width = 7 if freq == "month" else 4
    ok = (dates["precision"] != "") & ((dates["precision"] != "year") | (freq == "year"))
    period = dates["date"].str[:width].where(ok, "")
    return pd.DataFrame({"doc_id": dates["doc_id"], "period": period, "estimated": dates["estimated"]})


def period_for(articles: pd.DataFrame, max_months: int = 36) -> str:
    """Return 'month' when the dated articles span at most ``max_months`` months, else 'year'."""
    days = article_dates(articles)["first_day"]
    days = days[days != ""]
    if days.empty:
        return "month"
    lo, hi = days.min(), days.max()
    months = (int(hi[:4]) - int(lo[:4])) * 12 + int(hi[5:7]) - int(lo[5:7]) + 1
    return "month" if months <= max_months else "year"


# --------------------------------------------------------------------------- articles

ARTICLE_SUMMARY = ["doc_id", "title", "outlet", "dateline_place", "published", "published_estimated", "author",
                   "n_words", "duplicate_of"]


def articles_table(articles: pd.DataFrame, top: int = 50) -> pd.DataFrame:
    """Return one row per article (first ``top``): doc_id, title, outlet, dateline, date, author, words, duplicate_of."""
    cols = [c for c in ARTICLE_SUMMARY if c in articles.columns]
    return articles[cols].sort_values("doc_id").head(top).reset_index(drop=True)


def duplicates_table(articles: pd.DataFrame) -> pd.DataFrame:
    """Return doc_id, title, duplicate_of and the title of the earlier article, for flagged duplicates."""
    cols = ["doc_id", "title", "duplicate_of", "duplicate_title"]
    if "duplicate_of" not in articles.columns:
        return pd.DataFrame(columns=cols)
    dup = articles[articles["duplicate_of"].fillna("").astype(str) != ""]
    titles = dict(zip(articles["doc_id"], articles["title"]))
    out = dup.assign(duplicate_title=dup["duplicate_of"].map(titles).fillna(""))[cols]
    return out.sort_values("doc_id").reset_index(drop=True)


def count_table(df: pd.DataFrame, column: str, top: int = 20) -> pd.DataFrame:
    """Return ``column`` and ``n``: the most frequent values (others folded into '(other)'), by count then name."""
    if column not in df.columns:
        raise ValueError(f"no column {column!r} in the table (columns: {', '.join(map(str, df.columns))})")
    values = _top(_label(df[column]), top)
    counts = values.value_counts()
    out = pd.DataFrame({column: counts.index.astype(str), "n": counts.to_numpy(dtype="int64")})
    out["_last"] = out[column].isin([OTHER, UNKNOWN])
    out = out.sort_values(["_last", "n", column], ascending=[True, False, True]).drop(columns="_last")
    return out.reset_index(drop=True)


def count_chart(df: pd.DataFrame, column: str, title: str, top: int = 20, what: str = "articles") -> alt.Chart:
    """Return a horizontal bar chart of how often each value of ``column`` occurs (most frequent first)."""
    data = count_table(df, column, top).rename(columns={"n": what})
    return alt.Chart(data, title=title).mark_bar(color="#2471a3").encode(
        x=alt.X(f"{what}:Q", title=f"number of {what}", axis=_count_axis(data[what].max())),
        y=alt.Y(f"{column}:N", sort=list(data[column]), title=None),
        tooltip=[alt.Tooltip(f"{column}:N"), alt.Tooltip(f"{what}:Q")],
    ).properties(width=WIDTH, height=alt.Step(18))


def articles_over_time_table(articles: pd.DataFrame, freq: str = "auto") -> pd.DataFrame:
    """Return period, date_basis ('stated'|'estimated') and articles: article counts per period."""
    per = periods(articles, freq)
    per = per[per["period"] != ""]
    basis = per["estimated"].map({True: "estimated", False: "stated"})
    out = (pd.DataFrame({"period": per["period"], "date_basis": basis}).value_counts()
           .rename("articles").reset_index().sort_values(["period", "date_basis"]).reset_index(drop=True))
    out["articles"] = out["articles"].astype("int64")
    return out


def articles_over_time_chart(articles: pd.DataFrame, freq: str = "auto") -> alt.Chart:
    """Return a stacked bar chart of articles per period, split by whether the date is stated or estimated."""
    data = articles_over_time_table(articles, freq)
    return alt.Chart(data, title="Articles over time").mark_bar().encode(
        x=alt.X("period:O", title="publication period", sort=sorted(data["period"].unique())),
        y=alt.Y("sum(articles):Q", title="articles",
                axis=_count_axis(data.groupby("period")["articles"].sum().max())),
        color=alt.Color("date_basis:N", title="date", scale=alt.Scale(domain=["stated", "estimated"],
                                                                      range=["#2471a3", "#aed6f1"])),
        tooltip=["period:O", "date_basis:N", "articles:Q"],
    ).properties(width=WIDTH, height=HEIGHT)


def lengths_table(articles: pd.DataFrame, bin_words: int = 100) -> pd.DataFrame:
    """Return bin_start, bin_end and articles: the number of articles per band of ``bin_words`` words."""
    words = pd.to_numeric(articles["n_words"], errors="coerce").fillna(0).astype("int64")
    start = (words // bin_words) * bin_words
    counts = start.value_counts().sort_index()
    return pd.DataFrame({"bin_start": counts.index.astype("int64"),
                         "bin_end": (counts.index + bin_words).astype("int64"),
                         "articles": counts.to_numpy(dtype="int64")}).reset_index(drop=True)


def lengths_chart(articles: pd.DataFrame, bin_words: int = 100) -> alt.Chart:
    """Return a histogram of article lengths in words."""
    data = lengths_table(articles, bin_words)
    return alt.Chart(data, title="Article length").mark_bar(color="#2471a3").encode(
        x=alt.X("bin_start:Q", bin="binned", title="words in the article"),
        x2="bin_end:Q",
        y=alt.Y("articles:Q", title="articles", axis=_count_axis(data["articles"].max())),
        tooltip=[alt.Tooltip("bin_start:Q", title="from"), alt.Tooltip("bin_end:Q", title="to"), "articles:Q"],
    ).properties(width=WIDTH, height=HEIGHT)


# --------------------------------------------------------------------------- quotations

def speakers_table(quotes: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Return speaker, speaker_affiliation, speaker_role, quotes, direct, indirect, partial, articles per speaker."""
    cols = ["speaker", "speaker_affiliation", "speaker_role", "quotes", "direct", "indirect", "partial", "articles"]
    if quotes.empty:
        return pd.DataFrame(columns=cols)
    q = quotes.assign(speaker=_label(quotes["speaker"]),
                      speaker_affiliation=_label(quotes.get("speaker_affiliation", pd.Series("", index=quotes.index))),
                      speaker_role=_label(quotes.get("speaker_role", pd.Series("", index=quotes.index))),
                      kind=quotes.get("kind", pd.Series("", index=quotes.index)).astype(str))
    rows = []
    for speaker, g in q.groupby("speaker", sort=True):
        rows.append({"speaker": speaker,
                     "speaker_affiliation": _mode(g["speaker_affiliation"]),
                     "speaker_role": _mode(g["speaker_role"]),
                     "quotes": len(g),
                     "direct": int((g["kind"] == "direct").sum()),
                     "indirect": int((g["kind"] == "indirect").sum()),
                     "partial": int((g["kind"] == "partial").sum()),
                     "articles": int(g["doc_id"].nunique())})
    out = pd.DataFrame(rows, columns=cols).sort_values(["quotes", "speaker"], ascending=[False, True])
    return out.head(top).reset_index(drop=True)


def _mode(values: pd.Series) -> str:
    known = values[values != UNKNOWN]
    if known.empty:
        return UNKNOWN
    counts = known.value_counts()
    return sorted(counts.index, key=lambda v: (-counts[v], v))[0]


def speakers_chart(quotes: pd.DataFrame, top: int = 15) -> alt.Chart:
    """Return bars of the most quoted speakers, coloured by affiliation (click the legend to highlight one)."""
    data = speakers_table(quotes, top)
    pick = alt.selection_point(name="pick_affiliation", fields=["speaker_affiliation"], bind="legend")
    return alt.Chart(data, title="Who is quoted most").mark_bar().encode(
        x=alt.X("quotes:Q", title="quotations", axis=_count_axis(data["quotes"].max())),
        y=alt.Y("speaker:N", sort=list(data["speaker"]), title=None),
        color=alt.Color("speaker_affiliation:N", title="affiliation",
                        sort=sorted(data["speaker_affiliation"].unique())),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.25)),
        tooltip=["speaker:N", "speaker_affiliation:N", "speaker_role:N", "quotes:Q", "direct:Q", "indirect:Q",
                 "partial:Q", "articles:Q"],
    ).add_params(pick).properties(width=WIDTH, height=alt.Step(18))


def affiliation_kinds_table(quotes: pd.DataFrame) -> pd.DataFrame:
    """Return speaker_affiliation, kind and quotes: quotation counts per affiliation and kind."""
    if quotes.empty:
        return pd.DataFrame(columns=["speaker_affiliation", "kind", "quotes"])
    q = pd.DataFrame({"speaker_affiliation": _label(quotes["speaker_affiliation"]), "kind": _label(quotes["kind"])})
    out = q.value_counts().rename("quotes").reset_index()
    out["quotes"] = out["quotes"].astype("int64")
    return out.sort_values(["speaker_affiliation", "kind"]).reset_index(drop=True)


def affiliation_kinds_chart(quotes: pd.DataFrame) -> alt.Chart:
    """Return stacked bars of quotations per speaker affiliation, split by kind (direct, indirect, partial)."""
    data = affiliation_kinds_table(quotes)
    totals = data.groupby("speaker_affiliation")["quotes"].sum()
    order = sorted(totals.index, key=lambda a: (-totals[a], a))
    return alt.Chart(data, title="Quotations by affiliation and kind").mark_bar().encode(
        x=alt.X("sum(quotes):Q", title="quotations", axis=_count_axis(max(totals, default=0))),
        y=alt.Y("speaker_affiliation:N", sort=order, title=None),
        color=alt.Color("kind:N", title="kind", sort=sorted(data["kind"].unique())),
        tooltip=["speaker_affiliation:N", "kind:N", "quotes:Q"],
    ).properties(width=WIDTH, height=alt.Step(20))


# --------------------------------------------------------------------------- stance

def stance_table(tagged: pd.DataFrame, by: str, stance: str = "stance", top: int = 15) -> pd.DataFrame:
    """Return ``by``, stance, n and share: how the rows of each group split across stance labels."""
    if by not in tagged.columns:
        raise ValueError(f"no column {by!r} in the stance table (columns: {', '.join(map(str, tagged.columns))})")
    if tagged.empty:
        return pd.DataFrame(columns=[by, "stance", "n", "share"])
    t = pd.DataFrame({by: _top(_label(tagged[by]), top), "stance": _label(tagged[stance])})
    out = t.value_counts().rename("n").reset_index()
    out["n"] = out["n"].astype("int64")
    out["share"] = (out["n"] / out.groupby(by)["n"].transform("sum")).round(4)
    return out.sort_values([by, "stance"]).reset_index(drop=True)


def stance_chart(tagged: pd.DataFrame, by: str, stance: str = "stance", top: int = 15,
                 title: str | None = None) -> alt.Chart:
    """Return 100% stacked bars of the stance labels within each group of ``by`` (legend click highlights)."""
    data = stance_table(tagged, by, stance, top)
    totals = data.groupby(by)["n"].sum() if len(data) else pd.Series(dtype="int64")
    order = sorted(totals.index, key=lambda g: (g == OTHER, -totals[g], g))
    pick = alt.selection_point(name="pick_stance", fields=["stance"], bind="legend")
    return alt.Chart(data, title=title or f"Stance by {by}").mark_bar().encode(
        x=alt.X("n:Q", stack="normalize", title="share", axis=alt.Axis(format="%")),
        y=alt.Y(f"{by}:N", sort=order, title=None),
        color=alt.Color("stance:N", scale=_stance_scale(data["stance"].unique()), title="stance"),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.25)),
        tooltip=[f"{by}:N", "stance:N", "n:Q", alt.Tooltip("share:Q", format=".0%")],
    ).add_params(pick).properties(width=WIDTH, height=alt.Step(20))


def stance_over_time_table(tagged: pd.DataFrame, articles: pd.DataFrame, stance: str = "stance",
                           freq: str = "auto") -> pd.DataFrame:
    """Return period, stance and n: stance labels of the rows of ``tagged`` by their article's period."""
    per = periods(articles, freq)
    t = tagged[["doc_id", stance]].merge(per[["doc_id", "period"]], on="doc_id", how="left")
    t = t[t["period"].fillna("") != ""]
    if t.empty:
        return pd.DataFrame(columns=["period", "stance", "n"])
    out = pd.DataFrame({"period": t["period"], "stance": _label(t[stance])}).value_counts().rename("n").reset_index()
    out["n"] = out["n"].astype("int64")
    return out.sort_values(["period", "stance"]).reset_index(drop=True)


def stance_over_time_chart(tagged: pd.DataFrame, articles: pd.DataFrame, stance: str = "stance",
                           freq: str = "auto", title: str = "Stance over time") -> alt.Chart:
    """Return stacked bars of stance labels per publication period."""
    data = stance_over_time_table(tagged, articles, stance, freq)
    return alt.Chart(data, title=title).mark_bar().encode(
        x=alt.X("period:O", sort=sorted(data["period"].unique()), title="publication period"),
        y=alt.Y("n:Q", title="count", axis=_count_axis(data.groupby("period")["n"].sum().max())),
        color=alt.Color("stance:N", scale=_stance_scale(data["stance"].unique()), title="stance"),
        tooltip=["period:O", "stance:N", "n:Q"],
    ).properties(width=WIDTH, height=HEIGHT)


# --------------------------------------------------------------------------- places and events

# places that are areas rather than points: a dot at their centre would mislead on a map
AREAS = frozenset({"country", "region", "governorate", "river", "desert", "lake"})


def places_table(mentions: pd.DataFrame, top: int = 200, points_only: bool = False) -> pd.DataFrame:
    """Return entity, name, subtype, governorate, lat, lon, mentions, articles for places with coordinates.

    ``points_only`` leaves out areas (countries, regions, governorates, rivers, deserts, lakes).
    """
    cols = ["entity", "name", "subtype", "governorate", "lat", "lon", "mentions", "articles"]
    if mentions.empty or "lat" not in mentions.columns:
        return pd.DataFrame(columns=cols)
    m = mentions.copy()
    if "type" in m.columns:
        m = m[m["type"] == "place"]
    for col in ("name", "subtype", "governorate"):
        m[col] = _label(m[col]) if col in m.columns else UNKNOWN
    if points_only:
        m = m[~m["subtype"].isin(AREAS)]
    m["lat"] = pd.to_numeric(m["lat"], errors="coerce")
    m["lon"] = pd.to_numeric(m["lon"], errors="coerce")
    m = m.dropna(subset=["lat", "lon"])
    if m.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for entity, g in m.groupby("entity", sort=True):
        rows.append({"entity": str(entity), "name": _mode(g["name"]), "subtype": _mode(g["subtype"]),
                     "governorate": _mode(g["governorate"]),
                     "lat": round(float(g["lat"].iloc[0]), 4), "lon": round(float(g["lon"].iloc[0]), 4),
                     "mentions": len(g), "articles": int(g["doc_id"].nunique())})
    out = pd.DataFrame(rows, columns=cols).sort_values(["mentions", "entity"], ascending=[False, True])
    return out.head(top).reset_index(drop=True)


def places_map(mentions: pd.DataFrame, top: int = 200) -> alt.LayerChart:
    """Return a map: outlines of Iraq, Syria and neighbours, with circles at places sized by mentions.

    Areas (countries, regions, governorates) are left out: they have no single point; so are places
    outside the outline's box (Iraq, Syria and the edges of their neighbours).
    """
    from corelib.actors import region_outline

    outline = region_outline()
    features = sorted(outline["features"], key=lambda f: (f["properties"]["role"] != "neighbour",
                                                         f["properties"]["iso_a3"]))
    land = alt.Chart(alt.Data(values=features), title="Places mentioned").mark_geoshape(
        stroke="white", strokeWidth=0.8).encode(
        color=alt.Color("properties.role:N", scale=alt.Scale(domain=["focus", "neighbour"],
                                                             range=["#e5e8e8", "#f4f6f6"]), legend=None),
        tooltip=[alt.Tooltip("properties.name:N", title="country")],
    )
    data = places_table(mentions, top, points_only=True)
    lon_min, lat_min, lon_max, lat_max = outline["bbox"]  # places beyond the outline stay in the tables
    data = data[data["lon"].between(lon_min, lon_max) & data["lat"].between(lat_min, lat_max)]
    pick = alt.selection_point(name="pick_place", fields=["entity"], on="pointerover", clear="pointerout")
    dots = alt.Chart(data).mark_circle(color="#c0392b", stroke="white", strokeWidth=0.5, clip=True).encode(
        longitude="lon:Q", latitude="lat:Q",
        size=alt.Size("mentions:Q", title="mentions", scale=alt.Scale(range=[30, 900])),
        opacity=alt.condition(pick, alt.value(0.95), alt.value(0.6)),
        tooltip=["name:N", "subtype:N", "governorate:N", "mentions:Q", "articles:Q",
                 alt.Tooltip("lat:Q", format=".3f"), alt.Tooltip("lon:Q", format=".3f")],
    ).add_params(pick)
    return alt.layer(land, dots).project(type="mercator").properties(width=WIDTH, height=380)


MAX_PERIODS = 60  # a timeline shows at most this many days; beyond, months, then years


def events_table(events: pd.DataFrame, articles: pd.DataFrame | None = None,
                 max_periods: int = MAX_PERIODS) -> pd.DataFrame:
    """Return date, event_type, events, killed and wounded per date and event type.

    An event without its own date takes its article's publication date when ``articles`` is given.
    Dates are days, or months when there are more than ``max_periods`` days (years beyond that), so the
    table stays small on large corpora.
    """
    cols = ["date", "event_type", "events", "killed", "wounded"]
    if events.empty:
        return pd.DataFrame(columns=cols)
    e = events.copy()
    e["date"] = e.get("date", pd.Series("", index=e.index)).astype(object).where(lambda s: s.notna(), "").astype(str)
    if articles is not None:
        pub = article_dates(articles).set_index("doc_id")["date"]
        missing = e["date"].str.strip() == ""
        e.loc[missing, "date"] = e.loc[missing, "doc_id"].map(pub).fillna("")
    e["date"] = e["date"].str[:10]
    e = e[e["date"].str.match(r"^\d{4}-\d{2}")]
    if e.empty:
        return pd.DataFrame(columns=cols)
    for width in (10, 7, 4):
        if e["date"].str[:width].nunique() <= max_periods:
            break
    e["date"] = e["date"].str[:width]
    e["event_type"] = _label(e["event_type"])
    for col in ("killed", "wounded"):
        e[col] = pd.to_numeric(e.get(col, 0), errors="coerce").fillna(0).astype("int64")
    out = e.groupby(["date", "event_type"], sort=True).agg(events=("doc_id", "size"), killed=("killed", "sum"),
                                                           wounded=("wounded", "sum")).reset_index()
    for col in ("events", "killed", "wounded"):
        out[col] = out[col].astype("int64")
    return out[cols]


def events_timeline(events: pd.DataFrame, articles: pd.DataFrame | None = None, top_types: int = 10) -> alt.Chart:
    """Return a timeline of events: killed (up) and wounded (down) per date, coloured by event type."""
    data = events_table(events, articles)
    data["event_type"] = _top(data["event_type"], top_types)
    data = data.groupby(["date", "event_type"], sort=True)[["events", "killed", "wounded"]].sum().reset_index()
    long = data.melt(id_vars=["date", "event_type", "events"], value_vars=["killed", "wounded"],
                     var_name="casualty", value_name="people")
    long["signed"] = long["people"].where(long["casualty"] == "killed", -long["people"]).astype("int64")
    long = long.sort_values(["date", "event_type", "casualty"]).reset_index(drop=True)
    pick = alt.selection_point(name="pick_event_type", fields=["event_type"], bind="legend")
    return alt.Chart(long, title="Attacks and casualties: killed (up), wounded (down)").mark_bar().encode(
        x=alt.X("date:O", sort=sorted(long["date"].unique()), title="date"),
        y=alt.Y("signed:Q", title="people", axis=alt.Axis(labelExpr="abs(datum.value)")),
        color=alt.Color("event_type:N", title="event type", sort=sorted(long["event_type"].unique())),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.2)),
        tooltip=["date:O", "event_type:N", "casualty:N", "people:Q", "events:Q"],
    ).add_params(pick).properties(width=WIDTH, height=HEIGHT)


def events_rows(events: pd.DataFrame, top: int = 30) -> pd.DataFrame:
    """Return the events with casualties first (most killed, then wounded), with their sentence: first ``top``."""
    cols = [c for c in ["doc_id", "start", "date", "event_type", "killed", "wounded", "place", "governorate", "actor",
                        "sentence"] if c in events.columns]
    if events.empty:
        return pd.DataFrame(columns=cols)
    e = events[cols].copy()
    for col in ("killed", "wounded"):
        if col in e.columns:
            e[col] = pd.to_numeric(e[col], errors="coerce").fillna(0).astype("int64")
    return e.sort_values(["killed", "wounded", "doc_id", "start"], ascending=[False, False, True, True]) \
        .head(top).reset_index(drop=True)


# --------------------------------------------------------------------------- quotations: rows and subjects

def quotes_rows(quotes: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """Return the first ``top`` quotations in text order: doc_id, start, end, kind, speaker, affiliation, quote."""
    cols = [c for c in ["doc_id", "start", "end", "kind", "speaker", "speaker_affiliation", "quote"] if c in quotes]
    return quotes.sort_values(["doc_id", "start"])[cols].head(top).reset_index(drop=True)


def speaker_mentions_table(quotes: pd.DataFrame, mentions: pd.DataFrame, top_speakers: int = 10,
                           top_entities: int = 12) -> pd.DataFrame:
    """Return speaker, name (actor or place), type and mentions: what the most quoted speakers talk about.

    A mention counts for a speaker when it lies inside one of the speaker's quotations.
    """
    cols = ["speaker", "name", "type", "mentions"]
    if quotes.empty or mentions.empty:
        return pd.DataFrame(columns=cols)
    speakers = list(speakers_table(quotes, top_speakers)["speaker"])
    q = quotes.assign(speaker=_label(quotes["speaker"]))
    q = q[q["speaker"].isin(speakers) & (q["speaker"] != UNKNOWN)]
    name_col = "name" if "name" in mentions.columns else "entity"
    m = mentions[mentions["type"].isin(["actor", "place"])][["doc_id", "start", "end", name_col, "type"]]
    pairs = q[["doc_id", "start", "end", "speaker"]].merge(m, on="doc_id", suffixes=("_q", ""))
    inside = pairs[(pairs["start"] >= pairs["start_q"]) & (pairs["end"] <= pairs["end_q"])]
    if inside.empty:
        return pd.DataFrame(columns=cols)
    counts = inside.groupby(["speaker", name_col, "type"]).size().rename("mentions").reset_index()
    counts = counts.rename(columns={name_col: "name"})
    totals = counts.groupby("name")["mentions"].sum()
    keep = sorted(totals.index, key=lambda n: (-totals[n], n))[:top_entities]
    out = counts[counts["name"].isin(keep)].copy()
    out["mentions"] = out["mentions"].astype("int64")
    return out.sort_values(["speaker", "mentions", "name"], ascending=[True, False, True]).reset_index(drop=True)[cols]


def speaker_mentions_chart(quotes: pd.DataFrame, mentions: pd.DataFrame, top_speakers: int = 10,
                           top_entities: int = 12) -> alt.Chart:
    """Return a heat map: the actors and places named inside each top speaker's quotations."""
    data = speaker_mentions_table(quotes, mentions, top_speakers, top_entities)
    order_s = list(speakers_table(quotes, top_speakers)["speaker"])
    totals = data.groupby("name")["mentions"].sum() if len(data) else pd.Series(dtype="int64")
    order_n = sorted(totals.index, key=lambda n: (-totals[n], n))
    return alt.Chart(data, title="What the most quoted speakers talk about").mark_rect().encode(
        x=alt.X("name:N", sort=order_n, title="actor or place named in the quotations"),
        y=alt.Y("speaker:N", sort=[s for s in order_s if s in set(data["speaker"])], title=None),
        color=alt.Color("mentions:Q", title="mentions", scale=alt.Scale(scheme="blues")),
        tooltip=["speaker:N", "name:N", "type:N", "mentions:Q"],
    ).properties(width=alt.Step(28), height=alt.Step(20))


# --------------------------------------------------------------------------- stance: evidence and evaluation

def add_article_columns(table: pd.DataFrame, articles: pd.DataFrame, columns) -> pd.DataFrame:
    """Return ``table`` with article columns (e.g. outlet, title) joined on doc_id (existing columns kept)."""
    cols = [c for c in ([columns] if isinstance(columns, str) else list(columns))
            if c in articles.columns and c not in table.columns]
    return table.merge(articles[["doc_id", *cols]], on="doc_id", how="left") if cols else table


def stance_evidence(tagged: pd.DataFrame, text: str, top: int = 15, neutral: str = "none") -> pd.DataFrame:
    """Return the rows that take a side, most confident first: doc_id, start, [speaker], text, stance, evidence."""
    cols = [c for c in ["doc_id", "start", "speaker", text, "stance", "confidence", "evidence_text"] if c in tagged]
    sided = tagged[tagged["stance"].astype(str) != neutral]
    return sided.sort_values(["confidence", "doc_id", "start"], ascending=[False, True, True])[cols] \
        .head(top).reset_index(drop=True)


def gold_tables(corpus: str | Path) -> dict[str, pd.DataFrame]:
    """Return the hand-coded stance tables found in ``CORPUS/gold/`` (articles, quotes, sentences) that have a stance."""
    folder = Path(corpus) / "gold"
    out = {}
    for level in ("articles", "quotes", "sentences"):
        path = folder / f"{level}.csv"
        if path.is_file():
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            if "stance" in df.columns and "doc_id" in df.columns:
                out[level] = df
    return out


def gold_evaluation(corpus: str | Path, parsed, sentences: pd.DataFrame, quotes: pd.DataFrame,
                    articles: pd.DataFrame) -> pd.DataFrame:
    """Return level, gold rows, macro_f1, accuracy and kappa of the tagger against ``CORPUS/gold`` (empty if none)."""
    from corelib import stance

    cols = ["level", "gold_rows", "macro_f1", "accuracy", "kappa"]
    gold = gold_tables(corpus)
    keep = set(parsed.articles["doc_id"])
    rows = []
    for level, pred in (("articles", articles), ("quotes", quotes), ("sentences", sentences)):
        if level not in gold:
            continue
        g = gold[level][gold[level]["doc_id"].isin(keep)]
        if level == "quotes" and "start" not in g.columns:
            g = stance.locate_gold_quotes(parsed, g)
        if g.empty or (g["stance"].str.strip() == "").all():
            continue
        ev = stance.evaluate(g, pred)
        rows.append({"level": level, "gold_rows": ev.n, "macro_f1": ev.macro_f1, "accuracy": ev.accuracy,
                     "kappa": ev.kappa})
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- keywords and keyness

def keyness_table(keyness: pd.DataFrame, top: int = 10, max_groups: int = 8) -> pd.DataFrame:
    """Return target, side, term, g2, log_ratio, freq_target and freq_reference: the strongest key terms.

    With one target group both sides are kept (terms key for the target, and for the reference);
    with several groups, the ``top`` key terms of each of the ``max_groups`` groups with most words.
    """
    cols = ["target", "side", "term", "g2", "log_ratio", "freq_target", "freq_reference"]
    if keyness.empty:
        return pd.DataFrame(columns=cols)
    k = keyness.copy()
    k["target"] = k["target"].astype(str)
    size = k.groupby("target")["freq_target"].sum()
    keep = sorted(size.index, key=lambda t: (-size[t], t))[:max_groups]
    k = k[k["target"].isin(keep)]
    parts = []
    single = k["target"].nunique() == 1
    for target, g in k.groupby("target", sort=True):
        pos = g[g["g2"] > 0].sort_values(["g2", "term"], ascending=[False, True]).head(top)
        parts.append(pos.assign(side=f"key in {target}"))
        if single:
            ref = str(g["reference"].iloc[0]) if "reference" in g else "reference"
            neg = g[g["g2"] < 0].sort_values(["g2", "term"], ascending=[True, True]).head(top)
            parts.append(neg.assign(side=f"key in {ref}"))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
    return out[cols].reset_index(drop=True)


def keyness_chart(keyness: pd.DataFrame, top: int = 10) -> alt.Chart:
    """Return bars of log-likelihood (G2) per key term; one panel per group when several groups are compared."""
    data = keyness_table(keyness, top)
    base = alt.Chart(data).mark_bar().encode(
        x=alt.X("g2:Q", title="log-likelihood G2 (negative: key in the reference)"),
        y=alt.Y("term:N", sort="-x", title=None),
        color=alt.Color("side:N", title=None, sort=sorted(data["side"].unique())),
        tooltip=["term:N", "side:N", alt.Tooltip("g2:Q", format=".2f"), alt.Tooltip("log_ratio:Q", format=".2f"),
                 "freq_target:Q", "freq_reference:Q"],
    ).properties(width=WIDTH // 2 if data["target"].nunique() > 1 else WIDTH, height=alt.Step(16))
    if data["target"].nunique() > 1:
        return base.facet(facet=alt.Facet("target:N", title=None, sort=sorted(data["target"].unique())),
                          columns=2, title="Key terms of each group against the rest").resolve_scale(y="independent")
    return base.properties(title="Key terms")


# --------------------------------------------------------------------------- topics

def topic_terms_chart(terms: pd.DataFrame, top: int = 6) -> alt.FacetChart:
    """Return one small bar chart per topic with the weights of its ``top`` terms."""
    data = terms[terms["rank"] <= top][["topic", "label", "rank", "term", "weight"]]
    data = data.sort_values(["topic", "rank"]).reset_index(drop=True)
    data["topic_name"] = data["topic"].astype(str) + ": " + data["label"].astype(str)
    order = list(dict.fromkeys(data["topic_name"]))
    return alt.Chart(data).mark_bar(color="#2471a3").encode(
        x=alt.X("weight:Q", title="weight"),
        y=alt.Y("term:N", sort="-x", title=None),
        tooltip=["topic:Q", "term:N", alt.Tooltip("weight:Q", format=".4f")],
    ).properties(width=150, height=alt.Step(14)).facet(
        facet=alt.Facet("topic_name:N", title=None, sort=order), columns=3, title="Top terms per topic",
    ).resolve_scale(y="independent")


def topic_heatmap(table: pd.DataFrame, x: str, title: str) -> alt.Chart:
    """Return a heat map of topic weight (rows: topics) against ``x`` (a group or a period column)."""
    data = table[[x, "topic", "label", "weight"]].copy()
    data[x] = _label(data[x])
    data["topic_name"] = data["topic"].astype(str) + ": " + data["label"].astype(str)
    data = data.sort_values([x, "topic"]).reset_index(drop=True)
    order = list(dict.fromkeys(data.sort_values("topic")["topic_name"]))
    return alt.Chart(data, title=title).mark_rect().encode(
        x=alt.X(f"{x}:O", sort=sorted(data[x].unique()), title=x),
        y=alt.Y("topic_name:N", sort=order, title=None),
        color=alt.Color("weight:Q", title="mean weight", scale=alt.Scale(scheme="greens")),
        tooltip=[f"{x}:O", "topic_name:N", alt.Tooltip("weight:Q", format=".3f")],
    ).properties(width=alt.Step(48), height=alt.Step(20))


MEASURES = ["coherence", "diversity", "stability", "score"]


def model_choice_chart(selection: pd.DataFrame, k: int | None = None) -> alt.LayerChart:
    """Return coherence, diversity, stability and their combined score against k, with k marked.

    ``k`` defaults to the row flagged ``chosen`` in the selection table.
    """
    cols = [m for m in MEASURES if m in selection.columns]
    long = selection.melt(id_vars=["k"], value_vars=cols, var_name="measure", value_name="value")
    long = long.sort_values(["measure", "k"]).reset_index(drop=True)
    chosen = (pd.DataFrame({"k": [int(k)]}) if k is not None
              else selection.loc[selection["chosen"].astype(bool), ["k"]].reset_index(drop=True))
    lines = alt.Chart(long).mark_line(point=True).encode(
        x=alt.X("k:O", title="number of topics k"),
        y=alt.Y("value:Q", title="measure (higher is better)"),
        color=alt.Color("measure:N", sort=cols, title=None),
        tooltip=["k:O", "measure:N", alt.Tooltip("value:Q", format=".3f")],
    )
    rule = alt.Chart(chosen).mark_rule(color="#7f8c8d", strokeDash=[4, 3]).encode(x="k:O")
    return alt.layer(lines, rule, title="Choosing the number of topics").properties(width=WIDTH, height=HEIGHT)


def concordance(parsed, term: str, window: int = 8, top: int = 25) -> pd.DataFrame:
    """Return the first ``top`` KWIC lines of ``term`` (every spelling when it is a known name, e.g. ISIS/Daesh)."""
    from corelib import keywords

    try:
        lines = keywords.kwic(parsed, term, window=window, aliases=True)
    except ValueError:  # not a name in corelib/data: match the word or phrase as written
        lines = keywords.kwic(parsed, term, window=window)
    cols = [c for c in ["doc_id", "start", "left", "match", "right", "outlet", "published"] if c in lines.columns]
    return lines.sort_values(["doc_id", "start"])[cols].head(top).reset_index(drop=True)


def codebook_table(codebook) -> pd.DataFrame:
    """Return one row describing a stance codebook: target, labels, neutral label, number of cues, description."""
    return pd.DataFrame({"target": [codebook.name], "labels": [", ".join(codebook.all_labels)],
                         "neutral": [codebook.neutral], "cues": [len(codebook.cues)],
                         "description": [" ".join(str(codebook.description).split())]})


def speaker_stances(speakers: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Return the most quoted speakers' aggregated stance: speaker, affiliation, quotes, articles, stance, evidence."""
    cols = [c for c in ["speaker", "speaker_affiliation", "n_quotes", "n_docs", "stance", "confidence",
                        "evidence_text"] if c in speakers.columns]
    return speakers.sort_values(["n_quotes", "speaker"], ascending=[False, True])[cols].head(top) \
        .reset_index(drop=True)
