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

**Out of fold.** On the training cuts these come from GNNs that never saw the firm's label:
firms are split into ``folds`` by a hash of their USCC (the same firm falls in the same fold
every year, so its label in another year cannot leak), a GNN is fitted on the other folds'
labels (all nodes still pass messages) and scores the held-out fold. On the validation and
test cuts they come from B3 fitted on every training label. The trees are then fitted,
stopped and calibrated exactly as B2 (:mod:`gnn.baselines`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gnn.baselines import FittedModel, fit_model
from gnn.hetero_data import Edges, relation_edges
from gnn.hetero_model import GNNConfig, GNNModel, fit_gnn
from gnn.protocol import Cut

__all__ = [
    "STACKED_FEATURES",
    "TWO_HOP_FEATURES",
    "StackedModel",
    "fit_stacked",
    "fold_of",
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
    """The :data:`TWO_HOP_FEATURES` of ``rows`` (see the module docstring)."""
    out: dict[str, np.ndarray] = {}
    for rel, name in _NEIGHBOURHOOD.items():
        if rel in edges:
            m = _matrix(edges[rel], n)[rows]
            out[f"{name}_2hop"] = _no_self_rows(m @ _matrix(edges[rel], n), rows) @ p
        else:
            out[f"{name}_2hop"] = np.zeros(len(rows))
    if edges:
        a = sum((_matrix(e, n) for e in edges.values()), sp.csr_matrix((n, n)))
        a = sp.csr_matrix(((a + a.T) != 0).astype("float64"))
        a = _no_self(a)
        near = a[rows]
        reach = _no_self_rows(((near + near @ a) != 0).astype("float64"), rows)
        k = np.asarray(reach.sum(axis=1)).ravel()
        out["gnn_hood_mean"] = np.where(k > 0, (reach @ p) / np.maximum(k, 1.0), np.nan)
        hood = near.multiply(p[None, :]).tocsr()
        out["gnn_hood_max"] = np.where(np.diff(near.indptr) > 0, hood.max(axis=1).toarray().ravel(), np.nan)
    else:
        out["gnn_hood_mean"] = np.full(len(rows), np.nan)
        out["gnn_hood_max"] = np.full(len(rows), np.nan)
    return out


def _no_self_rows(m: sp.csr_matrix, rows: np.ndarray) -> sp.csr_matrix:
    """``m`` (one row per firm of ``rows``) without the entries ``(i, rows[i])``."""
    m = sp.coo_matrix(m)
    keep = m.col != rows[m.row]
    return sp.csr_matrix((m.data[keep], (m.row[keep], m.col[keep])), shape=m.shape)


def stacked_features(cut: Cut, node_logits: np.ndarray, *, two_hop: bool = False) -> pd.DataFrame:
    """The B4 features of the cut's rows, from the GNN logits of every node of its snapshot.

    :data:`STACKED_FEATURES`, and :data:`TWO_HOP_FEATURES` with ``two_hop``.
    """
    p = 1.0 / (1.0 + np.exp(-node_logits))
    n = cut.snapshot.n
    out = pd.DataFrame({"gnn_logit": node_logits[cut.rows]})
    edges = relation_edges(cut.snapshot)
    for rel, name in _NEIGHBOURHOOD.items():
        agg = np.zeros(n)
        if rel in edges:
            src, dst, w = edges[rel]
            np.add.at(agg, dst, w * p[src])
        out[name] = agg[cut.rows]
    if two_hop:
        for name, v in _two_hop(edges, n, p, np.asarray(cut.rows, dtype=np.int64)).items():
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


@dataclass
class StackedModel:
    """A fitted B4: B3 for the read-outs of new cuts, and the trees over B2 + read-out features."""

    gnn: GNNModel
    fitted: FittedModel
    name: str = "B4"
    #: whether the trees read the two-hop read-outs too (models saved before them: False)
    two_hop: bool = False

    def frame(self, cut: Cut) -> pd.DataFrame:
        feats = stacked_features(cut, self.gnn.node_logits(cut), two_hop=self.two_hop)
        return pd.concat([cut.both, feats], axis=1)

    def predict_pd(self, cut: Cut) -> np.ndarray:
        return self.fitted.predict_pd(self.frame(cut))

    def feature_contributions(self, cut: Cut) -> pd.DataFrame:
        """TreeSHAP contributions of the trees, the GNN read-outs among the features."""
        from gnn.contributions import tree_contributions

        return tree_contributions(self.fitted, self.frame(cut))


def out_of_fold_logits(
    train: Sequence[Cut], val: Cut, *, folds: int, seed: int, threads: int, config: GNNConfig | None
) -> list[np.ndarray]:
    """Every training cut's node logits, each firm's from a GNN fitted without its label."""
    logits = [np.zeros(c.snapshot.n) for c in train]
    for k in range(folds):
        masked = [_mask_fold(c, k, folds) for c in train]
        model = fit_gnn(masked, val, seed=seed + 1 + k, threads=threads, config=config)
        for i, c in enumerate(train):
            held = fold_of(c.snapshot.firms["uscc"].to_numpy(), folds) == k
            logits[i][held] = model.node_logits(c)[held]
    return logits


def fit_stacked(
    train: Sequence[Cut],
    val: Cut,
    *,
    gnn: GNNModel,
    seed: int = 0,
    threads: int = 2,
    folds: int = 2,
    config: GNNConfig | None = None,
    two_hop: bool = True,
) -> StackedModel:
    """Fit B4 given B3 (``gnn``, fitted on every training label), with out-of-fold training read-outs."""
    oof = out_of_fold_logits(train, val, folds=folds, seed=seed, threads=threads, config=config or gnn.config)
    x = pd.concat(
        [
            pd.concat([c.both, stacked_features(c, z, two_hop=two_hop)], axis=1)
            for c, z in zip(train, oof, strict=True)
        ],
        ignore_index=True,
    )
    y = np.concatenate([c.y for c in train])
    x_val = pd.concat([val.both, stacked_features(val, gnn.node_logits(val), two_hop=two_hop)], axis=1)
    fitted = fit_model("trees", x, y, x_val, val.y, seed=seed, threads=threads)
    return StackedModel(gnn, fitted, two_hop=two_hop)
