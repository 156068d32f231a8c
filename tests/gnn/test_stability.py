"""Population stability index (:mod:`gnn.stability`) on distributions whose PSI is known by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gnn.stability import decile_edges, feature_psi, psi, psi_of_counts, psi_verdict, score_psi


def test_psi_of_a_known_pair() -> None:
    # shares (0.5, 0.5) -> (0.25, 0.75): (0.25 - 0.5) ln(0.5) + (0.75 - 0.5) ln(1.5) = 0.25 ln 2 + 0.25 ln 1.5
    want = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert psi_of_counts([500, 500], [250, 750], pseudo=0.0) == pytest.approx(want)
    ref = np.repeat([1.0, 2.0], 500)
    assert psi(ref, np.repeat([1.0, 2.0], [250, 750]), pseudo=0.0) == pytest.approx(want)


def test_empty_bins_get_half_a_firm() -> None:
    # counts (1, 0) -> (0, 1) with 0.5 added: shares (0.75, 0.25) -> (0.25, 0.75),
    # PSI = (-0.5) ln(1/3) + 0.5 ln 3 = ln 3
    assert psi_of_counts([1, 0], [0, 1]) == pytest.approx(math.log(3))


def test_ties_merge_bins_and_values_above_the_range_have_a_bin() -> None:
    ref = np.zeros(99)
    assert decile_edges(ref).tolist() == [0.0]
    # all in bin (-inf, 0] before, all in (0, inf) after: shares (99.5, 0.5)/100 -> (0.5, 99.5)/100,
    # PSI = 2 * 0.99 * ln(199)
    assert psi(ref, np.ones(99)) == pytest.approx(2 * 0.99 * math.log(199))
    assert psi(ref, np.zeros(99)) == 0.0


def test_missing_values_have_their_own_bin() -> None:
    ref = np.arange(100, dtype=float)
    cur = np.where(np.arange(100) % 2 == 0, np.arange(100, dtype=float), np.nan)
    # ten deciles of 10 before, 5 each now plus 50 missing; pseudo-counts: deciles 10.5/105.5 -> 5.5/105.5,
    # missing 0.5/105.5 -> 50.5/105.5
    r = np.array([10.5] * 10 + [0.5]) / 105.5
    c = np.array([5.5] * 10 + [50.5]) / 105.5
    assert psi(ref, cur) == pytest.approx(float(np.sum((c - r) * np.log(c / r))))


def test_verdict_thresholds() -> None:
    assert [psi_verdict(v) for v in (0.0, 0.099, 0.10, 0.25, 0.2501)] == [
        "stable",
        "stable",
        "watch",
        "watch",
        "shifted",
    ]


def test_feature_psi_sorted_highest_first_with_small_samples_flagged() -> None:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"same": rng.normal(size=400), "moved": rng.normal(size=400), "only_ref": 1.0})
    cur = pd.DataFrame({"same": rng.normal(size=300), "moved": rng.normal(1.0, size=300)})
    table = feature_psi(ref, cur)
    assert table["feature"].tolist() == ["moved", "same"]
    assert table.loc[0, "verdict"] == "shifted" and table.loc[1, "verdict"] == "stable"
    assert not table["small_sample"].any()
    assert score_psi(np.ones(50), np.ones(50))["small_sample"]
