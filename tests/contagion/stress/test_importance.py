"""Importance sampling of the global factor: unbiased, far more precise in the tail, Vasicek's quantile."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from contagion.stress.copula import copula_model, draw_defaults, vasicek_quantile
from contagion.stress.importance import ImportanceSampling, global_draws, importance_shift, mixture_weights
from contagion.stress.tail_stats import loss_measures

PD, RHO, FIRMS, RUNS = 0.01, 0.15, 3000, 3000


def _default_rates(sampling: ImportanceSampling, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Default rate per run of a homogeneous one-factor portfolio, and the run weights."""
    model = copula_model(np.full(FIRMS, PD), [""] * FIRMS, [""] * FIRMS, rho_global=RHO, rho_sector=0.0,
                         rho_region=0.0)
    model = dataclasses.replace(model, is_shift=sampling.shift, is_share=sampling.share)
    rates = np.concatenate([draw_defaults(model, range(a, min(a + 500, RUNS)), seed).mean(axis=0)
                            for a in range(0, RUNS, 500)])
    _, w = global_draws(range(RUNS), seed, sampling)
    return rates, w


@pytest.fixture(scope="module")
def plain_and_tilted() -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    out = []
    for sampling in (ImportanceSampling(), ImportanceSampling(importance_shift(0.999), 0.5)):
        rates, w = _default_rates(sampling, seed=11)
        m = loss_measures(rates, levels=(0.99, 0.999), weights=None if not sampling.active else w, warn=False)
        out.append({f"{r.measure}_{r.level}": (r.value, r.se) for r in m.itertuples()})
    return out[0], out[1]


def test_weights_have_mean_one_under_the_mixture() -> None:
    z, w = global_draws(range(20000), 5, ImportanceSampling(-3.0, 0.5))
    assert abs(w.mean() - 1.0) <= 4 * w.std() / np.sqrt(len(w))
    assert w.max() <= 2.0 + 1e-12  # defensive mixture: w <= 1 / (1 - share)
    assert (z < -1.5).mean() > 0.4  # about half the runs drawn near the shift
    np.testing.assert_array_equal(mixture_weights(z, shift=-3.0, share=0.0), np.ones_like(z))


def test_importance_sampling_is_unbiased_against_plain_monte_carlo(plain_and_tilted) -> None:  # type: ignore[no-untyped-def]
    plain, tilted = plain_and_tilted
    for key in ("EL_nan", "VaR_0.99", "ES_0.99"):
        (a, sa), (b, sb) = plain[key], tilted[key]
        assert abs(a - b) <= 3.5 * np.hypot(sa, sb), key
    assert abs(tilted["EL_nan"][0] - PD) <= 3.5 * tilted["EL_nan"][1]


def test_tail_standard_error_is_much_lower_with_importance_sampling(plain_and_tilted) -> None:  # type: ignore[no-untyped-def]
    plain, tilted = plain_and_tilted
    assert tilted["VaR_0.999"][1] < 0.5 * plain["VaR_0.999"][1]
    assert tilted["ES_0.999"][1] < 0.5 * plain["ES_0.999"][1]
    assert tilted["VaR_0.999"][1] / tilted["VaR_0.999"][0] <= 0.05  # the 5 % relative SE


def test_vasicek_quantile_at_99_9_with_importance_sampling(plain_and_tilted) -> None:  # type: ignore[no-untyped-def]
    _, tilted = plain_and_tilted
    value, se = tilted["VaR_0.999"]
    closed = vasicek_quantile(PD, RHO, 0.999)
    # a finite portfolio of 3,000 firms sits a little above the infinitely granular quantile
    assert abs(value - closed) <= 3 * se + 0.05 * closed


def test_default_loadings_reach_5_percent_relative_se_at_99_9_within_10000_runs() -> None:
    # the bound with the default loadings (global 0.10, sector 0.03, province 0.02; only the
    # global factor is tilted): 2,000 firms at PD 1 % in 20 sectors x 31 provinces, no contagion,
    # 4,000 runs (fewer than the 10,000 allowed) on three seeds
    from contagion.stress.scenario import DEFAULT_RHO_GLOBAL, DEFAULT_RHO_REGION, DEFAULT_RHO_SECTOR

    n, runs = 2000, 4000
    sectors = [f"S{i % 20}" for i in range(n)]
    regions = [f"{(i // 20) % 31:02d}" for i in range(n)]
    sampling = ImportanceSampling(importance_shift(0.999), 0.5)
    model = copula_model(np.full(n, PD), sectors, regions, rho_global=DEFAULT_RHO_GLOBAL,
                         rho_sector=DEFAULT_RHO_SECTOR, rho_region=DEFAULT_RHO_REGION)
    model = dataclasses.replace(model, is_shift=sampling.shift, is_share=sampling.share)
    for seed in (11, 12, 13):
        rates = np.concatenate([draw_defaults(model, range(a, a + 1000), seed).mean(axis=0)
                                for a in range(0, runs, 1000)])
        _, w = global_draws(range(runs), seed, sampling)
        m = loss_measures(rates, levels=(0.999,), weights=w, warn=False).set_index("measure")
        assert m.loc["VaR", "se"] / m.loc["VaR", "value"] <= 0.05, seed
        assert m.loc["VaR", "value"] > 3 * PD  # a real tail, not a degenerate one
