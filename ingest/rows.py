"""Canonical row values, content hashes and driver-ready rows for validated frames.

Both load paths (over Bolt in :mod:`ingest.table_loader`, ``neo4j-admin import``
in :mod:`ingest.offline_import`) store the same ``row_hash`` on every node and
relationship they write, computed here from the same canonical text, so a dataset
bulk-imported once and then re-ingested with ``MERGE`` reports zero changes.

The canonical text of a row is ``source`` followed by each canonical column of the
table's contract (``TableSpec.column_names``, in contract order) rendered as:

=================  ==============================================
value              text
=================  ==============================================
missing (NA/NaT)   ``"\\x00"`` (distinct from any real value)
date / month       ``YYYY-MM-DD``
float / money      ``repr(float)`` (shortest round-trip form)
int                decimal digits
bool               ``true`` / ``false``
str                the string itself
=================  ==============================================

joined with the unit separator ``\\x1f``. The hash is SHA-256 of its UTF-8 bytes,
truncated to 128 bits (32 hex characters): ample for change detection over
billions of rows, half the storage of the full digest. Bookkeeping columns
(``_row``, ``_file``) are not part of it, so moving a row within a file changes nothing.

The row shapes both paths send (:func:`prepare_rows`, :func:`key_strings`,
:func:`uid_strings`) live here too, beside the hash they carry.

>>> import pandas as pd
>>> df = pd.DataFrame({"uscc": ["91350100M000100Y43"], "amount": [1.5], "_row": [7]})
>>> h = row_hashes(df, ("uscc", "amount"), source="p1")
>>> len(h[0]), h[0] == row_hashes(df.assign(_row=9), ("uscc", "amount"), source="p1")[0]
(32, True)
>>> canonical_texts(df, ("uscc", "amount", "missing"), source="p1")[0].split("\\x1f")[1:]
['91350100M000100Y43', '1.5', '\\x00']
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ingest.tables import TableSpec

__all__ = [
    "NA_TEXT",
    "canonical_column",
    "canonical_parts",
    "canonical_texts",
    "date_strings",
    "hashes_of_parts",
    "key_hashes",
    "key_strings",
    "native_column",
    "prepare_rows",
    "row_hashes",
    "uid_strings",
]

#: Text of a missing value in the canonical row text.
NA_TEXT = "\x00"
_SEP = "\x1f"


def date_strings(s: pd.Series, *, na: str | None = None) -> list[str | None]:
    """``YYYY-MM-DD`` for each value of a datetime column (``na`` where missing).

    >>> date_strings(pd.Series(pd.to_datetime(["2024-06-30", None])), na="")
    ['2024-06-30', '']
    """
    days = _days(s)
    text = _day_texts(days)
    nat = np.isnat(days)
    if not nat.any():
        return list(text)
    return [na if m else t for t, m in zip(text, nat.tolist(), strict=True)]


def _days(s: pd.Series) -> np.ndarray:
    return np.asarray(s.to_numpy(dtype="datetime64[ns]"), dtype="datetime64[D]")


def _day_texts(days: np.ndarray) -> list[str]:
    """``YYYY-MM-DD`` of each day (``"NaT"`` where missing), formatting each distinct day once."""
    codes, uniques = pd.factorize(days.view("int64"))
    texts = np.array(np.asarray(uniques).view("datetime64[D]").astype(str).tolist(), dtype=object)
    return list(texts.take(codes).tolist())


def canonical_column(s: pd.Series) -> list[str]:
    """The canonical text of each value of one column (see the module docstring)."""
    return canonical_parts(s)[0]


def canonical_parts(s: pd.Series) -> tuple[list[str], list[bool] | None]:
    """:func:`canonical_column` of ``s`` and its missing-value mask (``None``: nothing is missing).

    The mask lets a caller put another text than :data:`NA_TEXT` where a value is
    missing (the bulk importer's CSVs want an empty field) without testing values:
    a present value may itself be ``"\\x00"``.

    >>> canonical_parts(pd.Series([1.0, None]))
    (['1.0', '\\x00'], [False, True])
    >>> canonical_parts(pd.Series(["a", "b,c"], dtype=object))
    (['a', 'b,c'], None)
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        days = _days(s)
        text = _day_texts(days)
        nat = np.isnat(days)
        if not nat.any():
            return text, None
        mask = nat.tolist()
        return [NA_TEXT if m else t for t, m in zip(text, mask, strict=True)], mask
    missing = np.asarray(s.isna().to_numpy(), dtype=bool)
    mask = missing.tolist() if missing.any() else None
    if pd.api.types.is_bool_dtype(s.dtype):
        vals = ["true" if bool(v) else "false" for v in s.fillna(False).tolist()]
    elif pd.api.types.is_float_dtype(s.dtype):
        if s.dtype == np.float64:  # numpy floats: tolist() gives Python floats already
            vals = list(map(float.__repr__, s.to_numpy().tolist()))
        else:
            vals = [repr(float(v)) for v in s.tolist()]
    elif pd.api.types.is_integer_dtype(s.dtype):
        if mask is None:
            vals = [str(int(v)) for v in s.tolist()]
        else:
            vals = [str(int(v)) if not m else "" for v, m in zip(s.tolist(), mask, strict=True)]
    elif pd.api.types.infer_dtype(s, skipna=True) == "string":  # text (missing values are masked below)
        vals = s.tolist()
    else:
        vals = [_text(v) for v in s.tolist()]
    if mask is None:
        return vals, None
    return [NA_TEXT if m else v for v, m in zip(vals, mask, strict=True)], mask


def _text(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        return repr(float(v))
    if isinstance(v, dt.datetime | pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def canonical_texts(df: pd.DataFrame, columns: Sequence[str], *, source: str) -> list[str]:
    """The canonical text of every row of ``df`` over ``columns`` (absent columns are missing)."""
    n = len(df)
    parts = [canonical_column(df[c]) if c in df.columns else [NA_TEXT] * n for c in columns]
    return [_SEP.join((source, *vals)) for vals in zip(*parts, strict=True)] if parts else [source] * n


def row_hashes(df: pd.DataFrame, columns: Sequence[str], *, source: str) -> list[str]:
    """128-bit hex SHA-256 of each row's canonical text."""
    n = len(df)
    parts = [canonical_column(df[c]) if c in df.columns else [NA_TEXT] * n for c in columns]
    return hashes_of_parts(parts, source=source, rows=n)


def hashes_of_parts(parts: Sequence[Sequence[str]], *, source: str, rows: int) -> list[str]:
    """:func:`row_hashes` from the canonical columns (:func:`canonical_column`) of ``rows`` rows.

    >>> df = pd.DataFrame({"a": ["x"], "b": [2.0]})
    >>> hashes_of_parts([canonical_column(df[c]) for c in ("a", "b")], source="s", rows=1) == row_hashes(
    ...     df, ("a", "b"), source="s")
    True
    """
    sha = hashlib.sha256
    if not parts:
        return [sha(source.encode()).hexdigest()[:32]] * rows
    head = source + _SEP
    return [sha((head + _SEP.join(vals)).encode()).hexdigest()[:32] for vals in zip(*parts, strict=True)]


def key_hashes(parts: Sequence[Sequence[str]]) -> np.ndarray:
    """A 64-bit hash per row of ``parts`` (parallel string columns), for set comparisons.

    Used to remember which relationship identities a ``full`` dataset contains
    without holding the strings: 8 bytes a row.

    >>> a = key_hashes([["x", "y"], ["1", "2"]])
    >>> bool(a[0] == key_hashes([["x"], ["1"]])[0]), a.dtype.name
    (True, 'uint64')
    """
    if not parts or not len(parts[0]):
        return np.empty(0, dtype=np.uint64)
    joined = np.array([_SEP.join(p) for p in zip(*parts, strict=True)], dtype=object)
    return np.asarray(pd.util.hash_array(joined), dtype=np.uint64)


def native_column(s: pd.Series) -> list[Any]:
    """Python values the Neo4j driver sends as the right Cypher type; ``None`` where missing.

    Dates become ``datetime.date`` (Cypher ``DATE``), floats ``float``, nullable ints ``int``.
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        days = np.asarray(s.to_numpy(dtype="datetime64[ns]"), dtype="datetime64[D]")
        mask = np.isnat(days).tolist()
        vals = days.astype(object).tolist()
        return [None if m else v for v, m in zip(vals, mask, strict=True)]
    mask = s.isna().to_numpy().tolist()
    if pd.api.types.is_float_dtype(s.dtype):
        vals = [float(v) for v in s.tolist()]
    elif pd.api.types.is_integer_dtype(s.dtype):
        vals = [None if m else int(v) for v, m in zip(s.tolist(), mask, strict=True)]
    elif pd.api.types.is_bool_dtype(s.dtype):
        vals = [bool(v) if not m else None for v, m in zip(s.tolist(), mask, strict=True)]
    else:
        vals = s.tolist()
    return [None if m else v for v, m in zip(vals, mask, strict=True)]


# ------------------------------------------------------------------ row shapes
def key_strings(df: pd.DataFrame, spec: TableSpec, columns: Sequence[str]) -> list[str]:
    """``|``-joined identity keys: dates ``YYYY-MM-DD``, months ``YYYY-MM``, missing ``""``.

    >>> from ingest.tables import TABLES
    >>> df = pd.DataFrame({"loan_id": ["L1"], "month": pd.to_datetime(["2024-06-01"])})
    >>> key_strings(df, TABLES["loan_status"], ("loan_id", "month"))
    ['L1|2024-06']
    """
    parts: list[list[str]] = []
    for c in columns:
        kind = spec.column(c).kind
        s = df[c] if c in df.columns else pd.Series([None] * len(df), index=df.index)
        if kind in ("date", "month"):
            texts = [t or "" for t in date_strings(s, na="")]
            parts.append([t[:7] for t in texts] if kind == "month" else texts)
        else:
            parts.append(["" if v is None else str(v) for v in native_column(s)])
    if len(parts) == 1:
        return parts[0]
    return ["|".join(p) for p in zip(*parts, strict=True)]


def uid_strings(a: Sequence[Any], b: Sequence[Any], keys: Sequence[str]) -> list[str]:
    """Relationship ``uid``\\ s ``"<start id>|<end id>|<key>"`` (see :mod:`ingest.cypher`).

    >>> uid_strings(["A", "P1"], ["B", "B"], ["2023-01-01", "L1|2023-02-01"])
    ['A|B|2023-01-01', 'P1|B|L1|2023-02-01']
    """
    if not len(keys):
        return []
    sep = np.array("|", dtype=object)
    parts = (np.asarray(a, dtype=object).astype(str), np.asarray(b, dtype=object).astype(str),
             np.asarray(keys, dtype=object))
    out = parts[0] + sep + parts[1] + sep + parts[2]
    return [str(u) for u in out.tolist()]


def _ids(df: pd.DataFrame, column: str | None) -> list[Any]:
    if column is None or column not in df.columns:
        return [None] * len(df)
    return native_column(df[column])


def prepare_rows(df: pd.DataFrame, spec: TableSpec, *, source: str) -> list[dict[str, Any]]:
    """Driver-ready flat rows for one chunk of the table ``spec`` (shape: :mod:`ingest.cypher`).

    Each row holds ``k`` (identity key), ``h`` (row hash), ``a`` (start id: the parent of
    a node, the start of a relationship), ``b`` (relationships: the end id), ``t`` (the
    start node's type, where it is a Firm or a Person), ``u`` (relationships: the ``uid``)
    and one entry per stored column.

    >>> from ingest.tables import TABLES
    >>> df = pd.DataFrame({"supplier_uscc": ["A"], "buyer_uscc": ["B"], "annual_value": [2.0],
    ...                    "start": pd.to_datetime(["2023-01-01"]), "end": pd.to_datetime([None])})
    >>> r = prepare_rows(df, TABLES["supply"], source="p1")[0]
    >>> r["k"], r["u"], r["a"], r["b"], r["annual_value"], r["end"]
    ('2023-01-01', 'A|B|2023-01-01', 'A', 'B', 2.0, None)
    """
    from ingest.tables import RelMap

    g = spec.graph
    n = len(df)
    start = g.start if isinstance(g, RelMap) else g.parent
    names: list[str] = ["k", "h", "a"]
    cols: list[Sequence[Any]] = [
        key_strings(df, spec, spec.identity),
        row_hashes(df, spec.column_names, source=source),
        _ids(df, start.column),
    ]
    if isinstance(g, RelMap):
        names.append("b")
        cols.append(_ids(df, g.end.column))
    if start.type_column:
        names.append("t")
        cols.append(_ids(df, start.type_column))
    if isinstance(g, RelMap):
        names.append("u")
        cols.append(uid_strings(cols[2], cols[3], cols[0]))
    for c in spec.stored:
        names.append(c)
        cols.append(native_column(df[c]) if c in df.columns else [None] * n)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*cols, strict=True)]
