"""Choosing between nested models on the validation firms: a paired comparison with a stated tie rule.

Candidates are listed from the simplest to the richest (B2 trees, B3 GNN, B4 trees with the
GNN's read-outs; inside B4, one-hop before two-hop read-outs). The simplest is the
incumbent; each richer candidate in turn **challenges** it, on the same validation firms:

.. math::

    \\Delta_{AUC} = AUC_c - AUC_i, \\qquad \\Delta_{B} = Brier_c - Brier_i

with their standard errors :math:`s_{AUC}, s_B` from a **paired** bootstrap (the same
resampled firms for both models, :mod:`gnn.bootstrap`; Efron & Tibshirani 1993, ch. 13,
for paired differences). The challenger replaces the incumbent when

.. math::

    \\Delta_{AUC} > s_{AUC} \\quad\\text{and}\\quad \\Delta_B \\le s_B

that is, it ranks better by more than one paired standard error and is not worse on the
Brier score by more than one. Anything closer is a **tie, and a tie keeps the simpler
model**: a richer model costs fitting time, explanation and room to over-fit, and a
difference the validation year cannot resolve is no reason to pay that.

Why AUC first: the issue's targets are AUC points, and every candidate is calibrated by
Platt scaling *on the validation firms themselves*, which makes their validation Brier
scores in-sample and nearly equal (on the 20k platform B2 and B4 differed by 0.00004),
while AUC is invariant to that monotone calibration. The Brier guard keeps the lesson of
an earlier rule (AUC alone shipped a GNN that ranked the middle of the book well but found
fewer of the riskiest firms, whose squared errors dominate the Brier score). Nothing here
reads the test cut.

>>> y = np.array([0, 0, 0, 1, 0, 1, 0, 1.0] * 25)
>>> weak = np.tile([0.1, 0.2, 0.3, 0.25, 0.3, 0.2, 0.1, 0.3], 25)
>>> strong = np.tile([0.1, 0.1, 0.1, 0.6, 0.2, 0.5, 0.1, 0.4], 25)
>>> choose(y, {"simple": [weak], "rich": [strong]}, ["simple", "rich"]).shipped
'rich'
>>> choose(y, {"simple": [strong], "rich": [strong + 1e-9]}, ["simple", "rich"]).shipped
'simple'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from gnn.bootstrap import mean_over_seeds, resample_counts
from gnn.metrics import auc, brier

__all__ = ["SELECTION_DRAWS", "Challenge", "Selection", "choose"]

#: Bootstrap draws of the validation firms (the SE of an AUC difference is stable to ~5% at 200).
SELECTION_DRAWS = 200


@dataclass(frozen=True)
class Challenge:
    """One richer candidate against the incumbent on the validation firms (see the module docstring)."""

    challenger: str
    incumbent: str
    delta_auc: float
    se_auc: float
    delta_brier: float
    se_brier: float
    won: bool

    def text(self) -> str:
        verdict = "replaces it" if self.won else "tie or worse, the simpler model stays"
        return (
            f"{self.challenger} vs {self.incumbent}: validation AUC {self.delta_auc:+.4f} "
            f"(paired SE {self.se_auc:.4f}), Brier {self.delta_brier:+.5f} "
            f"(SE {self.se_brier:.5f}): {verdict}"
        )


@dataclass(frozen=True)
class Selection:
    """The chosen candidate, why, and every challenge on the way."""

    shipped: str
    because: str
    challenges: tuple[Challenge, ...]
    validation_auc: dict[str, float]
    validation_brier: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: shipped, because, the challenges and each candidate's validation figures."""
        return {
            "shipped": self.shipped,
            "because": self.because,
            "challenges": [asdict(c) for c in self.challenges],
            "validation_auc": self.validation_auc,
            "validation_brier": self.validation_brier,
        }


def _mean(values: Sequence[float]) -> float:
    v = np.asarray(values, dtype="float64")
    return float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")


def choose(
    y: np.ndarray,
    preds: Mapping[str, Sequence[np.ndarray]],
    order: Sequence[str],
    *,
    draws: int = SELECTION_DRAWS,
    seed: int = 0,
) -> Selection:
    """The candidate of ``order`` (simplest first) that survives the challenges on ``y``.

    Parameters
    ----------
    y : validation labels (0/1)
    preds : candidate -> its validation PDs, one array per seed (figures are means over seeds,
        bootstrap draws averaged over seeds draw by draw)
    order : the candidates to consider, simplest first (those missing from ``preds`` are skipped)
    draws, seed : the paired bootstrap of the validation firms
    """
    names = [n for n in order if n in preds]
    if not names:
        raise ValueError("no candidate to choose from")
    y = np.asarray(y, dtype="float64")
    counts = resample_counts(len(y), draws=draws, seed=seed)
    boot = {n: mean_over_seeds(y, preds[n], counts) for n in names}
    point_auc = {n: _mean([auc(y, p) for p in preds[n]]) for n in names}
    point_brier = {n: _mean([brier(y, p) for p in preds[n]]) for n in names}

    def se(x: np.ndarray) -> float:
        x = x[np.isfinite(x)]
        return float(np.std(x, ddof=1)) if len(x) > 1 else float("inf")

    incumbent, challenges = names[0], []
    for challenger in names[1:]:
        d_auc = point_auc[challenger] - point_auc[incumbent]
        d_brier = point_brier[challenger] - point_brier[incumbent]
        s_auc = se(boot[challenger]["auc"] - boot[incumbent]["auc"])
        s_brier = se(boot[challenger]["brier"] - boot[incumbent]["brier"])
        won = bool(d_auc > s_auc and d_brier <= s_brier)
        challenges.append(Challenge(challenger, incumbent, d_auc, s_auc, d_brier, s_brier, won))
        if won:
            incumbent = challenger
    steps = "; ".join(c.text() for c in challenges)
    because = (
        f"{incumbent}: simplest first ({', '.join(names)}), a richer candidate replaces the incumbent "
        f"only when its validation AUC is higher by more than one paired bootstrap SE ({draws} draws "
        f"of {len(y)} validation firms) and its Brier is not worse by more than one SE"
        + (f". {steps}" if steps else "")
        + f". Validation AUC {incumbent} {point_auc[incumbent]:.4f}, Brier {point_brier[incumbent]:.5f}"
    )
    return Selection(incumbent, because, tuple(challenges), point_auc, point_brier)
