"""The full explanation of one firm, on demand: every feature contribution and the chain around it.

:func:`explain` returns a JSON-ready dict:

- ``pd``, ``log_odds``, ``base``: the model's answer and the base its contributions start from;
- ``features``: every feature's value, contribution (log-odds) and phrase, largest first;
- ``reasons``: the firm's reason codes (:func:`gnn.reasons.reason_table`; the medians behind
  the risk directions are the whole cut's, so they equal what :func:`gnn.reasons.reasons_for`
  gives the firm in the portfolio run);
- ``counterparties``: the firms reached within ``hops`` links **along each relation**
  (:mod:`gnn.counterparties`; a guarantee chain, a supply chain upstream, ...), each
  with the link it was reached by (``from``), the amount and exposure of that link, the
  hop, its default status and date at ``t`` and its PD where given;
- ``risk_paths``: the paths from the firm to counterparties in default (or at ``high_pd``
  or more), with the product of the exposures along the path as its weight: the routes
  by which the chain carried risk to the firm.

- ``gnn_attribution`` (when the model is the GNN, B3, or the trees over its read-outs, B4):
  Integrated Gradients of the GNN's logit on the firm's k-hop subgraph through PyG's
  Captum explainer (:mod:`gnn.subgraph_attribution`): every link of the firm with its
  relation, counterparty, amount and attribution, the strongest edges of the subgraph,
  the firm's own features and the other nodes. For B4 it explains the GNN whose
  read-outs (``gnn_logit``, ``gnn_buyers``, ...) feed the trees, and says so; the trees'
  own TreeSHAP contributions are ``features``.

Ownership relations are listed one hop deep (an owner's other firms are already the
``co_owned`` relation).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from chainrisk.errors import DataError
from gnn.candidates import RiskModel
from gnn.contributions import BASE, feature_contributions, feature_values
from gnn.counterparties import RELATIONS, flagged_counterparties, relation_edges
from gnn.hetero_model import GNNModel
from gnn.protocol import Cut
from gnn.reason_texts import feature_phrase
from gnn.reasons import reason_table
from gnn.subgraph_attribution import attribute_firm

__all__ = ["explain"]

_CHAIN_RELATIONS = ("sells_to", "buys_from", "guarantees", "guaranteed_by", "owed_by", "owes")


def _num(v: float) -> float | None:
    """A float for JSON (None for NaN and infinities)."""
    return float(v) if v is not None and math.isfinite(v) else None


def _walk(cut: Cut, start: int, relation: str, hops: int) -> pd.DataFrame:
    """Breadth-first along one relation: the first link that reached each firm, with its hop."""
    snap = cut.snapshot
    seen = {start}
    frontier = np.array([start], dtype=np.int64)
    found = []
    for hop in range(1, (hops if relation in _CHAIN_RELATIONS else 1) + 1):
        e = relation_edges(snap, frontier, relations=(relation,))
        e = e[~e["counterparty"].isin(seen).to_numpy()]
        e = e.sort_values("exposure", ascending=False, na_position="last", kind="stable")
        e = e.drop_duplicates("counterparty").assign(hop=hop)
        if e.empty:
            break
        found.append(e)
        seen.update(e["counterparty"].tolist())
        frontier = e["counterparty"].to_numpy(dtype=np.int64)
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame()


def explain(
    model: RiskModel,
    cut: Cut,
    uscc: str,
    *,
    hops: int = 2,
    counterparty_pd: pd.Series | None = None,
    high_pd: float = 0.10,
    k: int = 3,
    attribution: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """The full explanation of firm ``uscc`` of ``cut`` (module docstring).

    ``attribution`` adds ``gnn_attribution`` for a GNN-based model (``seed`` seeds it).

    Raises
    ------
    DataError
        ``uscc`` is not one of the cut's firms.
    """
    where = np.flatnonzero(cut.uscc == uscc)
    if not len(where):
        raise DataError(f"{uscc} is not among the {len(cut.uscc)} firms scored at {cut.as_of}")
    i = int(where[0])
    snap = cut.snapshot
    # the firm alone is scored; the portfolio only lends its medians to the reasons
    one = replace(cut, uscc=cut.uscc[i : i + 1], own=cut.own.iloc[i : i + 1].reset_index(drop=True),
                  chain=cut.chain.iloc[i : i + 1].reset_index(drop=True),
                  y=cut.y[i : i + 1], rows=cut.rows[i : i + 1])  # fmt: skip
    phi = feature_contributions(model, one)
    features = [c for c in phi.columns if c != BASE]
    values = feature_values(one, features, model).iloc[0]
    row = phi.iloc[0]
    z = float(row.sum())
    feats = [
        {
            "feature": f,
            "value": _num(float(values[f])),
            "contribution": float(row[f]),
            "text": feature_phrase(f, float(values[f]), snap.currency),
        }
        for f in features
    ]
    feats.sort(key=lambda d: -abs(float(d["contribution"] or 0.0)))
    medians = feature_values(cut, features, model).median()
    reasons = reason_table(
        model, one, k=k, counterparty_pd=counterparty_pd, high_pd=high_pd, contributions=phi, medians=medians
    )

    defaulted, pd_all = flagged_counterparties(snap, counterparty_pd, high_pd=high_pd)
    given = (
        pd.Series(counterparty_pd, dtype="float64").reindex(snap.firms["uscc"]).to_numpy()
        if counterparty_pd is not None
        else np.full(snap.n, np.nan)
    )
    ids = snap.firms["uscc"].to_numpy(dtype=object)
    dates = pd.to_datetime(snap.firms["default_date"])
    start = int(cut.rows[i])
    counterparties: list[dict[str, Any]] = []
    paths: list[dict[str, Any]] = []
    for relation in RELATIONS:
        walk = _walk(cut, start, relation, hops)
        parent: dict[int, tuple[int, float]] = {}
        cols = (
            [walk[c].tolist() for c in ("firm", "counterparty", "hop", "amount", "exposure", "via")]
            if len(walk)
            else [[]] * 6
        )
        for src, cp, hop, amount, exposure, via in zip(*cols, strict=True):
            parent[cp] = (src, exposure)
            counterparties.append(
                {
                    "uscc": ids[cp],
                    "relation": relation,
                    "hop": hop,
                    "from": ids[src],
                    "amount": _num(amount),
                    "exposure": _num(exposure),
                    "via": via,
                    "defaulted": bool(defaulted[cp]),
                    "default_date": None if pd.isna(dates.iloc[cp]) else dates.iloc[cp].date().isoformat(),
                    "pd": _num(float(given[cp])),
                }
            )
            if not np.isnan(pd_all[cp]):
                path, weight, node = [ids[cp]], 1.0, cp
                while node != start:
                    node, expo = parent[node][0], parent[node][1]
                    weight *= expo if math.isfinite(expo) else 1.0
                    path.append(ids[node])
                paths.append(
                    {"relation": relation, "path": path[::-1], "weight": weight, "risk": float(pd_all[cp])}
                )
    paths.sort(key=lambda d: -d["weight"] * d["risk"])
    out: dict[str, Any] = {
        "uscc": uscc,
        "as_of": cut.as_of.isoformat(),
        "model": getattr(model, "name", type(model).__name__),
        "pd": float(model.predict_pd(one)[0]),
        "log_odds": z,
        "base": float(row[BASE]),
        "features": feats,
        "reasons": reasons["text"].tolist(),
        "counterparties": counterparties,
        "risk_paths": paths,
    }
    gnn = _gnn_of(model)
    if attribution and gnn is not None:
        name = getattr(model, "name", "")
        explains = (
            f"the GNN inside {name}: its read-outs feed {name}'s trees"
            if gnn is not model
            else f"{name}'s own logit"
        )
        a = attribute_firm(gnn, cut, uscc, seed=seed)
        out["gnn_attribution"] = {
            "explains": explains,
            "method": f"IntegratedGradients, PyG CaptumExplainer on the {gnn.config.layers}-hop subgraph "
            "(baseline: no links, features at the training median); log-odds of the GNN's logit",
            **a.as_dict(),
        }
    return out


def _gnn_of(model: RiskModel) -> GNNModel | None:
    """The GNN a model scores with: B3 itself, B4's inner B3, or None."""
    if isinstance(model, GNNModel):
        return model
    inner = getattr(model, "gnn", None)
    return inner if isinstance(inner, GNNModel) else None
