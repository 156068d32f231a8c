"""The IRB reference correlation, the implied correlation of a default-rate series, yearly cohorts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from contagion.stress.asset_correlation import (
    implied_asset_correlation,
    irb_correlation,
    yearly_default_rates,
)


def test_irb_band_and_sme_adjustment() -> None:
    assert abs(irb_correlation(1e-9) - 0.24) < 1e-6
    assert abs(irb_correlation(0.99) - 0.12) < 1e-6
    assert abs(irb_correlation(0.01) - irb_correlation(0.01, turnover_m_eur=5.0) - 0.04) < 1e-12
    assert irb_correlation(0.01, turnover_m_eur=50.0) == irb_correlation(0.01)
    assert irb_correlation(0.01, turnover_m_eur=1.0) == irb_correlation(0.01, turnover_m_eur=5.0)


def test_method_of_moments_recovers_the_correlation_of_a_vasicek_series() -> None:
    rng = np.random.default_rng(0)
    p, rho, years, n = 0.03, 0.15, 400, 5000
    z = rng.standard_normal(years)
    cond = ndtr((ndtri(p) - np.sqrt(rho) * z) / np.sqrt(1 - rho))
    rates = rng.binomial(n, cond) / n
    est = implied_asset_correlation(rates, [n] * years)
    assert est is not None and abs(est - rho) < 0.03
    # independent years: binomial noise only, which the estimator removes
    flat = rng.binomial(n, p, size=years) / n
    est0 = implied_asset_correlation(flat, [n] * years)
    assert est0 is not None and est0 < 0.01


def test_too_short_a_series_gives_none() -> None:
    assert implied_asset_correlation([0.02, 0.03], [100, 100]) is None
    assert implied_asset_correlation([0.0, 0.0, 0.0], [100, 100, 100]) is None


def test_yearly_cohorts_from_a_snapshot() -> None:
    firms = pd.DataFrame({
        "founded": pd.to_datetime(["2010-01-01", "2010-01-01", "2022-09-01", "2010-01-01"]),
        "default_date": pd.to_datetime(["2023-03-01", pd.NaT, pd.NaT, "2021-01-01"]),
        "external": [False, False, False, False],
    })
    loans = pd.DataFrame({"start": pd.to_datetime(["2021-06-01"])})
    out = yearly_default_rates(firms, loans, date(2024, 6, 30))
    # 2020-06-30 is before the first loan: no cohort. 2021-06-30: firms 0, 1 (2 not founded, 3 already
    # in default), no default: dropped as before the default history. 2022-06-30: firms 0, 1, firm 0
    # defaults. 2023-06-30: firms 1, 2, no default (kept: after the first).
    assert out["cohort"].tolist() == [date(2022, 6, 30), date(2023, 6, 30)]
    assert out["firms"].tolist() == [2, 2]
    assert out["defaults"].tolist() == [1, 0]
