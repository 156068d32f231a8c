"""The shared maths and compiled kernels of :mod:`contagion._kernels`: hand-checkable 3-firm cases
and agreement with plain scipy on random matrices."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import contagion._kernels as kernels
from contagion import debtrank
from contagion._kernels import (
    BACKEND,
    DefaultRule,
    block_width,
    differential,
    differential_round,
    merge_layers,
    row_chunks,
    scale_rows_capped,
    spmm,
    spmm_into,
)

from .conftest import LOOP, random_impact


# ------------------------------------------------------------------ shared maths, by hand
def test_scale_rows_capped_by_hand() -> None:
    m = sp.csr_matrix(np.array([[0.0, 5.0, 0.0], [0.0, 0.0, 30.0], [1.0, 0.0, 0.0]]))
    before = m.toarray()
    w = scale_rows_capped(m, np.array([10.0, 20.0, 0.0]))
    # 5 / 10; min(1, 30 / 20) = 1; no equity: 1 wherever exposed
    assert w.toarray().tolist() == [[0.0, 0.5, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    assert scale_rows_capped(m, np.array([10.0, 20.0, -3.0])).toarray().tolist() == w.toarray().tolist()
    assert sp.issparse(w) and w.format == "csr"
    np.testing.assert_array_equal(m.toarray(), before)  # the input is left alone
    assert w.indices is not m.indices and w.indptr is not m.indptr


def test_block_width() -> None:
    assert block_width(3, 1) == 1  # never more columns than scenarios
    assert block_width(3, 100) == 64  # at most 64
    assert block_width(1 << 20, 100) == 16  # 2^24 entries per block on big networks
    assert block_width(1 << 25, 10) == 1  # at least one
    assert block_width(0, 5) == 5


def test_spmm_by_hand() -> None:
    w = sp.csr_matrix(LOOP)
    x = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out = np.full((3, 2), np.nan)
    assert spmm(w, x, out) is out
    # row 0: 0.5 x row 1 of x; row 1: 0.5 x row 0 + 0.4 x row 2; row 2: nothing
    np.testing.assert_allclose(out, [[1.5, 2.0], [2.5, 3.4], [0.0, 0.0]], rtol=1e-15)
    np.testing.assert_array_equal(spmm(w, np.asfortranarray(x), np.empty((3, 2))), out)  # any x order
    np.testing.assert_array_equal(spmm(w, x.astype(np.int64), np.empty((3, 2))), out)  # any x dtype
    with pytest.raises(ValueError, match="C-ordered"):
        spmm(w, x, np.empty((2, 3)).T)


def test_differential_one_matrix_by_hand() -> None:
    h1 = np.array([[0.0], [0.0], [0.5]])
    h, acc, rounds, residual, work = differential(sp.csr_matrix(LOOP), h1, tol=1e-14, max_rounds=1000)
    # increments echo round the 0-1 loop with factor 0.25: h0 = 0.1 / 0.75, h1 = 0.2 + 0.05 / 0.75
    np.testing.assert_allclose(h[:, 0], [0.1 / 0.75, 0.2 + 0.05 / 0.75, 0.5], atol=1e-13)
    assert acc is None and residual == 0.0 and rounds == work > 3
    assert h1[:, 0].tolist() == [0.0, 0.0, 0.5]  # the shock is left alone


def test_differential_attributes_increments_to_the_layers() -> None:
    sup = sp.csr_matrix(np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    gua = sp.csr_matrix(np.array([[0.0, 0.25, 0.0], [0.0, 0.0, 0.5], [0.0, 0.0, 0.0]]))
    h1 = np.array([[0.0], [0.0], [1.0]])
    h, acc, rounds, residual, work = differential([sup, gua], h1, tol=1e-12, max_rounds=100)
    # firm 1 gets 0.5 by guarantee; then firm 0 gets 0.5 * 0.5 by supply and 0.25 * 0.5 by guarantee
    assert h[:, 0].tolist() == [0.375, 0.5, 1.0]
    assert acc is not None and [a[:, 0].tolist() for a in acc] == [[0.25, 0.0, 0.0], [0.125, 0.5, 0.0]]
    assert (rounds, residual, work) == (3, 0.0, 3)
    np.testing.assert_allclose(acc[0] + acc[1], h - h1)


# ------------------------------------------------------------------ compiled kernels
def _random_csr(n: int, m: int, density: float, seed: int, *, empty_rows: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    w = sp.random(n, m, density=density, random_state=rng, format="csr")
    w = sp.csr_matrix(w)
    if empty_rows:
        w = sp.csr_matrix(sp.diags((rng.random(n) >= empty_rows / n).astype(float)) @ w)
        w.eliminate_zeros()
    return w


@pytest.mark.parametrize("k", [1, 2, 7, 64, 65, 130])
def test_spmm_into_matches_scipy(k: int) -> None:
    assert BACKEND in ("numba", "scipy")
    w = _random_csr(301, 157, 0.03, seed=k, empty_rows=60)
    assert (np.diff(w.indptr) == 0).any()  # empty rows included
    x = np.random.default_rng(k).random((157, k)) - 0.3
    out = np.full((301, k), np.nan)
    assert spmm_into(w, x, out) is out
    np.testing.assert_allclose(out, w @ x, rtol=1e-15, atol=1e-15)
    w64 = sp.csr_matrix((w.data, w.indices.astype(np.int64), w.indptr.astype(np.int64)), shape=w.shape)
    np.testing.assert_array_equal(spmm_into(w64, x, np.empty((301, k))), out)
    with pytest.raises(ValueError, match="C-ordered"):
        spmm_into(w, x, np.empty((301, 2 * k))[:, ::2])


def test_spmm_into_empty_matrix() -> None:
    w = sp.csr_matrix((5, 4))
    out = np.full((5, 3), 7.0)
    np.testing.assert_array_equal(spmm_into(w, np.ones((4, 3)), out), np.zeros((5, 3)))


def test_row_chunks_cover_rows() -> None:
    w = _random_csr(1000, 1000, 0.01, seed=3, empty_rows=300)
    for parts in (1, 2, 16, 5000):
        b = row_chunks(w.indptr, parts)
        assert b[0] == 0 and b[-1] == 1000 and (np.diff(b) >= 0).all() and b.size == parts + 1
    assert row_chunks(sp.csr_matrix((0, 0)).indptr, 4).tolist() == [0] * 5


@pytest.mark.parametrize("k", [1, 5, 64])
def test_differential_round_matches_formula(k: int) -> None:
    w = random_impact(200, 0.05, seed=k)
    rng = np.random.default_rng(k)
    h = rng.random((200, k)) * (rng.random((200, k)) < 0.5)
    dh = h * (rng.random((200, k)) < 0.3)
    dh[rng.random(200) < 0.5] = 0.0  # whole rows outside the frontier
    active = dh.any(axis=1)
    want_h = np.minimum(h + w @ dh, 1.0)
    want_dh = want_h - h
    bounds = row_chunks(w.indptr, 7)
    dh_next, active_next = np.full((200, k), np.nan), np.empty(200, dtype=bool)
    colmax = differential_round(w, h, dh, active, dh_next, active_next, np.empty((7, k)), bounds)
    np.testing.assert_array_equal(h, want_h)
    np.testing.assert_array_equal(active_next, want_dh.any(axis=1))
    np.testing.assert_array_equal(dh_next[active_next], want_dh[active_next])
    np.testing.assert_array_equal(colmax, want_dh.max(axis=0))


@pytest.mark.parametrize("block", [1, 3, 16, None])
def test_blocks_and_compaction_do_not_change_results(block: int | None) -> None:
    w = random_impact(60, 0.08, seed=4)
    rng = np.random.default_rng(5)
    shock = rng.random((60, 37)) * (rng.random((60, 37)) < 0.1)
    shock[:, 3] = 0.0  # converged before the first round
    h, acc, rounds, residual, work = differential(w, shock, tol=1e-12, max_rounds=1000, block=block)
    assert acc is None and residual == 0.0
    alone = [debtrank(w, shock[:, c], variant="differential", tol=1e-12) for c in range(37)]
    for c, r in enumerate(alone):
        np.testing.assert_array_equal(h[:, c], r.distress)
    assert rounds == max(r.rounds for r in alone)
    assert work == sum(r.scenario_rounds for r in alone)
    assert alone[3].scenario_rounds == 0 and alone[3].distress.tolist() == [0.0] * 60


def test_differential_max_rounds_residual() -> None:
    shock = np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.0]])
    h, _, rounds, residual, work = differential(sp.csr_matrix(LOOP), shock, tol=1e-14, max_rounds=3, block=1)
    assert rounds == 3 and work == 3 and residual > 0
    # after 3 rounds: 0.2 to firm 1, 0.1 to firm 0, then 0.05 back to firm 1
    np.testing.assert_allclose(h[:, 0], [0.1, 0.25, 0.5])
    assert h[:, 1].tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------ attributed rounds
def _attributed_plain(
    mats: list[sp.csr_matrix], h1: np.ndarray, tol: float, first: np.ndarray | None = None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The attributed differential DebtRank written out with scipy (every scenario to its own convergence)."""
    out, acc_out = h1.copy(), [np.zeros_like(h1) for _ in mats]
    for c in range(h1.shape[1]):
        h = h1[:, [c]].copy()
        dh = h.copy() if first is None else first[:, [c]].copy()
        acc = [np.zeros_like(h) for _ in mats]
        while dh.max(initial=0.0) >= tol:
            parts = [m @ dh for m in mats]
            y = np.sum(parts, axis=0)
            new = np.minimum(h + y, 1.0)
            dh, h = new - h, new
            share = np.divide(dh, y, out=np.zeros_like(y), where=y > 0)
            for a, part in zip(acc, parts, strict=True):
                a += part * share
        out[:, c] = h[:, 0]
        for a_out, a in zip(acc_out, acc, strict=True):
            a_out[:, c] = a[:, 0]
    return out, acc_out


def test_merge_layers_keeps_each_layers_order() -> None:
    a = sp.csr_matrix(np.array([[0.0, 2.0], [3.0, 0.0]]))
    b = sp.csr_matrix(np.array([[5.0, 7.0], [0.0, 0.0]]))
    indptr, indices, data, layer = merge_layers([a, b])
    assert indptr.tolist() == [0, 3, 4]
    assert list(zip(layer.tolist(), indices.tolist(), data.tolist(), strict=True)) == [
        (0, 1, 2.0),
        (1, 0, 5.0),
        (1, 1, 7.0),
        (0, 0, 3.0),
    ]


@pytest.mark.parametrize("serial", [True, False])
def test_attributed_rounds_match_the_formula(serial: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # the one-thread and the threaded kernel give the plain formula's numbers bit for bit, caps included
    monkeypatch.setattr(kernels, "SERIAL_WORK", 1 << 60 if serial else 0)
    mats = [random_impact(120, 0.02, seed=s) * f for s, f in ((1, 0.3), (2, 1.5), (3, 0.2))]
    rng = np.random.default_rng(9)
    h1 = rng.random((120, 70)) * (rng.random((120, 70)) < 0.05)
    h1[:, 5] = 0.0
    h, acc, rounds, residual, _ = differential(mats, h1, tol=1e-12, max_rounds=1000, block=16)
    want_h, want_acc = _attributed_plain(mats, h1, 1e-12)
    assert residual == 0.0 and acc is not None and rounds > 2
    assert (h == 1.0).any() and ((h > 0) & (h < 1)).any()  # caps and partial distress both occur
    np.testing.assert_array_equal(h, want_h)
    for a, b in zip(acc, want_acc, strict=True):
        np.testing.assert_array_equal(a, b)


def test_attributed_prior_continues_to_the_same_distress() -> None:
    # monotone propagation: continuing from the earlier state with the new full defaults
    # reaches the distress a restart with the larger shock reaches
    mats = [random_impact(80, 0.03, seed=s) * f for s, f in ((4, 0.3), (5, 1.2))]
    rng = np.random.default_rng(2)
    shock = rng.random((80, 12)) * (rng.random((80, 12)) < 0.05)
    first, _, _, _, _ = differential(mats, shock, tol=1e-13, max_rounds=1000)
    more = shock.copy()
    more[rng.random((80, 12)) < 0.05] = 1.0
    start = np.ascontiguousarray(np.maximum(first, more))
    h, acc, _, residual, _ = differential(mats, start, tol=1e-13, max_rounds=1000, prior=first)
    again, _, _, _, _ = differential(mats, more, tol=1e-13, max_rounds=1000)
    assert residual == 0.0 and acc is not None and (h > first + 1e-6).any()
    np.testing.assert_allclose(h, again, atol=1e-10)
    np.testing.assert_allclose(acc[0] + acc[1], h - start, atol=1e-12)  # this call's increments only
    want_h, want_acc = _attributed_plain(mats, start, 1e-13, first=start - first)
    np.testing.assert_array_equal(h, want_h)
    for a, b in zip(acc, want_acc, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="prior"):
        differential(mats[0], start, tol=1e-13, max_rounds=10, prior=first)


# ------------------------------------------------------------------ defaults inside the rounds
def _rule_case(n: int = 150, k: int = 40) -> tuple[list[sp.csr_matrix], np.ndarray, DefaultRule]:
    """Three layers, sparse partial and full shocks, and a Merton rule that fires in many scenarios."""
    mats = [random_impact(n, 0.02, seed=s) * f for s, f in ((11, 0.3), (12, 0.9), (13, 0.2))]
    rng = np.random.default_rng(21)
    h1 = rng.random((n, k)) * (rng.random((n, k)) < 0.03)
    h1[rng.random((n, k)) < 0.01] = 1.0
    c = rng.normal(-2.0, 0.3, n)
    c[:5] = -np.inf  # PD 0: only at the cap
    cap = np.where(np.arange(n) % 7 == 0, 0.6, 1.0)
    cap[5:8] = np.inf  # never (the default stock)
    rule = DefaultRule(latent=rng.standard_normal((n, k)), thresholds=c, sensitivity=2.0, cap=cap)
    return mats, h1, rule


@pytest.mark.parametrize("serial", [True, False])
def test_rule_in_the_rounds_compiled_and_scipy_fallback_agree(serial: bool, monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    # the one-thread and threaded compiled rounds and the scipy fallback, bit for bit
    monkeypatch.setattr(kernels, "SERIAL_WORK", 1 << 60 if serial else 0)
    mats, h1, rule = _rule_case()
    h, acc, _, residual, _ = differential(mats, h1, tol=1e-13, max_rounds=1000, block=16, rule=rule)
    monkeypatch.setattr(kernels, "numba", None)
    want_h, want_acc, _, _, _ = differential(mats, h1, tol=1e-13, max_rounds=1000, block=16, rule=rule)
    assert residual == 0.0 and acc is not None and want_acc is not None
    plain, _, _, _, _ = differential(mats, h1, tol=1e-13, max_rounds=1000, block=16)
    assert ((h == 1.0) & (plain < 1.0)).sum() > 20  # the rule added defaults in the rounds
    np.testing.assert_array_equal(h, want_h)
    for a, b in zip(acc, want_acc, strict=True):
        np.testing.assert_array_equal(a, b)


def test_rule_in_the_rounds_reaches_the_restarted_fixed_point() -> None:
    # the reference: propagate to convergence, turn the firms the rule names into shocks of 1,
    # start over, until the rule names no new firm
    mats, h1, rule = _rule_case()
    h, acc, _, residual, _ = differential(mats, h1, tol=1e-14, max_rounds=1000, rule=rule)
    shock, restarts = h1.copy(), 0
    while True:
        ref, _, _, _, _ = differential(mats, shock, tol=1e-14, max_rounds=1000)
        grow = rule.hits(ref, slice(None))
        if not grow.any():
            break
        shock[grow], restarts = 1.0, restarts + 1
    assert residual == 0.0 and acc is not None and restarts >= 2
    np.testing.assert_allclose(h, ref, atol=1e-10)
    np.testing.assert_array_equal(h == 1.0, ref == 1.0)
    # the attributions cover every increment but the defaults of the start (part of the shock)
    start = np.where(rule.hits(h1, slice(None)), 1.0, h1)
    np.testing.assert_allclose(sum(acc), h - start, atol=1e-12)
    with pytest.raises(ValueError, match="rule"):
        differential(mats[0], h1, tol=1e-13, max_rounds=10, rule=rule)


@pytest.mark.parametrize("compiled", [True, False])
def test_rule_with_a_prior_by_hand(compiled: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Firm 0 -> 1 by layer A (W = 0.5), 1 -> 2 by layer B (W = 0.4). An earlier run shocked firm 0 by
    # 0.2 and reached the prior (0.2, 0.1, 0.04); now firm 0 defaults outright: the propagation
    # continues from max(prior, shock) = (1, 0.1, 0.04) with first increment (0.8, 0, 0).
    # Firm 1 defaults by the rule when X < c (1 - k h) with c = -2, k = 1.
    if not compiled:
        monkeypatch.setattr(kernels, "numba", None)
    mats = [sp.csr_matrix(np.array([[0.0, 0, 0], [0.5, 0, 0], [0, 0, 0]])),
            sp.csr_matrix(np.array([[0.0, 0, 0], [0, 0, 0], [0, 0.4, 0]]))]
    prior = np.array([[0.2, 0.2], [0.1, 0.1], [0.04, 0.04]])
    start = np.array([[1.0, 1.0], [0.1, 0.1], [0.04, 0.04]])
    # scenario 0: X_1 = -1.05, above the threshold -1.8 at the prior's 0.1, below -1.0 once firm 1
    # reaches 0.1 + 0.5 x 0.8 = 0.5 in round 1, so it defaults there (jump 1 - 0.1 = 0.9, all
    # carried by layer A); round 2 passes 0.4 x 0.9 = 0.36 to firm 2 (0.04 -> 0.40, layer B).
    # scenario 1: X_1 = -1.9 is below -1.8 already at the prior's distress: a default of the start,
    # carried by no layer of this call; firm 2 still gets 0.36 by layer B.
    # Firm 2 (c = -3, X = 0) never defaults by the rule; firm 0 is at 1 from the start.
    latent = np.array([[0.0, 0.0], [-1.05, -1.9], [0.0, 0.0]])
    rule = DefaultRule(latent=latent, thresholds=np.array([-2.0, -2.0, -3.0]), sensitivity=1.0,
                       cap=np.ones(3))
    h, acc, rounds, residual, _ = differential(mats, start, tol=1e-13, max_rounds=100, prior=prior, rule=rule)
    assert residual == 0.0 and acc is not None and rounds == 3  # the third round moves nothing
    np.testing.assert_allclose(h, [[1.0, 1.0], [1.0, 1.0], [0.4, 0.4]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(acc[0], [[0.0, 0.0], [0.9, 0.0], [0.0, 0.0]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(acc[1], [[0.0, 0.0], [0.0, 0.0], [0.36, 0.36]], rtol=0, atol=1e-15)
    # a restart from the larger shock (no prior) reaches the same distress
    again, _, _, _, _ = differential(mats, np.array([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]), tol=1e-13,
                                     max_rounds=100, rule=rule)
    np.testing.assert_allclose(again, h, rtol=0, atol=1e-15)
