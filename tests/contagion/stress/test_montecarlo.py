"""run_stress end to end on the 7-firm snapshot: reproducibility, sharding, contagion, the bank."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from contagion.stress import StressPrecisionWarning, parse_scenario, run_stress
from contagion.stress.copula import draw_latent
from contagion.stress.distress import distress_defaults
from contagion.stress.montecarlo import prepare, simulate_block, warm_dask_workers

from .conftest import SCENARIO, USCC, build_snapshot, run_small


def test_same_seed_same_result_and_other_seed_differs() -> None:
    a, b = run_small(), run_small()
    pd.testing.assert_frame_equal(a.loss_distribution, b.loss_distribution)
    pd.testing.assert_frame_equal(a.firms, b.firms)
    c = run_small(seed=43)
    assert not np.array_equal(a.loss_distribution["loss"], c.loss_distribution["loss"])
    assert a.summary()["seed"] == 42 and c.summary()["seed"] == 43


def test_run_alone_equals_run_in_a_batch() -> None:
    snap = build_snapshot(equity=30.0)
    model, _ = prepare(snap, parse_scenario(SCENARIO), seed=42, bank_lenders=["BANK"])
    batch = simulate_block(model, 0, 40)
    for r in (0, 17, 39):
        alone = simulate_block(model, r, r + 1)
        assert alone.loss[0] == pytest.approx(batch.loss[r], abs=1e-12)
        assert alone.n_defaults[0] == batch.n_defaults[r]


def test_block_size_does_not_change_the_runs() -> None:
    a = run_small(block_size=1000)
    b = run_small(block_size=64)
    np.testing.assert_allclose(a.loss_distribution["loss"], b.loss_distribution["loss"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(a.firms["stress_default_prob"], b.firms["stress_default_prob"], atol=1e-12)


def test_sharded_equals_local() -> None:
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                           dashboard_address=None)
        with cluster, distributed.Client(cluster) as client:
            threads = warm_dask_workers(client)
            sharded = run_small(scheduler=client, block_size=100)
    # every worker gets its share of the host's cores for the kernels, at least one thread
    assert len(threads) == 2 and all(t >= 1 for t in threads.values())
    local = run_small(block_size=100)
    # folded in block order whatever order the workers finished in: the same sums bit for bit
    np.testing.assert_array_equal(sharded.firms["es_contribution"], local.firms["es_contribution"])
    np.testing.assert_array_equal(sharded.firms["stress_mean_loss"], local.firms["stress_mean_loss"])
    np.testing.assert_allclose(sharded.loss_distribution.to_numpy(dtype=float),
                               local.loss_distribution.to_numpy(dtype=float), atol=1e-12, rtol=0)
    for col in ("stress_default_prob", "stress_mean_loss", "stress_vulnerability"):
        np.testing.assert_allclose(sharded.firms[col], local.firms[col], atol=1e-12, rtol=0)
    for name in ("EL", "VaR", "ES"):
        level = None if name == "EL" else 0.99
        assert abs(sharded.measure(name, level) - local.measure(name, level)) <= 1e-12


def test_contagion_and_shocks() -> None:
    res = run_small()
    firms = res.firms.set_index("uscc")
    assert firms.loc[USCC[3], "stress_default_prob"] == 1.0  # shocked to default
    assert np.isnan(firms.loc[USCC[3], "stress_vulnerability"])  # always initially shocked
    # firm 4 (guaranteed by 3) and 5 (supplied by 3) take contagion from 3
    assert firms.loc[USCC[5], "stress_vulnerability"] > 0.0
    assert res.measure("EL") >= res.measure("EL", column="value_no_contagion")
    seg = res.segments
    assert {"region", "industry", "lender", "guarantee_circle", "layer"} <= set(seg.segment_type)
    layers = seg[seg.segment_type == "layer"].set_index("segment")["mean_loss"]
    assert layers.sum() == pytest.approx(res.measure("EL"))
    assert set(res.paths["layer"]) <= {"supply", "guarantee", "trade_credit"}
    assert (res.paths["stress_flow"].diff().dropna() <= 0).all()
    first = next(res.edge_rows(top=1))
    assert set(first) == {"source", "target", "layer", "stress_flow"}
    rows = list(res.firm_rows())
    assert len(rows) == 7 and set(rows[0]) == {"uscc", "stress_default_prob", "stress_vulnerability",
                                                "stress_systemic_impact", "stress_mean_loss"}


def test_systemic_impact_is_copied() -> None:
    res = run_small(systemic_impact=np.linspace(0, 0.6, 7))
    assert res.firms["stress_systemic_impact"].tolist() == pytest.approx(np.linspace(0, 0.6, 7).tolist())


def test_too_few_runs_warn_and_are_reported() -> None:
    # plain Monte Carlo: 200 runs leave 0.2 draws beyond the 99.9 % VaR. (With importance sampling
    # on, this small portfolio's losses pile up at "every firm in default", an atom that puts 15
    # runs at the VaR, and the rule rightly counts them.)
    plain = parse_scenario(SCENARIO + "sampling:\n  importance: 'off'\n")
    with pytest.warns(StressPrecisionWarning):
        res = run_stress(build_snapshot(equity=30.0), plain, progress=False, bank_lenders=["BANK"], runs=200)
    assert any("unreliable" in w for w in res.warnings)
    assert res.summary()["warnings"]


def test_selector_matching_nothing_names_the_line() -> None:
    from chainrisk.errors import ScenarioError

    s = parse_scenario("name: x\nruns: 1000\nshocks:\n  - region: '99'\n", file="x.yaml")
    with pytest.raises(ScenarioError) as info:
        run_stress(build_snapshot(), s, progress=False, scenario_file="x.yaml")
    assert info.value.line == 4


@pytest.mark.filterwarnings("ignore::contagion.stress.tail_stats.StressPrecisionWarning")  # 200 runs: quick
def test_bank_lenders_come_from_the_argument_or_the_scenario_never_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chainrisk.settings import get_settings

    monkeypatch.setenv("CHAINRISK_BANK_LENDERS", "OTHER")
    get_settings.cache_clear()
    try:
        snap = build_snapshot(equity=30.0)
        plain = parse_scenario(SCENARIO.replace("runs: 1000", "runs: 200"))
        every = run_stress(snap, plain, progress=False)  # None, and none in the scenario: every lender
        assert every.bank_lenders == ()
        explicit_empty = run_stress(snap, plain, progress=False, bank_lenders=[])
        pd.testing.assert_frame_equal(every.loss_distribution, explicit_empty.loss_distribution)
        bank = run_stress(snap, plain, progress=False, bank_lenders=["BANK"])
        assert bank.bank_lenders == ("BANK",)
        assert every.measure("EL") > bank.measure("EL")  # OTHER's loan to firm 6 counts too
        named = parse_scenario(SCENARIO.replace("runs: 1000", "runs: 200") + "bank_lenders: [BANK]\n")
        from_scenario = run_stress(snap, named, progress=False)
        assert from_scenario.bank_lenders == ("BANK",)
        pd.testing.assert_frame_equal(from_scenario.loss_distribution, bank.loss_distribution)
        assert run_stress(snap, named, progress=False, bank_lenders=["OTHER"]).bank_lenders == ("OTHER",)
    finally:
        get_settings.cache_clear()


def test_no_shock_no_contagion_el_is_the_sum_of_pd_ead_lgd() -> None:
    # guarantees off too (recoveries 0), so each firm loses EAD x LGD with probability PD
    pds = [0.02, 0.05, 0.03, 0.04, 0.01, 0.06, 0.02]
    text = ("name: quiet\nruns: 4000\nseed: 9\ncontagion:\n  transmission: {supply: 0, guarantee: 0, "
            "trade_credit: 0}\nloss: {firm_recovery: 0, person_recovery: 0}\n")
    res = run_stress(build_snapshot(pd_=pds), parse_scenario(text), progress=False, bank_lenders=["BANK"])
    f = res.firms
    assert {"lgd", "in_default", "pd", "bank_ead"} <= set(f.columns)
    expected = float((f["pd"] * f["bank_ead"] * f["lgd"].fillna(0.0)).sum())
    assert abs(res.measure("EL") - expected) < 3 * res.measure("EL", column="se")
    share = res.summary()["contagion"]
    assert share["EL_no_contagion"] == pytest.approx(share["EL"])
    assert share["share_of_EL"] == pytest.approx(0.0)


def test_summary_reports_the_share_of_loss_contagion_adds() -> None:
    res = run_small()
    c = res.summary()["contagion"]
    el = res.measures[res.measures["measure"] == "EL"].iloc[0]
    # the means of measures.EL: weighted by the importance-sampling weights of the runs
    assert c["EL"] == pytest.approx(el["value"], rel=1e-12)
    assert c["EL_no_contagion"] == pytest.approx(el["value_no_contagion"], rel=1e-12)
    d = res.loss_distribution
    w = d["weight"] / d["weight"].sum()
    assert res.summary()["sampling"]["importance"]  # the tilted runs' plain mean would overstate EL
    assert c["EL"] == pytest.approx(float(w @ d["loss"]), rel=1e-9) and c["EL"] < d["loss"].mean()
    assert c["share_of_EL"] == pytest.approx((c["EL"] - c["EL_no_contagion"]) / c["EL"])
    assert c["share_of_EL"] > 0 and c["debtrank_matrix"] == "uncapped" and c["supply_margin"] == 0.1
    # same draws: a run never loses less with contagion than without
    d = res.loss_distribution
    assert (d["loss"] >= d["loss_no_contagion"] - 1e-9).all()


def _spread_restarting(model, shock, latent, live):  # type: ignore[no-untyped-def]
    """The mapping loop that propagates the enlarged shock from scratch each time (the reference)."""
    import contagion.multilayer as multilayer
    from contagion.stress.distress import distress_defaults

    def run(s: np.ndarray) -> multilayer.MultiLayerResult:
        return multilayer.propagate(model.layers, s, transmission=model.transmission, tol=model.tol,
                                    default_threshold=model.default_threshold, max_rounds=model.max_rounds)

    res = run(shock)
    h, by_layer = res.distress.copy(), {k: v.copy() for k, v in res.loss_by_layer.items()}
    while True:
        dflt = live & distress_defaults(latent, model.copula.thresholds, h,
                                        sensitivity=model.distress_sensitivity,
                                        default_threshold=model.default_threshold)
        grow = dflt & (h < 1.0) & (shock < 1.0)
        cols = np.flatnonzero(grow.any(axis=0))
        if not len(cols):
            return h, by_layer, dflt, res.rounds, True
        shock[:, cols] = np.maximum(shock[:, cols], grow[:, cols])
        sub = run(shock[:, cols])
        h[:, cols] = sub.distress
        for name, v in sub.loss_by_layer.items():
            by_layer[name][:, cols] = v


def test_mapping_in_the_rounds_reaches_the_restarted_fixed_point(monkeypatch: pytest.MonkeyPatch) -> None:
    import contagion.multilayer as multilayer
    import contagion.stress.montecarlo as mc

    snap = build_snapshot(equity=8.0)  # thin equity: the distress mapping adds defaults in many runs
    model, _ = prepare(snap, parse_scenario(SCENARIO + "  distress_sensitivity: 3.0\n"), seed=42,
                       bank_lenders=["BANK"])
    calls: list[bool] = []
    inner = multilayer.propagate

    def counted(*args: object, **kw: object) -> multilayer.MultiLayerResult:
        calls.append(kw.get("rule") is not None)
        return inner(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(multilayer, "propagate", counted)
    cont = simulate_block(model, 0, 300)
    assert calls == [True]  # one propagation, the mapping inside its rounds
    monkeypatch.setattr(mc, "_spread", _spread_restarting)
    again = simulate_block(model, 0, 300)
    assert len(calls) > 2  # the reference needed restarts: the mapping added defaults
    np.testing.assert_array_equal(cont.n_defaults, again.n_defaults)
    np.testing.assert_allclose(cont.loss, again.loss, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cont.distress, again.distress, atol=1e-10)
    np.testing.assert_allclose(cont.firm_defaults, again.firm_defaults, atol=1e-12)
    # the same contagion loss; the restart booked mapped defaults as direct (they were shocks
    # there), the rounds book them to the layers that carried their distress
    total = sum(cont.loss_by_cause.values())
    np.testing.assert_allclose(total, sum(again.loss_by_cause.values()), rtol=1e-9)
    assert (cont.loss_by_cause["direct"] <= again.loss_by_cause["direct"] + 1e-9).all()
    assert (cont.loss_by_cause["direct"] < again.loss_by_cause["direct"] - 1e-6).sum() > 10


def test_direct_loss_is_the_loss_of_firms_that_default_without_contagion() -> None:
    snap = build_snapshot(equity=8.0)
    model, _ = prepare(snap, parse_scenario(SCENARIO + "  distress_sensitivity: 3.0\n"), seed=42,
                       bank_lenders=["BANK"])
    block = simulate_block(model, 0, 300)
    latent = draw_latent(model.copula, range(300), model.seed)
    # without contagion: the copula's draws, firm 3's failure, the mapping of the 10 % haircut
    shock = np.maximum(model.initial[:, None], (latent < model.copula.thresholds[:, None]))
    alone = distress_defaults(latent, model.copula.thresholds, shock, sensitivity=3.0, default_threshold=1.0)
    firm_loss = block.run_firm_loss.toarray()
    np.testing.assert_allclose(block.loss_by_cause["direct"], (firm_loss * alone).sum(axis=0), atol=1e-9)
    contagion = np.sum([v for k, v in block.loss_by_cause.items() if k != "direct"], axis=0)
    assert (contagion > 0).sum() > 50  # mapped defaults carry loss, booked to the layers
    np.testing.assert_allclose(block.loss_by_cause["direct"] + contagion, firm_loss.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("equity", [30.0, 1.0e6])
def test_summary_reports_whether_the_contagion_amplifies(equity: float) -> None:
    from contagion.multilayer import spectral_radius

    snap = build_snapshot(equity=equity)
    spec = parse_scenario("name: amp\nruns: 50\nseed: 1\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        res = run_stress(snap, spec, progress=False, bank_lenders=["BANK"])
        off = run_stress(snap, parse_scenario("name: amp\nruns: 50\nseed: 1\ncontagion: {transmission: "
                                              "{supply: 0, guarantee: 0, trade_credit: 0}}\n"),
                         progress=False, bank_lenders=["BANK"])
    model, _ = prepare(snap, spec, seed=1, bank_lenders=["BANK"])
    rho = res.summary()["contagion"]["spectral_radius"]
    assert rho["combined"] == pytest.approx(spectral_radius(model.layers, model.transmission), rel=1e-12)
    for layer in ("supply", "guarantee", "trade_credit"):
        assert rho[layer] == pytest.approx(spectral_radius({layer: model.layers[layer]}), rel=1e-12)
    noted = [w for w in res.warnings if "spectral radius" in w]
    # thin equity (30): the guarantee circle amplifies; ample equity damps everything
    assert (rho["combined"] >= 1.0) == (equity == 30.0) == bool(noted)
    assert off.summary()["contagion"]["spectral_radius"]["combined"] == 0.0
    assert not [w for w in off.warnings if "spectral radius" in w]
