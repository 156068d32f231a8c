"""The Gaussian copula: marginals, correlation, macro shifts and per-run seeding."""

from __future__ import annotations

import numpy as np

from contagion.stress.copula import copula_model, draw_defaults


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
