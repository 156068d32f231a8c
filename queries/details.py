"""Per-firm details every answer shows: names, risk labels and how old each firm's data is.

:func:`firm_details` reads the catalogue's ``firm_details`` for a list of firms and flags each
date (latest statement published, signal month, loan status month) older than
:data:`STALE_MONTHS` months at ``as_of`` as stale (``statement_stale``, ``signal_stale``,
``loan_status_stale``; ``stale`` when any is). A date that is absent is ``None``, not stale.
:func:`with_details` joins them onto a frame with a ``uscc`` column.

:class:`DetailsTable` holds the same details for every firm of the graph at one date (one
streamed query, ``all_firm_details``), so that a chain page or a portfolio answer looks its
firms up in memory instead of querying the database per batch of firms: the first page of a
hub's chain showed ~180 firms, each page a round trip of 0.6-3 s on a loaded server. Its rows are
those :func:`firm_details` gives, value for value (same columns, same ``None`` for missing, same
flags). Low-cardinality columns (industry, region, dates, tier) are categoricals, the USCC and
name Arrow strings: :attr:`DetailsTable.nbytes` states what it holds (about 0.4 KB a firm with
its index, see ``docs/queries.md``).

>>> months_before(date(2024, 8, 31), 6)
datetime.date(2024, 2, 29)
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from graph.protocol import QueryRunner
from queries.catalogue import run_for_firms, run_query

__all__ = ["STALE_MONTHS", "DetailsTable", "firm_details", "frame_rows", "months_before", "stale_before",
           "with_details"]

#: Data older than this many months at ``as_of`` is flagged stale.
STALE_MONTHS = 6
_DATES = {"statement_published": "statement_stale", "signal_month": "signal_stale",
          "loan_status_month": "loan_status_stale"}


def months_before(day: date, months: int) -> date:
    """``day`` moved back ``months`` calendar months (the day clipped to the month's length).

    >>> months_before(date(2024, 8, 31), 6)
    datetime.date(2024, 2, 29)
    >>> months_before(date(2024, 6, 30), 6)
    datetime.date(2023, 12, 30)
    """
    m = day.year * 12 + day.month - 1 - months
    year, month = divmod(m, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def stale_before(as_of: date) -> date:
    """Data dated before this day is stale at ``as_of``."""
    return months_before(as_of, STALE_MONTHS)


def firm_details(runner: QueryRunner, usccs: Sequence[str], as_of: date) -> dict[str, dict[str, Any]]:
    """USCC -> name, industry, region, the three dates with their stale flags, risk and stress labels."""
    if not usccs:
        return {}
    frame = run_for_firms(runner, "firm_details", sorted(set(usccs)), {"as_of": as_of})
    return frame_rows(frame, stale_before(as_of).isoformat())


def frame_rows(frame: pd.DataFrame, cutoff: str) -> dict[str, dict[str, Any]]:
    """``frame``'s rows (``firm_details``' columns) by USCC, missing values as ``None``, with the
    stale flags against ``cutoff`` (ISO text: the dates are ISO text too)."""
    columns = {str(name): _normalised(str(name), col.tolist(), col.isna().to_numpy().tolist())
               for name, col in frame.items()}
    nothing = [None] * len(frame)
    flags = [[None if v is None else bool(v < cutoff) for v in columns.get(col, nothing)] for col in _DATES]
    return _zipped(columns, flags)


#: Columns of few distinct values, held as categoricals in a :class:`DetailsTable`.
_CATEGORICAL = ("industry", "region", "statement_published", "statement_period", "signal_month",
                "loan_status_month", "risk_tier", "risk_as_of")


class DetailsTable:
    """:func:`firm_details` of every firm at ``as_of``, in memory (module docstring).

    >>> t = DetailsTable(pd.DataFrame({"uscc": ["A", "B"], "name": ["a", None],
    ...                                "signal_month": ["2024-06-01", "2023-01-01"]}), date(2024, 6, 30))
    >>> t.rows(["B", "C"])["B"]["signal_stale"], len(t), "C" in t.rows(["C"])
    (True, 2, False)
    >>> t.name("A"), t.name("B"), t.name("C")
    ((True, 'a'), (True, None), (False, None))
    >>> t = DetailsTable(pd.DataFrame({"uscc": ["A", "B"], "risk_tier": [2, None]}), date(2024, 6, 30))
    >>> [t.rows(["A", "B"])[u]["risk_tier"] for u in "AB"]  # JSON shows 2, not 2.0
    [2, None]
    """

    def __init__(self, frame: pd.DataFrame, as_of: date):
        self.as_of = as_of
        self.cutoff = stale_before(as_of).isoformat()
        frame = frame.drop_duplicates("uscc").reset_index(drop=True)
        self._len = len(frame)
        # Each column held as what a lookup needs, its values normalised once (None for missing,
        # a tier as a whole number): codes into a table of category values for the columns of few
        # values (and their stale flags, one per category), floats as floats, the rest as Python
        # objects. A page's rows are then array gathers and one zip per row: through pandas (a
        # frame's take, per-column isna) they cost more than the chain's walk.
        self._columns: dict[str, _Column] = {}
        for name in (str(c) for c in frame.columns):
            series = frame[name]
            if name in _CATEGORICAL:
                series = series.astype("category")
            self._columns[name] = _Column.of(series, name)
        self._flags = {flag: self._columns[col].flags(self.cutoff) for col, flag in _DATES.items()
                       if col in self._columns}
        flags = list(self._flags.values())
        # whether any date is stale, per firm (a flag is None, True or False)
        self._stale = (np.logical_or.reduce([f == True for f in flags]) if flags  # noqa: E712
                       else np.zeros(self._len, dtype=bool))
        uscc = self._columns["uscc"].values
        # plain objects: pandas builds the hash table once and keeps it (an Arrow index probes slowly)
        self.index = pd.Index(uscc if uscc is not None else np.zeros(0, dtype=object), dtype=object)
        # the hash table and the uniqueness check now, at warm-up, not in a request's time
        self.index.get_indexer(self.index[:1])

    @classmethod
    def read(cls, runner: QueryRunner, as_of: date) -> DetailsTable:
        """Every firm's details at ``as_of``: one streamed query (``all_firm_details``)."""
        return cls(run_query(runner, "all_firm_details", {"as_of": as_of}), as_of)

    def __len__(self) -> int:
        return self._len

    @property
    def nbytes(self) -> int:
        """Bytes held: every column (Python objects counted deeply, each column's own) and the
        USCC index's hash table (its values are the USCC column's)."""
        return sum(c.nbytes for c in self._columns.values()) + sum(
            f.nbytes for f in self._flags.values()) + int(self.index.memory_usage(deep=False))

    def name(self, uscc: str) -> tuple[bool, str | None]:
        """(whether ``uscc`` is a firm of the table, its name or ``None``): one hash probe."""
        try:
            pos = self.index.get_loc(uscc)
        except KeyError:
            return False, None
        value = self._columns["name"].take(np.array([pos]))[0] if "name" in self._columns else None
        return True, None if value is None else str(value)

    def rows(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """:func:`firm_details`' answer for ``usccs`` (firms not in the graph left out), by lookup."""
        if len(usccs) == 0:
            return {}
        pos = self.index.get_indexer(pd.Index(sorted(set(usccs)), dtype=object))
        return _by_uscc(self._gathered(pos[pos >= 0]))

    def columns_for(self, usccs: np.ndarray) -> dict[str, list[Any]]:
        """The details of each of ``usccs`` in that order, column by column (:meth:`rows`' keys),
        ``None`` throughout for a USCC the table lacks or a ``None`` (a person); no columns when
        none is found (as :meth:`rows` gives no row then).

        Why columns: a chain page zips each row once from its list's columns and these, where a
        dict per firm merged into each row cost more than the page's walk.

        >>> t = DetailsTable(pd.DataFrame({"uscc": ["A", "B"], "name": ["a", "b"]}), date(2024, 6, 30))
        >>> t.columns_for(np.array(["B", None, "Z"], dtype=object))["name"], t.columns_for(np.array(["Z"]))
        (['b', None, None], {})
        """
        pos = self.index.get_indexer(pd.Index(usccs, dtype=object)) if len(usccs) else np.zeros(0, int)
        return self._gathered(pos) if bool(np.any(pos >= 0)) else {}

    def _gathered(self, pos: np.ndarray) -> dict[str, list[Any]]:
        """Every column at table positions ``pos`` (-1: ``None`` throughout), then the stale flags."""
        out = {name: c.take(pos) for name, c in self._columns.items()}
        missing = pos < 0
        for flag in _DATES.values():
            held = self._flags.get(flag)
            out[flag] = _objects_at(held, pos, missing) if held is not None else [None] * len(pos)
        out["stale"] = _objects_at(self._stale, pos, missing)
        return out


def _objects_at(values: np.ndarray, pos: np.ndarray, missing: np.ndarray) -> list[Any]:
    """``values`` at ``pos`` as Python objects, ``None`` where ``missing``."""
    got = values[pos].astype(object)
    got[missing] = None
    out: list[Any] = got.tolist()
    return out


@dataclass(frozen=True)
class _Column:
    """One column of a :class:`DetailsTable`: ``codes`` into ``lookup`` (categories, then None),
    or ``values`` (floats with NaN for missing, or normalised Python objects)."""

    name: str
    values: np.ndarray | None = None
    codes: np.ndarray | None = None
    lookup: np.ndarray | None = None

    @classmethod
    def of(cls, series: pd.Series, name: str) -> _Column:
        if isinstance(series.dtype, pd.CategoricalDtype):
            cats = series.cat.categories
            lookup = np.array([*_normalised(name, cats.tolist(), [False] * len(cats)), None], dtype=object)
            return cls(name, codes=series.cat.codes.to_numpy(), lookup=lookup)
        if pd.api.types.is_float_dtype(series.dtype) and name != "risk_tier":
            return cls(name, values=series.to_numpy(dtype=float, na_value=np.nan))
        values = np.empty(len(series), dtype=object)
        values[:] = _normalised(name, series.tolist(), series.isna().to_numpy().tolist())
        return cls(name, values=values)

    def take(self, pos: np.ndarray) -> list[Any]:
        """The values at table positions ``pos`` (-1: none), missing ones as None."""
        missing = pos < 0
        if self.codes is not None and self.lookup is not None:
            # code -1 (missing) is the lookup's last entry: None
            got: list[Any] = self.lookup[np.where(missing, -1, self.codes[pos])].tolist()
            return got
        assert self.values is not None
        values = self.values[pos]
        if self.values.dtype.kind == "f":
            values[missing] = np.nan
            return [None if v != v else v for v in values.tolist()]
        values[missing] = None
        got = values.tolist()
        return got

    def flags(self, cutoff: str) -> np.ndarray:
        """Per row: None without a date, else whether the date (ISO text) is before ``cutoff``."""
        if self.codes is not None and self.lookup is not None:
            per = np.array([None if v is None else bool(v < cutoff) for v in self.lookup.tolist()],
                           dtype=object)
            out: np.ndarray = per[self.codes]
            return out
        assert self.values is not None
        return np.array([None if v is None or v != v else bool(v < cutoff) for v in self.values.tolist()],
                        dtype=object)

    @property
    def nbytes(self) -> int:
        held = [a for a in (self.values, self.codes, self.lookup) if a is not None]
        return sum(int(pd.Series(a).memory_usage(deep=True, index=False)) for a in held)


def _normalised(name: str, values: list[Any], missing: list[bool]) -> list[Any]:
    """Missing values as None whatever the column's dtype in this batch (a firm's row is the same
    whichever firms it was read with); a tier as a whole number (a column with missing values
    arrives as floats)."""
    out = [None if m or (isinstance(v, float) and v != v) else v
           for v, m in zip(values, missing, strict=True)]
    if name == "risk_tier":
        out = [int(v) if isinstance(v, float) and v.is_integer() else v for v in out]
    return out


def _zipped(columns: dict[str, list[Any]], flags: list[list[Any]]) -> dict[str, dict[str, Any]]:
    """Rows by USCC from columns of values and the three dates' stale flags (``_DATES`` order)."""
    columns.update(zip(_DATES.values(), flags, strict=True))
    columns["stale"] = [any(v is True for v in row) for row in zip(*flags, strict=True)]
    return _by_uscc(columns)


def _by_uscc(columns: dict[str, list[Any]]) -> dict[str, dict[str, Any]]:
    """The rows of ``columns`` (one dict each, one zip per row), by their ``uscc``."""
    names = list(columns)
    rows = (dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True))
    return {str(r["uscc"]): r for r in rows}


def with_details(frame: pd.DataFrame, details: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """``frame`` (a ``uscc`` column) with the details' columns it does not have yet appended."""
    extra = pd.DataFrame([details.get(u, {}) if isinstance(u, str) else {} for u in frame["uscc"]],
                         index=frame.index)
    extra = extra.drop(columns=[c for c in extra.columns if c in frame.columns or c == "uscc"])
    return pd.concat([frame, extra], axis=1).reset_index(drop=True)
