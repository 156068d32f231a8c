"""Reverse stress test on the 7-firm portfolio: probability, factors and driving firms beyond a loss."""

from __future__ import annotations

import warnings

import pytest

from contagion.stress import StressPrecisionWarning, StressResult, parse_scenario, run_stress
from contagion.stress.reverse import reverse_stress

from .conftest import build_snapshot


@pytest.fixture(scope="module")
def result() -> StressResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        return run_stress(build_snapshot(),
                          parse_scenario("name: rev\nruns: 400\nseed: 9\n"
                                         "concentration: {tier1_capital: 1000}\n"),
                          progress=False, bank_lenders=["BANK"])


def test_runs_beyond_the_var_are_the_tail(result: StressResult) -> None:
    var = result.measure("VaR", 0.95)
    rev = reverse_stress(result, var)
    assert 0 < rev["probability"] <= 0.05 + 1e-9  # nothing beyond the VaR has more than 5 % mass
    assert rev["runs_beyond"] == int((result.loss_distribution["loss"] > var).sum())
    assert rev["mean_loss_beyond"] > var
    assert rev["share_of_capital"] == pytest.approx(var / 1000)
    # the runs that break the bank have an adverse global factor
    assert rev["factors"]["global"]["mean"] < rev["factors"]["global"]["baseline"]
    firms = rev["firms"]
    assert firms and all(f["default_frequency"] >= 0 for f in firms)
    shares = [f["loss_share"] for f in firms]
    assert sum(shares) == pytest.approx(1.0, rel=1e-9)  # every firm with a loss beyond it is listed
    assert shares == sorted(shares, reverse=True)


def test_a_threshold_no_run_reaches(result: StressResult) -> None:
    rev = reverse_stress(result, float(result.loss_distribution["loss"].max()) + 1.0)
    assert rev["runs_beyond"] == 0 and rev["probability"] == 0 and rev["firms"] == []
