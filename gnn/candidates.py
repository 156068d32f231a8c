"""The candidate risk models, in one registry: how each is fitted on the protocol's cuts.

Every candidate is fitted the same way, ``fit(train_cuts, validation_cut, seed=, threads=)``,
and returns a :class:`RiskModel`: something that turns a :class:`~gnn.protocol.Cut` (a
snapshot and the firms to score in it) into calibrated, floored 12-month PDs. The
evaluation, training and scoring all go through this registry, so a new model is one
entry here and nothing else changes.

====  =====================================================  ============
name  model                                                  graph-aware
====  =====================================================  ============
B0    logistic scorecard on the firm's own features          no
B1    gradient-boosted trees (LightGBM) on own features      no
B2    the same trees on own and chain features, the chain    yes
      features kept only when they win on validation
B3    heterogeneous GNN over the dated snapshot (PyG)        yes
B4    B2's trees plus the GNN's out-of-fold risk read-outs   yes
====  =====================================================  ============

B2 fits the trees twice, on own features and on own and chain features, and keeps the chain
features only when they win the paired comparison on the validation firms
(:func:`gnn.baselines.fit_nested_trees`); otherwise B2 *is* the own-feature trees, and says
so (``chain_because``). Where nothing spreads along the chain, the chain aggregates are noise
that early stopping on the validation AUC still fits a little, and B2 would lose to B1 on a
later year.

B4 reuses the B3 fitted on the same cuts and seed (one fit serves both in an evaluation).
The registry's order is also the order of simplicity the shipped model's choice walks
(:func:`select_shipped`, :mod:`gnn.selection`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from gnn.baselines import FittedModel, ModelKind, fit_model, fit_nested_trees
from gnn.protocol import Cut
from gnn.selection import Selection, choose

__all__ = [
    "CANDIDATES",
    "Candidate",
    "RiskModel",
    "TabularModel",
    "fit_candidate",
    "select_shipped",
]


class RiskModel(Protocol):
    """A fitted candidate: calibrated PDs of a cut's firms."""

    name: str

    def predict_pd(self, cut: Cut) -> np.ndarray:
        """Calibrated, floored 12-month PDs, aligned with ``cut.uscc``."""
        ...


#: (train cuts, validation cut, seed, threads) -> fitted model
FitFunction = Callable[[Sequence[Cut], Cut, int, int], RiskModel]


@dataclass(frozen=True)
class Candidate:
    """One entry of the registry."""

    name: str
    description: str
    graph_aware: bool
    fit: FitFunction


@dataclass
class TabularModel:
    """B0-B2: a fitted baseline over the cut's own (and chain) feature frame."""

    name: str
    chain: bool
    fitted: FittedModel
    #: B2: why the chain features were kept or dropped, with the validation numbers ("" for B0, B1)
    chain_because: str = ""

    def frame(self, cut: Cut) -> pd.DataFrame:
        """The feature frame this model reads from ``cut``."""
        return cut.both if self.chain else cut.own

    def predict_pd(self, cut: Cut) -> np.ndarray:
        return self.fitted.predict_pd(self.frame(cut))


def _tabular(name: str, kind: ModelKind, chain: bool) -> FitFunction:
    def fit(train: Sequence[Cut], val: Cut, seed: int, threads: int) -> RiskModel:
        frames = [c.both if chain else c.own for c in train]
        x = pd.concat(frames, ignore_index=True)
        y = np.concatenate([c.y for c in train])
        x_val = val.both if chain else val.own
        return TabularModel(name, chain, fit_model(kind, x, y, x_val, val.y, seed=seed, threads=threads))

    return fit


def _fit_b2(train: Sequence[Cut], val: Cut, seed: int, threads: int) -> RiskModel:
    """B2: the trees on own and chain features when they beat the own-feature trees on validation."""
    y = np.concatenate([c.y for c in train])
    frames = {
        "own": (pd.concat([c.own for c in train], ignore_index=True), val.own),
        "own+chain": (pd.concat([c.both for c in train], ignore_index=True), val.both),
    }
    kept, fitted, chosen = fit_nested_trees(frames, y, val.y, seed=seed, threads=threads)
    verdict = "chain features kept" if kept == "own+chain" else "chain features dropped (B1's trees)"
    return TabularModel("B2", kept == "own+chain", fitted, chain_because=f"{verdict}: {chosen.because}")


# B3 fitted on (training cuts, validation cut, seed): B4 builds on the same fit. Keyed by the
# cuts' identities, holding at most one entry, so an evaluation's seeds never mix.
_B3_MEMO: dict[tuple[int, ...], RiskModel] = {}


def _fit_b3(train: Sequence[Cut], val: Cut, seed: int, threads: int) -> RiskModel:
    from gnn.hetero_model import fit_gnn

    key = (*(id(c) for c in train), id(val), seed)
    if key not in _B3_MEMO:
        _B3_MEMO.clear()
        _B3_MEMO[key] = fit_gnn(train, val, seed=seed, threads=threads)
    return _B3_MEMO[key]


def _fit_b4(train: Sequence[Cut], val: Cut, seed: int, threads: int) -> RiskModel:
    from gnn.hetero_model import GNNModel
    from gnn.stacking import fit_stacked

    gnn = _fit_b3(train, val, seed, threads)
    assert isinstance(gnn, GNNModel)
    return fit_stacked(train, val, gnn=gnn, seed=seed, threads=threads)


CANDIDATES: dict[str, Candidate] = {
    "B0": Candidate("B0", "logistic scorecard, own features", False, _tabular("B0", "logistic", False)),
    "B1": Candidate(
        "B1", "gradient-boosted trees (LightGBM), own features", False, _tabular("B1", "trees", False)
    ),
    "B2": Candidate(
        "B2",
        "gradient-boosted trees, own and chain features (the chain kept when it wins on validation)",
        True,
        _fit_b2,
    ),
    "B3": Candidate("B3", "heterogeneous GNN (GraphConv x2, typed directed relations)", True, _fit_b3),
    "B4": Candidate("B4", "B2's trees plus out-of-fold GNN risk read-outs", True, _fit_b4),
}


def select_shipped(
    y_val: np.ndarray, val_pds: Mapping[str, Sequence[np.ndarray]], *, seed: int = 0
) -> Selection:
    """The shipped candidate among those with validation PDs (one array per seed), and why.

    The graph-aware candidates (without one, all of them) in registry order, simplest first,
    go through :func:`gnn.selection.choose`: a richer candidate replaces the simpler one only
    when its validation AUC is higher by more than one paired bootstrap standard error and its
    Brier score is not worse by more than one; a tie keeps the simpler model. The validation
    cut only: the test cut never decides.
    """
    aware = [n for n in CANDIDATES if n in val_pds and CANDIDATES[n].graph_aware]
    order = aware or [n for n in CANDIDATES if n in val_pds]
    return choose(y_val, val_pds, order, seed=seed)


def fit_candidate(name: str, train: Sequence[Cut], val: Cut, *, seed: int = 0, threads: int = 2) -> RiskModel:
    """Fit the candidate ``name`` on the training cuts, stopped and calibrated on ``val``."""
    return CANDIDATES[name].fit(train, val, seed, threads)
