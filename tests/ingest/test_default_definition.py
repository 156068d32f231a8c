from datetime import date

import pandas as pd

from ingest.default_definition import default_dates, observed_on


def frames():
    events = pd.DataFrame(
        {
            "uscc": ["A", "B", "C", "D"],
            "date": pd.to_datetime(["2024-05-01", "2024-02-10", "2024-01-05", "2024-08-01"]),
            "type": ["lawsuit", "default", "bankruptcy", "default"],
        }
    )
    status = pd.DataFrame(
        {
            "loan_id": ["LA", "LA", "LB", "LE"],
            "month": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-01-01", "2024-06-01"]),
            "days_overdue": [90, 91, 120, 30],
        }
    )
    loans = pd.DataFrame({"loan_id": ["LA", "LB", "LE"], "borrower_uscc": ["A", "B", "E"]})
    return events, status, loans


def test_first_date_over_events_and_overdue_loans():
    dd = default_dates(*frames())
    assert dd.to_dict() == {
        "A": pd.Timestamp("2024-03-31"),  # 91 days in March (90 is not "more than 90")
        "B": pd.Timestamp("2024-01-31"),  # the January status is earlier than the event
        "C": pd.Timestamp("2024-01-05"),
        "D": pd.Timestamp("2024-08-01"),
    }
    assert str(dd.dtype) == "datetime64[ns]"


def test_as_of_excludes_later_defaults():
    dd = default_dates(*frames(), as_of=date(2024, 3, 15))
    assert sorted(dd.index) == ["B", "C"]


def test_empty_inputs():
    assert default_dates(None, None, None).empty


def test_observed_on_month_end():
    got = observed_on(pd.Series(pd.to_datetime(["2024-02-01", "2023-12-01"])))
    assert got.tolist() == [pd.Timestamp("2024-02-29"), pd.Timestamp("2023-12-31")]
