"""Do edge attributions find the links that really carried a default? (generated data only)

A generated dataset's ``_truth/defaults`` names, for every default caused through a
link, its ``cause`` (``supply`` or ``guarantee``) and the neighbour that carried it
(``via_uscc``; ``docs/generator.md``). Given scores for the links of the scored firms
(an explainer's edge mask, or :func:`baseline_edge_scores`), :func:`edge_attribution_auc`
takes the firms of the cut that defaulted through a link in the label window
``(t, t + 12 months]`` and asks how well the scores single out the true link among all
of their links at ``t``:

- a link (firm, counterparty, relation) is **positive** when the counterparty is the
  firm's ``via_uscc`` and the relation's channel is the cause
  (:data:`gnn.counterparties.CHANNEL`; relations without a known channel match on the
  counterparty alone);
- ``auc``: the ROC AUC over all links of those firms pooled; ``auc_within``: the mean
  over firms of the AUC among the firm's own links (firms with a positive and a
  negative link), the question an analyst asks of one firm's explanation;
- ``coverage``: the share of those firms whose true link is among the scored links (the
  neighbour may have had no active link at ``t``, or the link started after it).

Only this evaluation (and the oracle) may read ``_truth/``; models never do.

>>> scores = pd.DataFrame({"firm": ["A", "A", "A"], "counterparty": ["B", "C", "D"],
...                        "relation": ["sells_to", "buys_from", "guarantees"], "score": [0.9, 0.2, 0.1]})
>>> truth = pd.DataFrame({"uscc": ["A"], "date": ["2025-03-02"], "cause": ["supply"], "via_uscc": ["B"]})
>>> r = edge_attribution_auc(scores, truth, as_of=date(2024, 12, 31))
>>> r.auc, r.auc_within, r.n_firms, r.coverage
(1.0, 1.0, 1, 1.0)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from gnn.counterparties import CHANNEL, RELATIONS, flagged_counterparties, relation_edges
from gnn.labels import HORIZON_MONTHS, window_end
from gnn.metrics import auc as roc_auc
from ingest.snapshot import Snapshot

__all__ = ["EdgeAttribution", "baseline_edge_scores", "edge_attribution_auc"]

#: Link causes of ``_truth/defaults`` (``own`` defaults have no link to find).
LINK_CAUSES: tuple[str, ...] = ("supply", "guarantee")


@dataclass(frozen=True)
class EdgeAttribution:
    """How well edge scores recover the true contagion links."""

    auc: float
    auc_within: float
    n_firms: int
    n_edges: int
    n_positive: int
    coverage: float

    def as_dict(self) -> dict[str, float | int]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _within_auc(firm: np.ndarray, y: np.ndarray, s: np.ndarray) -> float:
    """Mean per-firm AUC (Mann-Whitney from average ranks within each firm)."""
    f = pd.DataFrame({"firm": firm, "y": y, "s": s})
    f["r"] = f.groupby("firm")["s"].rank(method="average")
    g = f.groupby("firm").agg(p=("y", "sum"), n=("y", "size"))
    g["rs"] = f[f["y"] == 1].groupby("firm")["r"].sum().reindex(g.index).fillna(0.0)
    g["q"] = g["n"] - g["p"]
    g = g[(g["p"] > 0) & (g["q"] > 0)]
    if g.empty:
        return float("nan")
    per = (g["rs"] - g["p"] * (g["p"] + 1) / 2) / (g["p"] * g["q"])
    return float(per.mean())


def edge_attribution_auc(
    edge_scores: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    as_of: date,
    horizon_months: int = HORIZON_MONTHS,
    firms: Iterable[str] | None = None,
) -> EdgeAttribution:
    """AUC of ``edge_scores`` in recovering the true contagion links (module docstring).

    Parameters
    ----------
    edge_scores : DataFrame
        ``firm``, ``counterparty`` (USCCs), ``relation``, ``score``: the scored links of the
        cut's firms.
    truth : DataFrame
        ``_truth/defaults``: ``uscc``, ``date``, ``cause``, ``via_uscc``.
    as_of : date
        The cut; the label window is ``(as_of, window_end(as_of, horizon_months)]``.
    firms : iterable of str, optional
        The scored firms (default: every firm of ``edge_scores``); the denominator of ``coverage``.
    """
    when = pd.to_datetime(truth["date"])
    t, end = pd.Timestamp(as_of), pd.Timestamp(window_end(as_of, horizon_months))
    hit = truth[((when > t) & (when <= end) & truth["cause"].isin(LINK_CAUSES)).to_numpy()]
    scored = set(edge_scores["firm"]) if firms is None else set(firms)
    hit = hit[hit["uscc"].isin(scored).to_numpy()].drop_duplicates("uscc")
    cause = dict(zip(hit["uscc"], hit["cause"], strict=True))
    via = dict(zip(hit["uscc"], hit["via_uscc"], strict=True))
    e = edge_scores[edge_scores["firm"].isin(cause).to_numpy()]
    firm = e["firm"].to_numpy(dtype=object)
    channel = e["relation"].map(CHANNEL).to_numpy(dtype=object)
    true_cause = e["firm"].map(cause).to_numpy(dtype=object)
    y = (e["counterparty"].to_numpy(dtype=object) == e["firm"].map(via).to_numpy(dtype=object)) & (
        pd.isna(channel) | (channel == true_cause)
    )
    y = y.astype("float64")
    s = e["score"].to_numpy(dtype="float64")
    found = set(firm[y == 1])
    return EdgeAttribution(
        auc=roc_auc(y, s),
        auc_within=_within_auc(firm, y, s),
        n_firms=len(cause),
        n_edges=len(e),
        n_positive=int(y.sum()),
        coverage=len(found) / len(cause) if cause else float("nan"),
    )


def baseline_edge_scores(
    snapshot: Snapshot,
    rows: np.ndarray,
    *,
    counterparty_pd: pd.Series | None = None,
    relations: Iterable[str] = RELATIONS,
) -> pd.DataFrame:
    """A rule-based edge scorer from the snapshot alone: counterparty trouble × exposure.

    ``score = (r_j + 0.01) · min(1, exposure)`` with ``r_j`` 1 for a counterparty in default
    at t, else its PD where given, else 0; the small constant ranks the links to healthy
    counterparties by exposure (a missing exposure, e.g. a guarantee by a firm without
    positive equity, counts as full). The reference an explainer's edge mask must beat.
    """
    e = relation_edges(snapshot, rows, relations=tuple(relations))
    _, pd_all = flagged_counterparties(snapshot, counterparty_pd, high_pd=0.0)
    cp = e["counterparty"].to_numpy(dtype=np.int64)
    trouble = np.nan_to_num(pd_all[cp], nan=0.0)
    exposure = np.minimum(1.0, np.nan_to_num(e["exposure"].to_numpy(dtype="float64"), nan=1.0))
    ids = snapshot.firms["uscc"].to_numpy(dtype=object)
    return pd.DataFrame(
        {
            "firm": ids[e["firm"].to_numpy(dtype=np.int64)],
            "counterparty": ids[cp],
            "relation": e["relation"].to_numpy(dtype=object),
            "score": (trouble + 0.01) * exposure,
        }
    )
