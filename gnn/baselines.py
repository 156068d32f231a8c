"""The tabular baselines the graph model must beat, and the calibration every model shares.

- **B0** logistic scorecard on the firm's own features (median-imputed, standardised,
  class-weighted);
- **B1** gradient-boosted trees (LightGBM) on the firm's own features;
- **B2** the same trees on own features plus chain features (:mod:`gnn.graph_features`),
  kept over the trees on own features alone only when the chain features earn their place
  on the validation firms (:func:`fit_nested_trees`).

LightGBM is the tree library: missing values handled natively, fast histogram
training on two cores, deterministic under a seed (``deterministic=True``, fixed
threads), and the strong-tabular reference of the GNN literature (GADBench). Trees
stop early on the validation AUC.

Raw scores become PDs by **Platt scaling fitted on the validation cut** (a logistic
regression on the score's logit), floored at Basel's 0.03%. Platt keeps the
ordering and has two parameters, so a validation year of a few hundred defaults
fits it without over-fitting; the validation year is the latest labelled year, so
the PDs are point-in-time for the year the model is scored in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from gnn.selection import Selection, choose

__all__ = ["PD_FLOOR", "Calibrator", "FittedModel", "fit_model", "fit_nested_trees"]

#: Basel's PD floor.
PD_FLOOR = 0.0003

ModelKind = Literal["logistic", "trees"]


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


@dataclass
class Calibrator:
    """Platt scaling: ``pd = max(floor, sigmoid(a * logit(score) + b))``, fitted on validation."""

    a: float = 1.0
    b: float = 0.0
    floor: float = PD_FLOOR

    @classmethod
    def fit(cls, y: np.ndarray, score: np.ndarray, *, floor: float = PD_FLOOR) -> Calibrator:
        if not 0 < y.sum() < len(y):
            return cls(floor=floor)
        lr = LogisticRegression(C=1e6, max_iter=1000)
        lr.fit(_logit(score).reshape(-1, 1), y)
        return cls(float(lr.coef_[0, 0]), float(lr.intercept_[0]), floor)

    def __call__(self, score: np.ndarray) -> np.ndarray:
        z = self.a * _logit(score) + self.b
        return np.maximum(self.floor, 1.0 / (1.0 + np.exp(-z)))


@dataclass
class FittedModel:
    """A fitted baseline: its features, the fitted estimator and its calibration."""

    kind: ModelKind
    features: list[str]
    estimator: Any
    calibrator: Calibrator = field(default_factory=Calibrator)
    medians: pd.Series | None = None
    means: pd.Series | None = None
    stds: pd.Series | None = None
    best_iteration: int | None = None

    def score(self, x: pd.DataFrame) -> np.ndarray:
        """The raw (uncalibrated) score in [0, 1]."""
        x = x.loc[:, self.features]
        if self.kind == "logistic":
            assert self.medians is not None and self.means is not None and self.stds is not None
            z = ((x.fillna(self.medians) - self.means) / self.stds).fillna(0.0).to_numpy()
            return np.asarray(self.estimator.predict_proba(z)[:, 1])
        return np.asarray(self.estimator.predict(x.to_numpy(), num_iteration=self.best_iteration))

    def predict_pd(self, x: pd.DataFrame) -> np.ndarray:
        """Calibrated, floored 12-month PDs."""
        return self.calibrator(self.score(x))


def _fit_logistic(x: pd.DataFrame, y: np.ndarray, seed: int) -> FittedModel:
    medians = x.median().fillna(0.0)
    filled = x.fillna(medians)
    means, stds = filled.mean(), filled.std(ddof=0).replace(0, 1.0).fillna(1.0)
    z = ((filled - means) / stds).fillna(0.0).to_numpy()
    lr = LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000, random_state=seed)
    lr.fit(z, y)
    return FittedModel("logistic", list(x.columns), lr, medians=medians, means=means, stds=stds)


def _fit_trees(
    x: pd.DataFrame, y: np.ndarray, x_val: pd.DataFrame, y_val: np.ndarray, seed: int, threads: int
) -> FittedModel:
    pos = max(float(y.sum()), 1.0)
    params = {
        "objective": "binary",
        # the validation AUC is the only metric, so early stopping watches it alone: with a
        # custom AUC beside LightGBM's default log-loss, the log-loss (worsened by the
        # class weight as the trees sharpen) stopped the trees after a few dozen rounds
        "metric": "auc",
        "learning_rate": 0.03,
        "num_leaves": 15,
        "min_data_in_leaf": 80,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 5.0,
        "scale_pos_weight": min(10.0, (len(y) - pos) / pos) ** 0.5,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": threads,
        "verbose": -1,
    }
    train = lgb.Dataset(x.to_numpy(), label=y, free_raw_data=False)
    valid = lgb.Dataset(x_val.to_numpy(), label=y_val, reference=train)
    booster = lgb.train(
        params,
        train,
        num_boost_round=600,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(60, verbose=False)],
    )
    return FittedModel("trees", list(x.columns), booster, best_iteration=booster.best_iteration or None)


def fit_model(
    kind: ModelKind,
    x: pd.DataFrame,
    y: np.ndarray,
    x_val: pd.DataFrame,
    y_val: np.ndarray,
    *,
    seed: int,
    threads: int = 2,
) -> FittedModel:
    """Fit a baseline on the training cuts, stop and calibrate on the validation cut."""
    model = _fit_logistic(x, y, seed) if kind == "logistic" else _fit_trees(x, y, x_val, y_val, seed, threads)
    model.calibrator = Calibrator.fit(y_val, model.score(x_val))
    return model


def fit_nested_trees(
    frames: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    y: np.ndarray,
    y_val: np.ndarray,
    *,
    seed: int,
    threads: int = 2,
) -> tuple[str, FittedModel, Selection]:
    """Trees on nested feature sets, simplest first; the richer set only when validation says so.

    ``frames``: feature-set name -> (training frame, validation frame), simplest set first,
    each set holding the one before it (e.g. own features, then own and chain features). Each
    set gets the same trees (:func:`fit_model`, stopped and calibrated on validation), and the
    richer set replaces the simpler one only when it wins the paired comparison on the
    validation firms (:func:`gnn.selection.choose`: validation AUC higher by more than one
    paired bootstrap SE, Brier not worse by more than one).

    Why: early stopping on the validation AUC stops the trees *at* the validation maximum, so
    features that carry no signal (chain aggregates where nothing spreads along the chain)
    still buy a small validation gain by fitting noise, and lose it on a later year; a gain
    inside one paired SE is what such noise gives, so it keeps the simpler trees. Returns the
    kept set's name, its fitted trees and the comparison (its ``because`` says the numbers).
    """
    if not frames:
        raise ValueError("no feature set to fit")
    fitted = {
        name: fit_model("trees", x, y, x_val, y_val, seed=seed, threads=threads)
        for name, (x, x_val) in frames.items()
    }
    pds = {name: [fitted[name].predict_pd(x_val)] for name, (_x, x_val) in frames.items()}
    chosen = choose(y_val, pds, list(frames), seed=seed)
    return chosen.shipped, fitted[chosen.shipped], chosen
