"""The Gaussian copula: marginals, correlation, macro shifts and per-run seeding."""

from __future__ import annotations

import numpy as np

from contagion.stress.copula import copula_model, draw_defaults, draw_latent, vasicek_quantile


def test_independent_copula_matches_pd() -> None:
    pd_ = np.full(200, 0.1)
    m = copula_model(pd_, ["s"] * 200, ["r"] * 200, rho_sector=0.0, rho_region=0.0)
    d = draw_defaults(m, range(400), seed=5)
    freq = d.mean()
    se = np.sqrt(0.1 * 0.9 / d.size)
    assert abs(freq - 0.1) < 4 * se
    # independence: joint default of two firms ~ PD^2
    pair = np.mean(d[::2] & d[1::2])
    assert abs(pair - 0.01) < 4 * np.sqrt(0.01 * 0.99 / (100 * 400))


def test_correlation_raises_joint_defaults() -> None:
    pd_ = np.full(100, 0.05)
    kw = dict(sectors=["s"] * 100, regions=["r"] * 100)
    ind = draw_defaults(copula_model(pd_, rho_sector=0.0, rho_region=0.0, **kw), range(2000), seed=1)
    cor = draw_defaults(copula_model(pd_, rho_sector=0.3, rho_region=0.2, **kw), range(2000), seed=1)
    assert abs(cor.mean() - 0.05) < 0.01  # marginals kept
    joint_ind = np.mean(ind[::2] & ind[1::2])
    joint_cor = np.mean(cor[::2] & cor[1::2])
    assert joint_cor > 3 * joint_ind


def test_macro_shift_raises_defaults_of_its_region_only() -> None:
    pd_ = np.full(4, 0.05)
    m = copula_model(pd_, ["s"] * 4, ["350100", "350200", "440300", "440300"], rho_sector=0.1,
                     rho_region=0.3, region_shift={"35": -2.0})
    d = draw_defaults(m, range(3000), seed=2).mean(axis=1)
    assert d[0] > 0.2 and d[1] > 0.2 and d[2] < 0.08


def test_run_is_seeded_by_its_index() -> None:
    m = copula_model(np.full(5, 0.3), list("aabbc"), list("xyxyx"), rho_sector=0.2, rho_region=0.1)
    batch = draw_defaults(m, range(10, 20), seed=9)
    assert np.array_equal(batch[:, 3], draw_defaults(m, [13], seed=9)[:, 0])


def test_one_factor_reproduces_the_vasicek_quantile() -> None:
    # 2,000 firms at PD 1 %, global factor only (rho = 0.25): the 99 % quantile of the simulated
    # default rate matches Vasicek's Phi((Phi^-1(p) + sqrt(rho) Phi^-1(q)) / sqrt(1 - rho)) = 8.96 %
    n, runs, p, rho, q = 2000, 4000, 0.01, 0.25, 0.99
    m = copula_model(np.full(n, p), ["s"] * n, ["r"] * n, rho_global=rho, rho_sector=0.0, rho_region=0.0)
    rate = np.concatenate([draw_defaults(m, range(a, a + 500), seed=3).mean(axis=0)
                           for a in range(0, runs, 500)])
    theory = vasicek_quantile(p, rho, q)
    # sampling error: the order statistics of a 3-sigma binomial band around rank Nq, widened by the
    # binomial spread of a 2,000-firm default rate around its conditional probability (granularity)
    half = 3.0 * np.sqrt(runs * q * (1 - q))
    lo, hi = np.sort(rate)[[int(runs * q - half), int(runs * q + half)]]
    grain = 3.0 * np.sqrt(theory * (1 - theory) / n)
    assert lo - grain <= theory <= hi + grain
    assert hi - lo < 0.05  # the band is informative (a 2x understatement would fail it)
    assert abs(rate.mean() - p) < 4 * rate.std() / np.sqrt(runs)


def test_global_factor_correlates_firms_that_share_nothing() -> None:
    # firms in different sectors and regions: correlation rho_global only
    n = 400
    sectors = [f"s{i}" for i in range(n)]
    regions = [f"r{i}" for i in range(n)]
    m0 = copula_model(np.full(n, 0.05), sectors, regions, rho_sector=0.1, rho_region=0.1)
    m1 = copula_model(np.full(n, 0.05), sectors, regions, rho_global=0.2, rho_sector=0.1, rho_region=0.1)
    x0, x1 = draw_latent(m0, range(300), seed=4), draw_latent(m1, range(300), seed=4)
    c0 = np.corrcoef(x0)[np.triu_indices(n, 1)].mean()
    c1 = np.corrcoef(x1)[np.triu_indices(n, 1)].mean()
    assert abs(c0) < 0.02 and abs(c1 - 0.2) < 0.05
    assert abs(x1.var() - 1.0) < 0.05  # unit variance kept: rho_total + idiosyncratic = 1


def test_global_macro_shift_raises_every_firm() -> None:
    m = copula_model(np.full(6, 0.05), list("abcabc"), list("xxyyzz"), rho_global=0.2, rho_sector=0.0,
                     rho_region=0.0, global_shift=-2.0)
    d = draw_defaults(m, range(2000), seed=6).mean(axis=1)
    # PD under the shift: Phi((Phi^-1(0.05) + 2 sqrt(0.2)) / 1) = Phi(-1.645 + 0.894) = 0.226
    assert np.all(np.abs(d - 0.226) < 0.04)
