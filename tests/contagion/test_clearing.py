"""Eisenberg–Noe / Rogers–Veraart clearing on hand-checkable networks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrisk.errors import InvalidModelInput
from contagion import eisenberg_noe

# 0 owes 1 two, 1 owes 2 one, 2 owes 0 one
L3 = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def test_en_by_hand() -> None:
    r = eisenberg_noe(L3, [0.5, 0.0, 1.0])
    # 0: 0.5 + 1 (from 2) = 1.5 < 2 -> defaults, pays 1.5; 1: receives 1.5 >= 1 -> pays 1, equity 0.5
    # 2: 1 + 1 = 2 >= 1 -> pays 1, equity 1
    assert r.payments.tolist() == [1.5, 1.0, 1.0]
    assert r.defaulted.tolist() == [True, False, False]
    assert r.equity.tolist() == [0.0, 0.5, 1.0]
    assert r.interfirm_payments.tolist() == [[0.0, 1.5, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


def test_ring_greatest_vector_and_tie_rule() -> None:
    ring = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    r = eisenberg_noe(ring, [0.0, 0.0, 0.0])
    # every c * (1, 1, 1), c in [0, 1], clears; the greatest is full payment. Each firm then has
    # assets 1 = obligations 1: zero equity, and by the tie rule nobody is in default.
    assert r.payments.tolist() == [1.0, 1.0, 1.0]
    assert not r.defaulted.any()
    assert r.equity.tolist() == [0.0, 0.0, 0.0]


def test_ring_with_external_debt() -> None:
    ring = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    r = eisenberg_noe(ring, [0.0, 0.0, 0.0], [1.0, 0.0, 0.0])
    # firm 0 owes 1 to 1 and 1 outside: p0 = p2 (all it has), split half-half (pro rata);
    # 1 receives p0 / 2 and passes it on: p1 = p0 / 2, p2 = p1, so p0 = p0 / 2 -> everything 0
    np.testing.assert_allclose(r.payments, [0.0, 0.0, 0.0], atol=1e-12)
    assert r.defaulted.tolist() == [True, True, True]


def test_senior_vs_pro_rata_and_tie() -> None:
    # 0 owes 1 four and outsiders four, has 4; 1 owes outsiders 3 and has 1
    liab = np.array([[0.0, 4.0], [0.0, 0.0]])
    pro = eisenberg_noe(liab, [4.0, 1.0], [4.0, 3.0], seniority="pro_rata")
    # pro rata: 0 pays 4, half (2) to firm 1; 1 has 1 + 2 = 3 = its debt: zero equity, not in default
    assert pro.payments.tolist() == [4.0, 3.0]
    assert pro.interfirm_payments.tolist() == [[0.0, 2.0], [0.0, 0.0]]
    assert pro.defaulted.tolist() == [True, False]
    sen = eisenberg_noe(liab, [4.0, 1.0], [4.0, 3.0], seniority="senior")
    # senior: the 4 all go outside first, firm 1 gets 0, has 1 < 3 and defaults
    assert sen.payments.tolist() == [4.0, 1.0]
    assert sen.interfirm_payments.tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert sen.defaulted.tolist() == [True, True]


def test_rogers_veraart_costs_lower_payments() -> None:
    r = eisenberg_noe(L3, [0.5, 0.0, 1.0], alpha=0.5, beta=0.5)
    # 0 defaults: 0.5 * 0.5 + 0.5 * 1 = 0.75; 1 gets 0.75 < 1, defaults: 0.5 * 0.75 = 0.375;
    # 2 has 1 + 0.375 >= 1: pays 1, equity 0.375 (and 0's 1 from 2 is consistent)
    np.testing.assert_allclose(r.payments, [0.75, 0.375, 1.0])
    assert r.defaulted.tolist() == [True, True, False]
    np.testing.assert_allclose(r.equity, [0.0, 0.0, 0.375])
    assert (r.payments <= eisenberg_noe(L3, [0.5, 0.0, 1.0]).payments).all()


def test_sparse_in_sparse_out_and_accounting() -> None:
    r = eisenberg_noe(sp.csr_matrix(L3), [0.5, 0.0, 1.0], [0.5, 0.0, 0.0])
    assert sp.issparse(r.interfirm_payments)
    # pro rata: each firm's payments to firms are its share of interfirm debt in its total debt
    owed = L3.sum(axis=1)
    pbar = owed + np.array([0.5, 0.0, 0.0])
    np.testing.assert_allclose(np.asarray(r.interfirm_payments.sum(axis=1)).ravel(), r.payments * owed / pbar)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidModelInput, match="firm 1"):
        eisenberg_noe(np.array([[0.0, 1.0], [-1.0, 0.0]]), [1.0, 1.0])
    with pytest.raises(InvalidModelInput, match="firm 0"):
        eisenberg_noe(L3, [np.nan, 0.0, 0.0])
    with pytest.raises(InvalidModelInput, match="alpha"):
        eisenberg_noe(L3, [1.0, 1.0, 1.0], alpha=0.0)
    with pytest.raises(InvalidModelInput, match="seniority"):
        eisenberg_noe(L3, [1.0, 1.0, 1.0], seniority="junior")  # type: ignore[arg-type]


def picard(liab, e, ext, seniority, alpha, beta, iters=2_000):  # type: ignore[no-untyped-def]
    """Reference: iterate the clearing map from full payment (converges down to the greatest vector)."""
    owed = liab.sum(axis=1)
    pbar = owed + ext
    rel = np.divide(liab, owed[:, None], out=np.zeros_like(liab), where=owed[:, None] > 0)
    q = owed.copy()
    for _ in range(iters):
        r = rel.T @ q
        solvent = e + r >= pbar - 1e-12 * np.maximum(pbar, 1)
        v = alpha * e + beta * r
        if seniority == "pro_rata":
            qd = v * np.divide(owed, pbar, out=np.zeros_like(owed), where=pbar > 0)
        else:
            qd = v - ext
        q = np.where(solvent, owed, np.clip(qd, 0, owed))
    return np.where(solvent, pbar, v), ~solvent


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 100_000),
    st.sampled_from(["pro_rata", "senior"]),
    st.sampled_from([(1.0, 1.0), (0.6, 0.9), (1.0, 0.5)]),
)
def test_matches_picard_from_the_top(seed: int, seniority: str, costs: tuple[float, float]) -> None:
    rng = np.random.default_rng(seed)
    n = 5
    liab = rng.random((n, n)) * (rng.random((n, n)) < 0.5) * 3
    np.fill_diagonal(liab, 0.0)
    e = rng.random(n) * 2
    ext = rng.random(n) * (rng.random(n) < 0.5)
    r = eisenberg_noe(liab, e, ext, seniority=seniority, alpha=costs[0], beta=costs[1])  # type: ignore[arg-type]
    p, d = picard(liab, e, ext, seniority, *costs)
    np.testing.assert_allclose(r.payments, p, atol=1e-7)
    assert (r.defaulted == d).all() or np.allclose(r.payments, p, atol=1e-7)
