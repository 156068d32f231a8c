"""The tree baselines (``gnn.baselines``): early stopping on the validation AUC, determinism."""

from __future__ import annotations

from datetime import date

import lightgbm as lgb
import numpy as np
import pandas as pd

from gnn.baselines import fit_model
from gnn.metrics import auc
from gnn.protocol import Cut, CutPlan


def test_trees_stop_at_the_best_validation_auc(platform_cuts: tuple[CutPlan, dict[date, Cut]]) -> None:
    """The kept iteration is the validation AUC's best over the 60 rounds of patience after it
    (the same trees grown again without stopping), so no other metric stopped them."""
    plan, cuts = platform_cuts
    train, val = [cuts[t] for t in plan.train], cuts[plan.validation]
    x = pd.concat([c.both for c in train], ignore_index=True)
    y = np.concatenate([c.y for c in train])
    model = fit_model("trees", x, y, val.both, val.y, seed=0, threads=1)
    assert model.best_iteration is not None
    # the only metric early stopping watched (a second one stops the trees as soon as it fails)
    assert list(model.estimator.best_score["valid_0"]) == ["auc"]
    best = model.best_iteration
    grown = lgb.train(model.estimator.params, lgb.Dataset(x.to_numpy(), label=y), num_boost_round=best + 60)
    xv = val.both.to_numpy()
    curve = [auc(val.y, grown.predict(xv, num_iteration=k)) for k in range(1, best + 61)]
    assert curve[best - 1] >= max(curve) - 1e-9
    again = fit_model("trees", x, y, val.both, val.y, seed=0, threads=1)
    assert again.best_iteration == model.best_iteration
    np.testing.assert_array_equal(again.predict_pd(val.both), model.predict_pd(val.both))
