"""Reason codes for every scored firm: the model's feature contributions and the firm's counterparties.

For each firm of a cut, :func:`reasons_for` gives at least ``k`` sentences, strongest first:

1. **Risk-raising reasons**, interleaved by severity on the log-odds scale:

   - *features* whose contribution φ_ij (:mod:`gnn.contributions`) is positive and whose
     value lies on the risky side of the cut's median (the feature's risk direction,
     :mod:`gnn.reason_texts`), worded with the value ("worst loan 95 days overdue");
   - *counterparties* in default at ``t`` (or, given their PDs, at ``high_pd`` or more), one
     sentence per link (:mod:`gnn.counterparties`): "guarantees 3.2× its equity for
     91350100…, in default since 2025-03". When the model reads the relation's chain
     feature ``f`` (e.g. ``guarantees_to_defaulted``), the link's severity is the model's
     own contribution split over the firm's defaulted counterparties of that relation in
     proportion to the amounts, ``φ_if · a_ij / Σ_k a_ik``, and the aggregate feature is
     not repeated. Links the model does not read (ownership, high-PD counterparties, a
     model without that chain feature or whose contribution for the firm is nil) are
     rule-based facts with severity
     ``w_c · PD_j · min(1, exposure_ij)`` (PD 1 in default; ``w_c`` 1 for the direct
     channels, guarantees, supply and trade credit, and 0.5 for ownership, an indirect
     one): a full direct exposure to a defaulted firm weighs one unit of log-odds, about
     what the trees give the strongest chain features.

2. When fewer than ``k`` of those exist, the strongest **mitigating** facts ("in its
   favour: ..."), then a **neutral** fact about the firm's links, then features the model
   weighed against the usual direction ("also weighed: ..."). Nothing is invented: every
   sentence states a value the model read or a link of the snapshot.

The heavy parts (contributions, the medians, the top-k selection, the counterparty
links) are vectorised over the whole cut; only the chosen sentences are formatted one by
one, so the whole book of tens of thousands of firms takes seconds.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gnn.candidates import RiskModel
from gnn.contributions import BASE, feature_contributions, feature_values
from gnn.counterparties import CHANNEL, FEATURE_OF, flagged_counterparties, relation_edges
from gnn.protocol import Cut
from gnn.reason_texts import counterparty_sentence, feature_phrase, risk_direction, status_texts

__all__ = ["RISK_RELATIONS", "portfolio_reasons", "reason_table", "reasons_for"]

#: Relations along which a troubled counterparty raises a firm's risk (not ``owes``: owing a
#: defaulted creditor is no loss).
RISK_RELATIONS: tuple[str, ...] = (
    "guarantees",
    "guaranteed_by",
    "sells_to",
    "buys_from",
    "owed_by",
    "owned_by",
    "owns",
    "co_owned",
)

#: Contributions smaller than this (log-odds) are not reasons.
MIN_CONTRIBUTION = 1e-3

#: Weight of a rule-based ownership fact against a direct link (module docstring).
_OWNERSHIP_WEIGHT = 0.5

# groups, in the order reasons are given
_RISK, _FAVOUR, _NEUTRAL, _OTHER = 0, 1, 2, 3


def _feature_candidates(
    phi: pd.DataFrame, cut: Cut, k: int, hidden: np.ndarray, medians: pd.Series | None, model: RiskModel
) -> pd.DataFrame:
    """Each firm's best ``k`` feature candidates: (pos, group, severity, feature index)."""
    features = [c for c in phi.columns if c != BASE]
    c = phi[features].to_numpy(dtype="float64")
    values = feature_values(cut, features, model)
    v = values.to_numpy()
    # all-NaN columns give NaN quietly
    median = (values.median() if medians is None else medians.reindex(features)).to_numpy(dtype="float64")
    side = np.sign(v - median)
    missing = np.isnan(v)
    dirs = np.array([risk_direction(f) for f in features])
    agree_risk = (dirs == 0) | missing | (side == dirs)
    agree_favour = (dirs == 0) | missing | (side == -dirs)
    strong = np.abs(c) > MIN_CONTRIBUTION
    group = np.where(
        strong & (c > 0) & agree_risk, _RISK, np.where(strong & (c < 0) & agree_favour, _FAVOUR, _OTHER)
    )
    valid = strong & ~hidden
    key = np.where(valid, group * 1e6 - np.abs(c), np.inf)
    top = np.argsort(key, axis=1, kind="stable")[:, :k]
    pos = np.repeat(np.arange(len(c)), top.shape[1])
    col = top.ravel()
    ok = np.isfinite(key[pos, col])
    pos, col = pos[ok], col[ok]
    return pd.DataFrame(
        {"pos": pos, "group": group[pos, col], "severity": c[pos, col], "feature": col, "edge": -1}
    )


def _counterparty_candidates(
    phi: pd.DataFrame, cut: Cut, counterparty_pd: pd.Series | None, high_pd: float
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Links to troubled counterparties with their severities; also the (firm, feature) cells they replace."""
    snap = cut.snapshot
    defaulted, pd_all = flagged_counterparties(snap, counterparty_pd, high_pd=high_pd)
    edges = relation_edges(snap, cut.rows, relations=RISK_RELATIONS, counterparties=~np.isnan(pd_all))
    pos_of = np.full(snap.n, -1, dtype=np.int64)
    pos_of[cut.rows] = np.arange(len(cut.rows))
    pos = pos_of[edges["firm"].to_numpy(dtype=np.int64)]
    cps = edges["counterparty"].to_numpy(dtype=np.int64)
    rel = edges["relation"].to_numpy(dtype=object)
    exposure = edges["exposure"].to_numpy(dtype="float64")
    weight_c = np.where(pd.Series(rel).map(CHANNEL).to_numpy() == "ownership", _OWNERSHIP_WEIGHT, 1.0)
    severity = weight_c * pd_all[cps] * np.minimum(1.0, np.nan_to_num(exposure, nan=1.0))
    backed = np.zeros(len(edges), dtype=bool)
    features = [c for c in phi.columns if c != BASE]
    hidden = np.zeros((len(cut.rows), len(features)), dtype=bool)
    for relation, feature in FEATURE_OF.items():
        if feature not in phi.columns:
            continue
        # the model weighs the link only where the feature moved this firm's score at all
        m = (rel == relation) & defaulted[cps]
        m &= np.abs(phi[feature].to_numpy(dtype="float64")[np.maximum(pos, 0)]) > MIN_CONTRIBUTION
        if not m.any():
            continue
        amount = edges["amount"].to_numpy(dtype="float64")[m]
        total = pd.Series(amount).groupby(pos[m]).transform("sum").to_numpy()
        weight = np.where(total > 0, amount / np.where(total > 0, total, 1.0), 1.0)
        severity[m] = phi[feature].to_numpy(dtype="float64")[pos[m]] * weight
        backed[m] = True
        hidden[pos[m], features.index(feature)] = True
    group = np.where(severity > MIN_CONTRIBUTION, _RISK, _FAVOUR)
    cand = pd.DataFrame(
        {"pos": pos, "group": group, "severity": severity, "feature": -1, "edge": np.arange(len(edges))}
    )
    edges = edges.assign(backed=backed)
    return cand, edges, hidden


def _link_summary(cut: Cut) -> list[str]:
    snap = cut.snapshot
    parts = [snap.supply, snap.guarantees, snap.receivables]
    both = sum((sp.csr_matrix(m) + sp.csr_matrix(m).T for m in parts), sp.csr_matrix((snap.n, snap.n)))
    linked = (sp.csr_matrix(both)[cut.rows] != 0).astype("float64")
    n = np.asarray(linked.sum(axis=1)).ravel()
    bad = linked @ snap.firms["defaulted"].to_numpy(dtype="float64")
    t = cut.as_of.isoformat()
    return [
        f"no supply, guarantee or trade-credit links on record at {t}"
        if a == 0
        else f"{b:.0f} of its {a:.0f} supply, guarantee and trade-credit counterparties in default at {t}"
        if b
        else f"none of its {a:.0f} supply, guarantee and trade-credit counterparties in default at {t}"
        for a, b in zip(n, bad, strict=True)
    ]


def reason_table(
    model: RiskModel,
    cut: Cut,
    *,
    k: int = 3,
    counterparty_pd: pd.Series | None = None,
    high_pd: float = 0.10,
    contributions: pd.DataFrame | None = None,
    medians: pd.Series | None = None,
) -> pd.DataFrame:
    """The reasons of every firm of ``cut`` as a frame (module docstring for the rules).

    ``contributions`` saves recomputing them; ``medians`` (feature -> median over the
    portfolio) sets the risk side of each value when ``cut`` is a part of the portfolio
    (default: the medians over ``cut``).

    Returns
    -------
    DataFrame
        ``uscc``, ``rank`` (1 = strongest), ``text``, ``severity`` (log-odds; negative in the
        firm's favour), ``kind`` (feature | counterparty | fact), ``feature``, ``relation``,
        ``counterparty_uscc`` (None where not applicable); sorted by firm order and rank.
    """
    phi = feature_contributions(model, cut) if contributions is None else contributions
    features = [c for c in phi.columns if c != BASE]
    cp_cand, edges, hidden = _counterparty_candidates(phi, cut, counterparty_pd, high_pd)
    # a margin over k: several features can read the same ("no financial statement
    # published" for every statement ratio) and are merged into one reason below
    margin = 3 * k
    feat_cand = _feature_candidates(phi, cut, margin, hidden, medians, model)
    n = len(cut.uscc)
    facts = pd.DataFrame({"pos": np.arange(n), "group": _NEUTRAL, "severity": 0.0, "feature": -1, "edge": -2})
    cand = pd.concat([feat_cand, cp_cand, facts], ignore_index=True)
    cand = _best(cand, margin)

    snap = cut.snapshot
    uscc_all = snap.firms["uscc"].to_numpy(dtype=object)
    values = feature_values(cut, features, model).to_numpy()
    summary = _link_summary(cut)
    e_idx = cand["edge"].to_numpy()
    chosen = edges.iloc[e_idx[e_idx >= 0]]
    _, pd_all = flagged_counterparties(snap, counterparty_pd, high_pd=high_pd)
    status = iter(status_texts(snap, pd_all, chosen["counterparty"].to_numpy(dtype=np.int64)))
    rel_c = chosen["relation"].tolist()
    cp_c = chosen["counterparty"].to_numpy(dtype=np.int64)
    amount_c = chosen["amount"].to_numpy(dtype="float64")
    expo_c = chosen["exposure"].to_numpy(dtype="float64")
    via_c = chosen["via"].tolist()
    backed_c = chosen["backed"].to_numpy(dtype=bool)
    j = 0
    texts: list[str] = []
    kinds: list[str] = []
    feats: list[str | None] = []
    rels: list[str | None] = []
    cp_uscc: list[str | None] = []
    for p, g, f, e in zip(cand["pos"], cand["group"], cand["feature"], e_idx, strict=True):
        if e >= 0:
            rel, cp = str(rel_c[j]), str(uscc_all[cp_c[j]])
            s = counterparty_sentence(
                rel, cp, float(amount_c[j]), float(expo_c[j]), next(status), via_c[j], snap.currency
            )
            if g != _RISK:
                s += " (the model does not count it against the firm)"
            texts.append(s)
            kinds.append("counterparty")
            feats.append(FEATURE_OF.get(rel) if backed_c[j] else None)
            rels.append(rel)
            cp_uscc.append(cp)
            j += 1
            continue
        if e == -2:
            texts.append(summary[p])
            kinds.append("fact")
            feats.append(None)
        else:
            texts.append(feature_phrase(features[f], values[p, f], snap.currency))
            kinds.append("feature")
            feats.append(features[f])
        rels.append(None)
        cp_uscc.append(None)
    out = pd.DataFrame(
        {
            "pos": cand["pos"].to_numpy(),
            "group": cand["group"].to_numpy(),
            "severity": cand["severity"].to_numpy(),
            "text": texts,
            "kind": kinds,
            "feature": pd.Series(feats, dtype=object),
            "relation": pd.Series(rels, dtype=object),
            "counterparty_uscc": pd.Series(cp_uscc, dtype=object),
        }
    )
    out = _best(_merge_features(out), k)
    out.insert(0, "uscc", cut.uscc[out["pos"].to_numpy()])
    out.insert(1, "rank", out.groupby("pos").cumcount().to_numpy() + 1)
    return out.drop(columns=["pos", "group", "strength"]).reset_index(drop=True)


def _best(cand: pd.DataFrame, k: int) -> pd.DataFrame:
    """Each firm's first ``k`` candidates by group, then strength."""
    cand = cand.assign(strength=-np.abs(cand["severity"].to_numpy()))
    cand = cand.sort_values(["pos", "group", "strength"], kind="stable")
    return cand[cand.groupby("pos").cumcount().to_numpy() < k].reset_index(drop=True)


def _merge_features(out: pd.DataFrame) -> pd.DataFrame:
    """One reason per phrase: features that read the same add their contributions; then the prefixes."""
    is_feat = (out["kind"] == "feature").to_numpy()
    feat = out[is_feat]
    key = feat.groupby(["pos", "text"], sort=False).ngroup().to_numpy()
    _, first = np.unique(key, return_index=True)  # keys run 0..groups-1
    size = np.bincount(key)
    merged = feat.iloc[first].reset_index(drop=True)
    merged["severity"] = np.bincount(key, weights=feat["severity"].to_numpy(dtype="float64"))
    merged["size"] = size
    multi = np.flatnonzero(size > 1)
    if len(multi):  # name every merged feature (a Python join over these groups only)
        in_multi = np.isin(key, multi)
        joined = feat["feature"][in_multi].groupby(key[in_multi]).agg(", ".join)
        merged.loc[joined.index.to_numpy(), "feature"] = joined.to_numpy()
    s = merged["severity"].to_numpy()
    regroup = np.where(s > MIN_CONTRIBUTION, _RISK, np.where(s < -MIN_CONTRIBUTION, _FAVOUR, _OTHER))
    merged["group"] = np.where(merged["size"].to_numpy() > 1, regroup, merged["group"].to_numpy())
    prefix = pd.Series(merged["group"]).map({_RISK: "", _FAVOUR: "in its favour: "}).fillna("also weighed: ")
    merged["text"] = prefix.to_numpy(dtype=object) + merged["text"].to_numpy(dtype=object)
    merged["relation"] = None
    merged["counterparty_uscc"] = None
    return pd.concat([out[~is_feat], merged.drop(columns="size")], ignore_index=True).loc[
        :, list(out.columns)
    ]


def reasons_for(
    model: RiskModel,
    cut: Cut,
    *,
    k: int = 3,
    counterparty_pd: pd.Series | None = None,
    high_pd: float = 0.10,
) -> list[list[str]]:
    """At least ``k`` reasons for every firm of ``cut`` (aligned with ``cut.uscc``), strongest first.

    ``counterparty_pd`` (USCC -> PD, e.g. the same run's scores) adds counterparties with a
    PD of ``high_pd`` or more to those in default. See :func:`reason_table` for the details.
    """
    table = reason_table(model, cut, k=k, counterparty_pd=counterparty_pd, high_pd=high_pd)
    # rows come firm by firm in the cut's order, each firm's first at rank 1
    texts = table["text"].tolist()
    starts = [*np.flatnonzero(table["rank"].to_numpy() == 1).tolist(), len(texts)]
    return [texts[a:b] for a, b in itertools.pairwise(starts)]


def portfolio_reasons(model: RiskModel, cut: Cut, *, k: int = 3) -> list[list[str]]:
    """:func:`reasons_for` with the model's own PDs of the cut's firms as counterparty PDs.

    What scoring uses: a counterparty the model itself rates high-risk is named as a reason
    beside those already in default.
    """
    pds = pd.Series(np.asarray(model.predict_pd(cut), dtype="float64"), index=pd.Index(cut.uscc))
    return reasons_for(model, cut, k=k, counterparty_pd=pds)
