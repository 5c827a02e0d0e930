"""The command line: tables on standard output or in files, rejects, errors."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from contextlib import redirect_stdout

import pandas as pd

from corelib.cli import main


def run(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(argv)
    return code, buf.getvalue()


def test_articles_csv_on_stdout(seeds_dir):
    code, out = run(["articles", str(seeds_dir)])
    assert code == 0
    df = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert len(df) == 5 and {"doc_id", "title", "dateline_place", "dateline_credit", "outlet"} <= set(df.columns)
    assert "text" not in df.columns
    assert json.loads(df.set_index("doc_id").loc["000_ea997910685a76f1", "date_mentions"])[-1] == "Monday = Monday"


def test_articles_jsonl_and_parquet_files(seeds_dir, tmp_path):
    assert run(["articles", str(seeds_dir), "--format", "jsonl", "--out", str(tmp_path / "a.jsonl"),
                "--include-text"])[0] == 0
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and rows[0]["text"].startswith("Coalition, Iraqi forces")
    assert run(["sentences", str(seeds_dir), "--format", "parquet", "--out", str(tmp_path / "s.parquet")])[0] == 0
    assert len(pd.read_parquet(tmp_path / "s.parquet")) > 80


def test_rejects_command(tmp_path):
    (tmp_path / "ok.txt").write_text("Headline\n\nBody.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    code, out = run(["rejects", str(tmp_path)])
    assert code == 0 and "empty,"  in out and "empty: no text" in out


def test_missing_corpus_is_a_clear_error(tmp_path, capsys):
    assert main(["articles", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_python_dash_m_works(seeds_dir):
    p = subprocess.run([sys.executable, "-m", "corelib", "articles", str(seeds_dir / "000_ea997910685a76f1.txt")],
                       capture_output=True, text=True, check=True)
    assert "Erbil, Kurdistan Region" in p.stdout
