"""Write result tables as CSV, JSON Lines or Parquet, the same way for every command."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

import pandas as pd

FORMATS = ("csv", "jsonl", "parquet")


def _jsonable(value):
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return value


def records_by(df: pd.DataFrame, key: str) -> dict[object, list[dict]]:
    """Return the rows of ``df`` as dicts of plain Python values grouped by one column, in row order (as
    ``to_dict("records")`` gives them, with None for a missing Int64, but column by column: fast on Arrow text)."""
    groups: dict[object, list[dict]] = {}
    columns = list(df.columns)

    def plain(col: pd.Series) -> list:
        values = col.tolist()
        if isinstance(col.dtype, pd.api.extensions.ExtensionDtype) and not pd.api.types.is_string_dtype(col.dtype):
            return [None if v is pd.NA else v for v in values]
        return values

    for values in zip(*(plain(df[c]) for c in columns)):
        rec = dict(zip(columns, values))
        groups.setdefault(rec[key], []).append(rec)
    return groups


def flatten(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` whose list and dict cells are JSON strings (for CSV and Parquet)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object and out[col].map(lambda v: isinstance(v, (list, tuple, dict))).any():
            out[col] = out[col].map(_jsonable)
    return out


def write_table(df: pd.DataFrame, fmt: str = "csv", out: str | Path | IO | None = None) -> None:
    """Write ``df`` as csv, jsonl or parquet to a path, an open text stream, or standard output."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}': choose one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        if out is None or out == "-":
            raise ValueError("parquet is binary: give --out FILE.parquet")
        flatten(df).to_parquet(out, index=False)
        return
    stream = sys.stdout if out is None or out == "-" else None
    if fmt == "csv":
        text = flatten(df).to_csv(index=False, lineterminator="\n")
    else:
        text = df.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
        if text and not text.endswith("\n"):
            text += "\n"
    if stream is not None:
        stream.write(text)
        stream.flush()
    elif hasattr(out, "write"):
        out.write(text)
    else:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
