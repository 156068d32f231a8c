"""Tail figures (EL, VaR, ES), their standard errors and the precision warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from contagion.stress.tail_stats import StressPrecisionWarning, es_weights, loss_measures, measure_key


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


def test_unit_weights_give_the_plain_estimators() -> None:
    x = np.random.default_rng(1).exponential(size=3000)
    plain = loss_measures(x, levels=(0.95, 0.99, 0.999), warn=False)
    ones = loss_measures(x, levels=(0.95, 0.99, 0.999), warn=False, weights=np.full(len(x), 3.0))
    np.testing.assert_allclose(ones["value"], plain["value"], rtol=1e-12)
    np.testing.assert_allclose(ones["se"], plain["se"], rtol=1e-9)
    ul = plain[plain.measure == "UL"]["value"].to_numpy()
    var = plain[plain.measure == "VaR"]["value"].to_numpy()
    np.testing.assert_allclose(ul, var - plain.loc[plain.measure == "EL", "value"].item())


def test_integer_weights_equal_a_replicated_sample() -> None:
    rng = np.random.default_rng(2)
    x = rng.lognormal(size=500)
    w = rng.integers(1, 4, size=500)
    weighted = loss_measures(x, levels=(0.9, 0.99), warn=False, weights=w.astype(float))
    copied = loss_measures(np.repeat(x, w), levels=(0.9, 0.99), warn=False)
    np.testing.assert_allclose(weighted["value"], copied["value"], rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_es_weights_reproduce_es_and_sum_to_one(weighted: bool) -> None:
    rng = np.random.default_rng(3)
    x = np.round(rng.exponential(size=2000), 1)  # ties at the VaR
    w = rng.uniform(0.2, 2.0, size=2000) if weighted else None
    theta, var = es_weights(x, w, 0.99)
    m = loss_measures(x, levels=(0.99,), warn=False, weights=w)
    assert theta.sum() == pytest.approx(1.0, abs=1e-12)
    assert (theta >= 0).all() and (theta[x < var] == 0).all()
    assert float(theta @ x) == pytest.approx(m.loc[m.measure == "ES", "value"].item(), rel=1e-12)
    assert var == m.loc[m.measure == "VaR", "value"].item()


def test_summary_keys() -> None:
    assert [measure_key("VaR", q) for q in (0.95, 0.99, 0.999)] == ["VaR_95", "VaR_99", "VaR_99.9"]
