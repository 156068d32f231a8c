"""Readers shared by the generator tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def read(out: Path, table: str) -> pa.Table:
    """A Parquet table of a generated dataset folder."""
    return pq.read_table(out / f"{table}.parquet")


def days(col: pa.ChunkedArray) -> np.ndarray:
    """A ``date32`` column as days since 1970-01-01."""
    return col.cast(pa.int32()).to_numpy(zero_copy_only=False)
