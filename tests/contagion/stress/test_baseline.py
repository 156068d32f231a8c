"""The calm-year baseline and the transmission of the PDs' own defaults (contagion.stress.baseline)."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from contagion.stress import StressPrecisionWarning, StressResult, parse_scenario, run_stress
from contagion.stress.baseline import pd_default_shock
from contagion.stress.montecarlo import prepare, simulate_block
from ingest.snapshot import Snapshot
from ingest.uscc import make

from .conftest import SCENARIO, build_snapshot


def random_platform(n: int = 300, seed: int = 11) -> Snapshot:
    """A seeded random platform with the flows of a generated one: per firm, supply link values add
    up to more than the yearly revenue for many firms (a link is 0.15 sqrt(A_s A_b), lognormal noise),
    receivables are about 60 days of a link's flow, one bank loan per firm, PDs of 1-8 %."""
    rng = np.random.default_rng(seed)
    assets = rng.lognormal(16.0, 1.0, n)
    equity = assets * rng.uniform(0.2, 0.5, n)
    revenue = assets * rng.uniform(0.6, 1.4, n) / 4.0  # quarterly
    links = 6 * n
    s, b = rng.integers(0, n, links), rng.integers(0, n, links)
    keep = s != b
    s, b = s[keep], b[keep]
    value = 0.15 * np.sqrt(assets[s] * assets[b]) * rng.lognormal(0.0, 0.5, len(s))
    supply = sp.csr_matrix((value, (s, b)), shape=(n, n))
    owed = rng.random(len(s)) < 0.4
    receivables = sp.csr_matrix((value[owed] * 60.0 / 365.0, (s[owed], b[owed])), shape=(n, n))
    uscc = [make(f"91350100MB{i:07d}") for i in range(n)]
    firms = pd.DataFrame({
        "uscc": uscc, "name": [f"F{i}" for i in range(n)],
        "industry": ["C3311"] * n, "sector": rng.choice(["C", "F", "G"], n).tolist(),
        "region": rng.choice(["350100", "440300", "110100"], n).tolist(),
        "equity": equity, "revenue": revenue, "total_assets": assets,
        "guarantee_ratio": np.zeros(n), "defaulted": np.zeros(n, dtype=bool),
        "pd": rng.uniform(0.01, 0.08, n),
    })
    principal = 0.3 * assets
    loans = pd.DataFrame({
        "loan_id": [f"L{i}" for i in range(n)], "borrower": np.arange(n), "borrower_uscc": uscc,
        "lender": ["BANK"] * n, "principal": principal, "limit": principal, "outstanding": principal,
        "collateral_type": [None] * n, "collateral_value": np.full(n, np.nan), "lgd": np.full(n, 0.45),
        "classification": ["normal"] * n, "min_classification": ["normal"] * n,
    })
    contracts = pd.DataFrame({c: pd.Series(dtype=object) for c in (
        "guarantor_id", "guarantor_type", "guarantor", "borrower", "borrower_uscc", "loan_id", "amount",
        "start", "end")})
    return Snapshot(as_of=date(2024, 6, 30), firms=firms, supply=supply, guarantees=sp.csr_matrix((n, n)),
                    receivables=receivables, loans=loans, guarantee_contracts=contracts)


def _quiet(snap: Snapshot, text: str, **kw: Any) -> StressResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        return run_stress(snap, parse_scenario(text), progress=False, bank_lenders=["BANK"], **kw)


def test_no_shock_el_stays_near_the_pds_expectation_on_realistic_flows() -> None:
    """The saturation finding: with no shock, EL is the PDs' own expectation plus a little (within
    20 %), not a multiple of it, once the supply layer takes shares of the revenue and the PDs'
    defaults pass on only their excess (the defaults); on the raw flows with every PD default passed
    on in full and a failed partner's whole year lost (the engine before) the same network doubles it."""
    snap = random_platform()
    text = "name: calm\nruns: 1500\nseed: 5\n"
    res = _quiet(snap, text)
    f = res.firms
    expected = float((f["pd"] * f["bank_ead"] * f["lgd"]).sum())  # no guarantees: nothing recovered
    assert abs(res.measure("EL") - expected) < 0.20 * expected
    base = res.summary()["contagion"]["baseline"]
    assert base["same_runs_as_scenario"] and base["pd_expectation"] == pytest.approx(expected, rel=1e-9)
    before = _quiet(dataclasses.replace(snap, firms=snap.firms.drop(columns=["revenue"])),
                    text + "contagion: {from_pd_defaults: all, supply_replacement_months: 12}\n")
    assert before.measure("EL") > 1.8 * expected
    rho = res.summary()["contagion"]["spectral_radius"]["supply"]
    assert rho < before.summary()["contagion"]["spectral_radius"]["supply"]
    none = _quiet(snap, text + "contagion: {from_pd_defaults: none}\n")
    assert none.measure("EL") == pytest.approx(none.summary()["contagion"]["EL_no_contagion"], rel=1e-12)


def test_scenario_el_splits_into_pds_calm_contagion_and_the_scenarios_increment() -> None:
    res = _quiet(build_snapshot(equity=30.0), SCENARIO, baseline_runs=1000)
    c = res.summary()["contagion"]
    base = c["baseline"]
    assert base["runs"] == 1000 and not base["same_runs_as_scenario"]
    parts = base["EL_no_contagion"]["value"] + base["contagion_in_calm_year"] + c["EL_over_baseline"]["value"]
    assert parts == pytest.approx(res.measure("EL"), rel=1e-12)
    assert c["EL_over_baseline"]["value"] > 0  # firm 3's failure and the haircut cost something
    # the calm year is the same scenario without shocks, haircuts and shifts, on the same runs
    calm_text = SCENARIO.split("shocks:")[0] + "copula:" + SCENARIO.split("copula:")[1]
    assert "shocks" not in calm_text and "haircut" not in calm_text and "rho_sector" in calm_text
    calm = _quiet(build_snapshot(equity=30.0), calm_text)
    assert base["EL"]["value"] == pytest.approx(calm.measure("EL"), rel=1e-9)
    assert base["EL"]["se"] == pytest.approx(calm.measure("EL", column="se"), rel=1e-9)


def test_baseline_runs_default_to_a_quarter_and_zero_switches_them_off() -> None:
    assert _quiet(build_snapshot(), SCENARIO, runs=200).summary()["contagion"]["baseline"]["runs"] == 50
    off = _quiet(build_snapshot(), SCENARIO, runs=200, baseline_runs=0).summary()["contagion"]
    assert "baseline" not in off and "EL_over_baseline" not in off


def test_pd_defaults_enter_the_propagation_at_their_excess() -> None:
    """Outside ``all`` the copula's defaults stay defaults, pass on only s_r, and the scenario's in full."""
    snap = build_snapshot(equity=30.0)
    # a partner's whole year lost: the small network's supply layer then passes enough on to tell them apart
    spec = parse_scenario(SCENARIO.replace("{rho_sector: 0.2", "{rho_global: 0.3, rho_sector: 0.2")
                          + "  supply_replacement_months: 12\n")
    assert spec.copula.rho_global == 0.3
    model, ctx = prepare(snap, spec, seed=42, bank_lenders=["BANK"])
    assert model.from_pd_defaults == "excess"
    assert model.expected_defaults == pytest.approx(float(ctx["pd"][~ctx["in_default"]].sum()))
    block = simulate_block(model, 0, 200)
    every = simulate_block(dataclasses.replace(model, from_pd_defaults="all"), 0, 200)
    none = simulate_block(dataclasses.replace(model, from_pd_defaults="none"), 0, 200)
    # the same draws: the copula's defaults are booked alike; contagion only grows with what they pass on
    assert (none.loss <= block.loss + 1e-9).all() and (block.loss <= every.loss + 1e-9).all()
    np.testing.assert_allclose(block.loss_no_contagion, every.loss_no_contagion)
    assert (every.loss > block.loss + 1e-9).any()


def test_pd_default_shock_by_hand() -> None:
    fresh = np.zeros((5, 4), dtype=bool)
    fresh[:1, 0] = True  # 1 default against 2 expected: none passes on
    fresh[:2, 1] = True  # as many as expected: none
    fresh[:4, 2] = True  # twice as many: half of each
    fresh[:5, 3] = True  # 2.5 times: 1 - 2 / 5
    np.testing.assert_allclose(pd_default_shock(fresh, 2.0, "excess"), [0.0, 0.0, 0.5, 0.6])
    np.testing.assert_allclose(pd_default_shock(fresh, 2.0, "none"), np.zeros(4))
    with pytest.raises(ValueError, match="from_pd_defaults"):
        pd_default_shock(fresh, 2.0, "half")
