"""Earlier test vintages (``gnn.vintages``)."""

from __future__ import annotations

from datetime import date

import numpy as np

from gnn.candidates import CANDIDATES
from gnn.protocol import Cut, CutPlan
from gnn.vintages import earlier_plans, vintage_figures

Y = [date(y, 12, 31) for y in range(2019, 2025)]


def test_every_earlier_vintage_keeps_a_training_cut() -> None:
    plan = CutPlan(tuple(Y[:4]), Y[4], Y[5])
    got = earlier_plans(plan)
    assert [p.test for p in got] == [Y[4], Y[3], Y[2]]
    for p in got:
        # training cuts, then validation, then test, a year apart; nothing after the test
        assert (
            p.train and p.train[-1] < p.validation < p.test and p.train == tuple(Y[: Y.index(p.validation)])
        )
    assert earlier_plans(CutPlan((Y[0],), Y[1], Y[2])) == []


def test_vintage_figures_score_every_candidate(platform_cuts: tuple[CutPlan, dict[date, Cut]]) -> None:
    plan, cuts = platform_cuts
    # the platform has one training cut: shift its protocol so that its test cut is an "earlier" vintage
    shifted = CutPlan((plan.train[0], plan.validation), plan.test, date(2099, 12, 31))
    [v] = vintage_figures(shifted, cuts, draws=50)
    assert v["test"] == plan.test.isoformat() and v["train"] == [plan.train[0].isoformat()]
    assert v["book"] == len(cuts[plan.test].y) and v["defaults"] == int(np.nansum(cuts[plan.test].y))
    assert set(v["models"]) == set(CANDIDATES)
    for m in v["models"].values():
        lo, hi = m["auc_ci95"]
        assert lo <= m["auc"] <= hi and 0 <= m["ece"] <= 1
