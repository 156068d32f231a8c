"""The data behind the report's plots: ROC curves, calibration bins and default rates by tier.

All small (a hundred points a model), so they travel in the evaluation's JSON and the
HTML report draws them without the firm-level PDs.

- ROC: the true-positive rate at 101 false-positive rates ``0, 0.01, ..., 1``
  (linear interpolation between the curve's corners);
- calibration: the 10 equal-mass bins of :func:`gnn.metrics.ece`, each with its mean
  PD and its default rate;
- tiers: for each risk tier of :mod:`gnn.tiers`, the firms, defaults, default rate and
  mean PD (a master scale is right when the realised rate falls inside each band).

>>> c = calibration_bins(np.array([0, 0, 1, 1.0]), np.array([0.1, 0.2, 0.6, 0.9]), bins=2)
>>> [round(v, 6) for v in c["mean_pd"]], c["default_rate"]
([0.15, 0.75], [0.0, 1.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import roc_curve

from gnn.tiers import TIER_BOUNDS, TIER_NAMES, tier_of

__all__ = ["calibration_bins", "roc_points", "tier_table"]

_GRID = np.linspace(0.0, 1.0, 101)


def roc_points(y: np.ndarray, p: np.ndarray) -> dict[str, list[float]]:
    """``{"fpr": grid, "tpr": ...}`` on the 101-point grid (empty lists without both classes)."""
    if not 0 < np.nansum(y) < len(y):
        return {"fpr": [], "tpr": []}
    fpr, tpr, _ = roc_curve(y, p)
    return {
        "fpr": [round(float(v), 4) for v in _GRID],
        "tpr": [round(float(v), 4) for v in np.interp(_GRID, fpr, tpr)],
    }


def calibration_bins(y: np.ndarray, p: np.ndarray, bins: int = 10) -> dict[str, list[float]]:
    """Mean PD and default rate of each equal-mass bin (PD order, as :func:`gnn.metrics.ece`)."""
    order = np.argsort(p, kind="stable")
    parts = [part for part in np.array_split(order, bins) if len(part)]
    return {
        "mean_pd": [float(np.mean(p[part])) for part in parts],
        "default_rate": [float(np.mean(y[part])) for part in parts],
        "firms": [len(part) for part in parts],
    }


def tier_table(y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """One row per tier: ``tier``, ``name``, ``band``, ``firms``, ``defaults``, ``default_rate``,
    ``mean_pd``."""
    tiers = tier_of(p)
    bounds = (0.0, *TIER_BOUNDS, 1.0)
    rows = []
    for t in sorted(TIER_NAMES):
        m = tiers == t
        rows.append(
            {
                "tier": t,
                "name": TIER_NAMES[t],
                "band": [bounds[t - 1], bounds[t]],
                "firms": int(m.sum()),
                "defaults": int(np.nansum(y[m])),
                "default_rate": float(np.mean(y[m])) if m.any() else float("nan"),
                "mean_pd": float(np.mean(p[m])) if m.any() else float("nan"),
            }
        )
    return rows
