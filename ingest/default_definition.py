"""The ONE default definition of chainrisk.

A firm defaults on the first of these dates:

- the date of a ``default`` or ``bankruptcy`` event about it (``events`` table);
- the observation date of the first monthly status showing one of its loans
  **more than 90 days overdue** (``loan_status`` joined to ``loans`` on
  ``loan_id``). A monthly status row for month M is observed at the **last day
  of M** (:func:`observed_on`): that is when the month's figure is known, so a
  snapshot dated inside M does not see it yet.

The generator, the training labels and the snapshot builder all call
:func:`default_dates`; nothing else decides what a default is.

>>> events = pd.DataFrame({"uscc": ["A", "A", "B"], "type": ["bankruptcy", "default", "lawsuit"],
...                        "date": pd.to_datetime(["2024-03-05", "2024-01-10", "2024-02-01"])})
>>> status = pd.DataFrame({"loan_id": ["L1", "L1"], "month": pd.to_datetime(["2024-04-01", "2024-05-01"]),
...                        "days_overdue": [95, 125]})
>>> loans = pd.DataFrame({"loan_id": ["L1"], "borrower_uscc": ["B"]})
>>> default_dates(events, status, loans).dt.strftime("%Y-%m-%d").to_dict()
{'A': '2024-01-10', 'B': '2024-04-30'}
>>> default_dates(events, status, loans, as_of=date(2024, 4, 15)).index.tolist()
['A']
"""

from __future__ import annotations

from datetime import date

import pandas as pd

__all__ = ["DEFAULT_EVENT_TYPES", "DEFAULT_OVERDUE_DAYS", "default_dates", "observed_on"]

#: Event types that are defaults.
DEFAULT_EVENT_TYPES: frozenset[str] = frozenset({"default", "bankruptcy"})
#: A loan more than this many days overdue is in default (the non-performing threshold).
DEFAULT_OVERDUE_DAYS = 90


def observed_on(month: pd.Series) -> pd.Series:
    """The date a monthly figure is known: the last day of its month (``datetime64[ns]``)."""
    idx = pd.DatetimeIndex(pd.Series(month, copy=False).astype("datetime64[ns]")).normalize()
    return pd.Series(idx + pd.offsets.MonthEnd(0), index=month.index, dtype="datetime64[ns]")


def default_dates(
    events: pd.DataFrame | None,
    loan_status: pd.DataFrame | None,
    loans: pd.DataFrame | None,
    *,
    as_of: date | None = None,
) -> pd.Series:
    """First default date per firm.

    Parameters
    ----------
    events : DataFrame or None
        Columns ``uscc``, ``date``, ``type`` (lower-case event type).
    loan_status : DataFrame or None
        Columns ``loan_id``, ``month`` (first day of the month), ``days_overdue``.
    loans : DataFrame or None
        Columns ``loan_id``, ``borrower_uscc``.
    as_of : date, optional
        Only events dated and statuses observed on or before it count.

    Returns
    -------
    Series
        ``datetime64[ns]`` first default date, indexed by USCC (named ``uscc``),
        sorted by USCC; firms that never defaulted are absent.
    """
    parts: list[pd.DataFrame] = []
    if events is not None and len(events):
        ev = events.loc[events["type"].isin(DEFAULT_EVENT_TYPES), ["uscc", "date"]]
        parts.append(ev.assign(date=pd.to_datetime(ev["date"]).astype("datetime64[ns]")))
    if loan_status is not None and loans is not None and len(loan_status) and len(loans):
        days = pd.to_numeric(loan_status["days_overdue"], errors="coerce")
        late = loan_status.loc[(days > DEFAULT_OVERDUE_DAYS).fillna(False).to_numpy(), ["loan_id", "month"]]
        owners = loans[["loan_id", "borrower_uscc"]].drop_duplicates("loan_id")
        late = late.merge(owners, on="loan_id", how="inner")
        parts.append(pd.DataFrame({"uscc": late["borrower_uscc"], "date": observed_on(late["month"])}))
    if not parts:
        return pd.Series(
            dtype="datetime64[ns]", name="default_date", index=pd.Index([], name="uscc", dtype=object)
        )
    allp = pd.concat(parts, ignore_index=True).dropna()
    if as_of is not None:
        allp = allp[allp["date"] <= pd.Timestamp(as_of)]
    out = allp.groupby("uscc", sort=True)["date"].min().astype("datetime64[ns]")
    out.name = "default_date"
    out.index = pd.Index(out.index.astype(object), name="uscc", dtype=object)
    return out
