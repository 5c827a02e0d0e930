"""Load a corpus of news articles from folders, single files or tables, losing nothing.

Every input becomes either a row of ``Corpus.docs`` or a row of ``Corpus.rejects``
with the reason it could not be read. Exact and near duplicates are flagged in
``docs.duplicate_of``, never dropped.
"""
from __future__ import annotations

import codecs
import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import pandas as pd

if TYPE_CHECKING:
    from datasketch import LeanMinHash

TEXT_SUFFIXES = {".txt", ".md", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TABLE_SUFFIXES = {".csv", ".jsonl", ".ndjson", ".parquet"}
METADATA_NAME = "metadata.csv"
IGNORE_NAME = ".corelibignore"
DEFAULT_MAX_BYTES = 5_000_000
TEXT_COLUMNS = ("text", "body", "content", "article")
ID_COLUMNS = ("doc_id", "id")
DOC_COLUMNS = ["doc_id", "source", "text", "format", "encoding", "n_bytes"]
REJECT_COLUMNS = ["doc_id", "source", "reason"]


class CorpusError(ValueError):
    """Raised when the corpus path itself cannot be used (missing, wrong kind)."""


@dataclass
class Corpus:
    """The documents read (``docs``) and those that could not be (``rejects``)."""

    docs: pd.DataFrame
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))
    root: str = ""

    def __len__(self) -> int:
        return len(self.docs)


@dataclass
class _Read:
    doc_id: str
    source: str
    text: str | None = None
    reason: str = ""
    fmt: str = "text"
    encoding: str = ""
    n_bytes: int = 0
    meta: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- decoding

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")  # control characters other than \t \n \f \r


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name) for UTF-8 (with or without BOM), UTF-16 with BOM or cp1252.

    Raises ``ValueError`` with a reason ('binary', 'undecodable') when none applies.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ValueError(f"undecodable: UTF-16 byte order mark but invalid UTF-16 ({exc.reason})") from exc
    if b"\x00" in data:
        raise ValueError("binary: contains NUL bytes (not a text file)")
    try:
        text, enc = data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        try:
            text, enc = data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError as exc:
            raise ValueError(f"undecodable: neither UTF-8 nor cp1252 (byte {exc.start})") from exc
    controls = len(_CONTROL.findall(text, 0, 4096))
    if controls > max(8, len(text[:4096]) // 20):
        raise ValueError("binary: too many control characters for text")
    return text, enc


def normalise_newlines(text: str) -> str:
    """Return text with CRLF/CR turned into LF and any stray BOM removed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")


# --------------------------------------------------------------------------- HTML

_DROP_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe",
              "svg", "button", "template", "select", "menu"]
_BLOCK_TAGS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "td", "th",
               "dd", "dt", "figcaption", "article", "section", "div", "br", "tr", "table", "ul", "ol"]
_WS = re.compile(r"[ \t\u00a0\u200b]+")


def html_to_text(html: str) -> str:
    """Return article text from HTML: headline line, blank line, then paragraphs; scripts and navigation dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    title = ""
    h1 = soup.find("h1")
    if h1 is not None:
        title = _WS.sub(" ", h1.get_text(" ")).strip()
        h1.decompose()
    elif soup.title is not None:
        title = _WS.sub(" ", soup.title.get_text(" ")).strip()
    if soup.head is not None:
        soup.head.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    raw = soup.get_text()
    paras = []
    for block in re.split(r"\n\s*\n", raw):
        line = _WS.sub(" ", block.replace("\n", " ")).strip()
        if line:
            paras.append(line)
    if title and paras and paras[0] == title:
        paras = paras[1:]
    return "\n\n".join(([title] if title else []) + paras)


# --------------------------------------------------------------------------- reading

def _read_file(path: Path, doc_id: str, max_bytes: int) -> _Read:
    rec = _Read(doc_id=doc_id, source=str(path))
    try:
        size = path.stat().st_size
    except OSError as exc:
        rec.reason = f"unreadable: {exc.strerror or exc}"
        return rec
    rec.n_bytes = size
    if size > max_bytes:
        rec.reason = f"over size limit: {size} bytes > {max_bytes} (raise max_bytes / --max-bytes)"
        return rec
    try:
        data = path.read_bytes()
    except OSError as exc:
        rec.reason = f"unreadable: {exc.strerror or exc}"
        return rec
    return _from_bytes(rec, data, html=path.suffix.lower() in HTML_SUFFIXES)


def _from_bytes(rec: _Read, data: bytes, html: bool) -> _Read:
    if not data.strip():
        rec.reason = "empty: no text"
        return rec
    try:
        text, rec.encoding = decode_bytes(data)
    except ValueError as exc:
        rec.reason = str(exc)
        return rec
    text = normalise_newlines(text)
    if html:
        rec.fmt = "html"
        try:
            text = html_to_text(text)
        except Exception as exc:  # a parser failure must not stop the batch
            rec.reason = f"unparseable HTML: {exc}"
            return rec
    if not text.strip():
        rec.reason = "empty: no text" + (" after removing HTML markup" if html else "")
        return rec
    rec.text = text
    return rec


TABLE_BATCH = 5000  # rows of a CSV or Parquet table read at a time


def _table_frames(path: Path) -> Iterator[pd.DataFrame]:
    """Yield a table in frames of ``TABLE_BATCH`` rows (CSV, Parquet), or whole (JSON Lines: its lines
    may differ in keys and value types, which pandas reconciles over the whole file)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from pd.read_csv(path, dtype=str, keep_default_na=False, encoding_errors="replace",
                               chunksize=TABLE_BATCH)
    elif suffix in {".jsonl", ".ndjson"}:
        yield pd.read_json(path, lines=True, dtype=False)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.ParquetFile(path)
        for batch in table.iter_batches(batch_size=TABLE_BATCH):
            yield pa.Table.from_batches([batch], schema=table.schema_arrow).to_pandas()


def _read_table(path: Path, max_bytes: int, text_column: str | None) -> Iterator[_Read]:
    frames = _table_frames(path)
    i = 0
    while True:
        try:
            df = next(frames)
        except StopIteration:
            return
        except Exception as exc:
            where = f" after row {i}" if i else ""
            yield _Read(doc_id=path.stem, source=str(path),
                        reason=f"unreadable table{where}: {type(exc).__name__}: {exc}")
            return
        cols = {c.lower(): c for c in df.columns}
        tcol = text_column or next((cols[c] for c in TEXT_COLUMNS if c in cols), None)
        if tcol is None or tcol not in df.columns:
            wanted = text_column or " or ".join(TEXT_COLUMNS)
            yield _Read(doc_id=path.stem, source=str(path),
                        reason=f"no text column: expected {wanted}, found {', '.join(map(str, df.columns))}")
            return
        icol = next((cols[c] for c in ID_COLUMNS if c in cols), None)
        meta_cols = [c for c in df.columns if c not in (tcol, icol)]
        for row in df.itertuples(index=False):
            values = dict(zip(df.columns, row))
            doc_id = str(values[icol]).strip() if icol and str(values[icol]).strip() else f"{path.stem}-{i + 1:06d}"
            rec = _Read(doc_id=doc_id, source=f"{path}#{i + 1}", fmt="table")
            i += 1
            raw = values[tcol]
            text = "" if raw is None or (isinstance(raw, float) and pd.isna(raw)) else str(raw)
            rec.n_bytes = len(text.encode("utf-8", errors="replace"))
            rec.meta = {str(c): _scalar(values[c]) for c in meta_cols}
            if rec.n_bytes > max_bytes:
                rec.reason = f"over size limit: {rec.n_bytes} bytes > {max_bytes} (raise max_bytes / --max-bytes)"
            elif "\x00" in text:
                rec.reason = "binary: contains NUL characters"
            elif not text.strip():
                rec.reason = "empty: no text"
            else:
                rec.text, rec.encoding = normalise_newlines(text), "table"
            yield rec


def _scalar(value):
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _ignore_patterns(root: Path) -> list[str]:
    """Return the glob patterns of ``.corelibignore`` files (one per line, ``#`` comments; ``dir/`` for folders)."""
    patterns = []
    for f in sorted(root.rglob(IGNORE_NAME)):
        base = f.parent.relative_to(root).as_posix()
        for line in f.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                pat = line.rstrip("/") + ("/**" if line.endswith("/") else "")
                patterns.append(pat if base == "." else f"{base}/{pat}")
    return patterns


def _iter_files(root: Path) -> list[Path]:
    files = []
    ignore = _ignore_patterns(root)
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        posix = rel.as_posix()
        if any(fnmatch.fnmatchcase(posix, pat) or fnmatch.fnmatchcase(posix, pat.removesuffix("/**"))
               for pat in ignore):
            continue
        if p.is_file():
            files.append(p)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def _unique_ids(paths: list[Path], root: Path) -> dict[Path, str]:
    stems: dict[str, int] = {}
    for p in paths:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    return {p: (p.stem if stems[p.stem] == 1 else p.relative_to(root).with_suffix("").as_posix()) for p in paths}


def iter_documents(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES,
                   text_column: str | None = None) -> Iterator[_Read]:
    """Yield one record per input document (read or rejected), in a stable order."""
    root = Path(path)
    if not root.exists():
        raise CorpusError(f"corpus path does not exist: {root}")
    if root.is_file():
        suffix = root.suffix.lower()
        if suffix in TABLE_SUFFIXES:
            yield from _read_table(root, max_bytes, text_column)
        else:
            yield _read_file(root, root.stem, max_bytes)
        return
    files = [p for p in _iter_files(root) if not (p.name == METADATA_NAME)]
    docs = [p for p in files if p.suffix.lower() in TEXT_SUFFIXES | HTML_SUFFIXES]
    ids = _unique_ids(docs, root)
    for p in files:
        suffix = p.suffix.lower()
        if suffix in TABLE_SUFFIXES:
            yield from _read_table(p, max_bytes, text_column)
        elif p in ids:
            yield _read_file(p, ids[p], max_bytes)
        else:
            yield _Read(doc_id=p.stem, source=str(p),
                        reason=f"unsupported file type '{p.suffix or p.name}' (expected .txt, .md, .html, .htm, .csv, .jsonl or .parquet)")


def read_metadata(root: Path) -> pd.DataFrame:
    """Return the ``metadata.csv`` rows found beside the articles (any folder level), keyed by file name."""
    frames = []
    base = root if root.is_dir() else root.parent
    for meta in sorted(base.rglob(METADATA_NAME)):
        if any(part.startswith(".") for part in meta.relative_to(base).parts):
            continue
        df = pd.read_csv(meta, dtype=str, keep_default_na=False)
        if "file" not in df.columns:
            raise CorpusError(f"{meta}: metadata.csv needs a 'file' column with the article file names")
        df["_dir"] = str(meta.parent)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["file", "_dir"])
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- duplicates

_TOKEN = re.compile(r"\w+", re.UNICODE)


def _shingles(words: list[str], k: int = 5) -> set[bytes]:
    """Return the word ``k``-shingles (``" ".join(words[i:i + k])``, UTF-8) of a list of words."""
    if len(words) < k:
        return {" ".join(words).encode("utf-8")}
    joined = " ".join(words)
    starts = list(accumulate((len(w) + 1 for w in words), initial=0))
    return {joined[starts[i]:starts[i + k] - 1].encode("utf-8") for i in range(len(words) - k + 1)}


@lru_cache(maxsize=4)
def _minhash_params(num_perm: int) -> dict:
    """The seeded permutations (and, in datasketch >= 2, the scheme), made once instead of per text."""
    from datasketch import MinHash

    template = MinHash(num_perm=num_perm, seed=1)
    params = {"num_perm": num_perm, "seed": 1, "permutations": template.permutations}
    if hasattr(template, "scheme"):
        params["scheme"] = template.scheme
    return params


def duplicate_signature(text: str, num_perm: int = 64) -> tuple[str, LeanMinHash]:
    """Return (exact key, MinHash) of a text: all that duplicate detection keeps of it."""
    from datasketch import LeanMinHash, MinHash

    words = _TOKEN.findall(text.lower())
    key = hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()
    m = MinHash(**_minhash_params(num_perm))
    m.update_batch(_shingles(words))  # any order: a MinHash keeps the minimum of every permutation
    return key, LeanMinHash(m)


class DuplicateIndex:
    """Streaming exact + near duplicate detector that keeps only signatures, never texts.

    Feed documents in corpus order with ``add``; each call returns the doc_id of the first
    earlier exact or near duplicate ('' when none), as ``find_duplicates`` does for a list.
    """

    def __init__(self, threshold: float = 0.8, num_perm: int = 64):
        from datasketch import MinHashLSH

        self.num_perm = num_perm
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._seen: dict[str, str] = {}
        self._order: dict[str, int] = {}

    def add(self, doc_id: str, key: str, minhash) -> str:
        """Index one document's signature (from ``duplicate_signature``); return the doc_id it duplicates, or ''."""
        self._order[doc_id] = len(self._order)
        if key in self._seen:
            return self._seen[key]
        self._seen[key] = doc_id
        m = minhash
        hits = sorted(self._lsh.query(m), key=self._order.get)
        self._lsh.insert(doc_id, m)
        return hits[0] if hits else ""


def find_duplicates(doc_ids: list[str], texts: list[str], threshold: float = 0.8,
                    num_perm: int = 64) -> list[str]:
    """Return, for each text, the doc_id of the first earlier exact or near duplicate ('' when none).

    Exact duplicates are compared after folding case and white space; near duplicates
    by MinHash LSH over word 5-shingles (estimated Jaccard >= ``threshold``), seeded.
    """
    index = DuplicateIndex(threshold=threshold, num_perm=num_perm)
    return [index.add(doc_id, *duplicate_signature(text, num_perm)) for doc_id, text in zip(doc_ids, texts)]


# --------------------------------------------------------------------------- public API

def load_corpus(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES, text_column: str | None = None,
                duplicates: bool = True) -> Corpus:
    """Return a ``Corpus`` of every readable document under ``path`` plus a rejects table with reasons.

    ``path`` is a folder (recursive: .txt, .md, .html/.htm and tables), a single file, or a
    CSV / JSONL / Parquet table with a text column and optional id, title, date, outlet, url.
    """
    root = Path(path)
    records = list(iter_documents(root, max_bytes=max_bytes, text_column=text_column))
    return corpus_from_records(records, root, duplicates=duplicates)


def corpus_from_records(records: Iterable[_Read], root: Path, duplicates: bool = True,
                        metadata: pd.DataFrame | None = None) -> Corpus:
    """Return a ``Corpus`` built from read records, joining ``metadata.csv`` and flagging duplicates.

    ``metadata`` (rows of ``read_metadata(root)``) saves reading the metadata files again when a
    large corpus is built chunk by chunk.
    """
    good, bad = [], []
    seen_ids: set[str] = set()
    for rec in records:
        if rec.text is not None and rec.doc_id in seen_ids:
            rec.text, rec.reason = None, f"duplicate doc_id '{rec.doc_id}' (ids must be unique)"
        if rec.text is None:
            bad.append({"doc_id": rec.doc_id, "source": rec.source, "reason": rec.reason})
            continue
        seen_ids.add(rec.doc_id)
        row = {"doc_id": rec.doc_id, "source": rec.source, "text": rec.text, "format": rec.fmt,
               "encoding": rec.encoding, "n_bytes": rec.n_bytes}
        for k, v in rec.meta.items():
            if k not in row:
                row[k] = v
        good.append(row)
    docs = pd.DataFrame(good, columns=None if good else DOC_COLUMNS)
    if root.is_dir() and len(docs):
        meta = read_metadata(root) if metadata is None else metadata
        if len(meta):
            rows: dict[tuple[str, str], dict] = {}
            for r in meta.to_dict("records"):
                rows.setdefault((r.pop("_dir"), r.pop("file")), r)
            found = [rows.get((str(Path(s).parent), Path(s).name), {}) for s in docs["source"]]
            for col in [c for c in meta.columns if c not in ("_dir", "file")]:
                values = [r.get(col, "") for r in found]
                if col in docs.columns:
                    docs[col] = [v if v != "" else old for v, old in zip(values, docs[col])]
                else:
                    docs[col] = values
    if len(docs):
        docs["duplicate_of"] = (find_duplicates(list(docs["doc_id"]), list(docs["text"]))
                                if duplicates else "")
    else:
        docs["duplicate_of"] = pd.Series(dtype=str)
    rejects = pd.DataFrame(bad, columns=REJECT_COLUMNS)
    return Corpus(docs=docs.reset_index(drop=True), rejects=rejects, root=str(root))
