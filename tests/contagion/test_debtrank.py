"""DebtRank on hand-checkable networks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrisk.errors import ConvergenceError, InvalidModelInput
from contagion import debtrank, impact_matrix

# 0 and 1 are exposed to each other (half their equity each way), 1 is also exposed to 2 (0.4)
LOOP = np.array([[0.0, 0.5, 0.0], [0.5, 0.0, 0.4], [0.0, 0.0, 0.0]])


def random_impact(n: int, density: float, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    w = sp.random(n, n, density=density, random_state=rng, format="csr") * 0.6
    w.setdiag(0.0)
    w.eliminate_zeros()
    return sp.csr_matrix(w)


def test_single_variant_by_hand() -> None:
    r = debtrank(LOOP, [0.0, 0.0, 0.5], variant="single")
    # t=1: D = {2}.  round 1: h1 = 0.4 * 0.5 = 0.2, D = {1}, 2 inactive
    # round 2: h0 = 0.5 * 0.2 = 0.1, D = {0}, 1 inactive
    # round 3: h1 = 0.2 + 0.5 * 0.1 = 0.25; 1 is inactive, so nothing new is distressed: stop
    assert r.distress.tolist() == [0.1, 0.25, 0.5]
    assert r.rounds == 3 and r.converged
    assert r.initial.tolist() == [0.0, 0.0, 0.5]


def test_differential_differs_from_single() -> None:
    r = debtrank(LOOP, [0.0, 0.0, 0.5], variant="differential", tol=1e-14)
    # increments echo round the 0-1 loop with factor 0.5 * 0.5 = 0.25:
    # h0 = 0.1 (1 + 0.25 + ...) = 0.1 / 0.75, h1 = 0.2 + 0.05 / 0.75
    np.testing.assert_allclose(r.distress, [0.1 / 0.75, 0.2 + 0.05 / 0.75, 0.5], atol=1e-13)
    single = debtrank(LOOP, [0.0, 0.0, 0.5], variant="single")
    assert r.distress[0] > single.distress[0] + 0.03


def test_chain_both_variants_agree() -> None:
    # a chain has no echo: 0 <- 1 <- 2 with 0.5 and 0.4, shock 1 on firm 2
    w = np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 0.4], [0.0, 0.0, 0.0]])
    for variant in ("single", "differential"):
        r = debtrank(w, np.array([0.0, 0.0, 1.0]), variant=variant)  # type: ignore[arg-type]
        np.testing.assert_allclose(r.distress, [0.2, 0.4, 1.0])  # 0.4 * 1, then 0.5 * 0.4


def test_distress_capped_at_one() -> None:
    w = np.array([[0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    for variant in ("single", "differential"):
        r = debtrank(w, [0.0, 0.8, 0.9], variant=variant)  # type: ignore[arg-type]
        assert r.distress.tolist() == [1.0, 0.8, 0.9]  # 0.8 + 0.9 > 1 is capped


@pytest.mark.parametrize("variant", ["single", "differential"])
def test_columns_equal_scenarios_alone(variant: str) -> None:
    w = random_impact(40, 0.08, seed=1)
    rng = np.random.default_rng(2)
    shock = rng.random((40, 70)) * (rng.random((40, 70)) < 0.1)  # 70 columns: crosses a 64-column block
    both = debtrank(w, shock, variant=variant)  # type: ignore[arg-type]
    assert both.distress.shape == (40, 70)
    for c in (0, 5, 63, 64, 69):
        alone = debtrank(w, shock[:, c], variant=variant)  # type: ignore[arg-type]
        np.testing.assert_array_equal(both.distress[:, c], alone.distress)


def test_dense_sparse_and_torch_inputs_agree() -> None:
    shock = np.array([0.0, 0.0, 0.5])
    want = debtrank(LOOP, shock, variant="differential").distress
    for w in (sp.csr_matrix(LOOP), sp.coo_array(LOOP), torch.tensor(LOOP), torch.tensor(LOOP).to_sparse()):
        np.testing.assert_array_equal(debtrank(w, shock, variant="differential").distress, want)


def test_value_by_hand() -> None:
    r = debtrank(LOOP, [0.0, 0.0, 0.5])
    # R = sum v_i (h_i(T) - h_i(1)) with v = equity shares 2/5, 2/5, 1/5: 0.4 * 0.1 + 0.4 * 0.25 + 0
    assert r.value([2.0, 2.0, 1.0]) == pytest.approx(0.14)
    m = debtrank(LOOP, np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.0]]))
    np.testing.assert_allclose(m.value([2.0, 2.0, 1.0]), [0.14, 0.0])


def test_impact_matrix_rules() -> None:
    e = np.array([[0.0, 5.0, 0.0], [0.0, 0.0, 30.0], [1.0, 0.0, 0.0]])
    w = impact_matrix(e, [10.0, 20.0, 0.0])
    # 5 / 10; min(1, 30 / 20); equity 0 -> 1 where exposed
    assert w.tolist() == [[0.0, 0.5, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    ws = impact_matrix(sp.csr_matrix(e), [10.0, 20.0, -3.0])
    assert sp.issparse(ws) and ws.toarray().tolist() == w.tolist()
    with pytest.raises(InvalidModelInput, match="firm 1"):
        impact_matrix(np.array([[0.0, 1.0, 0.0], [np.nan, 0.0, 0.0], [0.0, 0.0, 0.0]]), [1.0, 1.0, 1.0])
    with pytest.raises(InvalidModelInput, match="firm 2"):
        impact_matrix(e, [1.0, 1.0, np.nan])


def test_bad_inputs_name_the_firm() -> None:
    with pytest.raises(InvalidModelInput, match="firm 1"):
        debtrank(LOOP, [0.0, 1.5, 0.0])
    with pytest.raises(InvalidModelInput, match="firm 2"):
        debtrank(LOOP, [0.0, 0.0, np.nan])
    with pytest.raises(InvalidModelInput, match="firm 1"):
        debtrank(np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]), [0.0, 0.0, 0.1])
    with pytest.raises(InvalidModelInput, match="square"):
        debtrank(np.zeros((2, 3)), [0.0, 0.0])
    with pytest.raises(InvalidModelInput, match="variant"):
        debtrank(LOOP, [0.0, 0.0, 0.1], variant="triple")  # type: ignore[arg-type]


def test_non_convergence() -> None:
    with pytest.raises(ConvergenceError) as err:
        debtrank(LOOP, [0.0, 0.0, 0.5], variant="differential", max_rounds=3)
    assert err.value.residual > 0 and err.value.iterations == 3
    r = debtrank(LOOP, [0.0, 0.0, 0.5], variant="differential", max_rounds=3, strict=False)
    assert not r.converged


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 1.0))
def test_properties(seed: int, scale: float) -> None:
    w = random_impact(12, 0.3, seed) * 0.5  # spectral radius well below 1: fast convergence
    rng = np.random.default_rng(seed)
    shock = rng.random(12) * (rng.random(12) < 0.4)
    for variant in ("single", "differential"):
        r = debtrank(w, shock, variant=variant, tol=1e-12)  # type: ignore[arg-type]
        assert (r.distress >= shock).all() and (r.distress <= 1.0).all()
    # differential DebtRank is the iteration h <- min(1, s + W h) from 0, hence monotone in the shock
    lo = debtrank(w, shock * scale, variant="differential", tol=1e-12).distress
    hi = debtrank(w, shock, variant="differential", tol=1e-12).distress
    assert (lo <= hi + 1e-9).all()


# ------------------------------------------------------------------ kernels
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
    from contagion._kernels import BACKEND, spmm_into

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
    from contagion._kernels import spmm_into

    w = sp.csr_matrix((5, 4))
    out = np.full((5, 3), 7.0)
    np.testing.assert_array_equal(spmm_into(w, np.ones((4, 3)), out), np.zeros((5, 3)))


def test_row_chunks_cover_rows() -> None:
    from contagion._kernels import row_chunks

    w = _random_csr(1000, 1000, 0.01, seed=3, empty_rows=300)
    for parts in (1, 2, 16, 5000):
        b = row_chunks(w.indptr, parts)
        assert b[0] == 0 and b[-1] == 1000 and (np.diff(b) >= 0).all() and b.size == parts + 1
    assert row_chunks(sp.csr_matrix((0, 0)).indptr, 4).tolist() == [0] * 5


@pytest.mark.parametrize("k", [1, 5, 64])
def test_differential_round_matches_formula(k: int) -> None:
    from contagion._kernels import differential_round, row_chunks

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
    from contagion.debtrank import differential

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
    from contagion.debtrank import differential

    shock = np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.0]])
    h, _, rounds, residual, work = differential(sp.csr_matrix(LOOP), shock, tol=1e-14, max_rounds=3, block=1)
    assert rounds == 3 and work == 3 and residual > 0
    # after 3 rounds: 0.2 to firm 1, 0.1 to firm 0, then 0.05 back to firm 1
    np.testing.assert_allclose(h[:, 0], [0.1, 0.25, 0.5])
    assert h[:, 1].tolist() == [0.0, 0.0, 0.0]
