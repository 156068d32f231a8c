"""The default stock: apart from stress loss, not a shock unless replayed, a guarantor that pays nothing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from contagion.stress import StressPrecisionWarning, parse_scenario, run_stress
from contagion.stress.result import StressResult

from .conftest import build_snapshot

BASE = "name: stock\nruns: 400\nseed: 1\n"


def _run(defaulted: list[int], extra: str = "") -> StressResult:
    snap = build_snapshot(equity=30.0)
    flags = np.zeros(snap.n, dtype=bool)
    flags[defaulted] = True
    snap.firms["defaulted"] = flags
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)  # 400 runs: EL only is asserted on
        return run_stress(snap, parse_scenario(BASE + extra), progress=False, bank_lenders=["BANK"])


def test_stock_is_reported_apart_and_never_booked() -> None:
    res = _run([4])
    f = res.firms
    assert f["in_default"].tolist() == [False] * 4 + [True, False, False]
    assert f["stress_mean_loss"][4] == 0.0 and f["stress_default_prob"][4] == 1.0
    stock = res.summary()["default_stock"]
    # firm 4's loan L4: EAD 100, LGD 0.6
    assert stock["firms_in_default"] == 1 and stock["loans"] == 1
    assert stock["ead"] == pytest.approx(100.0) and stock["gross_loss"] == pytest.approx(60.0)
    assert stock["booked_as_stress_loss"] is False and stock["provisions"] is None
    # every run's new defaults leave the stock out
    assert (res.loss_distribution["n_defaults"] <= res.firms.shape[0] - 1).all()
    # the loss is the performing book's: the same runs with firm 4 performing lose more on average
    performing = _run([])
    assert res.measure("EL") < performing.measure("EL")


def test_stock_is_not_a_shock_unless_replayed() -> None:
    quiet = _run([4], "copula: {rho_global: 0.0, rho_sector: 0.0, rho_region: 0.0}\n")
    replay = _run([4], "copula: {rho_global: 0.0, rho_sector: 0.0, rho_region: 0.0}\n"
                       "default_stock: {replay: true}\n")
    # firm 4 supplies firm 6 (supply 4 -> 6): replaying its default distresses its buyer in every run
    assert quiet.firms["initial_distress"][4] == 0.0 and replay.firms["initial_distress"][4] == 1.0
    assert replay.firms["stress_mean_distress"][6] > quiet.firms["stress_mean_distress"][6]
    assert replay.summary()["default_stock"]["replayed_as_shocks"] is True
    # still no stress loss on the stock's own loans
    assert replay.firms["stress_mean_loss"][4] == 0.0


def test_a_guarantor_in_default_pays_nothing() -> None:
    # firm 3 guarantees 40 of firm 4's loan (gross loss 100 x 0.6 = 60); in default it pays nothing,
    # so firm 4's loss is 60 in every run it defaults in
    res = _run([3])
    f = res.firms
    assert f["stress_mean_loss"][4] == pytest.approx(60.0 * f["stress_default_prob"][4])
    alive = _run([])
    assert alive.firms["stress_mean_loss"][4] < f["stress_mean_loss"][4]
