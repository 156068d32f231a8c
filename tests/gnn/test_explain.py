"""One firm's full explanation (``gnn.explain``): JSON-ready, consistent with the reasons."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

from chainrisk.errors import DataError
from gnn.candidates import RiskModel
from gnn.explain import explain
from gnn.protocol import Cut, CutPlan
from gnn.reasons import reasons_for


def test_explanation_of_a_firm_next_to_a_default(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], platform_models: dict[str, RiskModel]
) -> None:
    plan, cuts = platform_cuts
    test = cuts[plan.test]
    snap = test.snapshot
    d = snap.firms["defaulted"].to_numpy(dtype="float64")
    near = (snap.supply @ d + snap.supply.T @ d + snap.guarantees @ d + snap.guarantees.T @ d)[test.rows]
    i = int(np.flatnonzero(near > 0)[0])
    model = platform_models["B2"]
    x = explain(model, test, str(test.uscc[i]), hops=2)
    json.dumps(x)  # JSON-ready as it is
    assert x["pd"] == pytest.approx(model.predict_pd(test)[i])
    assert x["base"] + sum(f["contribution"] for f in x["features"]) == pytest.approx(x["log_odds"])
    assert x["reasons"] == reasons_for(model, test)[i]
    hop1 = [c for c in x["counterparties"] if c["hop"] == 1]
    assert hop1 and all(c["from"] == x["uscc"] for c in hop1)
    assert max(c["hop"] for c in x["counterparties"]) <= 2
    # a defaulted neighbour is a risk path that starts at the firm and ends at it
    bad = [c for c in hop1 if c["defaulted"]]
    assert bad and bad[0]["default_date"] is not None
    ends = {(p["relation"], p["path"][-1]) for p in x["risk_paths"]}
    assert all(p["path"][0] == x["uscc"] for p in x["risk_paths"])
    assert {(c["relation"], c["uscc"]) for c in bad} <= ends


def test_an_unknown_firm_is_a_clear_error(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], platform_models: dict[str, RiskModel]
) -> None:
    plan, cuts = platform_cuts
    with pytest.raises(DataError, match="not among"):
        explain(platform_models["B0"], cuts[plan.test], "NOT-A-FIRM")
