"""Chart specs: marks, encodings and the aggregated rows they carry, on small real-looking tables."""
from __future__ import annotations

import json

import altair as alt
import pandas as pd
import pytest

from corelib import charts


def spec(chart) -> dict:
    return chart.to_dict()


def rows(chart, layer: int | None = None) -> list[dict]:
    """Return the inline data rows of a chart (or of one layer)."""
    d = spec(chart)
    part = d["layer"][layer] if layer is not None else d
    name = part["data"]["name"] if "name" in part.get("data", {}) else d["data"]["name"]
    return d["datasets"][name]


def articles_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "doc_id": ["a1", "a2", "a3", "a4", "a5"],
        "title": ["Coalition hands over al-Qaim base", "ISIS attack in Hawija", "Peshmerga clash",
                  "Canada to send police", "Diyala operations resume"],
        "outlet": ["Rudaw", "Rudaw", "Kurdistan 24", "", "Military Times"],
        "dateline_place": ["Erbil, Kurdistan Region", "Erbil, Kurdistan Region", "", "Ottawa", ""],
        "published": ["2020-03-19", "2020-04-09", "2018-01", "2017-08-02", ""],
        "published_estimated": [False, True, True, False, False],
        "n_words": [337, 548, 419, 396, 1210],
        "duplicate_of": ["", "", "", "", "a1"],
    })


def test_count_chart_sorted_bars_with_unknown_last():
    chart = charts.count_chart(articles_frame(), "outlet", "Articles per outlet")
    d = spec(chart)
    assert d["mark"]["type"] == "bar"
    assert d["encoding"]["y"]["field"] == "outlet"
    assert d["encoding"]["y"]["sort"] == ["Rudaw", "Kurdistan 24", "Military Times", "(unknown)"]
    assert rows(chart) == [{"outlet": "Rudaw", "articles": 2}, {"outlet": "Kurdistan 24", "articles": 1},
                           {"outlet": "Military Times", "articles": 1}, {"outlet": "(unknown)", "articles": 1}]
    assert {t["field"] for t in d["encoding"]["tooltip"]} == {"outlet", "articles"}


def test_count_table_folds_rare_values_into_other():
    df = pd.DataFrame({"speaker": ["Caggins"] * 3 + ["Glynn"] * 2 + ["Yawar", "Bakr"]})
    out = charts.count_table(df, "speaker", top=2)
    assert out.to_dict("records") == [{"speaker": "Caggins", "n": 3}, {"speaker": "Glynn", "n": 2},
                                      {"speaker": "(other)", "n": 2}]
    with pytest.raises(ValueError, match="no column 'nope'"):
        charts.count_table(df, "nope")


def test_articles_over_time_uses_years_when_some_dates_are_years_only():
    arts = articles_frame()
    arts.loc[0, "published"] = "2020"
    table = charts.articles_over_time_table(arts)
    assert list(table.columns) == ["period", "date_basis", "articles"]
    assert table.to_dict("records") == [
        {"period": "2017", "date_basis": "stated", "articles": 1},
        {"period": "2018", "date_basis": "estimated", "articles": 1},
        {"period": "2020", "date_basis": "estimated", "articles": 1},
        {"period": "2020", "date_basis": "stated", "articles": 1}]


def test_articles_over_time_chart_by_month():
    chart = charts.articles_over_time_chart(articles_frame())
    d = spec(chart)
    assert d["mark"]["type"] == "bar"
    assert d["encoding"]["x"]["field"] == "period"
    assert d["encoding"]["color"]["field"] == "date_basis"
    periods = [r["period"] for r in rows(chart)]
    assert periods == ["2017-08", "2018-01", "2020-03", "2020-04"]
    # count axes never show fractional ticks
    assert d["encoding"]["y"]["axis"]["values"] == [0, 1]


def test_lengths_histogram_bins():
    chart = charts.lengths_chart(articles_frame(), bin_words=200)
    assert rows(chart) == [{"bin_start": 200, "bin_end": 400, "articles": 2},
                           {"bin_start": 400, "bin_end": 600, "articles": 2},
                           {"bin_start": 1200, "bin_end": 1400, "articles": 1}]
    d = spec(chart)
    assert d["encoding"]["x"]["bin"] == "binned" and d["encoding"]["x2"]["field"] == "bin_end"


def test_articles_and_duplicates_tables():
    arts = articles_frame()
    assert list(charts.articles_table(arts)["doc_id"]) == ["a1", "a2", "a3", "a4", "a5"]
    dup = charts.duplicates_table(arts)
    assert dup.to_dict("records") == [{"doc_id": "a5", "title": "Diyala operations resume", "duplicate_of": "a1",
                                       "duplicate_title": "Coalition hands over al-Qaim base"}]


def quotes_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "doc_id": ["a1", "a1", "a2", "a2", "a3", "a3"],
        "quote": ["ISIS remnants are not coordinated", "the coalition is proud", "ISIS is regrouping",
                  "attacks have increased", "we will respond", "security is firmly in place"],
        "kind": ["direct", "indirect", "direct", "partial", "indirect", "partial"],
        "speaker": ["Myles B. Caggins III", "Myles B. Caggins III", "Lahur Talabany", "Myles B. Caggins III", "",
                    "James F. Glynn"],
        "speaker_role": ["coalition spokesman", "", "Kurdish counter-terrorism chief", "coalition spokesman",
                         "", "deputy commanding general"],
        "speaker_affiliation": ["coalition", "coalition", "Kurdistan Region", "coalition", "", "coalition"],
    })


def test_speakers_table_and_chart():
    table = charts.speakers_table(quotes_frame())
    first = table.iloc[0].to_dict()
    assert first == {"speaker": "Myles B. Caggins III", "speaker_affiliation": "coalition",
                     "speaker_role": "coalition spokesman", "quotes": 3, "direct": 1, "indirect": 1,
                     "partial": 1, "articles": 2}
    assert list(table["speaker"]) == ["Myles B. Caggins III", "(unknown)", "James F. Glynn", "Lahur Talabany"]
    chart = charts.speakers_chart(quotes_frame())
    d = spec(chart)
    assert d["mark"]["type"] == "bar"
    assert d["encoding"]["color"]["field"] == "speaker_affiliation"
    assert d["params"][0]["name"] == "pick_affiliation"
    assert d["params"][0]["bind"] == "legend"
    assert len(rows(chart)) == 4


def test_affiliation_kinds():
    chart = charts.affiliation_kinds_chart(quotes_frame())
    data = rows(chart)
    assert {"speaker_affiliation": "coalition", "kind": "partial", "quotes": 2} in data
    assert sum(r["quotes"] for r in data) == 6
    assert spec(chart)["encoding"]["y"]["sort"][0] == "coalition"


def stance_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "doc_id": ["a1", "a1", "a2", "a3", "a4", "a4"],
        "outlet": ["Rudaw", "Rudaw", "Rudaw", "Kurdistan 24", "", ""],
        "stance": ["resurgent", "contained", "resurgent", "none", "contained", "contained"],
    })


def test_stance_table_shares_sum_to_one_per_group():
    table = charts.stance_table(stance_frame(), "outlet")
    assert table.groupby("outlet")["share"].sum().round(4).eq(1.0).all()
    rudaw = table[table["outlet"] == "Rudaw"].set_index("stance")["n"].to_dict()
    assert rudaw == {"contained": 1, "resurgent": 2}


def test_stance_chart_colours_and_selection():
    chart = charts.stance_chart(stance_frame(), "outlet")
    d = spec(chart)
    assert d["encoding"]["x"]["stack"] == "normalize"
    scale = d["encoding"]["color"]["scale"]
    assert scale["domain"] == ["resurgent", "contained", "none"]
    assert scale["range"][0] == charts.STANCE_COLORS["resurgent"]
    assert d["params"][0]["name"] == "pick_stance"
    assert d["encoding"]["y"]["sort"][0] == "Rudaw"


def test_stance_over_time_joins_article_periods():
    table = charts.stance_over_time_table(stance_frame(), articles_frame())
    assert table.to_dict("records") == [
        {"period": "2017-08", "stance": "contained", "n": 2},
        {"period": "2018-01", "stance": "none", "n": 1},
        {"period": "2020-03", "stance": "contained", "n": 1},
        {"period": "2020-03", "stance": "resurgent", "n": 1},
        {"period": "2020-04", "stance": "resurgent", "n": 1}]
    assert spec(charts.stance_over_time_chart(stance_frame(), articles_frame()))["mark"]["type"] == "bar"


def mentions_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "doc_id": ["a1", "a1", "a2", "a2", "a3", "a3", "a3"],
        "entity": ["kirkuk", "hawija", "kirkuk", "isis", "kirkuk", "iraq", "tehran"],
        "name": ["Kirkuk", "Hawija", "Kirkuk", "Islamic State (ISIS)", "Kirkuk", "Iraq", "Tehran"],
        "type": ["place", "place", "place", "actor", "place", "place", "place"],
        "subtype": ["city", "town", "city", "armed_group", "city", "country", "city"],
        "governorate": ["Kirkuk", "Kirkuk", "Kirkuk", "", "Kirkuk", "", ""],
        "lat": [35.4681, 35.3283, 35.4681, None, 35.4681, 33.0, 35.6944],
        "lon": [44.3922, 43.7758, 44.3922, None, 44.3922, 43.7, 51.4215],
    })


def test_places_map_layers_outline_and_circles():
    chart = charts.places_map(mentions_frame())
    d = spec(chart)
    assert [layer["mark"]["type"] for layer in d["layer"]] == ["geoshape", "circle"]
    assert d["projection"]["type"] == "mercator"
    outline = d["layer"][0]["data"]["values"]
    assert {f["properties"]["name"] for f in outline} >= {"Iraq", "Syria"}
    dots = rows(chart, layer=1)  # the country is an area, not a point, and Tehran is off the map
    assert dots == [{"entity": "kirkuk", "name": "Kirkuk", "subtype": "city", "governorate": "Kirkuk",
                     "lat": 35.4681, "lon": 44.3922, "mentions": 3, "articles": 3},
                    {"entity": "hawija", "name": "Hawija", "subtype": "town", "governorate": "Kirkuk",
                     "lat": 35.3283, "lon": 43.7758, "mentions": 1, "articles": 1}]
    assert list(charts.places_table(mentions_frame())["name"]) == ["Kirkuk", "Hawija", "Iraq", "Tehran"]
    assert d["layer"][1]["mark"]["clip"] is True  # places beyond the outline do not spill over the legend
    enc = d["layer"][1]["encoding"]
    assert enc["longitude"]["field"] == "lon" and enc["size"]["field"] == "mentions"


def test_events_timeline_killed_up_wounded_down():
    events = pd.DataFrame({
        "doc_id": ["a1", "a2", "a2"],
        "event_type": ["bombing", "attack", "attack"],
        "killed": [38, 2, None],
        "wounded": [105, 0, 3],
        "date": ["2018-01-15", "", "2020-04-05"],
        "place": ["Baghdad", "Hawija", "Garmiyan"],
    })
    table = charts.events_table(events, articles_frame())
    assert table.to_dict("records") == [
        {"date": "2018-01-15", "event_type": "bombing", "events": 1, "killed": 38, "wounded": 105},
        {"date": "2020-04-05", "event_type": "attack", "events": 1, "killed": 0, "wounded": 3},
        {"date": "2020-04-09", "event_type": "attack", "events": 1, "killed": 2, "wounded": 0}]
    chart = charts.events_timeline(events, articles_frame())
    data = rows(chart)
    assert {"date": "2018-01-15", "event_type": "bombing", "events": 1, "casualty": "wounded", "people": 105,
            "signed": -105} in data
    assert spec(chart)["params"][0]["name"] == "pick_event_type"


def test_empty_tables_give_empty_charts_not_errors():
    empty_quotes = quotes_frame().iloc[0:0]
    assert rows(charts.speakers_chart(empty_quotes)) == []
    assert charts.places_table(mentions_frame().iloc[0:0]).empty
    assert charts.events_table(pd.DataFrame(columns=["doc_id", "event_type", "killed", "wounded", "date"])).empty


def test_specs_are_deterministic():
    one = json.dumps(charts.stance_chart(stance_frame(), "outlet").to_dict(), sort_keys=True)
    charts.speakers_chart(quotes_frame())  # building other charts in between changes nothing
    two = json.dumps(charts.stance_chart(stance_frame(), "outlet").to_dict(), sort_keys=True)
    assert one == two


def test_offline_renderer_bundle_has_spec_svg_and_text():
    before = alt.renderers.active
    try:
        name = charts.use_offline_renderer()
        assert alt.renderers.active == name
        shown = charts.count_chart(articles_frame(), "outlet", "Articles per outlet")._repr_mimebundle_()
    finally:
        alt.renderers.enable(before)
    chart = charts.count_chart(articles_frame(), "outlet", "Articles per outlet")
    bundle = charts.render_bundle(chart.to_dict())
    assert set(bundle) == {charts.LAB_MIME, "image/svg+xml", "text/plain"}
    assert bundle["image/svg+xml"].startswith("<svg") and "Rudaw" in bundle["image/svg+xml"]
    assert "<script" not in bundle["image/svg+xml"]
    assert bundle["text/plain"] == "Chart: Articles per outlet"
    assert bundle == charts.render_bundle(chart.to_dict())  # byte-stable
    # the display machinery (what Jupyter calls) returns the same bundle
    assert shown == bundle


def test_events_on_many_days_are_counted_by_month_then_year():
    days = pd.date_range("2019-01-01", periods=400, freq="D").strftime("%Y-%m-%d")
    events = pd.DataFrame({"doc_id": [f"d{i}" for i in range(400)], "event_type": ["attack"] * 400,
                           "killed": [1] * 400, "wounded": [0] * 400, "date": list(days)})
    table = charts.events_table(events)
    assert list(table["date"][:2]) == ["2019-01", "2019-02"] and len(table) == 14  # 400 days = 14 months
    assert table["killed"].sum() == 400
    assert set(charts.events_table(events, max_periods=10)["date"]) == {"2019", "2020"}
    many_types = events.assign(event_type=[f"type{i % 15:02d}" for i in range(400)])
    types = {r["event_type"] for r in rows(charts.events_timeline(many_types))}
    assert len(types) == 11 and "(other)" in types  # ten types and the rest folded


def test_period_for_long_spans_is_year():
    arts = articles_frame()  # 2017-08 .. 2020-04: 33 months
    assert charts.period_for(arts) == "month"
    assert charts.period_for(arts, max_months=12) == "year"
    assert charts.period_for(arts.assign(published="")) == "month"


def test_keyness_keeps_both_sides_for_one_target_and_the_largest_groups_otherwise():
    one = pd.DataFrame({"target": ["Rudaw"] * 4, "reference": ["rest"] * 4,
                        "term": ["elections", "Kirkuk", "police", "province"], "g2": [11.3, 7.5, -4.9, -6.9],
                        "log_ratio": [4.2, 3.6, -2.7, -3.2], "freq_target": [6, 4, 0, 0],
                        "freq_reference": [0, 0, 5, 7]})
    table = charts.keyness_table(one, top=1)
    assert table[["side", "term"]].values.tolist() == [["key in Rudaw", "elections"], ["key in rest", "province"]]
    assert spec(charts.keyness_chart(one))["mark"]["type"] == "bar"
    many = pd.DataFrame({"target": [f"outlet{i}" for i in range(12)], "reference": "rest", "term": "ISIS",
                         "g2": 5.0, "log_ratio": 1.0, "freq_target": range(12), "freq_reference": 3})
    kept = charts.keyness_table(many, max_groups=3)["target"].tolist()
    assert sorted(kept) == ["outlet10", "outlet11", "outlet9"]  # the three groups with most words
    facet = spec(charts.keyness_chart(many))
    assert facet["facet"]["field"] == "target" and facet["columns"] == 2
