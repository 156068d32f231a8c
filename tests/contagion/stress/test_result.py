"""StressResult: its figures, write-back rows and JSON summary."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from contagion.stress import StressResult

from .conftest import run_small


@pytest.fixture(scope="module")
def result() -> StressResult:
    return run_small()


def test_measure(result: StressResult) -> None:
    dist = result.loss_distribution  # runs weighted by their importance-sampling likelihood ratio
    assert result.measure("EL") == pytest.approx(float(np.average(dist["loss"], weights=dist["weight"])))
    assert result.measure("VaR", 0.99) >= result.measure("VaR", 0.95)
    assert result.measure("EL", column="se") > 0
    with pytest.raises(KeyError, match="VaR"):
        result.measure("VaR", 0.5)


def test_rows_are_plain_and_nan_is_none(result: StressResult) -> None:
    rows = list(result.firm_rows())
    assert [r["uscc"] for r in rows] == result.firms["uscc"].tolist()
    assert all(r["stress_systemic_impact"] is None for r in rows)  # no ESRI given: NaN
    assert all(isinstance(r["stress_default_prob"], float) for r in rows)
    edges = list(result.edge_rows(top=2))
    assert len(edges) == min(2, len(result.paths))
    assert all(type(e["stress_flow"]) is float for e in edges)


def test_summary_is_json(result: StressResult) -> None:
    s = json.loads(json.dumps(result.summary()))
    assert s["runs"] == 1000 and s["seed"] == 42 and s["bank_lenders"] == ["BANK"]
    el = s["measures"]["EL"]
    assert el["value"] == pytest.approx(result.measure("EL"))
    assert s["contagion_amplification"]["EL"] == pytest.approx(el["value"] / el["no_contagion"])
    assert set(s["measures"]) >= {"EL", "VaR_99", "ES_99"}
    assert not math.isnan(s["measures"]["VaR_95"]["value"])


def test_summary_shows_loadings_beside_the_irb_reference(result: StressResult) -> None:
    c = result.summary()["copula"]
    assert c["rho_total"] == pytest.approx(c["rho_global"] + c["rho_sector"] + c["rho_region"])
    assert c["irb_sme_5m_eur"] == pytest.approx(c["irb_corporate"] - 0.04)
    assert "implied_from_history" in c and isinstance(c["yearly_default_rates"], list)
