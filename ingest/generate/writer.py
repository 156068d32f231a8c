"""Write dataset tables and the manifest (the input contract of ``ingest``).

Tables are written as ``<table>.<ext>`` with ext ``csv``, ``parquet`` or ``jsonl``;
big tables can be streamed batch by batch through :class:`TableWriter`. Dates are
Arrow ``date32`` (ISO ``YYYY-MM-DD`` in CSV and JSONL); a missing value is an empty
CSV field, a Parquet null or a JSON ``null``. Output is byte-identical for equal
inputs (no timestamps are written).

>>> import tempfile, pathlib
>>> from datetime import date
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> days = to_dates(np.array([0, 31, -1]), date(2021, 1, 1), null_at_or_after=31)
>>> write_table(d / "t", pa.table({"d": days}), "csv")
>>> (d / "t.csv").read_text().splitlines()
['"d"', '2021-01-01', '', '2020-12-31']
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from ingest.generate.timeline import epoch_day

__all__ = ["FORMATS", "TableWriter", "categorical", "to_dates", "write_manifest", "write_table"]

#: Table formats the generator writes.
FORMATS: tuple[str, ...] = ("parquet", "csv", "jsonl")


def to_dates(days: np.ndarray, start: date, *, null_at_or_after: int | None = None) -> pa.Array:
    """Day offsets from ``start`` as an Arrow ``date32`` array (null where ``days >= null_at_or_after``)."""
    d = np.asarray(days, dtype=np.int64) + epoch_day(start)
    mask = None if null_at_or_after is None else np.asarray(days) >= null_at_or_after
    return pa.array(d.astype(np.int32), type=pa.date32(), mask=mask)


def categorical(codes: np.ndarray, labels: tuple[str, ...] | np.ndarray) -> pa.Array:
    """Strings ``labels[codes]`` built without a Python object per row."""
    return pa.array(np.asarray(labels, dtype=object)).take(pa.array(np.asarray(codes, dtype=np.int64)))


def _jsonl_lines(table: pa.Table) -> str:
    cols = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_date(col.type):
            col = col.cast(pa.string())
        cols.append((name, col.to_pylist()))
    rows = zip(*(c for _, c in cols), strict=True)
    names = [n for n, _ in cols]
    return "".join(json.dumps(dict(zip(names, r, strict=True)), ensure_ascii=False) + "\n" for r in rows)


class TableWriter:
    """Stream record batches of one table into ``<path>.<fmt>``.

    Parameters
    ----------
    path : pathlib.Path
        Target without extension.
    fmt : str
        One of :data:`FORMATS`.
    """

    def __init__(self, path: Path, fmt: str):
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.path = path.with_name(f"{path.name}.{fmt}")
        self.fmt = fmt
        self._w: Any = None
        self._fh: Any = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        """Append ``table`` (all batches must share one schema)."""
        self.rows += table.num_rows
        if self.fmt == "parquet":
            if self._w is None:
                self._w = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._w.write_table(table, row_group_size=1 << 20)
        elif self.fmt == "csv":
            if self._w is None:
                self._w = pacsv.CSVWriter(self.path, table.schema)
            self._w.write_table(table)
        else:
            if self._fh is None:
                self._fh = self.path.open("w", encoding="utf-8", newline="\n")
            for lo in range(0, table.num_rows, 100_000):
                self._fh.write(_jsonl_lines(table.slice(lo, 100_000)))

    def close(self) -> None:
        """Finish the file."""
        if self._w is not None:
            self._w.close()
        if self._fh is not None:
            self._fh.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_table(path: Path, table: pa.Table, fmt: str) -> None:
    """Write one whole table to ``<path>.<fmt>``."""
    with TableWriter(path, fmt) as w:
        w.write(table)


def write_manifest(out_dir: Path, *, source: str, as_of: date) -> None:
    """Write ``dataset.yaml``: a full dataset in yuan, currency CNY."""
    manifest = {
        "source": source,
        "as_of": as_of.isoformat(),
        "mode": "full",
        "currency": "CNY",
        "unit": "yuan",
    }
    (out_dir / "dataset.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
