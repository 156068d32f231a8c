"""Which PDs the stress test uses: the risk run, the history, the snapshot, the class table."""

from __future__ import annotations

import dataclasses
import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest

from chainrisk.errors import InvalidModelInput
from contagion.stress import StressPrecisionWarning, parse_scenario, run_stress
from contagion.stress.pd_source import RiskRunPDs, resolve_pds
from contagion.stress.result import StressResult
from contagion.stress.scenario import PDParameters

from .conftest import USCC, build_snapshot


def _risk(as_of: date = date(2024, 6, 20), pd_type: str = "point_in_time", value: float = 0.04
          ) -> RiskRunPDs:
    return RiskRunPDs(pd=pd.Series(dict.fromkeys(USCC[:6], value)), run_id="risk-7", as_of=as_of,
                      model_version="gnn-b2", pd_type=pd_type)


def _run(text: str, **kw: object) -> StressResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        return run_stress(build_snapshot(equity=30.0), parse_scenario("name: p\nruns: 300\nseed: 2\n" + text),
                          progress=False, bank_lenders=["BANK"], **kw)  # type: ignore[arg-type]


def test_risk_run_pds_are_used_and_named() -> None:
    res = _run("", risk_pds=_risk())
    src = res.summary()["pd_source"]
    assert src["source"] == "risk_run" and src["run_id"] == "risk-7" and src["model_version"] == "gnn-b2"
    assert src["as_of"] == "2024-06-20" and src["pd_type"] == "point_in_time"
    assert src["firms_from_run"] == 6 and src["firms_from_fallback"] == 1 and src["fallback"] == "class_table"
    assert res.firms["pd"].tolist() == [0.04] * 6 + [0.01]


def test_a_stale_risk_run_is_refused_unless_the_scenario_allows_it() -> None:
    old = _risk(as_of=date(2024, 3, 31))  # 91 days before the snapshot
    with pytest.raises(InvalidModelInput, match="max_age_days to at least 91"):
        _run("", risk_pds=old)
    res = _run("default_probability: {max_age_days: 120}\n", risk_pds=old)
    assert res.summary()["pd_source"]["age_days"] == 91


def test_point_in_time_pds_are_not_shifted_again() -> None:
    macro = "macro: {global: -2.0}\n"
    pit = _run(macro, risk_pds=_risk(pd_type="point_in_time"))
    ttc = _run(macro, risk_pds=_risk(pd_type="through_the_cycle"))
    none = _run("", risk_pds=_risk(pd_type="through_the_cycle"))
    forced = _run(macro + "default_probability: {shift_point_in_time: true}\n",
                  risk_pds=_risk(pd_type="point_in_time"))
    assert pit.summary()["pd_source"]["macro_shift_applied"] is False
    assert ttc.summary()["pd_source"]["macro_shift_applied"] is True
    # same seed: the unshifted PIT run draws exactly the no-macro defaults; TTC and forced are worse
    np.testing.assert_array_equal(pit.firms["stress_default_prob"], none.firms["stress_default_prob"])
    assert ttc.firms["stress_default_prob"].sum() > none.firms["stress_default_prob"].sum()
    np.testing.assert_array_equal(forced.firms["stress_default_prob"], ttc.firms["stress_default_prob"])


def test_history_calibration_when_there_is_no_risk_run() -> None:
    snap = build_snapshot()
    snap.firms["default_date"] = pd.NaT
    snap.firms.loc[1, "default_date"] = pd.Timestamp("2023-11-30")  # defaulted in the 2022-12-31 cohort year
    pasts = [dataclasses.replace(build_snapshot(), as_of=date(2022, 12, 31)),
             dataclasses.replace(build_snapshot(), as_of=date(2023, 12, 31))]  # window open: not used
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        res = run_stress(snap, parse_scenario("name: h\nruns: 200\n"), progress=False, history=pasts)
    src = res.summary()["pd_source"]
    assert src["source"] == "history" and src["cohorts"] == [{"cohort": "2022-12-31", "firms": 7,
                                                              "defaults": 1}]
    # normal/0 cell: 5 firm-years, 1 default, prior 1 % weight 100: (1 + 1) / 105
    assert res.firms["pd"][0] == pytest.approx(2 / 105)


def test_sources_can_be_insisted_on_and_pds_are_floored() -> None:
    snap = build_snapshot()
    with pytest.raises(InvalidModelInput, match="source is history"):
        resolve_pds(snap.firms, snap.loans, snap.as_of, PDParameters(source="history"))
    with pytest.raises(InvalidModelInput, match="source is risk_run"):
        resolve_pds(snap.firms, snap.loans, snap.as_of, PDParameters(source="risk_run"))
    p, info, _ = resolve_pds(snap.firms, snap.loans, snap.as_of, PDParameters(), risk=_risk(value=0.0))
    assert p[:6].tolist() == [0.0003] * 6 and info["floor"] == 0.0003
    p, info, _ = resolve_pds(snap.firms.assign(pd=0.2), snap.loans, snap.as_of, PDParameters())
    assert info["source"] == "snapshot" and set(p) == {0.2}
    _, info, _ = resolve_pds(snap.firms.assign(pd=0.2), snap.loans, snap.as_of,
                             PDParameters(source="class_table"))
    assert info["source"] == "class_table"
