"""Vectorised bootstrap measures (``gnn.bootstrap``) against the plain ones of ``gnn.metrics``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gnn.bootstrap import (
    MEASURES,
    bootstrap_interval,
    interval,
    mean_over_seeds,
    resample_counts,
    weighted_scores,
)
from gnn.metrics import auc, scores


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.12).astype(float)
    p = np.clip(0.03 + 0.15 * y * rng.random(n) + 0.25 * rng.random(n), 0, 1)
    return y, p


@pytest.mark.parametrize("n", [7, 103, 1000])
def test_weighted_measures_equal_the_plain_ones_on_the_resampled_rows(n: int) -> None:
    # continuous PDs: no ties between different firms, so every measure must agree exactly
    y, p = _data(n, seed=n)
    y[0], y[1] = 1.0, 0.0  # both classes even at n = 7
    counts = resample_counts(n, draws=6, seed=2)
    fast = weighted_scores(y, p, counts)
    for d in range(len(counts)):
        rows = np.repeat(np.arange(n), counts[d])
        plain = scores(y[rows], p[rows])
        for m in MEASURES:
            if math.isnan(plain[m]):
                assert math.isnan(fast[m][d]), m
            else:
                assert fast[m][d] == pytest.approx(plain[m], abs=1e-12), m


def test_ties_are_handled_like_scikit_learn_for_auc_pr_auc_and_ks() -> None:
    y, p = _data(500, seed=4)
    p = np.round(p, 2)  # many firms share a PD (as at the PD floor)
    counts = resample_counts(500, draws=4, seed=9)
    fast = weighted_scores(y, p, counts)
    for d in range(4):
        rows = np.repeat(np.arange(500), counts[d])
        plain = scores(y[rows], p[rows])
        for m in ("auc", "pr_auc", "ks", "brier"):
            assert fast[m][d] == pytest.approx(plain[m], abs=1e-12), m


def test_unit_weights_give_the_point_estimate() -> None:
    y, p = _data(300, seed=1)
    fast = weighted_scores(y, p, np.ones((1, 300), dtype=np.int32))
    plain = scores(y, p)
    assert {m: float(fast[m][0]) for m in MEASURES} == pytest.approx(plain)


def test_resample_counts_are_seeded_resamples() -> None:
    a, b = resample_counts(50, draws=20, seed=3), resample_counts(50, draws=20, seed=3)
    assert (a == b).all() and (a.sum(axis=1) == 50).all() and (a >= 0).all()
    assert not (a == resample_counts(50, draws=20, seed=4)).all()


def test_interval_contains_the_estimate_and_narrows_with_more_firms() -> None:
    widths = []
    for n in (400, 6400):
        y, p = _data(n, seed=5)
        lo, hi = interval(weighted_scores(y, p, resample_counts(n, draws=200, seed=0))["auc"])
        assert lo <= auc(y, p) <= hi
        widths.append(hi - lo)
    # the width shrinks like 1 / sqrt(n): 16 times the firms, about a quarter of the width
    assert widths[1] < 0.5 * widths[0]


def test_a_measure_undefined_on_every_draw_has_no_interval() -> None:
    y = np.zeros(30)
    lo, hi = interval(weighted_scores(y, np.linspace(0, 1, 30), resample_counts(30, draws=10))["auc"])
    assert math.isnan(lo) and math.isnan(hi)


def test_seed_average_of_identical_predictions_is_the_single_one() -> None:
    y, p = _data(200, seed=6)
    counts = resample_counts(200, draws=10, seed=1)
    one = weighted_scores(y, p, counts)
    avg = mean_over_seeds(y, [p, p.copy()], counts)
    assert all(np.allclose(one[m], avg[m], equal_nan=True) for m in MEASURES)


def test_plain_bootstrap_interval_contains_the_estimate() -> None:
    y, p = _data(400, seed=7)
    lo, hi = bootstrap_interval(y, p, auc, seed=1)
    assert lo <= auc(y, p) <= hi and not math.isnan(lo)
