"""Feature contributions (``gnn.contributions``) add up to each model's calibrated log-odds."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from chainrisk.errors import ModelError
from gnn.candidates import RiskModel, TabularModel
from gnn.contributions import BASE, Explainable, feature_contributions, log_odds
from gnn.protocol import Cut, CutPlan


@pytest.mark.parametrize("name", ["B0", "B2"])
def test_contributions_sum_to_the_models_log_odds(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], platform_models: dict[str, RiskModel], name: str
) -> None:
    plan, cuts = platform_cuts
    model = platform_models[name]
    test = cuts[plan.test]
    phi = feature_contributions(model, test)
    assert isinstance(model, TabularModel)
    assert list(phi.columns) == [*model.fitted.features, BASE]
    assert phi[BASE].nunique() == 1  # one base value for every firm
    pd_ = model.predict_pd(test)
    above_floor = pd_ > model.fitted.calibrator.floor
    assert above_floor.sum() > 0.9 * len(pd_)
    z = np.log(pd_ / (1 - pd_))
    np.testing.assert_allclose(log_odds(phi)[above_floor], z[above_floor], atol=1e-6)
    # the features explain something: not every firm sits at the base
    assert np.abs(phi.drop(columns=BASE).to_numpy()).sum(axis=1).min() > 0


def test_a_model_can_explain_itself_through_the_protocol(
    platform_cuts: tuple[CutPlan, dict[date, Cut]],
) -> None:
    plan, cuts = platform_cuts
    test = cuts[plan.test]

    class Own:
        name = "own"

        def predict_pd(self, cut: Cut) -> np.ndarray:
            return np.full(len(cut.uscc), 0.5)

        def feature_contributions(self, cut: Cut) -> pd.DataFrame:
            return pd.DataFrame({"x": np.zeros(len(cut.uscc)), BASE: 0.0})

    assert isinstance(Own(), Explainable)
    phi = feature_contributions(Own(), test)
    assert phi.index.tolist() == test.uscc.tolist() and log_odds(phi).tolist() == [0.0] * len(test.uscc)

    class Opaque:
        name = "opaque"

        def predict_pd(self, cut: Cut) -> np.ndarray:
            return np.full(len(cut.uscc), 0.5)

    with pytest.raises(ModelError, match="opaque"):
        feature_contributions(Opaque(), test)
