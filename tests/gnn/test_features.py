"""A firm's own features as of a date (``gnn.features``): values by hand, and no look-ahead."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from gnn.features import firm_features
from ingest.snapshot import assemble_snapshot

T = date(2024, 6, 30)


def _tables() -> dict[str, pd.DataFrame]:
    months = pd.date_range("2023-07-01", "2024-06-01", freq="MS")  # 12 months observed by T
    elec = [100.0] * 9 + [50.0] * 3  # the last 3 months at half
    return {
        "firms": pd.DataFrame(
            {
                "uscc": ["A", "B"],
                "name": ["a", "b"],
                "industry": ["C33", "C33"],
                "founded": ["2014-06-30", "2020-01-01"],
                "size_class": ["small", "micro"],
            }
        ),
        "financials": pd.DataFrame(
            {
                "uscc": ["A"],
                "period_end": ["2023-12-31"],
                "published": ["2024-04-30"],
                "total_assets": [1000.0],
                "total_liabilities": [600.0],
                "equity": [400.0],
                "revenue": [2000.0],
                "operating_cf": [100.0],
                "investing_cf": [-50.0],
                "financing_cf": [20.0],
            }
        ),
        "signals": pd.DataFrame(
            {
                "uscc": ["A"] * 12 + ["B"] * 12,
                "month": list(months) * 2,
                "electricity_kwh": elec + [10.0] * 12,
                "equipment_utilization": [0.8] * 12 + [0.4] * 12,
            }
        ),
        "loans": pd.DataFrame(
            {
                "loan_id": ["L1", "L2"],
                "borrower_uscc": ["A", "A"],
                "lender": ["x", "x"],
                "principal": [300.0, 100.0],
                "start": ["2023-01-01", "2023-06-01"],
            }
        ),
        "loan_status": pd.DataFrame(
            {
                "loan_id": ["L1", "L2"],
                "month": ["2024-06-01", "2024-06-01"],
                "outstanding": [250.0, 50.0],
                "days_overdue": [0, 40],
                "classification": ["normal", "special_mention"],
            }
        ),
        "events": pd.DataFrame(
            {"uscc": ["A", "A"], "date": ["2024-02-01", "2022-01-01"], "type": ["lawsuit", "lawsuit"]}
        ),
    }


def test_values_by_hand() -> None:
    x = firm_features(assemble_snapshot(_tables(), as_of=T))
    a, b = x.loc[0], x.loc[1]
    assert a["leverage"] == pytest.approx(0.6) and a["equity_ratio"] == pytest.approx(0.4)
    assert a["asset_turnover"] == pytest.approx(2.0) and a["ocf_to_assets"] == pytest.approx(0.1)
    assert a["has_statement"] == 1.0 and b["has_statement"] == 0.0 and np.isnan(b["leverage"])
    assert a["age_years"] == pytest.approx(10.0, abs=0.01)
    assert a["elec_trend"] == pytest.approx(50 / 100 - 1)  # last 3 months vs the 9 before
    assert a["elec_vs_peak"] == pytest.approx(0.5) and b["elec_trend"] == pytest.approx(0.0)
    assert a["util_vs_peers"] == pytest.approx(0.8 - 0.6) and b["util_vs_peers"] == pytest.approx(0.4 - 0.6)
    assert a["n_loans"] == 2 and a["debt_to_assets"] == pytest.approx(0.3)
    assert a["max_days_overdue"] == 40 and a["worst_class_rank"] == 1
    assert a["lawsuits_12m"] == 1 and a["events_12m"] == 1  # the 2022 lawsuit is older than a year
    assert a["months_observed"] == 12 and a["size_rank"] == 1


def test_nothing_dated_after_the_cut_changes_a_feature() -> None:
    """Future statements, signals, statuses, events and loans are planted: the features stay the same."""
    clean = firm_features(assemble_snapshot(_tables(), as_of=T))
    t = _tables()
    future = {
        "financials": {
            "uscc": "A",
            "period_end": "2024-06-30",
            "published": "2024-08-31",
            "total_assets": 1.0,
            "total_liabilities": 9.0,
            "equity": -8.0,
            "revenue": 0.0,
        },
        "signals": {"uscc": "A", "month": "2024-07-01", "electricity_kwh": 0.0, "equipment_utilization": 0.0},
        "loan_status": {
            "loan_id": "L1",
            "month": "2024-07-01",
            "outstanding": 250.0,
            "days_overdue": 200,
            "classification": "doubtful",
        },
        "events": {"uscc": "A", "date": "2024-07-01", "type": "enforcement"},
        "loans": {
            "loan_id": "L9",
            "borrower_uscc": "A",
            "lender": "x",
            "principal": 5.0,
            "start": "2024-07-01",
        },
    }
    for name, row in future.items():
        t[name] = pd.concat([t[name], pd.DataFrame([row])], ignore_index=True)
    # a status of June is observed on June 30: a July status is not known on June 30
    planted = firm_features(assemble_snapshot(t, as_of=T))
    pd.testing.assert_frame_equal(clean, planted)


def test_n_loans_counts_running_loans_only() -> None:
    """A loan matured by the cut, or shown repaid, no longer counts; one running does."""
    t = _tables()
    t["loans"] = t["loans"].assign(maturity=["2024-03-31", "2026-12-31"])
    x = firm_features(assemble_snapshot(t, as_of=T))
    assert x.loc[0, "n_loans"] == 1  # L1 matured before the cut
    t["loan_status"] = t["loan_status"].assign(outstanding=[250.0, 0.0])
    x = firm_features(assemble_snapshot(t, as_of=T))
    assert x.loc[0, "n_loans"] == 0 and x.loc[1, "n_loans"] == 0  # L2 repaid, B never borrowed
