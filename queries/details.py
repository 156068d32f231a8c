"""Per-firm details every answer shows: names, risk labels and how old each firm's data is.

:func:`firm_details` reads the catalogue's ``firm_details`` for a list of firms and flags each
date (latest statement published, signal month, loan status month) older than
:data:`STALE_MONTHS` months at ``as_of`` as stale (``statement_stale``, ``signal_stale``,
``loan_status_stale``; ``stale`` when any is). A date that is absent is ``None``, not stale.
:func:`with_details` joins them onto a frame with a ``uscc`` column.

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
from queries.catalogue import run_for_firms

__all__ = ["STALE_MONTHS", "firm_details", "months_before", "stale_before", "with_details"]

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
    cutoff = stale_before(as_of).isoformat()
    out: dict[str, dict[str, Any]] = {}
    for record in frame.to_dict(orient="records"):
        # missing as None whatever the column's dtype in this batch: a firm's row is the same
        # whichever firms it was read with (rows are kept per firm across pages)
        row: dict[str, Any] = {str(k): None if isinstance(v, float) and v != v else v
                               for k, v in record.items()}
        flags = {flag: None if row.get(col) is None else bool(row[col] < cutoff)
                 for col, flag in _DATES.items()}
        row.update(flags)
        row["stale"] = any(v is True for v in flags.values())
        out[str(row["uscc"])] = row
    return out


def with_details(frame: pd.DataFrame, details: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """``frame`` (a ``uscc`` column) with the details' columns it does not have yet appended."""
    extra = pd.DataFrame([details.get(u, {}) if isinstance(u, str) else {} for u in frame["uscc"]],
                         index=frame.index)
    extra = extra.drop(columns=[c for c in extra.columns if c in frame.columns or c == "uscc"])
    return pd.concat([frame, extra], axis=1).reset_index(drop=True)
