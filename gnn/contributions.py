"""Feature contributions of a fitted model: why each firm got its PD, on the log-odds scale.

A model is :class:`Explainable` when it splits each firm's log-odds into one
contribution per feature plus a base value shared by all firms:

.. math::

    \\operatorname{logit}(\\mathrm{PD}_i) = \\phi_0 + \\sum_j \\phi_{ij}

(before the PD floor). For the tabular baselines (:class:`gnn.candidates.TabularModel`)
:func:`feature_contributions` computes them without touching the model classes:

- **trees** (LightGBM): TreeSHAP, ``Booster.predict(pred_contrib=True)``, exact Shapley
  values of the raw score (Lundberg et al. 2020, *From local explanations to global
  understanding with explainable AI for trees*, Nat. Mach. Intell. 2:56-67);
- **logistic**: ``coef_j × z_ij`` with ``z`` the imputed, standardised value the model
  read, and the intercept as the base (the exact decomposition of a linear score).

Both are then carried through the Platt calibration ``logit(PD) = a · raw + b``: each
contribution is multiplied by ``a`` and the base becomes ``a · φ₀ + b``, so the row sums
equal the calibrated log-odds. Other models (the GNN) implement the protocol
themselves and :func:`feature_contributions` defers to them.

>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from gnn.baselines import Calibrator, FittedModel
>>> lr = LogisticRegression().fit(np.array([[-1.0], [1.0], [-2.0], [2.0]]), [0, 1, 0, 1])
>>> fm = FittedModel("logistic", ["x"], lr, Calibrator(2.0, 0.5), medians=pd.Series({"x": 0.0}),
...                  means=pd.Series({"x": 0.0}), stds=pd.Series({"x": 1.0}))
>>> phi = _fitted_contributions(fm, pd.DataFrame({"x": [1.5]}))
>>> bool(np.isclose(phi.sum(axis=1).iloc[0], 2.0 * (lr.coef_[0, 0] * 1.5 + lr.intercept_[0]) + 0.5))
True
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from chainrisk.errors import ModelError
from gnn.baselines import FittedModel
from gnn.candidates import RiskModel, TabularModel
from gnn.protocol import Cut

__all__ = ["BASE", "Explainable", "feature_contributions", "feature_values", "log_odds", "tree_contributions"]

#: The column of a contribution frame that holds the base value (the same for every firm).
BASE = "_base"


@runtime_checkable
class Explainable(Protocol):
    """A model that splits each firm's calibrated log-odds into feature contributions."""

    name: str

    def feature_contributions(self, cut: Cut) -> pd.DataFrame:
        """Firms (rows aligned with ``cut.uscc``) × features, log-odds contributions, plus :data:`BASE`.

        Row sums equal ``logit(PD)`` before the PD floor.
        """
        ...


def _fitted_contributions(fitted: FittedModel, x: pd.DataFrame) -> pd.DataFrame:
    """Contributions of a fitted baseline on frame ``x`` (index kept), calibrated log-odds scale."""
    x = x.loc[:, fitted.features]
    if fitted.kind == "logistic":
        assert fitted.medians is not None and fitted.means is not None and fitted.stds is not None
        z = ((x.fillna(fitted.medians) - fitted.means) / fitted.stds).fillna(0.0).to_numpy()
        phi = z * np.asarray(fitted.estimator.coef_[0], dtype="float64")
        base = np.full(len(x), float(fitted.estimator.intercept_[0]))
    else:
        raw = np.asarray(
            fitted.estimator.predict(x.to_numpy(), num_iteration=fitted.best_iteration, pred_contrib=True),
            dtype="float64",
        )
        phi, base = raw[:, :-1], raw[:, -1]
    cal = fitted.calibrator
    out = pd.DataFrame(phi * cal.a, index=x.index, columns=fitted.features)
    out[BASE] = base * cal.a + cal.b
    return out


def tree_contributions(fitted: FittedModel, x: pd.DataFrame) -> pd.DataFrame:
    """Contributions of a fitted baseline over any frame ``x`` holding its features (B4 reads this)."""
    return _fitted_contributions(fitted, x)


def feature_contributions(model: RiskModel, cut: Cut) -> pd.DataFrame:
    """Per-firm feature contributions of ``model`` on ``cut`` (see :class:`Explainable`).

    Raises
    ------
    ModelError
        The model neither implements :class:`Explainable` nor is a tabular baseline.
    """
    if isinstance(model, TabularModel):
        phi = _fitted_contributions(model.fitted, model.frame(cut))
    elif isinstance(model, Explainable):
        phi = model.feature_contributions(cut)
    else:
        raise ModelError(f"model {getattr(model, 'name', model)!r} gives no feature contributions")
    phi.index = pd.Index(cut.uscc, name="uscc")
    return phi


def log_odds(contributions: pd.DataFrame) -> np.ndarray:
    """The calibrated log-odds each row of a contribution frame adds up to."""
    return np.asarray(contributions.sum(axis=1), dtype="float64")


def feature_values(cut: Cut, features: list[str], model: RiskModel | None = None) -> pd.DataFrame:
    """The values of ``features`` the cut holds (NaN columns for features it lacks, e.g. embeddings).

    A model with its own feature frame (``model.frame(cut)``, e.g. B4's GNN read-outs) gives them.
    """
    frame = getattr(model, "frame", None)
    both = frame(cut) if callable(frame) else cut.both
    nan = np.full(len(cut.uscc), np.nan)
    cols = {f: both[f].to_numpy(dtype="float64") if f in both else nan for f in features}
    return pd.DataFrame(cols, index=pd.Index(cut.uscc, name="uscc"), columns=features)
