"""The certified top-k ESRI (``contagion.esri_top``) against computing every firm's index."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from contagion.esri import esri
from contagion.esri_top import esri_bounds, top_esri


def _network(n: int, seed: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """A random supply network with hubs, cycles, and a third of the firms without revenue."""
    rng = np.random.default_rng(seed)
    m = 4 * n
    src = rng.integers(0, n, m)
    dst = (src + 1 + rng.zipf(1.6, m) % (n - 1)) % n  # heavy-tailed: a few hubs
    w = sp.csr_matrix((rng.uniform(1.0, 100.0, m), (src, dst)), shape=(n, n))
    sales = np.asarray(w.sum(axis=1)).ravel() * rng.uniform(1.0, 4.0, n)
    sales[rng.random(n) < 0.33] = np.nan  # no statement: in-network flows only
    sectors = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    return w, sales, sectors


@pytest.mark.parametrize("seed", [1, 3])
def test_top_k_equals_computing_every_firm(seed: int) -> None:
    w, sales, sectors = _network(150, seed)
    kw: dict[str, Any] = {"total_sales": sales, "total_inputs": 0.75 * sales}
    every = esri(w, sectors, tol=1e-6, exact=True, **kw)
    bound = esri_bounds(w, sectors, **kw)
    assert (every.esri <= bound + 1e-12).all()  # a bound of every firm
    for k in (1, 10):
        got = top_esri(w, sectors, k, tol=1e-6, **kw)
        want = np.lexsort((np.arange(150), -every.esri))[:k]
        assert got.firms.tolist() == want.tolist()
        # a dense block stops when its largest change is at most tol: values agree to that order
        assert got.esri == pytest.approx(every.esri[want], abs=1e-5)
        assert got.downstream == pytest.approx(every.downstream[want], abs=1e-5)
        assert got.computed < 150  # the bound spares most firms


def test_candidates_and_essential_pairs() -> None:
    w, sales, sectors = _network(100, 7)
    kw: dict[str, Any] = {"total_sales": sales, "total_inputs": 0.75 * sales, "essential": "leontief"}
    every = esri(w, sectors, tol=1e-6, exact=True, **kw)
    assert (every.esri <= esri_bounds(w, sectors, **kw) + 1e-12).all()
    mask = np.arange(100) % 2 == 0
    got = top_esri(w, sectors, 5, candidates=mask, tol=1e-6, **kw)
    pool = np.flatnonzero(mask)
    want = pool[np.lexsort((pool, -every.esri[pool]))][:5]
    assert got.firms.tolist() == want.tolist()


def test_a_ring_without_outside_trade_has_no_linear_bound() -> None:
    # 0 -> 1 -> 2 -> 0 trading only with each other: the linearised cascade never settles, so the
    # bound is what each failure can reach: everyone, 1
    ring = sp.csr_matrix(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]))
    assert esri_bounds(ring, ["a", "a", "a"]).tolist() == [1.0, 1.0, 1.0]
    # with 3 selling to the ring and 4 -> 5 trading outside it, a ring firm's failure reaches the
    # ring and 3 only: its bound is their weight, below 1
    w = sp.csr_matrix(([1.0, 1.0, 1.0, 1.0, 1.0], ([0, 1, 2, 3, 4], [1, 2, 0, 0, 5])), shape=(6, 6))
    sales = np.array([np.nan, np.nan, np.nan, np.nan, 4.0, 4.0])
    u = esri_bounds(w, ["a"] * 6, total_sales=sales, total_inputs=sales)
    exact = esri(w, ["a"] * 6, total_sales=sales, total_inputs=sales, exact=True).esri
    assert (exact <= u + 1e-12).all() and (u < 1).all()
    got = top_esri(w, ["a"] * 6, 2, total_sales=sales, total_inputs=sales)
    assert got.firms.tolist() == np.lexsort((np.arange(6), -exact))[:2].tolist()
