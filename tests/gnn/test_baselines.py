"""The tree baselines (``gnn.baselines``): early stopping on the validation AUC, determinism, and the
choice between nested feature sets on validation (B2's chain features)."""

from __future__ import annotations

from datetime import date

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from gnn.baselines import FittedModel, fit_model, fit_nested_trees
from gnn.candidates import RiskModel, TabularModel
from gnn.metrics import auc
from gnn.protocol import Cut, CutPlan
from gnn.selection import Selection


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


def _frames(n: int, seed: int, chain_signal: float) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Own features with signal, and chain features that carry ``chain_signal`` times one of them."""
    rng = np.random.default_rng(seed)
    own = pd.DataFrame(rng.normal(size=(n, 4)), columns=[f"own_{i}" for i in range(4)])
    chain = pd.DataFrame(rng.normal(size=(n, 4)), columns=[f"chain_{i}" for i in range(4)])
    z = -2.5 + 0.8 * own["own_0"] + 0.5 * own["own_1"] + chain_signal * chain["chain_0"]
    y = (rng.random(n) < 1 / (1 + np.exp(-z.to_numpy()))).astype("float64")
    return own, pd.concat([own, chain], axis=1), y


def _nested(chain_signal: float) -> tuple[str, FittedModel, Selection]:
    own, both, y = _frames(12000, 1, chain_signal)
    own_v, both_v, y_v = _frames(6000, 2, chain_signal)
    return fit_nested_trees({"own": (own, own_v), "own+chain": (both, both_v)}, y, y_v, seed=0, threads=1)


def test_chain_features_that_are_noise_keep_the_simpler_trees() -> None:
    """Pure-noise extra features buy at most a validation gain inside one paired SE: the own-feature
    trees stay, with the comparison that kept them."""
    kept, model, chosen = _nested(0.0)
    assert kept == "own" == chosen.shipped and model.features == [f"own_{i}" for i in range(4)]
    (challenge,) = chosen.challenges
    assert challenge.challenger == "own+chain" and not challenge.won
    assert challenge.delta_auc <= challenge.se_auc


def test_chain_features_with_signal_replace_the_simpler_trees() -> None:
    kept, model, chosen = _nested(0.8)
    assert kept == "own+chain" == chosen.shipped and "chain_0" in model.features
    (challenge,) = chosen.challenges
    assert challenge.won and challenge.delta_auc > challenge.se_auc > 0
    # the kept trees are the ones fitted on that set, calibrated on validation like any baseline
    _own_v, both_v, y_v = _frames(6000, 2, 0.8)
    assert auc(y_v, model.predict_pd(both_v)) == pytest.approx(chosen.validation_auc["own+chain"])


def test_nested_trees_need_a_feature_set() -> None:
    with pytest.raises(ValueError, match="no feature set"):
        fit_nested_trees({}, np.zeros(3), np.zeros(3), seed=0)


def test_b2_says_whether_it_kept_the_chain_features(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], platform_models: dict[str, RiskModel]
) -> None:
    """B2 reads the frame of the feature set it kept, and says why with the validation numbers."""
    plan, cuts = platform_cuts
    test = cuts[plan.test]
    b2 = platform_models["B2"]
    assert isinstance(b2, TabularModel)
    assert b2.fitted.features == list(b2.frame(test).columns)
    assert b2.chain == bool(set(b2.fitted.features) - set(test.own.columns))
    assert b2.chain_because.startswith("chain features kept" if b2.chain else "chain features dropped")
    assert "validation AUC" in b2.chain_because
