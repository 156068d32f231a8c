"""Chain features of each firm from the dated snapshot's networks (scipy; never the live graph).

The live graph holds the future (links that start later, defaults that happen
later); the snapshot at ``t`` does not, so models read their graph features here.
GDS runs the same kinds of algorithms in the database for analysts (``graph.gds``).

With ``S`` the supply matrix (``S[i, j]``: i sells to j), ``G`` the firm guarantee
matrix (``G[g, b]``: g guarantees b), ``R`` trade credit (``R[c, d]``: d owes c) and
``d`` the indicator of firms in default at ``t``:

=============================  ==========================================================
feature                        definition
=============================  ==========================================================
sales_to_defaulted             (S d)_i / (S 1)_i: share of i's sales to defaulted buyers
inputs_from_defaulted          (Sᵀ d)_i / (Sᵀ 1)_i: share of i's inputs from defaulted suppliers
guarantees_to_defaulted        (G d)_i / equity_i: guarantees given to defaulted borrowers, over equity
                               (capped at 10; 10 for non-positive equity)
sales_to_recent_defaults,      the same three with ``d`` restricted to defaults in the last 6 months
inputs_from_recent_defaults,   (:data:`RECENT_DAYS`): a counterparty's failure weighs most soon after
guarantees_to_recent_defaults  it (lost orders, called guarantees); later its links are gone or repriced
receivables_from_defaulted     (R d)_i / (R 1)_i: share of i's trade credit owed by defaulted debtors
guarantors_defaulted           (Gᵀ d)_i / (Gᵀ 1)_i: share of i's guarantee cover from defaulted guarantors
log_sales, log_inputs          log(1 + row / column sums of S)
log_receivables                log(1 + row sums of R)
log_guarantees_received        log(1 + column sums of G)
out_degree, in_degree          supply customers, supply suppliers
guarantee_degree               guarantee links either way
pagerank                       PageRank of the supply network (buyer -> supplier, value-weighted), x n
guarantee_group_size           size of the weakly connected guarantee component (1 when alone)
nbr_<feature>                  value-weighted mean of a firm feature over supply partners both ways
=============================  ==========================================================

>>> import scipy.sparse as sp
>>> S = sp.csr_matrix(np.array([[0, 3.0, 1.0], [0, 0, 0], [0, 0, 0]]))
>>> d = np.array([False, True, False])
>>> float(_share(S, d)[0])  # firm 0 sells 3 of 4 to the defaulted firm 1
0.75
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ingest.snapshot import Snapshot

__all__ = ["NEIGHBOUR_FEATURES", "RECENT_DAYS", "graph_features", "pagerank"]

#: A counterparty's default counts as recent for this many days after its date.
RECENT_DAYS = 183

#: Firm features averaged over supply partners (``nbr_*``).
NEIGHBOUR_FEATURES: tuple[str, ...] = (
    "leverage",
    "elec_trend",
    "util_vs_peers",
    "orders_trend",
    "max_days_overdue",
    "equity_ratio",
)


def _share(m: sp.csr_matrix, flag: np.ndarray) -> np.ndarray:
    total = np.asarray(m.sum(axis=1)).ravel()
    part = m @ flag.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, part / total, np.nan)


def pagerank(
    m: sp.csr_matrix, *, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 200
) -> np.ndarray:
    """PageRank of the weighted graph ``m`` (``m[i, j]``: an edge i -> j), dangling mass spread evenly.

    >>> p = pagerank(sp.csr_matrix(np.array([[0, 1.0], [1.0, 0]])))
    >>> [round(float(v), 6) for v in p]
    [0.5, 0.5]
    """
    n = m.shape[0]
    if n == 0:
        return np.zeros(0)
    out = np.asarray(m.sum(axis=1)).ravel()
    inv = np.where(out > 0, 1.0 / np.where(out > 0, out, 1.0), 0.0)
    p_t = (sp.diags(inv) @ m).T.tocsr()  # column-stochastic transpose
    dangling = out == 0
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        nxt = damping * (p_t @ x + x[dangling].sum() / n) + (1 - damping) / n
        if np.abs(nxt - x).sum() < tol:
            return np.asarray(nxt)
        x = nxt
    return x


def graph_features(snapshot: Snapshot, firm_x: pd.DataFrame) -> pd.DataFrame:
    """Chain features for every row of ``snapshot.firms`` (``firm_x``: :func:`gnn.features.firm_features`)."""
    f = snapshot.firms
    n = snapshot.n
    d = f["defaulted"].to_numpy(dtype=bool)
    s = sp.csr_matrix(snapshot.supply)
    g = sp.csr_matrix(snapshot.guarantees)
    r = sp.csr_matrix(snapshot.receivables)
    x = pd.DataFrame(index=pd.RangeIndex(n))
    x["sales_to_defaulted"] = _share(s, d)
    x["inputs_from_defaulted"] = _share(s.T.tocsr(), d)
    age = (pd.Timestamp(snapshot.as_of) - pd.to_datetime(f["default_date"])).dt.days.to_numpy()
    recent = d & (age <= RECENT_DAYS)
    x["sales_to_recent_defaults"] = _share(s, recent)
    x["inputs_from_recent_defaults"] = _share(s.T.tocsr(), recent)
    x["receivables_from_defaulted"] = _share(r, d)
    x["guarantors_defaulted"] = _share(g.T.tocsr(), d)
    equity = f["equity"].to_numpy(dtype="float64")
    called = g @ d.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(equity > 0, called / equity, np.where(called > 0, 10.0, 0.0))
    x["guarantees_to_defaulted"] = np.where(np.isnan(equity) & (called > 0), np.nan, np.minimum(ratio, 10.0))
    called_recent = g @ recent.astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(equity > 0, called_recent / equity, np.where(called_recent > 0, 10.0, 0.0))
    x["guarantees_to_recent_defaults"] = np.where(
        np.isnan(equity) & (called_recent > 0), np.nan, np.minimum(ratio, 10.0)
    )
    x["log_sales"] = np.log1p(np.asarray(s.sum(axis=1)).ravel())
    x["log_inputs"] = np.log1p(np.asarray(s.sum(axis=0)).ravel())
    x["log_receivables"] = np.log1p(np.asarray(r.sum(axis=1)).ravel())
    x["log_guarantees_received"] = np.log1p(np.asarray(g.sum(axis=0)).ravel())
    x["out_degree"] = np.diff(s.indptr).astype("float64")
    x["in_degree"] = np.diff(s.T.tocsr().indptr).astype("float64")
    gs = (g + g.T).tocsr()
    x["guarantee_degree"] = np.diff(gs.indptr).astype("float64")
    # money flows buyer -> supplier: a firm matters when important firms buy from it
    x["pagerank"] = pagerank(s.T.tocsr()) * n
    if n:
        _, comp = connected_components(gs, directed=False)
        x["guarantee_group_size"] = np.bincount(comp)[comp].astype("float64")
    else:
        x["guarantee_group_size"] = np.zeros(0)
    both = (s + s.T).tocsr()
    weight = np.asarray(both.sum(axis=1)).ravel()
    for col in NEIGHBOUR_FEATURES:
        v = firm_x[col].to_numpy(dtype="float64") if col in firm_x else np.full(n, np.nan)
        known = ~np.isnan(v)
        num = both @ np.where(known, v, 0.0)
        den = both @ known.astype("float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            x[f"nbr_{col}"] = np.where((den > 0) & (weight > 0), num / den, np.nan)
    return x.astype("float64")
