"""A firm's counterparties in the dated snapshot, by relation, with amounts and exposures (vectorised).

Every link of the snapshot at ``t`` is read from both ends, as a *relation* of the
firm at hand (``S`` supply, ``G`` firm guarantees, ``R`` trade credit, as oriented in
:mod:`ingest.snapshot.model`; ``O`` the ownership table):

=============  ==============  =============================================  ===========================
relation       link            exposure of firm i to counterparty j            chain feature it explains
=============  ==============  =============================================  ===========================
sells_to       S[i, j]         S[i, j] / Σ_k S[i, k]: share of i's sales      sales_to_defaulted
buys_from      S[j, i]         S[j, i] / Σ_k S[k, i]: share of i's inputs     inputs_from_defaulted
guarantees     G[i, j]         G[i, j] / equity_i (NaN for equity ≤ 0)         guarantees_to_defaulted
guaranteed_by  G[j, i]         G[j, i] / Σ_k G[k, i]: share of i's cover      guarantors_defaulted
owed_by        R[i, j]         R[i, j] / Σ_k R[i, k]: share of receivables    receivables_from_defaulted
owes           R[j, i]         R[j, i] / Σ_k R[k, i]: share of payables       —
owned_by       O: j owns i     j's share of i                                 —
owns           O: i owns j     i's share of j                                 —
co_owned       O: o owns both  min(o's share of i, o's share of j)            —
=============  ==============  =============================================  ===========================

Each relation belongs to a contagion **channel** (supply, guarantee, trade credit,
ownership), the vocabulary of the generator's ``_truth/defaults`` causes.

>>> import scipy.sparse as sp
>>> from datetime import date
>>> from ingest.snapshot import assemble_snapshot
>>> firms = pd.DataFrame({"uscc": ["A", "B", "C"], "name": ["a", "b", "c"]})
>>> supply = pd.DataFrame({"supplier_uscc": ["A", "A"], "buyer_uscc": ["B", "C"],
...                        "annual_value": [3.0, 1.0], "start": ["2020-01-01"] * 2})
>>> snap = assemble_snapshot({"firms": firms, "supply": supply}, as_of=date(2024, 12, 31))
>>> e = relation_edges(snap, np.array([0]), relations=("sells_to",))
>>> e[["counterparty", "amount", "exposure"]].to_numpy().tolist()
[[1.0, 3.0, 0.75], [2.0, 1.0, 0.25]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ingest.snapshot import Snapshot

__all__ = ["CHANNEL", "FEATURE_OF", "RELATIONS", "flagged_counterparties", "relation_edges"]

#: Every relation, in the order of the module table.
RELATIONS: tuple[str, ...] = (
    "sells_to",
    "buys_from",
    "guarantees",
    "guaranteed_by",
    "owed_by",
    "owes",
    "owned_by",
    "owns",
    "co_owned",
)

#: The contagion channel of each relation.
CHANNEL: dict[str, str] = {
    "sells_to": "supply",
    "buys_from": "supply",
    "guarantees": "guarantee",
    "guaranteed_by": "guarantee",
    "owed_by": "trade_credit",
    "owes": "trade_credit",
    "owned_by": "ownership",
    "owns": "ownership",
    "co_owned": "ownership",
}

#: The chain feature (gnn.graph_features) that sums a relation's exposures to defaulted counterparties.
FEATURE_OF: dict[str, str] = {
    "sells_to": "sales_to_defaulted",
    "buys_from": "inputs_from_defaulted",
    "guarantees": "guarantees_to_defaulted",
    "guaranteed_by": "guarantors_defaulted",
    "owed_by": "receivables_from_defaulted",
}

_COLUMNS = ("firm", "counterparty", "relation", "amount", "exposure", "via")


def _matrix_of(snapshot: Snapshot, relation: str) -> sp.csr_matrix:
    """The matrix whose row i holds firm i's links of ``relation``."""
    base = {"sells_to": "supply", "buys_from": "supply", "guarantees": "guarantees"}.get(relation)
    if base is None:
        base = "guarantees" if relation == "guaranteed_by" else "receivables"
    m = sp.csr_matrix(getattr(snapshot, base))
    return m if relation in ("sells_to", "guarantees", "owed_by") else m.T.tocsr()


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "firm": np.zeros(0, np.int64),
            "counterparty": np.zeros(0, np.int64),
            "relation": pd.Series([], dtype=object),
            "amount": np.zeros(0),
            "exposure": np.zeros(0),
            "via": pd.Series([], dtype=object),
        }
    )


def _matrix_edges(
    snapshot: Snapshot, relation: str, rows: np.ndarray, keep: np.ndarray | None
) -> pd.DataFrame:
    m = _matrix_of(snapshot, relation)
    sub = m[rows].tocoo()
    firm, cp, amount = rows[sub.row], sub.col.astype(np.int64), sub.data.astype("float64")
    if keep is not None:
        k = keep[cp]
        firm, cp, amount = firm[k], cp[k], amount[k]
    if relation == "guarantees":
        equity = snapshot.firms["equity"].to_numpy(dtype="float64")[firm]
        with np.errstate(divide="ignore", invalid="ignore"):
            exposure = np.where(equity > 0, amount / equity, np.nan)
    else:
        total = np.asarray(m.sum(axis=1)).ravel()[firm]
        with np.errstate(divide="ignore", invalid="ignore"):
            exposure = np.where(total > 0, amount / total, np.nan)
    return pd.DataFrame(
        {
            "firm": firm,
            "counterparty": cp,
            "relation": relation,
            "amount": amount,
            "exposure": exposure,
            "via": None,
        }
    )


def _ownership_edges(
    snapshot: Snapshot, relations: Sequence[str], rows: np.ndarray, keep: np.ndarray | None
) -> list[pd.DataFrame]:
    own = snapshot.ownership
    if own is None or own.empty or "firm" not in own:
        return []
    own = own[own["firm"].to_numpy() >= 0]
    share = pd.to_numeric(own["share"], errors="coerce").to_numpy(dtype="float64")
    firm = own["firm"].to_numpy(dtype=np.int64)
    owner = own["owner"].to_numpy(dtype=np.int64)
    in_rows = np.zeros(snapshot.n, dtype=bool)
    in_rows[rows] = True
    parts: list[pd.DataFrame] = []

    def add(rel: str, f: np.ndarray, c: np.ndarray, expo: np.ndarray, via: object = None) -> None:
        ok = np.ones(len(f), dtype=bool) if keep is None else keep[c]
        parts.append(
            pd.DataFrame(
                {
                    "firm": f[ok],
                    "counterparty": c[ok],
                    "relation": rel,
                    "amount": np.nan,
                    "exposure": expo[ok],
                    "via": via[ok] if isinstance(via, np.ndarray) else via,
                }
            )
        )

    firm_owner = owner >= 0
    if "owned_by" in relations:
        k = firm_owner & in_rows[firm]
        add("owned_by", firm[k], owner[k], share[k])
    if "owns" in relations:
        k = firm_owner & in_rows[np.where(firm_owner, owner, 0)]
        add("owns", owner[k], firm[k], share[k])
    if "co_owned" in relations:
        links = pd.DataFrame({"o": own["owner_id"].to_numpy(dtype=object), "f": firm, "s": share})
        left = links[in_rows[firm]]
        pairs = left.merge(links, on="o", suffixes=("", "_j"))
        pairs = pairs[pairs["f"].to_numpy() != pairs["f_j"].to_numpy()]
        expo = np.minimum(pairs["s"].to_numpy(), pairs["s_j"].to_numpy())
        add(
            "co_owned",
            pairs["f"].to_numpy(dtype=np.int64),
            pairs["f_j"].to_numpy(dtype=np.int64),
            expo,
            pairs["o"].to_numpy(dtype=object),
        )
    return parts


def relation_edges(
    snapshot: Snapshot,
    rows: np.ndarray | None = None,
    *,
    relations: Sequence[str] = RELATIONS,
    counterparties: np.ndarray | None = None,
) -> pd.DataFrame:
    """The links of firms ``rows`` (snapshot rows; default all), one row per (firm, counterparty, relation).

    Parameters
    ----------
    snapshot : Snapshot
    rows : array of int, optional
        Snapshot rows of the firms whose links to list.
    relations : sequence of str
        Which relations (module table).
    counterparties : bool array over snapshot rows, optional
        Keep only links to these counterparties (e.g. the firms in default).

    Returns
    -------
    DataFrame
        ``firm``, ``counterparty`` (snapshot rows), ``relation``, ``amount`` (money; NaN for
        ownership), ``exposure`` (module table), ``via`` (the common owner of ``co_owned``).
    """
    rows = np.arange(snapshot.n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    parts = [
        _matrix_edges(snapshot, rel, rows, counterparties)
        for rel in relations
        if rel in ("sells_to", "buys_from", "guarantees", "guaranteed_by", "owed_by", "owes")
    ]
    parts += _ownership_edges(snapshot, relations, rows, counterparties)
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    out = pd.concat(parts, ignore_index=True)
    # several ownership lines of one pair (two common owners): keep the strongest
    out = out.sort_values(
        ["firm", "relation", "counterparty", "exposure"], ascending=[True, True, True, False]
    )
    return (
        out.drop_duplicates(["firm", "counterparty", "relation"])
        .reset_index(drop=True)
        .loc[:, list(_COLUMNS)]
    )


def flagged_counterparties(
    snapshot: Snapshot, counterparty_pd: pd.Series | None = None, *, high_pd: float = 0.10
) -> tuple[np.ndarray, np.ndarray]:
    """Over snapshot rows: (in default at t, PD of the counterparty or 1.0 when in default).

    ``counterparty_pd`` maps USCC to a PD; firms with a PD of ``high_pd`` or more count as
    high-risk counterparties beside the defaulted ones (PD NaN where unknown).
    """
    defaulted = snapshot.firms["defaulted"].to_numpy(dtype=bool)
    pd_all = np.full(snapshot.n, np.nan)
    if counterparty_pd is not None:
        pd_all = pd.Series(counterparty_pd, dtype="float64").reindex(snapshot.firms["uscc"]).to_numpy()
        pd_all = np.where(pd_all >= high_pd, pd_all, np.nan)
    pd_all = np.where(defaulted, 1.0, pd_all)
    return defaulted, pd_all
