"""Tail figures (EL, VaR, ES), their standard errors and the precision warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from contagion.stress.tail_stats import StressPrecisionWarning, loss_measures


def test_tail_measures_and_standard_errors() -> None:
    rng = np.random.default_rng(0)
    x = rng.exponential(size=20000)
    m = loss_measures(x)
    row = {(r.measure, r.level if r.level == r.level else None): r for r in m.itertuples()}
    n, q = 20000, 0.99
    assert row["VaR", q].value == pytest.approx(np.log(100), rel=0.05)
    assert row["ES", q].value == pytest.approx(np.log(100) + 1, rel=0.05)
    assert row["EL", None].se == pytest.approx(1 / np.sqrt(n), rel=0.1)
    # exponential(1): SE(VaR_q) = sqrt(q (1 - q) / N) / f(VaR_q) with density f(VaR_q) = 1 - q
    assert row["VaR", q].se == pytest.approx(np.sqrt(q * (1 - q) / n) / (1 - q), rel=0.35)
    # tail variance 1, ES - VaR = 1: SE(ES)^2 = (1 + q) / (N (1 - q))
    assert row["ES", q].se == pytest.approx(np.sqrt((1 + q) / (n * (1 - q))), rel=0.35)


def test_too_few_runs_warn() -> None:
    with pytest.warns(StressPrecisionWarning, match="99%"):
        loss_measures(np.arange(500.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss_measures(np.arange(1000.0))
