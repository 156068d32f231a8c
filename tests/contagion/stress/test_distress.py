"""Distress -> default: the Merton mapping, and partial distress costing money."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from contagion.stress import parse_scenario, run_stress
from contagion.stress.distress import conditional_pd, distress_defaults

from .conftest import build_snapshot


def test_mapping_is_the_merton_threshold_shift() -> None:
    # PD 2 %: c = -2.054; at distress 0.5 the threshold is c / 2, so PD Phi(-1.027) = 15.2 %
    assert conditional_pd(np.array([0.02]), np.array([0.5]), 1.0)[0] == pytest.approx(ndtr(ndtri(0.02) / 2))
    assert conditional_pd(np.array([0.02]), np.array([0.0]), 1.0)[0] == pytest.approx(0.02)
    assert conditional_pd(np.array([0.02]), np.array([0.5]), 0.0)[0] == pytest.approx(0.02)  # switched off
    c = np.array([ndtri(0.02), -np.inf])
    X = np.array([[-1.5, -0.5], [-1.5, -0.5]])
    h = np.array([[0.5, 0.5], [0.99, 1.0]])
    # firm 0: -1.5 < -1.027 defaults, -0.5 does not; firm 1 (PD 0) only at distress 1
    assert distress_defaults(X, c, h, sensitivity=1.0, default_threshold=1.0).tolist() == [
        [True, False],
        [False, True],
    ]


def _el(sensitivity: float) -> tuple[float, float, float]:
    """EL of a no-contagion scenario in which every firm loses 40 % of its equity, and its SE."""
    pds = [0.02, 0.05, 0.03, 0.04, 0.01, 0.06, 0.02]
    text = (
        f"name: partial\nruns: 4000\nseed: 5\nequity_haircuts: [{{all: true, fraction: 0.4}}]\n"
        f"contagion:\n  transmission: {{supply: 0, guarantee: 0, trade_credit: 0}}\n"
        f"  distress_sensitivity: {sensitivity}\nloss: {{firm_recovery: 0, person_recovery: 0}}\n"
    )
    res = run_stress(build_snapshot(pd_=pds), parse_scenario(text), progress=False, bank_lenders=["BANK"])
    f = res.firms
    # hand-derived: each firm defaults with Phi(c (1 - k 0.4)) and loses EAD x LGD
    expected = float(
        (
            conditional_pd(f["pd"].to_numpy(), np.full(7, 0.4), sensitivity)
            * f["bank_ead"]
            * f["lgd"].fillna(0.0)
        ).sum()
    )
    return res.measure("EL"), res.measure("EL", column="se"), expected


def test_partial_distress_raises_the_loss() -> None:
    off, off_se, off_expected = _el(0.0)
    on, on_se, on_expected = _el(1.0)
    assert abs(off - off_expected) < 3 * off_se  # distress below 1 costs nothing without the mapping
    assert abs(on - on_expected) < 3 * on_se
    assert on > off + 3 * (on_se + off_se)
