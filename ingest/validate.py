"""Validate table chunks: good rows go on, bad rows go to quarantine.

A :class:`TableValidator` checks the chunks of ONE table file in order and keeps
the state that spans chunks (keys seen, the unit check). Each bad value becomes
one quarantine record ``(file, row, field, value, reason)``; a row with any bad
value is quarantined whole and the rest continue.

Rules
-----
- A required column absent from the file: :class:`~chainrisk.errors.DatasetError`
  for the whole table (nothing can be validated).
- Required value missing, unparseable date/number, negative amount, value out of
  range (shares, utilisation and LGD in [0, 1], ``85%`` read as 0.85, values above
  1 rejected rather than guessed), unrecognised enum value, invalid USCC
  (the reason names the expected check character), self-loop (supplier = buyer,
  guarantor = borrower, creditor = debtor, owner = firm), an end/maturity before
  the start, financials published before their period end: the row is quarantined.
- Person ids (``guarantor_type``/``owner_type`` = ``person``) are pseudonymous
  strings, stored as given and never USCC-validated.
- USCC position checks (``ingest.uscc.warnings_for``) are warnings, counted, never rejections.
- Duplicate keys (``TableSpec.key``), among good rows, across chunks: an exact
  duplicate of an earlier row is dropped and counted; a row with the same key
  but different values is quarantined with a reason naming the row kept. The
  FIRST occurrence in file order always wins. Keys are compared through 64-bit
  hashes (``pandas.util.hash_pandas_object``), kept in sorted arrays with the
  first row and the value hash: ~24 bytes per distinct key.
- Unit check: see :data:`UNIT_CHECKS`. When the median of a column, in yuan,
  falls outside the range plausible for SMEs, a warning names the table, the
  column and the unit the values look like.
- Text is kept verbatim (surrounding white space stripped): values only ever
  travel to Neo4j as query parameters.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chainrisk.errors import DatasetError
from ingest import parse
from ingest.manifest import Manifest
from ingest.reader import RawChunk, find_table_file, iter_raw_chunks
from ingest.tables import TABLES, Column, TableSpec

__all__ = [
    "MAX_WARNING_MESSAGES",
    "QUARANTINE_COLUMNS",
    "UNIT_CHECKS",
    "TableValidator",
    "ValidatedChunk",
    "validate_table",
]

log = logging.getLogger(__name__)

#: Columns of every quarantine frame.
QUARANTINE_COLUMNS: tuple[str, ...] = ("file", "row", "field", "value", "reason")

#: Detailed warning messages kept per table; beyond that they are only counted.
MAX_WARNING_MESSAGES = 20

#: (table, column) -> plausible range of the column's median, in yuan, for SMEs.
#: A unit mistake moves the median by 10,000x, out of these ranges from any typical value.
UNIT_CHECKS: dict[tuple[str, str], tuple[float, float]] = {
    ("firms", "registered_capital"): (1e4, 1e9),
    ("financials", "total_assets"): (1e4, 1e10),
    ("financials", "revenue"): (1e4, 1e10),
}
_UNIT_MIN_VALUES = 50  # values gathered before the unit check runs (or at finish)
_UNIT_MAX_VALUES = 100_000


@dataclass
class ValidatedChunk:
    """The outcome of validating one chunk.

    Attributes
    ----------
    good : pandas.DataFrame
        Canonical columns in contract order, normalised types, plus ``_row``
        (source row number, int64) and ``_file`` (file name).
    quarantine : pandas.DataFrame
        Columns :data:`QUARANTINE_COLUMNS`, one row per bad value.
    warnings : list of str
    rows_quarantined : int
        Rows of this chunk quarantined (a row with several bad values counts once).
    duplicates_dropped : int
        Rows of this chunk dropped as exact duplicates of an earlier row.
        Per chunk, rows read = ``len(good) + rows_quarantined + duplicates_dropped``.
    stats : dict of str to int
        The validator's running totals (:attr:`TableValidator.stats`) after this chunk;
        empty for a chunk not made by a validator.
    """

    good: pd.DataFrame
    quarantine: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    rows_quarantined: int = 0
    duplicates_dropped: int = 0
    stats: dict[str, int] = field(default_factory=dict)


def empty_quarantine() -> pd.DataFrame:
    """A quarantine frame with no rows."""
    return pd.DataFrame(
        {
            "file": pd.Series(dtype=object),
            "row": pd.Series(dtype="int64"),
            "field": pd.Series(dtype=object),
            "value": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
        }
    )


def empty_good(spec: TableSpec) -> pd.DataFrame:
    """A good frame of ``spec`` with no rows (right columns and dtypes)."""
    idx = pd.RangeIndex(0)
    cols = {c.name: parse.missing_value(c, idx) for c in spec.columns}
    cols["_row"] = pd.Series(dtype="int64")
    cols["_file"] = pd.Series(dtype=object)
    return pd.DataFrame(cols)


class TableValidator:
    """Validate the chunks of one table file, in order.

    Parameters
    ----------
    spec : TableSpec
    manifest : Manifest
        Gives the unit factor and the defaults for ``platform`` and ``currency``.
    file : str
        File name used in quarantine records and messages.

    Attributes
    ----------
    stats : dict
        ``rows_read, rows_good, rows_quarantined, duplicates_dropped,
        duplicates_conflicting, warnings`` (counts).
    warnings : list of str
        The warning messages (at most :data:`MAX_WARNING_MESSAGES` detailed ones).
    """

    def __init__(self, spec: TableSpec, manifest: Manifest, *, file: str):
        self.spec = spec
        self.manifest = manifest
        self.file = file
        self.stats: dict[str, int] = {
            "rows_read": 0,
            "rows_good": 0,
            "rows_quarantined": 0,
            "duplicates_dropped": 0,
            "duplicates_conflicting": 0,
            "warnings": 0,
        }
        self.warnings: list[str] = []
        self._keys = _SeenKeys()  # key hash -> (first row, value hash)
        self._uscc_cache: dict[str, tuple[str | None, str | None, list[str]]] = {}
        self._warned_extra = False
        self._unit_values: dict[str, list[np.ndarray]] = {
            col: [] for (t, col) in UNIT_CHECKS if t == spec.name
        }
        self._unit_done = not self._unit_values
        self._defaults: dict[str, str | None] = {c.name: c.default for c in spec.columns}
        if spec.name == "firms":
            self._defaults["platform"] = manifest.source
        if spec.name == "loans":
            self._defaults["currency"] = manifest.currency

    # ------------------------------------------------------------------ warnings
    def _warn(self, out: list[str], message: str) -> None:
        self.stats["warnings"] += 1
        if self.stats["warnings"] <= MAX_WARNING_MESSAGES:
            out.append(message)
            self.warnings.append(message)
        elif self.stats["warnings"] == MAX_WARNING_MESSAGES + 1:
            note = f"{self.file}: more warnings follow; only counted (see stats)"
            out.append(note)
            self.warnings.append(note)

    # ------------------------------------------------------------------ columns
    def _check_columns(self, frame: pd.DataFrame, out: list[str]) -> None:
        present = set(map(str, frame.columns))
        for col in self.spec.columns:
            if col.required and col.name not in present:
                raise DatasetError(
                    f"{self.file}: table {self.spec.name!r} lacks required column {col.name!r} "
                    f"(found: {', '.join(sorted(present)) or 'none'})"
                )
        extra = sorted(present - set(self.spec.column_names))
        if extra and not self._warned_extra:
            self._warned_extra = True
            self._warn(out, f"{self.file}: ignored columns not in the {self.spec.name} contract: {extra}")

    def _parse(
        self, col: Column, raw: pd.Series, parsed: dict[str, pd.Series], warn_rows: dict[Any, list[str]]
    ) -> tuple[pd.Series, pd.Series]:
        factor = self.manifest.unit_factor
        if col.kind == "uscc" or (col.kind == "id" and col.type_column is not None):
            person = (
                (parsed[col.type_column or ""] == "person").to_numpy(dtype=bool)
                if col.kind == "id"
                else np.zeros(len(raw), dtype=bool)
            )
            if not person.any():
                codes, reasons, warns = parse.parse_uscc(raw, self._uscc_cache)
            else:
                # persons carry pseudonymous ids: never USCC-validated, stored as given
                firm = ~person
                f_codes, f_reasons, f_warns = parse.parse_uscc(raw[firm], self._uscc_cache)
                codes = parse.as_text(raw)
                reasons = pd.Series([None] * len(raw), index=raw.index, dtype=object)
                warns = pd.Series([None] * len(raw), index=raw.index, dtype=object)
                codes[firm] = f_codes.to_numpy()
                reasons[firm] = f_reasons.to_numpy()
                warns[firm] = f_warns.to_numpy()
            for row, w in warns.dropna().items():
                warn_rows.setdefault(row, []).extend(f"field {col.name!r}: USCC {x}" for x in w)
            return codes, reasons
        if col.kind == "date":
            return parse.parse_date(raw)
        if col.kind == "month":
            return parse.parse_month(raw)
        if col.kind == "money":
            return parse.parse_money(raw, factor=factor, min_value=col.min)
        if col.kind == "float":
            return parse.parse_number(raw, min_value=col.min, max_value=col.max, percent=col.percent)
        if col.kind == "int":
            return parse.parse_int(raw, min_value=col.min, max_value=col.max)
        if col.kind == "enum":
            return parse.parse_enum(raw, col.values)
        if col.kind == "bool":
            return parse.parse_bool(raw)
        text = parse.as_text(raw)
        return text, pd.Series([None] * len(raw), index=raw.index, dtype=object)

    # ------------------------------------------------------------------ main
    def validate(self, chunk: RawChunk) -> ValidatedChunk:
        """Validate one chunk; updates :attr:`stats`.

        Raises
        ------
        DatasetError
            A required column is absent (names the file and the column).
        """
        frame = chunk.frame
        out_warnings: list[str] = []
        problems: list[dict[str, Any]] = [
            {"file": self.file, "row": row, "field": "", "value": None, "reason": reason}
            for row, reason in chunk.errors
        ]
        self.stats["rows_read"] += len(frame) + len(chunk.errors)
        bad_rows: set[Any] = {row for row, _ in chunk.errors}
        if len(frame) == 0 and chunk.errors:
            if len(frame.columns):
                self._check_columns(frame, out_warnings)
            self.stats["rows_quarantined"] += len(bad_rows)
            return ValidatedChunk(
                empty_good(self.spec),
                _quarantine_frame(problems),
                out_warnings,
                rows_quarantined=len(bad_rows),
                stats=dict(self.stats),
            )
        self._check_columns(frame, out_warnings)
        index = frame.index
        bad = pd.Series(False, index=index)
        parsed: dict[str, pd.Series] = {}
        warn_rows: dict[Any, list[str]] = {}
        # type columns (enums) before the id columns that depend on them
        ordered = sorted(self.spec.columns, key=lambda c: c.kind == "id")
        for col in ordered:
            if col.name not in frame.columns:
                default = self._defaults.get(col.name)
                filled = parse.missing_value(col, index)
                if default is not None:
                    filled = pd.Series([default] * len(index), index=index, dtype=object)
                parsed[col.name] = filled
                continue
            raw = frame[col.name]
            values, reasons = self._parse(col, raw, parsed, warn_rows)
            # every parser leaves a value missing without a reason exactly when the raw value is missing
            missing = values.isna() & reasons.isna()
            default = self._defaults.get(col.name)
            if default is not None:
                values = values.where(~missing, default)
            elif col.required:
                reasons = reasons.where(~missing, "required value missing")
            has = reasons.notna()
            if has.any():
                bad |= has
                # the text of each bad raw value (as_text: typed Parquet columns give Python scalars)
                shown = parse.as_text(raw[has.to_numpy()]).tolist()
                for (row, reason), value in zip(reasons[has].items(), shown, strict=True):
                    problems.append(
                        {
                            "file": self.file,
                            "row": row,
                            "field": col.name,
                            "value": value,
                            "reason": reason,
                        }
                    )
            parsed[col.name] = values
        self._row_rules(parsed, bad, problems, frame)
        for row, msgs in warn_rows.items():
            if not bad.get(row, False):
                for m in msgs:
                    self._warn(out_warnings, f"{self.file} row {row}: {m}")
        good = pd.DataFrame({name: parsed[name] for name in self.spec.column_names}, index=index)
        good = good[~bad.to_numpy()]
        good["_row"] = good.index.astype("int64")
        good["_file"] = pd.Series([self.file] * len(good), index=good.index, dtype=object)
        dropped_before = self.stats["duplicates_dropped"]
        good = self._deduplicate(good, problems)
        good = good.reset_index(drop=True)
        bad_rows |= {p["row"] for p in problems}
        self.stats["rows_quarantined"] += len(bad_rows)
        self.stats["rows_good"] += len(good)
        self._unit_check(good, out_warnings, final=False)
        return ValidatedChunk(
            good,
            _quarantine_frame(problems),
            out_warnings,
            rows_quarantined=len(bad_rows),
            duplicates_dropped=self.stats["duplicates_dropped"] - dropped_before,
            stats=dict(self.stats),
        )

    def _row_rules(
        self,
        parsed: dict[str, pd.Series],
        bad: pd.Series,
        problems: list[dict[str, Any]],
        frame: pd.DataFrame,
    ) -> None:
        """Rules over several columns: self-loops and date order."""
        spec = self.spec
        checks: list[tuple[str, pd.Series, str]] = []
        if spec.self_loop:
            a, b = spec.self_loop
            same = parsed[a].notna() & (parsed[a] == parsed[b])
            checks.append((b, same, f"self-loop: {a} equals {b}"))
        if spec.order:
            early, late = spec.order
            before = parsed[late].notna() & parsed[early].notna() & (parsed[late] < parsed[early])
            checks.append((late, before, f"{late} is before {early}"))
        for fld, mask, reason in checks:
            mask = mask.fillna(False).astype(bool) & ~bad
            for row in mask[mask].index:
                value = parsed[fld].get(row)
                problems.append(
                    {
                        "file": self.file,
                        "row": row,
                        "field": fld,
                        "value": parse.to_text(value),
                        "reason": reason,
                    }
                )
            bad |= mask

    def _deduplicate(self, good: pd.DataFrame, problems: list[dict[str, Any]]) -> pd.DataFrame:
        """Drop exact duplicates, quarantine conflicting ones; the first occurrence wins."""
        if good.empty:
            return good
        key_cols = list(self.spec.key)
        value_cols = list(self.spec.column_names)
        # each column hashed once; combined as hash_pandas_object(frame) combines them
        codes = {c.name for c in self.spec.columns if c.kind in ("uscc", "id")}
        col_hash = {
            c: _column_hash(good[c], distinct=c in codes) for c in dict.fromkeys(key_cols + value_cols)
        }
        khash = _combine_hashes([col_hash[c] for c in key_cols])
        vhash = _combine_hashes([col_hash[c] for c in value_cols])
        rows = good["_row"].to_numpy(dtype=np.int64)
        # distinct keys of this chunk (sorted), the position of each one's first row, each row's key
        keys, first, inverse = np.unique(khash, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        seen, first_row, first_value = self._keys.lookup(keys)
        new = ~seen
        first_row[new] = rows[first[new]]
        first_value[new] = vhash[first[new]]
        keep = np.zeros(len(good), dtype=bool)
        keep[first[new]] = True
        same = vhash == first_value[inverse]
        self.stats["duplicates_dropped"] += int((~keep & same).sum())
        conflicting = np.flatnonzero(~keep & ~same)
        self.stats["duplicates_conflicting"] += len(conflicting)
        for i in conflicting.tolist():
            key_text = ", ".join(f"{c}={_show(good[c].iat[i])}" for c in key_cols)
            problems.append(
                {
                    "file": self.file,
                    "row": int(rows[i]),
                    "field": ",".join(key_cols),
                    "value": key_text,
                    "reason": f"duplicate key ({key_text}) with values different from row "
                    f"{int(first_row[inverse[i]])}, which is kept (the first occurrence wins)",
                }
            )
        self._keys.add(keys[new], first_row[new], first_value[new])
        return good[keep]

    # ------------------------------------------------------------------ unit check
    def _unit_check(self, good: pd.DataFrame, out: list[str], *, final: bool) -> None:
        if self._unit_done:
            return
        for col, parts in self._unit_values.items():
            if col in good and sum(len(p) for p in parts) < _UNIT_MAX_VALUES:
                vals = good[col].to_numpy(dtype="float64")
                parts.append(vals[np.isfinite(vals) & (vals > 0)])
        counts = {c: sum(len(p) for p in parts) for c, parts in self._unit_values.items()}
        if not final and min(counts.values()) < _UNIT_MIN_VALUES:
            return
        self._unit_done = True
        for col, parts in self._unit_values.items():
            if counts[col] == 0:
                continue
            median = float(np.median(np.concatenate(parts)))
            low, high = UNIT_CHECKS[(self.spec.name, col)]
            if low <= median <= high:
                continue
            unit = self.manifest.unit
            looks = "wan_yuan (万元)" if median < low else "yuan (元)"
            self._warn(
                out,
                f"table {self.spec.name!r} column {col!r}: median {median:,.0f} yuan under manifest unit "
                f"{unit!r} is outside the plausible SME range [{low:,.0f}, {high:,.0f}]; the values look "
                f"like {looks}: check 'unit' in dataset.yaml",
            )
        self._unit_values.clear()

    def finish(self) -> list[str]:
        """Run the checks that need the whole table (the unit check on small tables); return new warnings."""
        out: list[str] = []
        if not self._unit_done:
            self._unit_check(empty_good(self.spec), out, final=True)
        return out


def _column_hash(values: pd.Series, *, distinct: bool = False) -> np.ndarray:
    """``pd.util.hash_pandas_object(values, index=False)`` as an array.

    ``distinct``: ``values`` are ``str`` or missing and mostly distinct (codes):
    hashed one by one rather than first factorised (the same hashes, faster).

    >>> s = pd.Series(["91350100M000100Y43", None, "x"], dtype=object)
    >>> bool((_column_hash(s, distinct=True) == _column_hash(s)).all())
    True
    """
    if distinct and values.dtype == np.dtype(object):
        arr = values.to_numpy()
        missing = pd.isna(arr)
        out = np.full(len(arr), np.iinfo(np.uint64).max, dtype=np.uint64)  # pandas' hash of a missing value
        out[~missing] = pd.util.hash_array(arr[~missing], categorize=False)
        return out
    return pd.util.hash_pandas_object(values, index=False).to_numpy(dtype=np.uint64)


def _combine_hashes(arrays: list[np.ndarray]) -> np.ndarray:
    """Row hashes of a frame from its columns' hashes, as ``pd.util.hash_pandas_object(frame, index=False)``.

    >>> df = pd.DataFrame({"a": ["x", "y"], "b": [1.5, None]})
    >>> cols = [pd.util.hash_pandas_object(df[c], index=False).to_numpy() for c in df]
    >>> bool((_combine_hashes(cols) == pd.util.hash_pandas_object(df, index=False).to_numpy()).all())
    True
    """
    # the algorithm of pandas.core.util.hashing.combine_hash_arrays (CPython's tuple hash)
    num_items = len(arrays)
    mult = np.uint64(1000003)
    out = np.zeros_like(arrays[0]) + np.uint64(0x345678)
    for i, a in enumerate(arrays):
        inverse_i = num_items - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse_i + inverse_i)
    out += np.uint64(97531)
    return out


class _SeenKeys:
    """Key hashes seen so far, each with its first row and value hash.

    Sorted runs of ``(key, row, value)`` arrays, merged like a binary counter
    (a run is merged into the one before while that one is at most twice its
    size), so adding n keys costs O(n log n) in all and a lookup searches
    O(log n) runs.

    >>> s = _SeenKeys()
    >>> s.add(np.array([3, 7], dtype=np.uint64), np.array([2, 5]), np.array([30, 70], dtype=np.uint64))
    >>> found, rows, values = s.lookup(np.array([1, 7], dtype=np.uint64))
    >>> found.tolist(), rows.tolist()[1:], values.tolist()[1:]
    ([False, True], [5], [70])
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(run[0]) for run in self._runs)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(found, first_row, value_hash)`` of each of ``keys`` (rows and hashes 0 where not found)."""
        found = np.zeros(len(keys), dtype=bool)
        rows = np.zeros(len(keys), dtype=np.int64)
        values = np.zeros(len(keys), dtype=np.uint64)
        for run_keys, run_rows, run_values in self._runs:
            pos = np.minimum(np.searchsorted(run_keys, keys), len(run_keys) - 1)
            hit = run_keys[pos] == keys
            found |= hit
            rows[hit] = run_rows[pos[hit]]
            values[hit] = run_values[pos[hit]]
        return found, rows, values

    def add(self, keys: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
        """Add keys not seen before (sorted, distinct) with their first rows and value hashes."""
        if not len(keys):
            return
        self._runs.append((keys, np.asarray(rows, dtype=np.int64), values))
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= 2 * len(self._runs[-1][0]):
            (k1, r1, v1), (k2, r2, v2) = self._runs[-2], self._runs.pop()
            k = np.concatenate([k1, k2])
            order = np.argsort(k, kind="stable")
            self._runs[-1] = (k[order], np.concatenate([r1, r2])[order], np.concatenate([v1, v2])[order])


def _show(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return "" if value is None else str(value)


def _quarantine_frame(problems: list[dict[str, Any]]) -> pd.DataFrame:
    if not problems:
        return empty_quarantine()
    # explicit object columns: pandas would otherwise turn a missing value into NaN
    q = pd.DataFrame(
        {
            c: pd.Series([p[c] for p in problems], dtype="int64" if c == "row" else object)
            for c in QUARANTINE_COLUMNS
        }
    )
    return q.sort_values(["row", "field"], kind="stable").reset_index(drop=True)


def validate_table(
    dataset_dir: Path, table: str, manifest: Manifest, *, chunksize: int = 100_000,
    spec: TableSpec | None = None,
) -> Iterator[ValidatedChunk]:
    """Find, read and validate one table of a dataset folder.

    Yields one :class:`ValidatedChunk` per chunk read, then, when the whole-table
    checks warn, one more with no rows carrying those warnings. An empty or
    header-only file yields a single empty chunk whose warning says so. An
    absent optional table yields nothing.

    Raises
    ------
    DatasetError
        An absent required table, an unreadable file, a missing required column.

    ``spec`` is the table's contract (default: the shipped ``TABLES[table]``).
    """
    spec = spec or TABLES[table]
    path = find_table_file(Path(dataset_dir), table, manifest)
    if path is None:
        if not spec.optional:
            raise DatasetError(f"{dataset_dir}: required table {table!r} has no file ({table}.csv ...)")
        return
    validator = TableValidator(spec, manifest, file=path.name)
    any_chunk = False
    for raw in iter_raw_chunks(path, chunksize=chunksize, table=table):
        any_chunk = True
        yield validator.validate(raw)
    if not any_chunk:
        what = "is empty (0 bytes)" if path.stat().st_size == 0 else "has no data rows"
        validator.stats["warnings"] += 1
        msg = f"{path.name}: table {table!r} {what}"
        validator.warnings.append(msg)
        yield ValidatedChunk(empty_good(spec), empty_quarantine(), [msg], stats=dict(validator.stats))
        return
    tail = validator.finish()
    if tail:
        yield ValidatedChunk(empty_good(spec), empty_quarantine(), tail, stats=dict(validator.stats))
