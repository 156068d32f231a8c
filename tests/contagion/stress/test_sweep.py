"""Sensitivity sweeps: parsing, scenario keys, the table and the tornado chart."""

from __future__ import annotations

import warnings

import pytest

from chainrisk.errors import ScenarioError
from contagion.stress import StressPrecisionWarning, StressResult, parse_scenario, run_stress
from contagion.stress.scenario import Scenario
from contagion.stress.sweep import parse_sweep, run_sweep, tornado, tornado_png, with_value

from .conftest import build_snapshot


def test_parse_and_apply() -> None:
    assert parse_sweep("macro.global=-1,0") == ("macro.global", [-1.0, 0.0])
    with pytest.raises(ScenarioError, match="KEY=LOW:HIGH:COUNT"):
        parse_sweep("copula.rho_global=0.1:0.2")
    base = parse_scenario("name: x")
    assert with_value(base, "macro.global", -1.5).macro.global_ == -1.5
    off = with_value(base, "contagion.transmission.guarantee", 0.0)
    assert off.contagion.transmission["guarantee"] == 0.0
    with pytest.raises(ScenarioError, match="no scenario key"):
        with_value(base, "copula.rho_globl", 0.1)
    with pytest.raises(ScenarioError, match="rho_global"):
        with_value(base, "copula.rho_global", 0.99)  # the loadings would sum above 1
    # the supply layer's replacement time sweeps like any number; 0 months is refused with the key
    key, months = parse_sweep("contagion.supply_replacement_months=1:12:4")
    assert [with_value(base, key, m).contagion.supply_replacement_months for m in months] == months
    with pytest.raises(ScenarioError, match=r"supply_replacement_months=0\.0: must lie in"):
        with_value(base, key, 0.0)


def test_sweep_table_and_tornado() -> None:
    snap = build_snapshot()
    spec = parse_scenario("name: sweep\nruns: 200\nseed: 4\n")

    def run(s: Scenario) -> StressResult:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StressPrecisionWarning)
            return run_stress(snap, s, progress=False, bank_lenders=["BANK"])

    table = run_sweep(run, spec, [("copula.rho_global", [0.02, 0.3]), ("macro.global", [-0.5, 0.0])])
    assert table[["key", "value"]].values.tolist() == [
        ["copula.rho_global", 0.02], ["copula.rho_global", 0.3],
        ["macro.global", -0.5], ["macro.global", 0.0]]
    assert table["ES_99"].notna().all() and table["EL_se"].gt(0).all()
    # an adverse macro shift raises expected loss (same draws, every latent variable lower)
    macro = table[table.key == "macro.global"].set_index("value")["EL"]
    assert macro[-0.5] >= macro[0.0]
    base = run(spec).measure("ES", 0.99)
    t = tornado(table, base)
    assert list(t.columns[:3]) == ["key", "low_value", "high_value"]
    assert t["range"].is_monotonic_decreasing and set(t["key"]) == {"copula.rho_global", "macro.global"}
    assert tornado_png(t).startswith(b"\x89PNG")
