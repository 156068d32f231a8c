import pandas as pd
import pytest

from ingest.classification import (
    borrower_20pct_flags,
    classification_flag,
    is_non_performing,
    lender_10pct_flags,
    min_classification,
)


@pytest.mark.parametrize(
    ("days", "floor"),
    [
        (0, "normal"),
        (1, "special_mention"),
        (90, "special_mention"),
        (91, "substandard"),
        (270, "substandard"),
        (271, "doubtful"),
        (360, "doubtful"),
        (361, "loss"),
        (None, None),
    ],
)
def test_floors_at_band_edges(days, floor):
    assert min_classification(days) == floor


@pytest.mark.parametrize(
    ("cls", "days", "expected"),
    [
        ("normal", 120, "more than 90 days overdue yet normal (120 days; at least substandard)"),
        ("normal", 5, "overdue yet normal (5 days; at least special_mention)"),
        ("substandard", 300, "more than 270 days overdue yet substandard (300 days; at least doubtful)"),
        ("doubtful", 400, "more than 360 days overdue yet doubtful (400 days; at least loss)"),
        ("loss", 10, ""),  # worse than the floor: the lender may be stricter
        ("special_mention", 0, ""),
        (None, 200, ""),
    ],
)
def test_flags(cls, days, expected):
    assert classification_flag(cls, days) == expected


def test_non_performing():
    assert [is_non_performing(c) for c in ("normal", "special_mention", "substandard", "loss")] == [
        False,
        False,
        True,
        True,
    ]


def test_borrower_20pct_rule():
    loans = pd.DataFrame(
        {
            "borrower_uscc": ["A", "A", "A", "B", "B"],
            "lender": ["x", "y", "y", "x", "x"],
            "outstanding": [25.0, 75.0, 0.0, 10.0, 90.0],
            "days_overdue": [100, 0, 0, 100, 0],
            "classification": ["substandard", "normal", "normal", "substandard", "normal"],
        }
    )
    flags = borrower_20pct_flags(loans).tolist()
    # A: 25% of its debt is > 90 days overdue -> its performing loans are flagged; B: 10%, not
    assert flags[1].startswith("borrower has 25% of its debt") and flags[2]
    assert flags[0] == "" and flags[3] == "" and flags[4] == ""


def test_lender_10pct_rule():
    loans = pd.DataFrame(
        {
            "borrower_uscc": ["A", "A", "A"],
            "lender": ["x", "x", "y"],
            "outstanding": [20.0, 80.0, 50.0],
            "days_overdue": [0, 0, 0],
            "classification": ["substandard", "normal", "normal"],
        }
    )
    flags = lender_10pct_flags(loans).tolist()
    assert "10% rule" in flags[1] and flags[0] == "" and flags[2] == ""
