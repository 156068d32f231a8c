"""Labels and the bank's book (``gnn.labels``)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from gnn.labels import bank_book, default_within, window_end
from ingest.snapshot import assemble_snapshot


def test_window_end_keeps_month_ends() -> None:
    assert window_end(date(2023, 12, 31)) == date(2024, 12, 31)
    assert window_end(date(2023, 2, 28)) == date(2024, 2, 29)  # a month end stays one
    assert window_end(date(2023, 6, 15)) == date(2024, 6, 15)


def test_only_first_defaults_inside_the_window_are_labels() -> None:
    events = pd.DataFrame(
        {
            "uscc": ["OLD", "OLD", "IN", "LATE", "EDGE", "AT"],
            "type": ["default", "bankruptcy", "default", "default", "bankruptcy", "default"],
            "date": pd.to_datetime(
                ["2023-05-01", "2024-03-01", "2024-03-01", "2025-01-01", "2024-12-31", "2023-12-31"]
            ),
        }
    )
    y = default_within(events, None, None, as_of=date(2023, 12, 31))
    # OLD and AT were in default at the cut: not new defaults; LATE is after the window
    assert sorted(y.index) == ["EDGE", "IN"]


def test_a_loan_over_90_days_counts_when_its_month_is_observed() -> None:
    status = pd.DataFrame(
        {
            "loan_id": ["L1", "L2"],
            "month": pd.to_datetime(["2024-12-01", "2024-11-01"]),
            "days_overdue": [95, 120],
        }
    )
    loans = pd.DataFrame({"loan_id": ["L1", "L2"], "borrower_uscc": ["A", "B"]})
    y = default_within(None, status, loans, as_of=date(2023, 12, 31))
    assert sorted(y.index) == ["A", "B"]  # December is observed on 2024-12-31, inside the window
    assert list(default_within(None, status, loans, as_of=date(2024, 1, 30)).index) == ["A", "B"]


def test_the_book_is_platform_firms_with_a_running_loan_not_in_default() -> None:
    firms = pd.DataFrame({"uscc": ["A", "B", "C", "D"], "name": list("abcd")})
    loans = pd.DataFrame(
        {
            "loan_id": ["L1", "L2", "L3", "L4", "L5"],
            "borrower_uscc": ["A", "B", "C", "D", "X"],  # X: external, known only from its loan
            "lender": ["bank"] * 5,
            "principal": [1.0] * 5,
            "start": pd.to_datetime(["2023-01-01", "2023-01-01", "2021-01-01", "2025-01-01", "2023-01-01"]),
            "maturity": pd.to_datetime(["2025-01-01", None, "2022-01-01", "2026-01-01", "2025-01-01"]),
        }
    )
    events = pd.DataFrame({"uscc": ["B"], "type": ["default"], "date": pd.to_datetime(["2024-01-01"])})
    snap = assemble_snapshot({"firms": firms, "loans": loans, "events": events}, as_of=date(2024, 6, 30))
    book = dict(zip(snap.firms["uscc"], bank_book(snap), strict=True))
    # B is in default, C's loan matured, D's starts later; X is no platform firm, never in the book
    assert {u: bool(v) for u, v in book.items() if u != "X"} == {
        "A": True,
        "B": False,
        "C": False,
        "D": False,
    }
    assert not book.get("X", False)
    assert not bank_book(snap, frozenset({"other-bank"})).any()
