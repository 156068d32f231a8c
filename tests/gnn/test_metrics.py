"""Discrimination and calibration measures (``gnn.metrics``), on hand-checked cases."""

from __future__ import annotations

import numpy as np
import pytest

from gnn.metrics import auc, brier, ece, ks, pr_auc, recall_top, scores


def test_perfect_and_inverted_rankings() -> None:
    y = np.array([0, 0, 1, 1])
    assert auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0 and ks(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert pr_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0


def test_brier_and_ece_by_hand() -> None:
    y = np.array([0.0, 1.0])
    assert brier(y, np.array([0.2, 0.6])) == pytest.approx((0.04 + 0.16) / 2)
    # 10 bins of one firm each: |p - y| averaged
    y10 = np.array([0, 1] * 5, dtype=float)
    p10 = np.linspace(0.05, 0.95, 10)
    assert ece(y10, p10) == pytest.approx(np.mean(np.abs(np.sort(p10) - y10[np.argsort(p10)])))


def test_recall_in_the_riskiest_share() -> None:
    y = np.zeros(100)
    y[[0, 50]] = 1
    p = np.zeros(100)
    p[0] = 1.0  # one of the two defaults is the riskiest firm
    assert recall_top(y, p, 0.05) == 0.5


def test_undefined_measures_are_nan_not_errors() -> None:
    s = scores(np.zeros(5), np.full(5, 0.1))
    assert (
        np.isnan(s["auc"])
        and np.isnan(s["ks"])
        and np.isnan(s["pr_auc"])
        and s["brier"] == pytest.approx(0.01)
    )
