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
from datetime import date
from typing import Any

import pandas as pd

from graph.protocol import QueryRunner
from queries.catalogue import run_for_firms, run_query

__all__ = ["STALE_MONTHS", "DetailsTable", "firm_details", "months_before", "stale_before", "with_details"]

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
    return _rows(frame, stale_before(as_of).isoformat())


def _rows(frame: pd.DataFrame, cutoff: str) -> dict[str, dict[str, Any]]:
    """``frame``'s rows (``firm_details``' columns) by USCC, missing values as ``None``, with the
    stale flags against ``cutoff`` (ISO text: the dates are ISO text too)."""
    out: dict[str, dict[str, Any]] = {}
    # column by column (Series.tolist gives Python scalars, as to_dict does, without its boxing
    # value by value: most of a page's lookup time)
    names = [str(c) for c in frame.columns]
    columns = [frame.iloc[:, i].tolist() for i in range(len(names))]
    for values in zip(*columns, strict=True):
        # missing as None whatever the column's dtype in this batch: a firm's row is the same
        # whichever firms it was read with (rows are kept per firm across pages)
        row: dict[str, Any] = {k: None if isinstance(v, float) and v != v else v
                               for k, v in zip(names, values, strict=True)}
        # a tier is a whole number; a column with missing values arrives as floats
        tier = row.get("risk_tier")
        if isinstance(tier, float) and tier.is_integer():
            row["risk_tier"] = int(tier)
        flags = {flag: None if row.get(col) is None else bool(row[col] < cutoff)
                 for col, flag in _DATES.items()}
        row.update(flags)
        row["stale"] = any(v is True for v in flags.values())
        out[str(row["uscc"])] = row
    return out


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
        for col in _CATEGORICAL:
            if col in frame.columns:
                frame[col] = frame[col].astype("category")
        self.frame = frame
        # plain objects: pandas builds the hash table once and keeps it (an Arrow index probes slowly)
        self.index = pd.Index(frame["uscc"].to_numpy(dtype=object), dtype=object)

    @classmethod
    def read(cls, runner: QueryRunner, as_of: date) -> DetailsTable:
        """Every firm's details at ``as_of``: one streamed query (``all_firm_details``)."""
        return cls(run_query(runner, "all_firm_details", {"as_of": as_of}), as_of)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def nbytes(self) -> int:
        """Bytes held: the columns (strings and categories counted deeply) and the USCC index."""
        return int(self.frame.memory_usage(deep=True).sum()) + int(self.index.memory_usage(deep=True))

    def name(self, uscc: str) -> tuple[bool, str | None]:
        """(whether ``uscc`` is a firm of the table, its name or ``None``): one index probe."""
        pos = self.index.get_indexer(pd.Index([uscc], dtype=object))[0]
        if pos < 0:
            return False, None
        value = self.frame["name"].iloc[pos]
        return True, None if value is None or (isinstance(value, float) and value != value) else str(value)

    def rows(self, usccs: Sequence[str]) -> dict[str, dict[str, Any]]:
        """:func:`firm_details`' answer for ``usccs`` (firms not in the graph left out), by lookup."""
        if len(usccs) == 0:
            return {}
        pos = self.index.get_indexer(pd.Index(sorted(set(usccs)), dtype=object))
        return _rows(self.frame.take(pos[pos >= 0]), self.cutoff)


def with_details(frame: pd.DataFrame, details: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """``frame`` (a ``uscc`` column) with the details' columns it does not have yet appended."""
    extra = pd.DataFrame([details.get(u, {}) if isinstance(u, str) else {} for u in frame["uscc"]],
                         index=frame.index)
    extra = extra.drop(columns=[c for c in extra.columns if c in frame.columns or c == "uscc"])
    return pd.concat([frame, extra], axis=1).reset_index(drop=True)
