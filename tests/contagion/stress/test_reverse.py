"""Reverse stress test on the 7-firm portfolio: probability, factors and driving firms beyond a loss."""

from __future__ import annotations

import math
import warnings

import pytest

from chainrisk.errors import InvalidModelInput
from contagion.stress import StressPrecisionWarning, StressResult, parse_scenario, run_stress
from contagion.stress.reverse import reverse_stress

from .conftest import build_snapshot


def _run(keep_runs_above: float | None) -> StressResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        return run_stress(build_snapshot(),
                          parse_scenario("name: rev\nruns: 400\nseed: 9\n"
                                         "concentration: {tier1_capital: 1000}\n"),
                          progress=False, bank_lenders=["BANK"], keep_runs_above=keep_runs_above)


@pytest.fixture(scope="module")
def result() -> StressResult:
    return _run(-math.inf)  # every run's firm losses kept


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


def test_without_keep_runs_above_only_thresholds_from_the_var_99_up_are_served(result: StressResult) -> None:
    tail_only = _run(None)
    var99 = tail_only.measure("VaR", 0.99)
    assert tail_only.internals["kept_above"] == var99
    kept = tail_only.internals["kept_runs"]
    assert len(kept) < tail_only.runs and set(kept) >= set(
        tail_only.loss_distribution.index[tail_only.loss_distribution["loss"] >= var99])
    # at the VaR and above, the same answer as with every run kept
    for t in (var99, result.measure("ES", 0.99)):
        assert reverse_stress(tail_only, t) == reverse_stress(result, t)
    with pytest.raises(InvalidModelInput, match="keep_runs_above"):
        reverse_stress(tail_only, var99 * 0.5)
    # a threshold passed to the run is served
    lower = _run(var99 * 0.5)
    assert reverse_stress(lower, var99 * 0.5) == reverse_stress(result, var99 * 0.5)
