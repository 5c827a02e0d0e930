"""Shared table helpers: rows as plain records, grouped."""
import pandas as pd

from corelib.tables import records_by


def test_records_by_equals_to_dict_grouped_in_row_order():
    df = pd.DataFrame({"doc_id": pd.array(["b", "a", "b"], dtype="string[pyarrow]"),
                       "start": [10, 0, 3],
                       "speaker_start": pd.array([5, None, 7], dtype="Int64"),
                       "quote": ["“The group is back,” he said.", "none", "It is over."],
                       "score": [0.5, float("nan"), 1.0]})
    groups = records_by(df, "doc_id")
    assert list(groups) == ["b", "a"]
    expected = {}
    for rec in df.to_dict("records"):
        expected.setdefault(rec["doc_id"], []).append(rec)
    for key, recs in groups.items():
        for got, want in zip(recs, expected[key]):
            assert got.keys() == want.keys()
            for col in got:
                g, w = got[col], want[col]
                assert (g is None and w is None) or (g != g and w != w) or g == w, (col, g, w)
    assert groups["a"][0]["speaker_start"] is None and isinstance(groups["b"][0]["start"], int)
    assert records_by(df.iloc[0:0], "doc_id") == {}
