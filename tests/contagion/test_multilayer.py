"""Multi-layer contagion: layer construction and attributed propagation."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from chainrisk.errors import InvalidModelInput
from contagion import build_layers, debtrank, propagate
from contagion.multilayer import supply_exposure
from ingest.snapshot import Snapshot


def snapshot(equity, supply, guarantees=None, receivables=None, revenue=None) -> Snapshot:  # type: ignore[no-untyped-def]
    n = len(equity)
    zero = [[0.0] * n for _ in range(n)]
    firms = pd.DataFrame({"uscc": [f"U{i}" for i in range(n)], "equity": equity})
    if revenue is not None:
        firms["revenue"] = revenue
    return Snapshot(
        as_of=datetime.date(2024, 6, 30),
        firms=firms,
        supply=sp.csr_matrix(np.array(supply, dtype=float)),
        guarantees=sp.csr_matrix(np.array(guarantees or zero, dtype=float)),
        receivables=sp.csr_matrix(np.array(receivables or zero, dtype=float)),
        loans=pd.DataFrame(),
        guarantee_contracts=pd.DataFrame(),
    )


def test_build_layers_conversions() -> None:
    snap = snapshot(
        [100.0, 50.0, 20.0],
        supply=[[0, 200, 0], [0, 0, 100], [0, 0, 0]],
        guarantees=[[0, 0, 80], [0, 0, 0], [0, 0, 0]],
        receivables=[[0, 0, 0], [40, 0, 0], [0, 0, 0]],
    )
    layers = build_layers(snap, loss_rate=0.5, supply_margin=0.1, supply_replacement_months=12)
    assert set(layers) == {"supply", "guarantee", "trade_credit"}
    # supply: 0 sells 200 to 1 -> W[0,1] = 0.1*200/100 = 0.2 (supplier side), W[1,0] = 0.1*200/50 = 0.4
    # (buyer side); 1 sells 100 to 2 -> W[1,2] = 0.1*100/50 = 0.2, W[2,1] = min(1, 0.1*100/20) = 0.5
    np.testing.assert_allclose(layers["supply"].toarray(), [[0, 0.2, 0], [0.4, 0, 0.2], [0, 0.5, 0]])
    np.testing.assert_allclose(
        layers["guarantee"].toarray(), [[0, 0, 0.4], [0, 0, 0], [0, 0, 0]]
    )  # .5*80/100
    np.testing.assert_allclose(
        layers["trade_credit"].toarray(), [[0, 0, 0], [0.4, 0, 0], [0, 0, 0]]
    )  # .5*40/50
    assert all(sp.isspmatrix_csr(m) and m.dtype == np.float64 for m in layers.values())


def test_supply_layer_uses_shares_of_revenue_where_links_exceed_it() -> None:
    """Three firms whose link values add up to more than their yearly revenue, by hand (supply and
    the trade credit booked on the sales); a failed partner's whole year is lost (12 months).

    A sells 300 to B and 100 to C and buys 50 from C; B sells 40 to C. Quarterly revenue:
    A 50 (yearly 200), B 25 (yearly 100), C none. Equity 100 each, margin 0.1.
    A's sales links total 400 > 200: its sales shares are 300/400 and 100/400 of 200, i.e.
    150 and 50; its inputs (50) stay within the revenue: 50. B's inputs total 300 > 100: the
    300 from A count as 100; its sales (40) as they are. C has no revenue: its links as they are.
    """
    flows = [[0, 300, 100], [0, 0, 40], [50, 0, 0]]
    snap = snapshot([100.0, 100.0, 100.0], flows, revenue=[50.0, 25.0, np.nan])
    w = build_layers(snap, supply_margin=0.1, supply_replacement_months=12,
                     matrix="uncapped")["supply"].toarray()
    want = np.array([  # by hand
        [0.0, 0.1 * 150 / 100, 0.1 * (50 + 50) / 100],  # A: sales to B, sales to C + inputs from C
        [0.1 * 100 / 100, 0.0, 0.1 * 40 / 100],  # B: inputs from A (300 of 300 -> 100), sales to C
        [0.1 * (50 + 100) / 100, 0.1 * 40 / 100, 0.0],  # C: sales to A + inputs from A; inputs from B
    ])
    np.testing.assert_allclose(w, want)
    # the raw flows would make A lose 0.3 of its equity to B's failure (0.1 x 300 / 100), twice as much
    raw = build_layers(snapshot([100.0, 100.0, 100.0], flows), supply_margin=0.1,
                       supply_replacement_months=12)["supply"].toarray()
    assert raw[0, 1] == pytest.approx(0.3) and raw[1, 0] == pytest.approx(0.3)
    # receivables (balances) booked on A's overstated sales take A's factor 200/400; B's and C's stay
    rec = [[0, 60, 0], [0, 0, 10], [20, 0, 0]]
    tc = build_layers(snapshot([100.0, 100.0, 100.0], flows, receivables=rec, revenue=[50.0, 25.0, np.nan]),
                      loss_rate=0.5, matrix="uncapped")["trade_credit"].toarray()
    want_tc = [[0, 0.5 * 0.5 * 60 / 100, 0], [0, 0, 0.5 * 10 / 100], [0.5 * 20 / 100, 0, 0]]
    np.testing.assert_allclose(tc, want_tc)
    # the same figures from the exposure helper, in money, on yearly revenue
    exp = supply_exposure(sp.csr_matrix(np.array(flows, dtype=float)), np.array([200.0, 100.0, np.nan]))
    np.testing.assert_allclose(exp.toarray(), [[0, 150, 100], [100, 0, 40], [150, 40, 0]])


def test_supply_replacement_months_scale_the_supply_layer_only() -> None:
    """The 3-firm case above with partners replaced in 3 months instead of a whole year, by hand.

    A (yearly revenue 200, equity 100) sells 300 to B and 100 to C and buys 50 from C: its sales
    shares are 150 and 50 of its revenue, its inputs 50. Replaced in T = 3 months, a failed B
    costs A the margin 0.1 on 3/12 of 150: 0.1 x 150 x 0.25 / 100 = 0.0375 of its equity; a
    failed C 0.1 x (50 + 50) x 0.25 / 100 = 0.025. The guarantee and trade-credit layers do not
    depend on T.
    """
    flows = [[0, 300, 100], [0, 0, 40], [50, 0, 0]]
    rec = [[0, 60, 0], [0, 0, 10], [20, 0, 0]]
    gua = [[0, 0, 30], [0, 0, 0], [0, 0, 0]]
    snap = snapshot([100.0, 100.0, 100.0], flows, guarantees=gua, receivables=rec,
                    revenue=[50.0, 25.0, np.nan])
    quarter = build_layers(snap, supply_margin=0.1, supply_replacement_months=3, matrix="uncapped")
    year = build_layers(snap, supply_margin=0.1, supply_replacement_months=12, matrix="uncapped")
    assert quarter["supply"][0, 1] == pytest.approx(0.1 * 150 * 3 / 12 / 100)  # 0.0375
    assert quarter["supply"][0, 2] == pytest.approx(0.1 * (50 + 50) * 3 / 12 / 100)  # 0.025
    assert quarter["supply"][1, 0] == pytest.approx(0.1 * 100 * 3 / 12 / 100)  # B's inputs from A: 100 of 300
    np.testing.assert_allclose(quarter["supply"].toarray(), year["supply"].toarray() / 4)
    for name in ("guarantee", "trade_credit"):
        np.testing.assert_array_equal(quarter[name].toarray(), year[name].toarray())
    # the default is one quarter
    np.testing.assert_allclose(build_layers(snap, supply_margin=0.1, matrix="uncapped")["supply"].toarray(),
                               quarter["supply"].toarray())
    for bad in (0.0, -1.0, 12.5, float("nan")):
        with pytest.raises(InvalidModelInput, match="supply_replacement_months"):
            build_layers(snap, supply_replacement_months=bad)


def test_supply_shares_never_sum_above_the_revenue() -> None:
    """On a seeded random network with flows several times the revenue, each side of a firm puts at
    most its yearly revenue at stake, and firms within their revenue keep the raw flows."""
    rng = np.random.default_rng(7)
    n = 60
    flows = sp.random(n, n, density=0.15, random_state=rng, data_rvs=lambda k: rng.lognormal(3.0, 1.0, k))
    flows.setdiag(0.0)
    flows = sp.csr_matrix(flows)
    flows.eliminate_zeros()
    revenue = rng.lognormal(3.0, 1.0, n)  # yearly; many firms' links add up to several times it
    exp = supply_exposure(flows, revenue)
    assert (np.asarray(exp.sum(axis=1)).ravel() <= 2.0 * revenue + 1e-9).all()
    sales = np.asarray(flows.sum(axis=1)).ravel()
    inputs = np.asarray(flows.sum(axis=0)).ravel()
    assert (sales > revenue).sum() > 5 and (inputs > revenue).sum() > 5  # the case is exercised
    within = (sales <= revenue) & (inputs <= revenue)
    raw = (flows + flows.T).toarray()
    np.testing.assert_allclose(exp.toarray()[within], raw[within])


def test_build_layers_cap_and_equity_rule() -> None:
    snap = snapshot(
        [10.0, 0.0, np.nan, -5.0], supply=[[0, 1000, 1, 1], [1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]
    )
    w = build_layers(snap)["supply"].toarray()
    assert w[0, 1] == 1.0  # 0.1 * (1000 + 1) / 10 capped at 1
    # zero, unknown and negative equity: no buffer, any positive exposure is total
    assert (
        w[1].tolist() == [1.0, 0, 0, 0]
        and w[2].tolist() == [1.0, 0, 0, 0]
        and w[3].tolist() == [1.0, 0, 0, 0]
    )
    assert np.isfinite(w).all()


def test_build_layers_names_the_uscc() -> None:
    snap = snapshot([1.0, 1.0], supply=[[0, 1], [0, 0]], guarantees=[[0, 0], [np.nan, 0]])
    with pytest.raises(InvalidModelInput, match="U1"):
        build_layers(snap)


def test_hand_example_and_attribution() -> None:
    sup = sp.csr_matrix([[0, 0.5, 0], [0, 0, 0], [0, 0, 0]])
    gua = sp.csr_matrix([[0, 0.25, 0], [0, 0, 0.5], [0, 0, 0]])
    r = propagate(
        {"supply": sup, "guarantee": gua}, np.array([0.0, 0.0, 1.0]), equity=np.array([10.0, 4.0, 1.0])
    )
    # round 1: firm 1 gets 0.5 * 1 through guarantees
    # round 2: firm 0 gets 0.5 * 0.5 = 0.25 (supply) + 0.25 * 0.5 = 0.125 (guarantee) = 0.375
    np.testing.assert_allclose(r.distress[:, 0], [0.375, 0.5, 1.0])
    np.testing.assert_allclose(r.loss_by_layer["supply"][:, 0], [2.5, 0.0, 0.0])  # 0.25 * equity 10
    np.testing.assert_allclose(r.loss_by_layer["guarantee"][:, 0], [1.25, 2.0, 0.0])  # 0.125*10, 0.5*4
    assert r.defaulted[:, 0].tolist() == [False, False, True]
    assert r.converged and r.rounds == 3


def test_attribution_sums_to_total_loss_with_caps() -> None:
    rng = np.random.default_rng(7)
    n, k = 40, 9
    layers = {name: sp.random(n, n, density=0.1, random_state=rng, format="csr") * 0.8 for name in "abc"}
    shock = rng.random((n, k)) * (rng.random((n, k)) < 0.2)
    equity = rng.random(n) * 100
    r = propagate(layers, shock, transmission={"a": 1.0, "b": 0.5}, equity=equity, default_threshold=0.9)
    assert (r.distress == 1.0).any()  # caps were hit
    total = sum(r.loss_by_layer.values())
    np.testing.assert_allclose(total, (r.distress - shock) * equity[:, None], atol=1e-9)
    assert r.defaulted.tolist() == (r.distress >= 0.9).tolist()
    # same distress as differential DebtRank on the weighted sum
    w = layers["a"] + 0.5 * layers["b"] + layers["c"]
    np.testing.assert_allclose(r.distress, debtrank(w, shock, variant="differential").distress, atol=1e-12)


def test_zero_transmission_silences_a_layer() -> None:
    sup = sp.csr_matrix([[0, 0.5, 0], [0, 0, 0], [0, 0, 0]])
    gua = sp.csr_matrix([[0, 0.25, 0], [0, 0, 0.5], [0, 0, 0]])
    r = propagate(
        {"supply": sup, "guarantee": gua}, np.array([0.0, 0.9, 0.0]), transmission={"guarantee": 0.0}
    )
    assert not r.loss_by_layer["guarantee"].any()
    np.testing.assert_allclose(r.distress[:, 0], [0.45, 0.9, 0.0])


def test_bad_inputs() -> None:
    w = {"supply": sp.csr_matrix((3, 3))}
    with pytest.raises(InvalidModelInput, match="firm 1"):
        propagate(w, np.zeros(3), equity=np.array([1.0, np.nan, 1.0]))
    with pytest.raises(InvalidModelInput, match="firm 2"):
        propagate(w, np.zeros(3), equity=np.array([1.0, 1.0, -1.0]))
    with pytest.raises(InvalidModelInput, match="unknown layer"):
        propagate(w, np.zeros(3), transmission={"ownership": 1.0})
    with pytest.raises(InvalidModelInput, match="3 x 3"):
        propagate({"a": sp.csr_matrix((3, 3)), "b": sp.csr_matrix((2, 2))}, np.zeros(3))


def test_uncapped_matrix_passes_partial_distress_where_guarantees_exceed_equity() -> None:
    # firm 0 (equity 10) owes 30 when borrower 1 defaults: E/e = 3. Firm 1 loses 30 % of its equity.
    snap = snapshot([10.0, 100.0], [[0, 0], [0, 0]])
    calls = sp.csr_matrix(np.array([[0.0, 30.0], [0.0, 0.0]]))
    shock = np.array([0.0, 0.3])
    for matrix, expected in (("capped", 0.3), ("uncapped", 0.9)):
        layers = build_layers(snap, matrix=matrix, guarantee_exposure=calls)  # type: ignore[arg-type]
        assert layers["guarantee"][0, 1] == pytest.approx(1.0 if matrix == "capped" else 3.0)
        # Battiston: min(1, 3) x 0.3 = 0.3; Bardoscia: 3 x 0.3 = 0.9
        h = propagate(layers, shock).distress[:, 0]
        assert h.tolist() == [pytest.approx(expected), pytest.approx(0.3)]
    # distress itself stays capped at 1: a 0.5 shock would cost 1.5 of equity
    layers = build_layers(snap, matrix="uncapped", guarantee_exposure=calls)
    assert propagate(layers, np.array([0.0, 0.5])).distress[0, 0] == pytest.approx(1.0)
    with pytest.raises(InvalidModelInput):
        build_layers(snap, matrix="sideways")  # type: ignore[arg-type]


def test_supply_margin_and_equity_override() -> None:
    # firm 0 sells 200 to firm 1; margin 0.25 and an imputed equity of 100 for firm 1 (reported 0)
    snap = snapshot([100.0, 0.0], [[0, 200.0], [0, 0]])
    plain = build_layers(snap, supply_margin=0.25)
    assert plain["supply"][1, 0] == 1.0  # zero equity: any exposure wipes it out
    imputed = build_layers(snap, supply_margin=0.25, supply_replacement_months=12, equity=[100.0, 100.0])
    assert imputed["supply"].toarray().tolist() == [[0.0, 0.5], [0.5, 0.0]]  # 0.25 x 200 / 100


def test_propagate_from_a_prior_state_reaches_the_restart() -> None:
    sup = sp.csr_matrix(np.array([[0, 0.5, 0, 0], [0, 0, 0, 0.2], [0, 0, 0, 0], [0.3, 0, 0, 0]]))
    gua = sp.csr_matrix(np.array([[0, 0.25, 0, 0], [0, 0, 0.5, 0], [0, 0, 0, 0], [0, 0, 0.9, 0]]))
    layers = {"supply": sup, "guarantee": gua}
    first = propagate(layers, np.array([0.0, 0.0, 0.4, 0.0]), tol=1e-14)
    more = np.array([0.0, 1.0, 0.4, 0.0])  # firm 1 added as a full default
    cont = propagate(layers, more, prior=first.distress, tol=1e-14)
    again = propagate(layers, more, tol=1e-14)
    np.testing.assert_allclose(cont.distress, again.distress, atol=1e-12)
    assert cont.distress[1, 0] == 1.0 and cont.distress[0, 0] > first.distress[0, 0]
    gained = sum(cont.loss_by_layer.values())  # this call's increments beyond max(prior, shock)
    start = np.maximum(first.distress[:, 0], more)
    np.testing.assert_allclose(gained[:, 0], cont.distress[:, 0] - start, atol=1e-12)
    with pytest.raises(InvalidModelInput, match="full default"):
        propagate(layers, np.array([0.0, 0.5, 0.4, 0.0]), prior=first.distress)
    with pytest.raises(InvalidModelInput, match="shape"):
        propagate(layers, np.array([0.0, 0.0, 0.4, 0.0]), prior=np.zeros((4, 2)))


def test_spectral_radius_is_the_amplification_of_the_propagation() -> None:
    from contagion.multilayer import DENSE_EIGEN_MAX, spectral_radius

    from .conftest import random_impact

    # ARPACK above DENSE_EIGEN_MAX firms agrees with every eigenvalue of the dense matrix
    a, b = random_impact(300, 0.02, seed=3) * 0.4, random_impact(300, 0.02, seed=4) * 0.9
    assert DENSE_EIGEN_MAX < 300
    dense = np.max(np.abs(np.linalg.eigvals((a + 2.0 * b).toarray())))
    got = spectral_radius({"a": a, "b": b}, {"b": 2.0})
    assert got == pytest.approx(dense, rel=1e-8) and got == spectral_radius({"a": a, "b": b}, {"b": 2.0})
    assert spectral_radius({"a": a, "b": b}, {"a": 0.0, "b": 0.0}) == 0.0
    # what it says: below 1 a small shock stays small (the increments die out); above 1 it grows
    # through the cycles until the cap at 1 stops it
    low = sp.csr_matrix(a / spectral_radius({"a": a}) * 0.5)
    high = sp.csr_matrix(a / spectral_radius({"a": a}) * 2.0)
    shock = np.zeros(300)
    shock[np.argmax(np.asarray(a.sum(axis=0)).ravel())] = 0.01
    calm = propagate({"a": low}, shock).distress[:, 0]
    wild = propagate({"a": high}, shock).distress[:, 0]
    assert calm.max() < 0.05 and (calm < 1.0).all()
    assert (wild == 1.0).sum() > 10  # saturated
    with pytest.raises(InvalidModelInput, match="unknown layer"):
        spectral_radius({"a": a}, {"z": 1.0})
