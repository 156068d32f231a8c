"""Back-test by tier (:mod:`gnn.backtest`): binomial p-values, Basel's traffic light, windows."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from gnn.backtest import backtest, jeffreys_interval, light, observed_window, scale_pd


def test_traffic_light_reproduces_basels_table() -> None:
    # BCBS (1996), Table 2, 250 observations at 99% coverage: green 0-4 exceptions, yellow 5-9, red 10+.
    zones = [light(k=k, n=250, p=0.01) for k in range(13)]
    assert zones == ["green"] * 5 + ["amber"] * 5 + ["red"] * 3


def test_no_more_defaults_than_expected_is_green_in_a_small_tier() -> None:
    # P(X <= 0) for 2 firms at 1.5% is 0.985^2 = 0.970 >= 95%, yet zero defaults underestimate nothing.
    assert light(k=0, n=2, p=0.015) == "green"


def _scores(pds: list[float], tiers: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"uscc": [f"F{i}" for i in range(len(pds))], "pd": pds, "tier": tiers})


def test_binomial_p_values_by_hand() -> None:
    # Tier 4: ten firms at 10%, two defaults. P(X=0) = 0.9^10 = 0.34868, P(X=1) = 10 * 0.1 * 0.9^9 = 0.38742,
    # so P(X >= 2) = 1 - 0.34868 - 0.38742 = 0.26390. Two-sided (scipy sums the outcomes no likelier than
    # P(X=2) = 45 * 0.01 * 0.9^8 = 0.19371): every X >= 2, the same 0.26390.
    # Tier 5: ten firms at 10%, no default: two-sided = 1 - P(X=1) = 0.61258, underestimated P(X >= 0) = 1.
    t = date(2023, 12, 31)
    scores = _scores([0.1] * 20, [4] * 10 + [5] * 10)
    first = pd.Series(pd.to_datetime(["2024-03-31", "2024-11-30"]), index=["F0", "F1"])
    out = backtest(scores, first, observed_window(t, date(2024, 12, 31)))
    four, five = out["tiers"]
    assert (four["observed_defaults"], four["expected_defaults"], four["observed_rate"]) == (
        2,
        pytest.approx(1.0),
        0.2,
    )
    assert four["p_underestimated"] == pytest.approx(0.26390, abs=1e-5)
    assert four["p_two_sided"] == pytest.approx(0.26390, abs=1e-5)
    assert five["p_two_sided"] == pytest.approx(1 - 0.38742, abs=1e-5)
    assert five["p_underestimated"] == 1.0
    assert out["portfolio"]["observed_defaults"] == 2 and out["portfolio"]["firms"] == 20


def test_defaults_before_t_are_excluded_and_after_the_window_ignored() -> None:
    t = date(2023, 12, 31)
    scores = _scores([0.05, 0.05, 0.05, 0.05], [4, 4, 4, 4])
    first = pd.Series(pd.to_datetime(["2023-06-30", "2024-06-30", "2025-01-31"]), index=["F0", "F1", "F2"])
    out = backtest(scores, first, observed_window(t, date(2025, 6, 30)))
    assert out["excluded_in_default"] == 1  # F0 was already in default at t
    assert out["portfolio"]["firms"] == 3
    assert out["portfolio"]["observed_defaults"] == 1  # F2 defaulted after t + 12 months
    assert out["window"]["partial"] is False


def test_partial_window_scales_pds_under_a_constant_hazard() -> None:
    t = date(2024, 12, 31)
    w = observed_window(t, date(2025, 6, 30))
    assert w.fraction == pytest.approx(181 / 365)  # 2025 is not a leap year
    assert w.partial and w.observed_until == date(2025, 6, 30)
    out = backtest(_scores([0.19, 0.19], [5, 5]), pd.Series(dtype="datetime64[ns]"), w)
    assert out["portfolio"]["expected_defaults"] == pytest.approx(2 * (1 - 0.81 ** (181 / 365)))
    assert scale_pd(np.array([0.19]), 0.5)[0] == pytest.approx(0.1)  # 1 - sqrt(0.81)


def test_jeffreys_interval() -> None:
    lo, hi = jeffreys_interval(500, 1000)
    half = 1.96 * np.sqrt(0.25 / 1000)  # close to the normal approximation at this size
    assert lo == pytest.approx(0.5 - half, abs=1e-3) and hi == pytest.approx(0.5 + half, abs=1e-3)
    assert jeffreys_interval(0, 50)[0] == 0.0 and jeffreys_interval(50, 50)[1] == 1.0


def test_portfolio_calibration_flag() -> None:
    t = date(2023, 12, 31)
    usccs = [f"F{i}" for i in range(200)]
    first = pd.Series(pd.Timestamp("2024-06-30"), index=usccs[:60])  # 30% observed
    low = backtest(_scores([0.01] * 200, [2] * 200), first, observed_window(t, date(2024, 12, 31)))
    assert not low["portfolio"]["calibrated"] and low["tiers"][0]["light"] == "red"
    fair = backtest(_scores([0.3] * 200, [6] * 200), first, observed_window(t, date(2024, 12, 31)))
    assert fair["portfolio"]["calibrated"] and fair["tiers"][0]["light"] == "green"
