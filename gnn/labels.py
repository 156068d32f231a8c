"""Out-of-time labels and the bank's book at a cut date.

A model scored at a cut date ``t`` predicts **a default in (t, t + 12 months]**,
under the project's one default definition (:func:`ingest.default_definition.default_dates`:
a ``default``/``bankruptcy`` event, or a loan more than 90 days overdue, observed at
the end of its month). The firms it is judged on are **the bank's book at t**:
platform firms (not external counterparties) with a loan running at ``t`` and not
already in default at ``t`` (a firm in default is the NPL stock, not a new default).

Labels read the *whole* dataset, including what happened after ``t``: they are the
only thing here allowed to. Features never are (they come from the snapshot at ``t``).

>>> import pandas as pd
>>> events = pd.DataFrame({"uscc": ["A", "B"], "type": ["default", "default"],
...                        "date": pd.to_datetime(["2024-03-01", "2025-06-01"])})
>>> y = default_within(events, None, None, as_of=date(2023, 12, 31), horizon_months=12)
>>> y.to_dict()
{'A': True}
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ingest.default_definition import default_dates
from ingest.snapshot import Snapshot

__all__ = ["HORIZON_MONTHS", "bank_book", "default_within", "running_loans", "window_end"]

#: The prediction horizon, in months.
HORIZON_MONTHS = 12


def window_end(as_of: date, horizon_months: int = HORIZON_MONTHS) -> date:
    """The last day of the label window that starts after ``as_of``.

    >>> window_end(date(2024, 12, 31)), window_end(date(2024, 2, 29))
    (datetime.date(2025, 12, 31), datetime.date(2025, 2, 28))
    """
    end = pd.Timestamp(as_of) + pd.DateOffset(months=horizon_months)
    if pd.Timestamp(as_of).is_month_end:
        end = end + pd.offsets.MonthEnd(0)
    return date(end.year, end.month, end.day)


def default_within(
    events: pd.DataFrame | None,
    loan_status: pd.DataFrame | None,
    loans: pd.DataFrame | None,
    *,
    as_of: date,
    horizon_months: int = HORIZON_MONTHS,
) -> pd.Series:
    """Firms whose FIRST default falls in ``(as_of, window_end]``: a boolean Series, True only.

    A firm that defaulted on or before ``as_of`` is not a new default, whatever happens later.
    """
    first = default_dates(events, loan_status, loans, as_of=window_end(as_of, horizon_months))
    new = first[first > pd.Timestamp(as_of)]
    return pd.Series(True, index=new.index, name="default_12m", dtype=bool)


def running_loans(loans: pd.DataFrame, as_of: date) -> np.ndarray:
    """Which of a snapshot's ``loans`` run at ``as_of``: started (the snapshot holds no later
    loan), not matured, and not shown repaid (a status with nothing outstanding).

    >>> loans = pd.DataFrame({"maturity": pd.to_datetime(["2024-06-30", "2026-01-31", None]),
    ...                       "outstanding": [10.0, 0.0, 5.0]})
    >>> running_loans(loans, date(2024, 12, 31)).tolist()
    [False, False, True]
    """
    t = pd.Timestamp(as_of)
    running = loans["maturity"].isna().to_numpy() | (loans["maturity"] > t).to_numpy()
    if "outstanding" in loans:
        out = pd.to_numeric(loans["outstanding"], errors="coerce")
        running &= ~(out <= 0).to_numpy()  # a status showing nothing owed: repaid
    return np.asarray(running, dtype=bool)


def bank_book(snapshot: Snapshot, lenders: frozenset[str] | None = None) -> np.ndarray:
    """Rows of ``snapshot.firms`` in the bank's book: platform firms with a loan running at the
    snapshot date (started, not matured; of ``lenders`` when given), not in default."""
    f = snapshot.firms
    loans = snapshot.loans
    running = running_loans(loans, snapshot.as_of)
    if lenders:
        running &= loans["lender"].isin(lenders).to_numpy()
    borrowers = np.zeros(len(f), dtype=bool)
    rows = loans.loc[running, "borrower"].to_numpy(dtype=np.int64)
    borrowers[rows[rows >= 0]] = True
    return borrowers & ~f["external"].to_numpy(dtype=bool) & ~f["defaulted"].to_numpy(dtype=bool)
