"""DebtRank on hand-checkable networks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrisk.errors import ConvergenceError, InvalidModelInput
from contagion import debtrank, impact_matrix, propagate
from contagion.multilayer import DefaultRule

from .conftest import LOOP, random_impact


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


def test_a_default_rule_runs_in_the_differential_variant_as_in_propagate() -> None:
    # LOOP: 0 <- 1 (0.5), 1 <- 0 (0.5), 1 <- 2 (0.4); firm 2 loses 0.5. Without the rule firm 1 ends
    # at 0.2667 (0.2 / 0.75). Scenario 0: X_1 = -1.5 < -2 (1 - h_1) once h_1 > 0.25, so firm 1
    # defaults, passes a full default on and firm 0 loses 0.5. Scenario 1: X_1 = -1.0 would need
    # h_1 > 0.5: no default, the plain differential DebtRank.
    shock = np.array([[0.0, 0.0], [0.0, 0.0], [0.5, 0.5]])
    rule = DefaultRule(latent=np.array([[5.0, 5.0], [-1.5, -1.0], [5.0, 5.0]]),
                       thresholds=np.array([-np.inf, -2.0, -np.inf]), sensitivity=1.0, cap=np.ones(3))
    r = debtrank(LOOP, shock, variant="differential", rule=rule)
    np.testing.assert_allclose(r.distress, [[0.5, 0.4 / 3], [1.0, 0.8 / 3], [0.5, 0.5]], atol=1e-9)
    np.testing.assert_array_equal(r.initial, shock)  # R counts the jumps the rule made
    # the same propagation as one layer of multilayer.propagate with the same rule, bit for bit
    want = propagate({"w": sp.csr_matrix(LOOP)}, shock, rule=rule, tol=1e-9).distress
    np.testing.assert_array_equal(r.distress, want)
    # a vector shock takes a vector latent
    one = DefaultRule(latent=np.array([5.0, -1.5, 5.0]), thresholds=rule.thresholds, sensitivity=1.0,
                      cap=rule.cap)
    np.testing.assert_array_equal(debtrank(LOOP, shock[:, 0], variant="differential", rule=one).distress,
                                  r.distress[:, 0])
    with pytest.raises(InvalidModelInput, match="variant='differential'"):
        debtrank(LOOP, shock, rule=rule)  # the single variant passes distress on once: refused
    with pytest.raises(InvalidModelInput, match="shape"):
        debtrank(LOOP, shock[:, :1], variant="differential", rule=rule)


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
