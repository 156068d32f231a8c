"""Find and stream the table files of a dataset folder.

Formats, told by the file name and checked against the content:

- ``.csv`` (comma separated, first line the header), UTF-8 with or without BOM,
  else GB18030 (a superset of GBK and GB2312);
- ``.parquet``;
- ``.jsonl`` / ``.ndjson`` (one JSON object per line, UTF-8);

each optionally gzip-compressed (``.csv.gz`` ...). Headers are mapped to
canonical names through ``ingest.aliases``.

Row numbers (the ``row`` of every quarantine record and ``_row`` of validated frames)
------------------------------------------------------------------------------------
- CSV: the line of the record as a spreadsheet shows it: the header is row 1, the
  first data row is row 2. Blank lines count; a quoted value holding a line break
  makes later numbers one lower than the physical line number.
- JSON Lines: the physical line number (first line = row 1; blank lines are
  skipped but counted).
- Parquet: the record's position, first record = row 1.

``RawChunk.frame`` is indexed by these row numbers; ``first_row`` is the first of them.

A CSV record with more or fewer fields than the header is not in ``frame``: it is
one of ``RawChunk.errors``, ``(row, "expected N fields, found M")``, which the
validator quarantines; the other rows keep their numbers.

Memory is bounded by ``chunksize`` whatever the file size: CSV is read with
pandas' chunked reader, Parquet by ``pyarrow`` record batches, JSON Lines line by
line. Only a ``.parquet.gz`` file is first decompressed to a temporary file,
because Parquet needs random access.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import logging
import re
import shutil
import tempfile
import warnings
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from chainrisk.errors import DatasetError
from ingest.aliases import map_headers
from ingest.manifest import Manifest

__all__ = ["EXTENSIONS", "RawChunk", "detect_encoding", "find_table_file", "iter_raw_chunks", "sniff_format"]

log = logging.getLogger(__name__)

#: Recognised extensions -> format, in the order they are looked for.
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".parquet.gz": "parquet",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".ndjson.gz": "jsonl",
}

#: Strings read as a missing value in CSV files.
NA_VALUES: list[str] = ["", "NA", "N/A", "n/a", "NULL", "null", "NaN", "nan", "None", "#N/A"]

_SAMPLE_BYTES = 1 << 20  # how much is decoded to choose the encoding


@dataclass
class RawChunk:
    """A slice of one table file, as read.

    Attributes
    ----------
    frame : pandas.DataFrame
        Canonical column names; values as read (``str`` for CSV, native for
        Parquet/JSON); missing values NaN/None. CSV and JSON Lines columns are
        ``object``; Parquet columns keep the dtypes ``pyarrow`` converts them to
        (``float64``, ``datetime64``, ``str`` ...). Indexed by row number.
    first_row : int
        Row number of the first row (see the module docstring for the convention).
    path : Path
        The file read.
    errors : list of (int, str)
        Rows that could not be parsed at all (a JSON line that is not an object),
        as ``(row, reason)``; the validator quarantines them.
    """

    frame: pd.DataFrame
    first_row: int
    path: Path
    errors: list[tuple[int, str]] = field(default_factory=list)


def _split_ext(path: Path) -> tuple[str, bool]:
    """``(format, gzipped)`` from the name, or raise ``DatasetError``."""
    name = path.name.lower()
    for ext, fmt in sorted(EXTENSIONS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(ext):
            return fmt, ext.endswith(".gz")
    raise DatasetError(f"{path}: unknown file type (expected one of {', '.join(EXTENSIONS)})")


def find_table_file(dataset_dir: Path, table: str, manifest: Manifest | None = None) -> Path | None:
    """The file holding ``table`` in ``dataset_dir``, or ``None`` when there is none.

    An explicit ``manifest.tables[table]`` wins; otherwise ``<table><ext>`` for
    each extension of :data:`EXTENSIONS` (file names compared case-insensitively).

    Raises
    ------
    DatasetError
        The manifest names a file that does not exist, or several files match.
    """
    dataset_dir = Path(dataset_dir)
    if manifest is not None and manifest.tables and table in manifest.tables:
        path = dataset_dir / manifest.tables[table]
        if not path.is_file():
            raise DatasetError(
                f"dataset.yaml names {manifest.tables[table]!r} for table {table!r}: no such file"
            )
        _split_ext(path)
        return path
    wanted = {table + ext for ext in EXTENSIONS}
    found = sorted(p for p in dataset_dir.iterdir() if p.is_file() and p.name.lower() in wanted)
    if len(found) > 1:
        raise DatasetError(
            f"{dataset_dir}: several files for table {table!r}: {', '.join(p.name for p in found)}"
        )
    return found[0] if found else None


def _open_bytes(path: Path, gz: bool) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb")) if gz else path.open("rb")


def _head(path: Path, gz: bool, n: int) -> bytes:
    with path.open("rb") as raw:
        magic = raw.read(2)
    if gz and magic != b"\x1f\x8b":
        raise DatasetError(f"{path}: named .gz but is not gzip-compressed")
    if not gz and magic == b"\x1f\x8b":
        raise DatasetError(f"{path}: content is gzip-compressed but the name does not end in .gz")
    try:
        with _open_bytes(path, gz) as fh:
            return fh.read(n)
    except (OSError, EOFError) as exc:
        raise DatasetError(f"{path}: cannot decompress: {exc}") from exc


def sniff_format(head: bytes) -> str:
    """Guess the format of a file from its first bytes: parquet, zip, json, jsonl, binary or text.

    >>> sniff_format(b"PAR1...")
    'parquet'
    >>> sniff_format(b'{"uscc": "x"}\\n{"uscc": "y"}')
    'jsonl'
    >>> sniff_format("统一社会信用代码,企业名称\\n".encode("gbk"))
    'text'
    """
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "zip"  # xlsx, docx, zip archives
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "binary"  # legacy .xls
    body = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if body.startswith(b"["):
        return "json"
    if body.startswith(b"{"):
        first = body.split(b"\n", 1)[0].strip()
        return "jsonl" if first.endswith(b"}") else "json"
    if b"\x00" in head[:4096]:
        return "binary"
    return "text"


_EXPECTED = {"csv": {"text"}, "parquet": {"parquet"}, "jsonl": {"jsonl"}}


def _check_content(path: Path, fmt: str, head: bytes) -> None:
    found = sniff_format(head)
    if found not in _EXPECTED[fmt]:
        what = {
            "parquet": "Parquet",
            "zip": "a ZIP archive (an Excel .xlsx?)",
            "binary": "binary data",
            "json": "a JSON document (not one object per line)",
            "jsonl": "JSON Lines",
            "text": "text (CSV?)",
        }[found]
        raise DatasetError(f"{path}: named as {fmt} but the content is {what}; rename or convert the file")


def detect_encoding(sample: bytes) -> str:
    """``utf-8-sig`` when the sample is UTF-8 (with or without BOM), else ``gb18030``.

    A sample cut inside a multi-byte character still counts as UTF-8.

    >>> detect_encoding("企业".encode("utf-8")), detect_encoding("企业".encode("gbk"))
    ('utf-8-sig', 'gb18030')
    """
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def _table_of(path: Path) -> str:
    name = path.name
    return name.split(".", 1)[0]


def iter_raw_chunks(path: Path, *, chunksize: int = 100_000, table: str | None = None) -> Iterator[RawChunk]:
    """Stream ``path`` in chunks of at most ``chunksize`` rows.

    Parameters
    ----------
    path : Path
        A table file (see the module docstring for formats).
    chunksize : int
        Rows per chunk; bounds memory.
    table : str, optional
        Table name for header aliases; defaults to the file name's stem.

    Yields
    ------
    RawChunk
        Non-empty chunks only: a 0-byte or header-only file yields none (and logs why).

    Raises
    ------
    DatasetError
        Unknown extension, content that does not match the extension, unreadable
        or undecodable content, ambiguous headers. The message names the file.
    """
    path = Path(path)
    if chunksize < 1:
        raise ValueError("chunksize must be >= 1")
    fmt, gz = _split_ext(path)
    table = table or _table_of(path)
    if path.stat().st_size == 0:
        log.warning("%s is empty (0 bytes)", path)
        return
    head = _head(path, gz, _SAMPLE_BYTES)
    if not head.strip():
        log.warning("%s holds no data", path)
        return
    _check_content(path, fmt, head)
    if fmt == "csv":
        yield from _iter_csv(path, gz, head, chunksize, table)
    elif fmt == "parquet":
        yield from _iter_parquet(path, gz, chunksize, table)
    else:
        yield from _iter_jsonl(path, gz, chunksize, table)


def _renamed(frame: pd.DataFrame, path: Path, table: str) -> pd.DataFrame:
    return frame.rename(columns=map_headers(frame.columns, table, file=str(path)))


_BAD_LINE_RE = re.compile(r"Skipping line (\d+): expected (\d+) fields, saw (\d+)")


def _field_count_reason(expected: int, found: int) -> str:
    return f"expected {expected} fields, found {found}"


def _bad_field_counts(path: Path, gz: bool, encoding: str) -> Generator[tuple[int, str], None, None]:
    """``(row, reason)`` of every CSV record whose number of fields differs from the header's.

    pandas' C parser pads a short record with missing values and truncates a
    long first record, so these records are found by a streaming pass of
    :mod:`csv` (C-implemented; only field counts are kept). Blank records, and
    short records whose fields are all empty, are not reported: they are
    skipped like blank lines.
    """
    with _open_bytes(path, gz) as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        records = csv.reader(text)
        header = next(records, None)
        if header is None:
            return
        expected = len(header)
        for row, rec in enumerate(records, start=2):
            found = len(rec)
            if found != expected and (found > expected or any(rec)):
                yield row, _field_count_reason(expected, found)


def _row_numbers(start: int, n: int, skipped: list[int]) -> tuple[pd.Index, int]:
    """The ``n`` row numbers from ``start`` on that are not in ``skipped`` (sorted); and the next one."""
    if not skipped:
        return pd.RangeIndex(start, start + n), start + n
    nums = np.arange(start, start + n + len(skipped), dtype=np.int64)
    nums = nums[~np.isin(nums, np.asarray(skipped, dtype=np.int64))][:n]
    nxt = int(nums[-1]) + 1 if n else start
    return pd.Index(nums), nxt


def _iter_csv(path: Path, gz: bool, head: bytes, chunksize: int, table: str) -> Iterator[RawChunk]:
    """Stream a CSV file; records with the wrong number of fields become ``RawChunk.errors``.

    pandas' C parser reads the file (``on_bad_lines="warn"``: a record with
    too many fields is skipped and reported, by record number, in a
    ``ParserWarning``, which keeps the row numbers of the others right);
    the records to quarantine, short ones (which the C parser pads) included,
    come from :func:`_bad_field_counts` read in step with it. Both are quarantined
    with the reason ``expected N fields, found M``; every other row loads.
    """
    encoding = detect_encoding(head)
    next_row = 2  # the header is row 1
    pending_long: list[int] = []  # rows pandas skipped (too long), not yet passed
    skipped: dict[int, str] = {}  # rows pandas skipped, not yet matched by the csv pass
    short = _bad_field_counts(path, gz, encoding)
    short_next: tuple[int, str] | None = None
    short_done = False
    columns: list[str] = []
    try:
        reader = pd.read_csv(
            path,
            dtype=object,
            keep_default_na=False,
            na_values=NA_VALUES,
            skip_blank_lines=False,
            encoding=encoding,
            compression="gzip" if gz else None,
            chunksize=chunksize,
            index_col=False,  # a long first record must not turn into an index
            on_bad_lines="warn",
        )
        with reader:
            while True:
                errors: list[tuple[int, str]] = []
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    frame = next(reader, None)
                for w in caught:
                    if not issubclass(w.category, pd.errors.ParserWarning):
                        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
                        continue
                    for m in _BAD_LINE_RE.finditer(str(w.message)):
                        pending_long.append(int(m.group(1)))
                        skipped[int(m.group(1))] = _field_count_reason(int(m.group(2)), int(m.group(3)))
                pending_long.sort()
                n = 0 if frame is None else len(frame)
                index, next_row = _row_numbers(next_row, n, pending_long)
                last = next_row - 1 if frame is not None else None
                pending_long = [r for r in pending_long if r >= next_row]
                # short rows up to the last row of this chunk (all of them at the end)
                drop: list[int] = []
                while not short_done:
                    if short_next is None:
                        short_next = next(short, None)
                        if short_next is None:
                            short_done = True
                            break
                    if last is not None and short_next[0] > last:
                        break
                    drop.append(short_next[0])
                    errors.append(short_next)
                    skipped.pop(short_next[0], None)
                    short_next = None
                # a record pandas skipped that the csv pass did not flag (the two disagree)
                done = [r for r in skipped if last is None or r <= last]
                errors.extend((r, skipped.pop(r)) for r in done)
                if frame is not None:
                    frame.index = index
                    if drop:
                        frame = frame.drop(index=[r for r in drop if r in frame.index])
                    # blank lines come through as all-missing rows; drop them here
                    frame = frame.dropna(how="all")
                if (frame is not None and len(frame)) or errors:
                    errors.sort()
                    if frame is None:
                        frame = pd.DataFrame(columns=columns, dtype=object)
                    first = int(frame.index[0]) if len(frame) else errors[0][0]
                    yield RawChunk(_renamed(frame, path, table), first, path, errors)
                if frame is None:
                    break
                columns = [str(c) for c in frame.columns]
    except pd.errors.EmptyDataError:
        log.warning("%s has no header", path)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not decodable as {encoding}: {exc}") from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DatasetError(f"{path}: malformed CSV: {exc}") from exc
    finally:
        short.close()


def _iter_parquet(path: Path, gz: bool, chunksize: int, table: str) -> Iterator[RawChunk]:
    tmp: Path | None = None
    try:
        if gz:
            # Parquet needs random access: decompress once to a temporary file
            with tempfile.NamedTemporaryFile(suffix=".parquet", delete=False) as out, gzip.open(path) as src:
                shutil.copyfileobj(src, out)
                tmp = Path(out.name)
        try:
            pf = pq.ParquetFile(tmp or path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise DatasetError(f"{path}: not a readable Parquet file: {exc}") from exc
        with pf:
            next_row = 1
            for batch in pf.iter_batches(batch_size=chunksize):
                # typed columns (float64, datetime64, str ...): the validator takes numbers as
                # they are and parses each distinct date or code once
                frame = batch.to_pandas()
                frame.index = pd.RangeIndex(next_row, next_row + len(frame))
                next_row += len(frame)
                if len(frame):
                    yield RawChunk(_renamed(frame, path, table), int(frame.index[0]), path)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _iter_jsonl(path: Path, gz: bool, chunksize: int, table: str) -> Iterator[RawChunk]:
    records: list[dict[str, Any]] = []
    rows: list[int] = []
    errors: list[tuple[int, str]] = []

    def flush() -> RawChunk:
        frame = pd.DataFrame.from_records(records, index=pd.Index(rows)) if records else pd.DataFrame()
        frame = frame.astype(object)
        first = rows[0] if rows else errors[0][0]
        chunk = RawChunk(_renamed(frame, path, table), first, path, list(errors))
        records.clear()
        rows.clear()
        errors.clear()
        return chunk

    with _open_bytes(path, gz) as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").strip()
            except UnicodeDecodeError as exc:
                raise DatasetError(f"{path}: line {lineno} is not UTF-8: {exc}") from exc
            if not text:
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                errors.append((lineno, f"not valid JSON: {exc.msg}"))
                continue
            if not isinstance(obj, dict):
                errors.append((lineno, f"expected a JSON object, got {type(obj).__name__}"))
                continue
            records.append(obj)
            rows.append(lineno)
            if len(records) >= chunksize:
                yield flush()
    if records or errors:
        yield flush()
