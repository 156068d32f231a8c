"""Supply-shock propagation and ESRI on hand-checkable networks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from chainrisk.errors import InvalidModelInput
from contagion import esri, supply_shock

# 0 sells 4 to 1 and 2 to 2; 1 sells 2 to 2 (a chain 0 -> 1 -> 2 with a shortcut 0 -> 2)
W = np.array([[0.0, 4.0, 2.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
SECTORS = ["a", "b", "c"]


def test_esri_linear_by_hand() -> None:
    r = esri(W, SECTORS, weights="uniform")
    # 0 fails: 1 loses its only input; 2 loses both inputs (0's directly, 1's because 1 stopped): all 1
    # 1 fails: 0 loses 4 of its 6 sales (upstream), 2 loses 2 of its 4 inputs (downstream, linear)
    #          ESRI = (2/3 + 1 + 1/2) / 3
    # 2 fails: 1 loses all its sales; 0 loses its 2 sales to 2 and its 4 to 1 (which sells nothing): 1
    np.testing.assert_allclose(r.esri, [1.0, (2 / 3 + 1 + 0.5) / 3, 1.0])
    np.testing.assert_allclose(r.downstream, [1.0, 0.5, 1 / 3])  # downstream only: (0 + 1 + 1/2) / 3
    np.testing.assert_allclose(r.upstream, [1 / 3, (2 / 3 + 1) / 3, 1.0])


def test_esri_leontief_by_hand() -> None:
    r = esri(W, SECTORS, essential="leontief", weights="uniform")
    # 1 fails: sector b is essential for 2 and all of it came from 1: 2 stops. (2/3 + 1 + 1) / 3
    np.testing.assert_allclose(r.esri, [1.0, (2 / 3 + 2) / 3, 1.0])


def test_esri_default_weights_are_sales() -> None:
    r = esri(W, SECTORS)
    # sales 6, 2, 0 -> weights 3/4, 1/4, 0; firm 1 failing: 3/4 * 2/3 + 1/4 * 1 + 0 * 1/2
    np.testing.assert_allclose(r.weights, [0.75, 0.25, 0.0])
    np.testing.assert_allclose(r.esri, [1.0, 0.75, 1.0])
    np.testing.assert_allclose(esri(W, SECTORS, weights="in_strength").weights, [0.0, 0.5, 0.5])


def test_essential_inputs_aggregate_by_sector() -> None:
    # 2 buys 3 from 0 and 1 from 1, both in sector a, which is essential for it
    w = np.array([[0.0, 0.0, 3.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    r = supply_shock(w, ["a", "a", "c"], [1.0, 0.0, 1.0], essential="leontief")
    # sector a still delivers 3 of 4: production 3/4 (not 0, as a per-supplier Leontief would give)
    np.testing.assert_allclose(r.downstream, [1.0, 0.0, 0.75])
    np.testing.assert_allclose(r.loss, [0.0, 1.0, 0.25])


def test_mixed_essentialness_matrix() -> None:
    # rows: supplier sector, columns: buyer sector (the authors' ess_mat_sec orientation)
    labels = ["a", "b", "c"]
    ess = pd.DataFrame([[1, 1, 2], [1, 1, 0], [1, 1, 1]], index=labels, columns=labels)
    # firm 1 (b) fails: its input to 2 (c) is negligible, so 2 loses nothing downstream
    r = supply_shock(W, SECTORS, [1.0, 0.0, 1.0], essential=ess)
    np.testing.assert_allclose(r.loss, [2 / 3, 1.0, 0.0])
    # firm 0 (a) fails: essential for c -> 2 stops; 1 loses its only (non-essential) input -> stops
    r0 = supply_shock(W, SECTORS, [0.0, 1.0, 1.0], essential=ess.to_numpy(), sector_labels=labels)
    np.testing.assert_allclose(r0.loss, [1.0, 1.0, 1.0])
    # a non-essential input lowers production linearly by its share of the relevant inputs:
    ess2 = pd.DataFrame([[1, 1, 2], [1, 1, 1], [1, 1, 1]], index=labels, columns=labels)
    r1 = supply_shock(W, SECTORS, [1.0, 0.0, 1.0], essential=ess2)
    np.testing.assert_allclose(r1.downstream, [1.0, 0.0, 0.5])  # lost 2 of 4 relevant inputs


def test_upstream_is_sales_weighted() -> None:
    # 0 sells 1 to 1 and 3 to 2; 2 keeps 40% of its production: h0 = (1 * 1 + 3 * 0.4) / 4
    w = np.array([[0.0, 1.0, 3.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    r = supply_shock(w, SECTORS, [1.0, 1.0, 0.4])
    np.testing.assert_allclose(r.upstream, [0.55, 1.0, 0.4])
    np.testing.assert_allclose(r.loss, [0.45, 0.0, 0.6])


def test_shock_columns_equal_alone_and_cycles_converge() -> None:
    rng = np.random.default_rng(4)
    w = sp.random(30, 30, density=0.12, random_state=rng, format="csr")
    sectors = rng.integers(0, 4, 30)
    shocks = np.where(rng.random((30, 5)) < 0.1, rng.random((30, 5)), 1.0)
    both = supply_shock(w, sectors, shocks, essential="leontief", tol=1e-13)
    for c in range(5):
        alone = supply_shock(w, sectors, shocks[:, c], essential="leontief", tol=1e-13)
        np.testing.assert_allclose(both.loss[:, c], alone.loss, atol=1e-12)
    assert ((both.loss >= 1 - shocks - 1e-15) & (both.loss <= 1.0)).all()


@pytest.mark.parametrize("essential", ["linear", "leontief"])
def test_frontier_matches_exact(essential: str) -> None:
    rng = np.random.default_rng(5)
    # firms 45.. sell only to final demand and firms ..14 buy nothing in the network, so losses
    # leak out of the network and the dense iteration settles quickly (a closed network whose
    # firms all buy and sell inside it would, in this model, end in total collapse, slowly)
    w = sp.random(60, 60, density=0.1, random_state=rng, format="lil")
    w[45:, :] = 0.0
    w[:, :15] = 0.0
    w = sp.csr_matrix(w)
    sectors = rng.integers(0, 5, 60)
    exact = esri(w, sectors, essential=essential, exact=True, tol=1e-12)
    fast = esri(w, sectors, essential=essential, tol=1e-8, block=16)
    np.testing.assert_allclose(fast.esri, exact.esri, atol=1e-6)
    sub = esri(w, sectors, essential=essential, tol=1e-8, firms=[3, 7])
    np.testing.assert_allclose(sub.esri[[3, 7]], exact.esri[[3, 7]], atol=1e-6)
    assert np.isnan(sub.esri[0])
    coarse = esri(w, sectors, essential=essential, tol=1e-2)
    assert np.abs(coarse.esri - exact.esri).max() < 0.1
    # each firm's own output counts: ESRI_i >= w_i
    assert (exact.esri >= exact.weights - 1e-12).all()


def test_bad_inputs() -> None:
    with pytest.raises(InvalidModelInput, match="not in the essential matrix"):
        ess = pd.DataFrame(np.ones((2, 2)), ["a", "b"], ["a", "b"])
        supply_shock(W, ["a", "b", "z"], [1.0, 1.0, 0.0], essential=ess)
    with pytest.raises(InvalidModelInput, match="sector_labels"):
        esri(W, SECTORS, essential=np.ones((3, 3)))
    with pytest.raises(InvalidModelInput, match="0 \\(negligible\\)"):
        esri(W, SECTORS, essential=np.full((3, 3), 3), sector_labels=SECTORS)
    with pytest.raises(InvalidModelInput, match="firm 1"):
        supply_shock(W, SECTORS, [1.0, 2.0, 1.0])
    with pytest.raises(InvalidModelInput, match="firm 0"):
        esri(np.array([[np.nan, 1.0, 0], [0, 0, 0], [0, 0, 0]]), SECTORS)


def test_missing_sector_is_its_own_sector() -> None:
    """Off-platform counterparties have no sector; they must not break the sector grouping."""
    import numpy as np
    import scipy.sparse as sp

    from contagion import esri

    supply = sp.csr_matrix(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]))
    with_none = esri(supply, np.array(["C", None, "C"], dtype=object)).esri
    with_label = esri(supply, np.array(["C", "", "C"], dtype=object)).esri
    np.testing.assert_allclose(with_none, with_label)


# Outside the network: 0 sells 12 in all (6 to final demand), 1 sells 2 (all in the network), 2 sells 4
# (all outside); 1 buys 4 (all from 0), 2 buys 8 (4 from the network, 4 from outside).
SALES = [12.0, 2.0, 4.0]
INPUTS = [0.0, 4.0, 8.0]


def test_outside_sales_and_inputs_dampen_by_hand() -> None:
    r = esri(W, SECTORS, weights="uniform", total_sales=SALES, total_inputs=INPUTS)
    # 0 fails: 1 loses its only input (4 of 4); 2 loses 2 + 2 of its 8 inputs: (1 + 1 + 1/2) / 3
    # 1 fails: 0 loses 4 of its 12 sales; 2 loses 2 of 8 inputs:              (1/3 + 1 + 1/4) / 3
    # 2 fails: 1 loses its 2 of 2 sales; 0 loses 2 (to 2) + 4 (to 1) of 12:     (1/2 + 1 + 1) / 3
    np.testing.assert_allclose(r.esri, [5 / 6, (1 / 3 + 1 + 1 / 4) / 3, 5 / 6])
    np.testing.assert_allclose(r.downstream, [5 / 6, (1 + 1 / 4) / 3, 1 / 3])
    np.testing.assert_allclose(r.upstream, [1 / 3, (1 / 3 + 1) / 3, 5 / 6])
    # without them (the closed-network model): (2/3 + 1 + 1/2) / 3 for firm 1
    assert r.esri[1] < esri(W, SECTORS, weights="uniform").esri[1]


def test_essential_inputs_use_the_sector_share() -> None:
    # 1 fails: sector b is essential for 2 and all of 2's sector-b input came from 1, so 2 stops although
    # half of its inputs come from outside the network (they are not sector b); 0 loses 4 of 12 sales
    r = esri(W, SECTORS, essential="leontief", weights="uniform", total_sales=SALES, total_inputs=INPUTS)
    np.testing.assert_allclose(r.esri[1], (1 / 3 + 1 + 1) / 3)


def test_closed_cycle_no_longer_collapses() -> None:
    # 0 -> 1 -> 2 -> 0, 1 each: without outside trade any failure stops all three
    w = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_allclose(esri(w, SECTORS, tol=1e-12).esri, 1.0)
    # half of every firm's sales and inputs outside: 0 fails; downstream 1 loses 1/2, 2 then 1/2 * 1/2;
    # upstream 2 loses 1/2 (its sales to 0), 1 then 1/2 * 1/2: both lose max(1/2, 1/4) = 1/2
    r = supply_shock(w, SECTORS, [0.0, 1.0, 1.0], total_sales=2.0, total_inputs=2.0, tol=1e-14)
    np.testing.assert_allclose(r.downstream, [0.0, 0.5, 0.75])
    np.testing.assert_allclose(r.upstream, [0.0, 0.75, 0.5])
    np.testing.assert_allclose(r.loss, [1.0, 0.5, 0.5])
    for exact in (True, False):
        e = esri(w, SECTORS, total_sales=2.0, total_inputs=2.0, tol=1e-12, exact=exact)
        np.testing.assert_allclose(e.esri, (1 + 0.5 + 0.5) / 3, atol=1e-10)


def test_none_and_totals_at_or_below_strength_are_the_closed_model() -> None:
    rng = np.random.default_rng(8)
    w = sp.random(40, 40, density=0.1, random_state=rng, format="lil")
    w[30:, :] = 0.0  # leaks, so that the closed model settles (see test_frontier_matches_exact)
    w[:, :10] = 0.0
    w = sp.csr_matrix(w)
    sectors = rng.integers(0, 4, 40)
    ref = esri(w, sectors, essential="leontief", tol=1e-12, exact=True)
    s_out, s_in = np.asarray(w.sum(axis=1)).ravel(), np.asarray(w.sum(axis=0)).ravel()
    low = np.where(rng.random(40) < 0.5, np.nan, rng.random(40) * s_out)  # NaN or below in-network sales
    for sales, inputs in ((None, None), (s_out, s_in), (low, np.zeros(40)), (np.full(40, np.nan), None)):
        r = esri(
            w, sectors, essential="leontief", tol=1e-12, exact=True, total_sales=sales, total_inputs=inputs
        )
        np.testing.assert_allclose(r.esri, ref.esri, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(r.weights, ref.weights, rtol=1e-12)


def test_clamping_rule() -> None:
    # below in-network sales -> raised to them (0 sells 6 in the network), NaN -> in-network value
    r = esri(W, SECTORS, total_sales=[1.0, 5.0, np.nan], total_inputs=[np.nan, 0.0, 10.0])
    np.testing.assert_allclose(r.total_sales, [6.0, 5.0, 0.0])
    np.testing.assert_allclose(r.total_inputs, [0.0, 4.0, 10.0])
    with pytest.raises(InvalidModelInput, match="total_sales: firm 1 "):
        esri(W, SECTORS, total_sales=[12.0, -1.0, 4.0])
    with pytest.raises(InvalidModelInput, match="total_inputs: firm 2 "):
        supply_shock(W, SECTORS, [1.0, 0.0, 1.0], total_inputs=[0.0, 4.0, np.inf])
    with pytest.raises(InvalidModelInput, match="total_sales must have length 3"):
        esri(W, SECTORS, total_sales=[1.0, 2.0])


def test_weights_follow_total_sales() -> None:
    # 2 sells nothing in the network but 4 outside: it now counts in the network's output
    r = esri(W, SECTORS, total_sales=SALES, total_inputs=INPUTS)
    np.testing.assert_allclose(r.weights, np.array(SALES) / 18)
    np.testing.assert_allclose(r.esri[1], (12 * (1 / 3) + 2 * 1 + 4 * (1 / 4)) / 18)
    np.testing.assert_allclose(
        esri(W, SECTORS, total_sales=SALES, weights="out_strength").weights, [0.75, 0.25, 0]
    )
    with pytest.raises(InvalidModelInput, match="unknown weights"):
        esri(W, SECTORS, weights="revenue")


@pytest.mark.parametrize("essential", ["linear", "leontief"])
def test_frontier_matches_exact_with_outside_trade(essential: str) -> None:
    rng = np.random.default_rng(6)
    w = sp.random(80, 80, density=0.08, random_state=rng, format="csr")  # cycles everywhere
    sectors = rng.integers(0, 5, 80)
    s_out, s_in = np.asarray(w.sum(axis=1)).ravel(), np.asarray(w.sum(axis=0)).ravel()
    kw = {"total_sales": s_out * rng.uniform(1.2, 3.0, 80), "total_inputs": s_in * rng.uniform(1.2, 3.0, 80)}
    exact = esri(w, sectors, essential=essential, exact=True, tol=1e-13, **kw)
    fast = esri(w, sectors, essential=essential, tol=1e-9, block=16, **kw)
    np.testing.assert_allclose(fast.esri, exact.esri, atol=1e-7)
    coarse = esri(w, sectors, essential=essential, tol=1e-3, **kw)
    assert (coarse.esri <= exact.esri + 1e-12).all()  # the frontier only underestimates
    assert np.abs(coarse.esri - exact.esri).max() < 2e-2


def test_snapshot_esri_uses_annualised_revenue() -> None:
    """The snapshot adapter feeds 4 x quarterly revenue as total sales (outside trade dampens)."""
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    from contagion import esri, snapshot_esri

    supply = sp.csr_matrix(np.array([[0.0, 4.0, 0.0], [0.0, 0.0, 4.0], [0.0, 0.0, 0.0]]))
    firms = pd.DataFrame({"sector": ["C", "C", "C"], "revenue": [2.0, 2.0, np.nan]})

    class _Snap:
        pass

    snap = _Snap()
    snap.supply, snap.firms = supply, firms  # type: ignore[attr-defined]
    got = snapshot_esri(snap, tol=1e-12).esri
    rev = np.array([8.0, 8.0, np.nan])
    want = esri(supply, firms["sector"].to_numpy(), total_sales=rev, total_inputs=0.75 * rev, tol=1e-12).esri
    np.testing.assert_allclose(got, want)
