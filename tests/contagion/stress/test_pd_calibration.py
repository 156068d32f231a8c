"""PDs from the platform's history: cells, cohorts, the prior for thin cells, the floor."""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pandas as pd
import pytest

from contagion.stress.pd_calibration import (
    calibrate_pd_table,
    cell_of,
    cohort_dates,
    cohort_observations,
    pd_from_table,
)
from contagion.stress.scenario import PDParameters

from .conftest import USCC, build_snapshot


def test_cells_by_worst_class_and_days_overdue() -> None:
    snap = build_snapshot()
    loans = snap.loans.assign(days_overdue=[0, 15, 45, 0, 95, 0, 0]).iloc[:6]  # firm 6 has no loan
    cls, bucket = cell_of(snap.firms, loans)
    assert cls.tolist() == ["normal", "normal", "special_mention", "normal", "substandard", "normal",
                            "no_loan"]
    assert bucket.tolist() == ["0", "1-30", "31-60", "0", "90+", "0", "0"]


def test_cohort_observations_leave_out_past_defaults_and_count_the_next_year() -> None:
    past = dataclasses.replace(build_snapshot(), as_of=date(2023, 6, 30))
    first = pd.Series({USCC[0]: pd.Timestamp("2023-01-10"),  # in default before the cohort date: out
                       USCC[1]: pd.Timestamp("2024-02-01"),  # within 12 months: a default
                       USCC[2]: pd.Timestamp("2024-08-01")})  # after the window: not one
    obs = cohort_observations(past, first)
    assert obs["uscc"].tolist() == USCC[1:]
    assert obs["defaulted"].tolist() == [True, False, False, False, False, False]
    assert set(obs["cohort"]) == {"2023-06-30"}


def test_thin_cells_lean_on_the_prior_and_the_floor_holds() -> None:
    obs = pd.DataFrame({
        "cohort": ["2022"] * 1000 + ["2023"] * 1000 + ["2023"] * 2,
        "cell_class": ["normal"] * 2000 + ["special_mention"] * 2,
        "dpd_bucket": ["0"] * 2000 + ["1-30"] * 2,
        "defaulted": [True] * 30 + [False] * 1970 + [False, False],
    })
    params = PDParameters(prior_weight=100.0)
    t = calibrate_pd_table(obs, params)
    # normal/0: (30 + 100 x 1 %) / (2000 + 100) = 31 / 2100; two cohorts pooled
    assert t.loc[("normal", "0"), "pd"] == pytest.approx(31 / 2100)
    assert t.loc[("normal", "0"), "cohorts"] == 2
    # special_mention/1-30 with 2 firm-years and no default: (0 + 100 x 5 %) / 102, close to the prior
    assert t.loc[("special_mention", "1-30"), "pd"] == pytest.approx(5 / 102)
    # a clean cell is floored at Basel's 0.03 %
    clean = calibrate_pd_table(obs.assign(defaulted=False), PDParameters(prior_weight=0.0))
    assert (clean["pd"] == 0.0003).all()
    # a firm today in a cell no cohort saw takes the floored prior
    snap = build_snapshot()
    pd_ = pd_from_table(snap.firms, snap.loans, t, params)
    assert pd_[0] == pytest.approx(31 / 2100) and pd_[4] == 0.30


def test_cohort_dates_are_yearly_before_the_snapshot() -> None:
    assert cohort_dates(date(2024, 6, 30), 2) == [date(2023, 6, 30), date(2022, 6, 30)]
    assert np.all(np.diff([d.toordinal() for d in cohort_dates(date(2024, 2, 29), 3)]) < 0)
