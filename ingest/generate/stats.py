"""Network statistics the generator is calibrated against (also used by the tests).

All functions take plain arrays (firm indices, day offsets), so they apply equally
to the simulation's arrays and to tables read back from disk.

>>> import numpy as np
>>> sup, buy = np.array([0, 1, 2, 2]), np.array([1, 2, 0, 3])
>>> scc_fraction(sup, buy, 4)
0.75
>>> mutual_pairs(np.array([0, 1, 2]), np.array([1, 0, 0]))
1
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ingest.generate.timeline import DAYS_PER_MONTH

__all__ = [
    "cycle_groups",
    "half_life_months",
    "hill_tail_exponent",
    "mutual_pairs",
    "scc_fraction",
]


def _graph(a: np.ndarray, b: np.ndarray, n: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))


def scc_fraction(sup: np.ndarray, buy: np.ndarray, n: int) -> float:
    """Size of the largest strongly connected component over ``n``."""
    if n == 0:
        return 0.0
    _, lab = connected_components(_graph(sup, buy, n), directed=True, connection="strong")
    return float(np.bincount(lab).max() / n)


def half_life_months(start: np.ndarray, end: np.ndarray, lo: int, hi: int) -> float:
    """Link half-life from spells observed in the window ``[lo, hi)`` (day offsets).

    The exponential maximum-likelihood estimate under left truncation and right
    censoring: ``lambda = (links ending inside the window) / (link-days inside it)``;
    half-life ``= ln 2 / lambda``. An unknown end counts as ``hi``.

    >>> round(half_life_months(np.array([0, 0]), np.array([30, 10**6]), 0, 60), 2)  # 1/90 a day
    2.05
    """
    s = np.maximum(start, lo)
    e = np.minimum(end, hi)
    ok = e > s
    ended = ok & (end < hi)
    lam = ended.sum() / max(1, (e[ok] - s[ok]).sum())
    return float(np.log(2) / lam / DAYS_PER_MONTH) if lam > 0 else float("inf")


def hill_tail_exponent(degree: np.ndarray, top: float = 0.01) -> float:
    """Hill estimate of the power-law tail exponent of ``degree`` from its top share."""
    d = np.sort(degree[degree > 0])[::-1].astype(np.float64)
    k = max(10, int(top * len(d)))
    if len(d) <= k:
        return float("nan")
    return float(1.0 / np.mean(np.log(d[:k] / d[k])))


def mutual_pairs(a: np.ndarray, b: np.ndarray) -> int:
    """Unordered pairs linked in both directions."""
    key = np.unique(np.stack([a, b], axis=1), axis=0)
    fwd = set(map(tuple, key.tolist()))
    return sum(1 for x, y in fwd if x < y and (y, x) in fwd)


def cycle_groups(a: np.ndarray, b: np.ndarray, n: int, lo: int = 3, hi: int = 10) -> int:
    """Strongly connected components with ``lo`` to ``hi`` members (guarantee circles)."""
    if n == 0:
        return 0
    _, lab = connected_components(_graph(a, b, n), directed=True, connection="strong")
    size = np.bincount(lab)
    return int(((size >= lo) & (size <= hi)).sum())
