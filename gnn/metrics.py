"""Discrimination and calibration measures of PDs against realised defaults.

- ``auc``: area under the ROC curve; ``gini = 2 auc - 1``.
- ``pr_auc``: average precision (area under the precision-recall curve).
- ``ks``: Kolmogorov-Smirnov, ``max_t |TPR(t) - FPR(t)|``.
- ``brier``: mean of ``(pd - y)^2``.
- ``ece``: expected calibration error over 10 equal-mass bins,
  ``sum_b (n_b / n) |mean(pd_b) - mean(y_b)|``.
- ``recall_top5``: share of defaults among the riskiest 5% of firms.

>>> y = np.array([0, 0, 1, 1]); p = np.array([0.1, 0.4, 0.35, 0.8])
>>> round(auc(y, p), 4), round(ks(y, p), 4)
(0.75, 0.5)
>>> round(ece(np.array([0, 1] * 50), np.full(100, 0.5)), 6)
0.0
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

__all__ = ["auc", "brier", "ece", "ks", "pr_auc", "recall_top", "scores"]


def auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def pr_auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(average_precision_score(y, p)) if y.sum() > 0 else float("nan")


def ks(y: np.ndarray, p: np.ndarray) -> float:
    if not 0 < y.sum() < len(y):
        return float("nan")
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


def ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    order = np.argsort(p, kind="stable")
    total = 0.0
    for part in np.array_split(order, bins):
        if len(part):
            total += len(part) / len(p) * abs(float(p[part].mean()) - float(y[part].mean()))
    return total


def recall_top(y: np.ndarray, p: np.ndarray, share: float = 0.05) -> float:
    if y.sum() == 0:
        return float("nan")
    k = max(1, round(share * len(p)))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].sum() / y.sum())


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Every measure above, by name."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    a = auc(y, p)
    return {
        "auc": a,
        "gini": 2 * a - 1,
        "pr_auc": pr_auc(y, p),
        "ks": ks(y, p),
        "brier": brier(y, p),
        "ece": ece(y, p),
        "recall_top5": recall_top(y, p),
    }
