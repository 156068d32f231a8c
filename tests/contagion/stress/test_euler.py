"""Euler contributions to ES 99 % (per firm and per segment) and the figures summary.json carries."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from contagion.stress import StressPrecisionWarning, StressResult, parse_scenario, run_stress

from .conftest import build_snapshot


def _run(sampling: str) -> StressResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)  # 400 runs: the sums are exact at any count
        return run_stress(build_snapshot(),
                          parse_scenario("name: euler\nruns: 400\nseed: 5\n"
                                         f"sampling: {{importance: {sampling}}}\n"),
                          progress=False, bank_lenders=["BANK"])


@pytest.fixture(scope="module", params=["off", "on"])
def result(request: pytest.FixtureRequest) -> StressResult:
    return _run(request.param)


def test_firm_contributions_sum_to_es(result: StressResult) -> None:
    es = result.summary()["measures"]["ES_99"]["value"]
    assert result.firms["es_contribution"].sum() == pytest.approx(es, rel=1e-12)
    assert (result.firms["es_contribution"] >= 0).all()
    no_loans = result.firms["bank_ead"] == 0
    assert (result.firms.loc[no_loans, "es_contribution"] == 0).all()


def test_segment_contributions_sum_to_es(result: StressResult) -> None:
    es = result.measure("ES", 0.99)
    seg = result.segments
    for kind in ("region", "industry", "lender", "guarantee_circle", "client_group", "layer"):
        assert seg.loc[seg.segment_type == kind, "es_contribution"].sum() == pytest.approx(es, rel=1e-9), kind
        assert seg.loc[seg.segment_type == kind, "mean_loss"].sum() == pytest.approx(result.measure("EL"),
                                                                                     rel=1e-9), kind
    # circles and groups: the firms outside them are one segment, "(none)"
    circles = seg[seg.segment_type == "guarantee_circle"]
    assert set(circles["segment"]) == {"circle-1", "(none)"} and circles["count"].sum() == len(result.firms)


def test_weights_follow_the_sampling_switch(result: StressResult) -> None:
    w = result.loss_distribution["weight"].to_numpy()
    on = result.summary()["sampling"]["importance"]
    assert on == (result.scenario.sampling.importance == "on")
    assert np.all(w == 1.0) != on
    # a firm never in default in any run keeps probability 0; the shares still sum to EL
    assert result.firms["stress_mean_loss"].sum() == pytest.approx(result.measure("EL"), rel=1e-9)


def test_summary_has_every_level_with_value_and_se(result: StressResult) -> None:
    m = result.summary()["measures"]
    for key in ("EL", "VaR_95", "ES_95", "VaR_99", "ES_99", "VaR_99.9", "ES_99.9", "UL_99"):
        assert set(m[key]) >= {"value", "se"}, key
    assert m["UL_99"]["value"] == pytest.approx(m["VaR_99"]["value"] - m["EL"]["value"])
    cols = {"uscc", "pd", "bank_ead", "stress_default_prob", "stress_mean_loss", "in_default",
            "es_contribution"}
    assert cols <= set(result.firms.columns)


def test_importance_sampling_without_a_global_factor_is_refused() -> None:
    from chainrisk.errors import ConfigError

    s = parse_scenario("name: x\nruns: 10\ncopula: {rho_global: 0}\nsampling: {importance: on}\n")
    with pytest.raises(ConfigError, match="rho_global"):
        run_stress(build_snapshot(), s, progress=False)
