"""B4: the chain-feature trees (B2) plus the GNN's view of each firm and of its neighbourhood.

The GNN's hidden vectors are not aligned from one fit to another (any rotation of them is
the same network), so B4 does not feed raw embedding coordinates to the trees: it feeds the
GNN's own risk read-out, which is comparable across fits, for the firm and for its
neighbourhood along each relation (:data:`STACKED_FEATURES`):

=========================  ========================================================
feature                    definition
=========================  ========================================================
gnn_logit                  the firm's B3 logit
gnn_buyers                 Σ_j share of sales to buyer j × sigmoid(logit_j)
gnn_suppliers              Σ_j share of inputs from supplier j × sigmoid(logit_j)
gnn_borrowers              Σ_b guarantee to b / equity (capped) × sigmoid(logit_b)
gnn_guarantors             Σ_g share of cover from g × sigmoid(logit_g)
gnn_debtors                Σ_d share of receivables owed by d × sigmoid(logit_d)
=========================  ========================================================

Two hops (``two_hop=True``, the default of new fits; :data:`TWO_HOP_FEATURES`): contagion
travels along chains (a supplier's supplier, a guarantor's guarantor), so the trees also get

=========================  ========================================================
feature                    definition
=========================  ========================================================
gnn_<rel>_2hop             Σ_k (A_r²)_ik × sigmoid(logit_k), k ≠ i: the same relation
                           twice, exposures multiplied along the path (rel as above)
gnn_hood_mean              mean of sigmoid(logit_k) over the firms k ≠ i within two
                           hops along any relation, either direction
gnn_hood_max               max of sigmoid(logit_k) over the direct neighbours k
=========================  ========================================================

A firm's own logit never enters its neighbourhood read-outs (paths back to the firm are
dropped), so the trees see the firm once, through ``gnn_logit``.

**Out of fold.** On the training cuts a firm's read-outs come from a GNN that never saw its
label: firms are split into ``folds`` by a hash of their USCC (the same firm falls in the same
fold every year, so its label in another year cannot leak), and a GNN fitted on the other
folds' labels (all nodes still pass messages) gives its logits to **every** node; the firms
of the held-out fold take all their read-outs, their own logit and their neighbours', from
those logits (:func:`out_of_fold_features`). Taking each neighbour's logit from the GNN that
held *that neighbour* out instead would leak: the neighbour's GNN was fitted on the firm's
own label, which reaches the neighbour's logit through message passing. (The neighbours'
logits still saw the neighbours' own labels, as on no later cut; a limit of stacking on one
graph.) On the validation and test cuts the read-outs come from B3 fitted on every training
label.

**Which read-outs.** The trees are fitted, stopped and calibrated exactly as B2
(:mod:`gnn.baselines`), once with the one-hop read-outs and once with the two-hop ones
added; the two-hop set is kept only when it wins the paired comparison on the validation
firms (:func:`gnn.selection.choose`, simplest first): where there is no contagion, the
two-hop read-outs fit noise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gnn.baselines import FittedModel, fit_model
from gnn.hetero_data import Edges, snapshot_edges
from gnn.hetero_model import GNNConfig, GNNModel, fit_gnn
from gnn.protocol import Cut
from gnn.selection import choose

__all__ = [
    "STACKED_FEATURES",
    "TWO_HOP_FEATURES",
    "StackedModel",
    "fit_stacked",
    "fold_of",
    "out_of_fold_features",
    "stacked_features",
]

#: relation -> feature name of the neighbourhood read-out
_NEIGHBOURHOOD = {
    "buyer": "gnn_buyers",
    "supplier": "gnn_suppliers",
    "borrower": "gnn_borrowers",
    "guarantor": "gnn_guarantors",
    "debtor": "gnn_debtors",
}
STACKED_FEATURES: tuple[str, ...] = ("gnn_logit", *_NEIGHBOURHOOD.values())
TWO_HOP_FEATURES: tuple[str, ...] = (
    *(f"{name}_2hop" for name in _NEIGHBOURHOOD.values()),
    "gnn_hood_mean",
    "gnn_hood_max",
)


def fold_of(uscc: np.ndarray, folds: int) -> np.ndarray:
    """A stable fold number per firm from a hash of its USCC (the same in every cut).

    >>> fold_of(np.array(["91350100M000100Y43", "91350100M000100Y43"]), 3).tolist()
    [1, 1]
    """
    return np.array(
        [int(hashlib.sha256(str(u).encode()).hexdigest()[:8], 16) % folds for u in uscc], dtype=np.int64
    )


def _matrix(edges: Edges, n: int) -> sp.csr_matrix:
    """``M[dst, src] = w``: ``M @ p`` sums each firm's incoming messages."""
    src, dst, w = edges
    return sp.csr_matrix((np.asarray(w, dtype="float64"), (dst, src)), shape=(n, n))


def _no_self(m: sp.csr_matrix) -> sp.csr_matrix:
    """``m`` without its diagonal (paths that come back to the firm)."""
    m = sp.csr_matrix(m)
    m.setdiag(0)
    m.eliminate_zeros()
    return m


def _two_hop(edges: dict[str, Edges], n: int, p: np.ndarray, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The :data:`TWO_HOP_FEATURES` of ``rows`` (see the module docstring).

    ``Σ_{k≠i} (A²)_ik p_k`` is computed as ``A (A p)`` less the paths back to the firm,
    ``(A ∘ Aᵀ) 1`` times its own ``p``: two sparse products with a vector instead of the
    sparse square ``A[rows] A``. The neighbourhood mean needs the set of firms within two hops,
    one sparse product whose pattern is counted as it comes, the firm itself subtracted, instead
    of being compared, sorted and masked (the two-hop read-outs took about ten CPU seconds per
    fold and cut at 100k firms).
    """
    out: dict[str, np.ndarray] = {}
    for rel, name in _NEIGHBOURHOOD.items():
        if rel in edges:
            m = _matrix(edges[rel], n)
            back = np.asarray(m.multiply(m.T).sum(axis=1)).ravel()
            # the difference of two sums of the same non-negative terms: rounding, not a sign, below 0
            out[f"{name}_2hop"] = np.maximum(m[rows] @ (m @ p) - back[rows] * p[rows], 0.0)
        else:
            out[f"{name}_2hop"] = np.zeros(len(rows))
    if edges:
        a = sum((_matrix(e, n) for e in edges.values()), sp.csr_matrix((n, n)))
        a = sp.csr_matrix(((a + a.T) != 0).astype("float64"))
        a = _no_self(a)
        near = a[rows]
        # the firms within one hop (the identity) or two (a) of each row's firm; 0/1 matrices, so
        # every stored entry is one firm reached and the product's rows hold no duplicates
        reach = near @ (a + sp.identity(n, format="csr"))
        reach.data[:] = 1.0
        # a firm with a neighbour reaches itself in two hops (out and back): not counted
        back = np.diff(near.indptr) > 0
        k = np.diff(reach.indptr) - back
        total = reach @ p - np.where(back, p[rows], 0.0)
        out["gnn_hood_mean"] = np.where(k > 0, total / np.maximum(k, 1), np.nan)
        hood = near.multiply(p[None, :]).tocsr()
        out["gnn_hood_max"] = np.where(back, hood.max(axis=1).toarray().ravel(), np.nan)
    else:
        out["gnn_hood_mean"] = np.full(len(rows), np.nan)
        out["gnn_hood_max"] = np.full(len(rows), np.nan)
    return out


def stacked_features(cut: Cut, node_logits: np.ndarray, *, two_hop: bool = False) -> pd.DataFrame:
    """The B4 features of the cut's rows, from the GNN logits of every node of its snapshot.

    :data:`STACKED_FEATURES`, and :data:`TWO_HOP_FEATURES` with ``two_hop``.
    """
    return _readouts(cut, np.asarray(cut.rows, dtype=np.int64), node_logits, two_hop=two_hop)


def _readouts(cut: Cut, rows: np.ndarray, node_logits: np.ndarray, *, two_hop: bool) -> pd.DataFrame:
    """:func:`stacked_features` of the snapshot rows ``rows`` (a subset of the cut's, in any order)."""
    p = 1.0 / (1.0 + np.exp(-node_logits))
    n = cut.snapshot.n
    out = pd.DataFrame({"gnn_logit": node_logits[rows]})
    edges = snapshot_edges(cut.snapshot)
    for rel, name in _NEIGHBOURHOOD.items():
        agg = np.zeros(n)
        if rel in edges:
            src, dst, w = edges[rel]
            np.add.at(agg, dst, w * p[src])
        out[name] = agg[rows]
    if two_hop:
        for name, v in _two_hop(edges, n, p, rows).items():
            out[name] = v
    return out


def _mask_fold(cut: Cut, fold: int, folds: int) -> Cut:
    """The cut with the labels of one fold's firms hidden (NaN)."""
    y_nodes = None
    if cut.y_nodes is not None:
        y_nodes = cut.y_nodes.copy()
        y_nodes[fold_of(cut.snapshot.firms["uscc"].to_numpy(), folds) == fold] = np.nan
    y = cut.y.copy()
    y[fold_of(cut.uscc, folds) == fold] = np.nan
    return replace(cut, y=y, y_nodes=y_nodes)


class NodeScorer(Protocol):
    """What the out-of-fold fits return: logits for every node of a cut's snapshot."""

    def node_logits(self, cut: Cut) -> np.ndarray: ...


#: (masked training cuts, validation cut, seed=, threads=, config=) -> fitted GNN
FitGNN = Callable[..., NodeScorer]


@dataclass
class StackedModel:
    """A fitted B4: B3 for the read-outs of new cuts, and the trees over B2 + read-out features."""

    gnn: GNNModel
    fitted: FittedModel
    name: str = "B4"
    #: whether the trees read the two-hop read-outs too (models saved before them: False)
    two_hop: bool = False
    #: why this read-out set (one- or two-hop) was kept, with the validation numbers
    readouts_because: str = ""

    def frame(self, cut: Cut) -> pd.DataFrame:
        feats = stacked_features(cut, self.gnn.node_logits(cut), two_hop=self.two_hop)
        return pd.concat([cut.both, feats], axis=1)

    def predict_pd(self, cut: Cut) -> np.ndarray:
        return self.fitted.predict_pd(self.frame(cut))

    def feature_contributions(self, cut: Cut) -> pd.DataFrame:
        """TreeSHAP contributions of the trees, the GNN read-outs among the features."""
        from gnn.contributions import tree_contributions

        return tree_contributions(self.fitted, self.frame(cut))


def out_of_fold_features(
    train: Sequence[Cut],
    val: Cut,
    *,
    folds: int,
    seed: int,
    threads: int,
    config: GNNConfig | None,
    two_hop: bool = True,
    fit: FitGNN = fit_gnn,
    epochs: int | None = None,
) -> list[pd.DataFrame]:
    """Every training cut's read-outs, each firm's from the GNN fitted without its fold's labels.

    One GNN per fold (``fit``, seeds ``seed + 1 + k``); the firms of fold ``k`` take their own
    logit *and their neighbours'* from the fold-``k`` GNN, so no read-out of a firm depends on
    its label (see the module docstring). Frames align with each cut's rows. ``epochs``: each
    fold GNN trains exactly that many epochs (see :func:`fit_stacked`); ``None``: each stops
    early on the validation cut like B3.
    """
    if folds < 2:
        raise ValueError(f"out-of-fold read-outs need at least 2 folds, got {folds}")
    frames: list[pd.DataFrame | None] = [None] * len(train)
    for k in range(folds):
        masked = [_mask_fold(c, k, folds) for c in train]
        model = fit(masked, val, seed=seed + 1 + k, threads=threads, config=config, epochs=epochs)
        for i, c in enumerate(train):
            held = np.flatnonzero(fold_of(c.uscc, folds) == k)
            part = _readouts(
                c, np.asarray(c.rows, dtype=np.int64)[held], model.node_logits(c), two_hop=two_hop
            )
            part.index = held
            frame = frames[i]
            if frame is None:
                frame = pd.DataFrame(np.nan, index=np.arange(len(c.rows)), columns=part.columns)
            frame.loc[held] = part
            frames[i] = frame
    return [f for f in frames if f is not None]


def fit_stacked(
    train: Sequence[Cut],
    val: Cut,
    *,
    gnn: GNNModel,
    seed: int = 0,
    threads: int = 2,
    folds: int = 2,
    config: GNNConfig | None = None,
    two_hop: bool | None = None,
) -> StackedModel:
    """Fit B4 given B3 (``gnn``, fitted on every training label), with out-of-fold training read-outs.

    ``two_hop``: ``True``/``False`` fixes the read-out set; ``None`` (default) fits both and
    keeps the two-hop set only when it wins the paired comparison on the validation firms.

    The fold GNNs train for B3's early-stopped epoch count (``gnn.best_epoch + 1``), not each
    with its own early stopping: the read-outs only need to come from networks like B3, and
    a fixed length spares every fold its per-epoch validation pass and its patience tail
    (the usual practice of stacking: the level-0 learner's settings are chosen once).
    """
    oof = out_of_fold_features(
        train,
        val,
        folds=folds,
        seed=seed,
        threads=threads,
        config=config or gnn.config,
        two_hop=True,
        epochs=gnn.best_epoch + 1,
    )
    y = np.concatenate([c.y for c in train])
    val_feats = stacked_features(val, gnn.node_logits(val), two_hop=True)
    options = [False, True] if two_hop is None else [two_hop]
    fitted: dict[str, FittedModel] = {}
    for hop in options:
        cols = list(STACKED_FEATURES) + (list(TWO_HOP_FEATURES) if hop else [])
        x = pd.concat(
            [
                pd.concat([c.both, f[cols].reset_index(drop=True)], axis=1)
                for c, f in zip(train, oof, strict=True)
            ],
            ignore_index=True,
        )
        x_val = pd.concat([val.both, val_feats[cols]], axis=1)
        fitted["two-hop" if hop else "one-hop"] = fit_model(
            "trees", x, y, x_val, val.y, seed=seed, threads=threads
        )
    if len(fitted) == 1:
        ((name, model),) = fitted.items()
        return StackedModel(
            gnn, model, two_hop=name == "two-hop", readouts_because=f"{name} read-outs, as asked"
        )
    # each model reads its own columns (by name) from the frame with every read-out
    x_val_all = pd.concat([val.both, val_feats], axis=1)
    pds = {name: [model.predict_pd(x_val_all)] for name, model in fitted.items()}
    chosen = choose(val.y, pds, ["one-hop", "two-hop"], seed=seed)
    return StackedModel(
        gnn, fitted[chosen.shipped], two_hop=chosen.shipped == "two-hop", readouts_because=chosen.because
    )
