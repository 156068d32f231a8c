"""queries.bfs: the compiled walk gives NumPy's numbers bit for bit (pure logic, no server)."""

from __future__ import annotations

import numpy as np
import pytest

from queries import bfs
from queries.networks import Network


def _random_network(seed: int, n: int = 400, links: int = 2500) -> tuple[Network, list[str]]:
    rng = np.random.default_rng(seed)
    names = [f"N{i}" for i in range(n)]
    persons = {f"N{i}" for i in range(n - 20, n)}  # only ever guarantors: never walked from
    pairs = {(names[a], names[b]) for a, b in rng.integers(0, n, size=(links, 2)) if a != b}
    kept = [(a, b, float(rng.choice([0.0, *rng.uniform(1, 1000, 9)]))) for a, b in sorted(pairs)
            if b not in persons]
    net = Network([a for a, _, _ in kept], [b for _, b, _ in kept], [w for _, _, w in kept],
                  source_is_firm=[a not in persons for a, _, _ in kept])
    return net, names


@pytest.mark.parametrize("seed", [3, 17])
def test_compiled_walk_equals_numpy_bit_for_bit(seed: int) -> None:
    # numba is a dependency of the project (pyproject.toml): without it the install is broken, and
    # this comparison must fail rather than pass by comparing the NumPy walk with itself
    assert bfs.BACKEND == "numba"
    net, names = _random_network(seed)
    for focal in (names[0], names[5], names[200], names[-1]):
        start = net.index.get(focal)
        if start is None:
            continue
        for csr in (net.forward, net.backward):
            for hops in (1, 2, 3, 5):
                for shares in (True, False):
                    args = (csr.ptr, csr.nbr, csr.val, csr.total, net.is_firm, start, hops)
                    got = bfs.reach(*args, shares=shares)
                    ref = bfs.reach_numpy(*args, shares=shares)
                    for g, r in zip(got, ref, strict=True):
                        assert g.dtype == r.dtype and np.array_equal(g, r)  # exact, not approximate


def test_numpy_walk_is_what_reach_falls_back_to(monkeypatch: pytest.MonkeyPatch) -> None:
    net, names = _random_network(5)
    csr, start = net.backward, net.index[names[1]]
    ref = bfs.reach_numpy(csr.ptr, csr.nbr, csr.val, csr.total, net.is_firm, start, 3, shares=True)
    monkeypatch.setattr(bfs, "_KERNELS", None)
    got = bfs.reach(csr.ptr, csr.nbr, csr.val, csr.total, net.is_firm, start, 3, shares=True)
    assert all(np.array_equal(g, r) for g, r in zip(got, ref, strict=True)) and len(ref[0]) > 0


@pytest.mark.parametrize("seed", [4, 23])
def test_ranked_walk_is_the_node_order_walk_sorted_by_distance_then_rank(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    net, names = _random_network(seed)
    ranked = np.random.default_rng(seed).permutation(len(net.ids))
    position = np.empty(len(ranked), dtype=np.int64)
    position[ranked] = np.arange(len(ranked))
    for focal in (names[0], names[7], names[150]):
        start = net.index.get(focal)
        if start is None:
            continue
        for hops in (1, 3, 5):
            fwd = net.forward
            args = (fwd.ptr, fwd.nbr, fwd.val, fwd.total, net.is_firm, start, hops)
            node, dist, value, share = bfs.reach(*args, shares=True)
            want = np.lexsort((position[node], dist))
            compiled = bfs.reach(*args, shares=True, ranked=ranked)
            with monkeypatch.context() as m:
                m.setattr(bfs, "_KERNELS", None)
                numpy = bfs.reach(*args, shares=True, ranked=ranked)
            for got in (compiled, numpy):
                for g, r in zip(got, (node[want], dist[want], value[want], share[want]), strict=True):
                    assert np.array_equal(g, r)
            assert len(node) > 0
