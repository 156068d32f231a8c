"""Bootstrap intervals of every measure of :mod:`gnn.metrics`, vectorised over the draws.

A bootstrap draw resamples the ``n`` scored firms with replacement; it is held as
the **counts** ``w`` (how often each firm was drawn, ``sum(w) = n``), so a draw is
a weighting of the same firms and every measure is a weighted sum over firms
sorted once by PD. With ``P_g, N_g`` the weighted defaults and non-defaults of the
firms sharing the ``g``-th smallest PD, ``P = sum P_g``, ``N = sum N_g``:

- AUC (Mann-Whitney, ties count one half): ``sum_g P_g (N_<g + N_g / 2) / (P N)``;
- PR-AUC (average precision, as scikit-learn): over thresholds from the top,
  ``sum_k (P_k / P) TP_k / (TP_k + FP_k)`` with ``TP_k, FP_k`` the cumulative counts;
- KS: ``max(0, max_k TP_k / P - FP_k / N)``;
- Brier: ``sum_i w_i (pd_i - y_i)^2 / n``;
- ECE and recall in the riskiest 5%: the firms of the draw laid out in PD order
  occupy positions ``[C_i - w_i, C_i)`` (``C`` the cumulative counts); the 10
  equal-mass bins are the position ranges of ``numpy.array_split`` over ``n``
  items, and the riskiest 5% the last ``max(1, round(0.05 n))`` positions, as in
  :func:`gnn.metrics.ece` and :func:`gnn.metrics.recall_top`.

On a draw without ties between different firms these equal the plain measures on
the resampled rows (a test checks it). Intervals are percentile intervals
(Efron & Tibshirani 1993, ch. 13); **paired** differences use the same draws for
both models, so the interval of ``AUC_A - AUC_B`` carries the correlation of two
models scored on the same firms (what "the interval excludes 0" needs).

ECE is an absolute value of noisy bin gaps, so a resample adds noise to it: its
draws sit above the point estimate and its percentile interval is shifted up (on
7.6k firms, ECE 0.0096 with an interval of [0.0076, 0.0175]). Read that interval as
the spread of ECE on a book of the same size, not as bounds on the true calibration.

>>> y = np.array([0, 0, 1, 1.0]); p = np.array([0.1, 0.4, 0.35, 0.8])
>>> float(weighted_scores(y, p, np.ones((1, 4)))["auc"][0])
0.75
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "DRAWS",
    "MEASURES",
    "bootstrap_interval",
    "interval",
    "mean_over_seeds",
    "resample_counts",
    "weighted_scores",
]

#: Bootstrap draws of the evaluation (percentile intervals of 95% are stable to about
#: 0.005 AUC at 200 draws on a few hundred defaults, and the draws stay cheap).
DRAWS = 200
#: The measures of :func:`gnn.metrics.scores`, in its order.
MEASURES: tuple[str, ...] = ("auc", "gini", "pr_auc", "ks", "brier", "ece", "recall_top5")
# draws handled at once: bounds memory at about 8 arrays of (chunk x n) floats
_CHUNK = 50


def resample_counts(n: int, *, draws: int = DRAWS, seed: int = 0) -> np.ndarray:
    """Counts ``(draws, n)`` of ``draws`` resamples of ``n`` items with replacement.

    >>> c = resample_counts(5, draws=3, seed=1)
    >>> c.shape, c.sum(axis=1).tolist()
    ((3, 5), [5, 5, 5])
    """
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(draws, n)) if n else np.zeros((draws, 0), dtype=np.int64)
    flat = idx + (np.arange(draws) * n)[:, None]
    return np.bincount(flat.ravel(), minlength=draws * n).reshape(draws, n).astype(np.int32)


def _bin_edges(n: int, bins: int) -> np.ndarray:
    """Positions where ``numpy.array_split`` of ``n`` items into ``bins`` parts cuts."""
    sizes = [n // bins + (1 if k < n % bins else 0) for k in range(bins)]
    return np.concatenate([[0], np.cumsum(sizes)]).astype("float64")


def _mass_below(c: np.ndarray, w: np.ndarray, v: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per row, ``sum_i v_i * clip(x - (C_i - w_i), 0, w_i)``: the mass of ``v`` in positions below ``x``.

    ``c`` (rows, n) cumulative counts, ``w`` counts, ``v`` (n,) values, ``x`` (k,) positions.
    """
    rows, n = c.shape
    full = np.concatenate([np.zeros((rows, 1)), np.cumsum(w * v, axis=1)], axis=1)
    # one sorted array over all rows: row r's positions shifted by r * (n + 1)
    shift = (np.arange(rows) * (n + 1.0))[:, None]
    j = np.searchsorted((c + shift).ravel(), (x[None, :] + shift).ravel(), side="right")
    j = j.reshape(rows, len(x)) - (np.arange(rows) * n)[:, None]
    out = np.take_along_axis(full, j, axis=1)
    # the item straddling x contributes the part of it below x
    jj = np.minimum(j, n - 1)
    start = np.take_along_axis(c - w, jj, axis=1)
    part = np.where(j < n, np.clip(x[None, :] - start, 0.0, None) * v[jj], 0.0)
    return out + part


def _chunk_scores(y: np.ndarray, p: np.ndarray, w: np.ndarray, starts: np.ndarray) -> dict[str, np.ndarray]:
    n = len(y)
    pos = np.add.reduceat(w * y, starts, axis=1)
    neg = np.add.reduceat(w * (1.0 - y), starts, axis=1)
    big_p, big_n = pos.sum(axis=1), neg.sum(axis=1)
    both = (big_p > 0) & (big_n > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = np.cumsum(neg, axis=1) - neg
        auc = np.where(both, (pos * (below + 0.5 * neg)).sum(axis=1) / (big_p * big_n), np.nan)
        tp = np.cumsum(pos[:, ::-1], axis=1)
        fp = np.cumsum(neg[:, ::-1], axis=1)
        prec = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        ap = np.where(big_p > 0, (pos[:, ::-1] * prec).sum(axis=1) / big_p, np.nan)
        ks = np.where(both, np.maximum(0.0, (tp / big_p[:, None] - fp / big_n[:, None]).max(axis=1)), np.nan)
    brier = (w * (p - y) ** 2).sum(axis=1) / n
    c = np.cumsum(w, axis=1)
    edges = _bin_edges(n, 10)
    sizes = np.diff(edges)
    mp = np.diff(_mass_below(c, w, p, edges), axis=1)
    my = np.diff(_mass_below(c, w, y, edges), axis=1)
    ece = (np.abs(mp - my) * (sizes > 0)).sum(axis=1) / n
    k = max(1, round(0.05 * n))
    top = np.diff(_mass_below(c, w, y, np.array([n - k, n], dtype="float64")), axis=1)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(big_p > 0, top / big_p, np.nan)
    return {
        "auc": auc,
        "gini": 2 * auc - 1,
        "pr_auc": ap,
        "ks": ks,
        "brier": brier,
        "ece": ece,
        "recall_top5": recall,
    }


def weighted_scores(y: np.ndarray, p: np.ndarray, counts: np.ndarray) -> dict[str, np.ndarray]:
    """Every measure of :func:`gnn.metrics.scores` on each draw of ``counts`` (rows: draws)."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    counts = np.atleast_2d(counts)
    order = np.argsort(p, kind="stable")
    ys, ps = y[order], p[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]]) if len(ps) else np.zeros(0, dtype=np.int64)
    parts = [
        _chunk_scores(ys, ps, counts[i : i + _CHUNK][:, order].astype("float64"), starts)
        for i in range(0, len(counts), _CHUNK)
    ]
    return {m: np.concatenate([part[m] for part in parts]) for m in MEASURES}


def mean_over_seeds(y: np.ndarray, preds: Sequence[np.ndarray], counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per draw, each measure averaged over the seeds' PDs (the draws of a seed-averaged figure)."""
    per_seed = [weighted_scores(y, p, counts) for p in preds]
    with np.errstate(invalid="ignore"):
        return {m: np.mean([s[m] for s in per_seed], axis=0) for m in MEASURES}


def interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap ``values`` (NaN draws left out; NaN when none is left).

    >>> [round(v, 6) for v in interval(np.arange(101.0))]
    [2.5, 97.5]
    """
    v = np.asarray(values, dtype="float64")
    v = v[~np.isnan(v)]
    if not len(v):
        return (float("nan"), float("nan"))
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(v, [tail, 100 - tail])
    return (float(lo), float(hi))


def bootstrap_interval(
    y: np.ndarray,
    p: np.ndarray,
    measure: Callable[[np.ndarray, np.ndarray], float],
    *,
    seed: int = 0,
    draws: int = DRAWS,
) -> tuple[float, float]:
    """A percentile bootstrap 95% interval of any ``measure(y, p)``, one draw at a time.

    The plain path, for measures :func:`weighted_scores` does not know.
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    vals = [measure(y[i], p[i]) for i in (rng.integers(0, n, n) for _ in range(draws))]
    return interval(np.asarray(vals, dtype="float64"))
