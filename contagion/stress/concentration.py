r"""Concentration of the bank's exposure: single names, HHI and connected-client groups.

- Single names: the bank's exposure at default per firm, its share of the
  portfolio and, when the scenario gives the bank's tier-1 capital, of that capital.
- Herfindahl-Hirschman index of the firm shares :math:`s_i = EAD_i / \sum EAD`,
  :math:`HHI = \sum_i s_i^2` (1 for one borrower, :math:`1/n` for :math:`n` equal ones),
  and the equivalent number of names :math:`1 / HHI`.
- Connected clients: firms linked by a guarantee (either direction; the weakly
  connected components of the firm guarantee graph) or by a common owner holding
  at least ``control_share`` of each (control), the two relations joined
  transitively. Each group's exposure is compared with the group limit.

Limits (shares of tier-1 capital) default to China's 2018 large-exposure rules:
CBIRC, "Measures for the Administration of Large Exposures of Commercial Banks"
(商业银行大额风险暴露管理办法, Order 2018 No. 1): a non-interbank single client at most
10 %, a group of connected clients at most 15 %.

>>> import scipy.sparse as sp
>>> g = sp.csr_matrix(([1.0], ([0], [1])), shape=(4, 4))
>>> own = pd.DataFrame({"owner_id": ["P", "P"], "firm": [2, 3], "share": [0.6, 0.9]})
>>> client_groups(g, own, 4).tolist()
['group-1', 'group-1', 'group-2', 'group-2']
>>> round(hhi(np.array([1.0, 1.0, 2.0])), 3)
0.375
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["client_groups", "concentration_report", "hhi"]

SOURCE = ("CBIRC, Measures for the Administration of Large Exposures of Commercial Banks "
          "(Order 2018 No. 1): single client 10 %, connected clients 15 % of tier-1 capital")


def hhi(exposure: np.ndarray) -> float:
    """Herfindahl-Hirschman index of the exposures' shares (NaN when there is no exposure)."""
    e = np.clip(np.nan_to_num(np.asarray(exposure, dtype=np.float64)), 0.0, None)
    total = e.sum()
    return float(np.sum((e / total) ** 2)) if total > 0 else float("nan")


def client_groups(guarantees: sp.spmatrix, ownership: pd.DataFrame | None, n: int,
                  control_share: float = 0.5) -> np.ndarray:
    """Connected-client group per firm (``""`` for a firm connected to none), ``group-1`` largest.

    ``ownership`` has ``owner_id``, ``firm`` (row) and ``share`` (rows outside ``0..n-1`` ignored).
    """
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    g = sp.coo_matrix(guarantees)
    keep = g.row != g.col
    rows.append(g.row[keep])
    cols.append(g.col[keep])
    if ownership is not None and len(ownership) and {"owner_id", "firm"} <= set(ownership.columns):
        own = ownership[["owner_id", "firm"]].copy()
        share = (pd.to_numeric(ownership["share"], errors="coerce") if "share" in ownership
                 else pd.Series(1.0, index=ownership.index))
        own = own[(share.fillna(0.0) >= control_share).to_numpy()]
        own = own[(own["firm"] >= 0) & (own["firm"] < n)]
        for _, part in own.groupby("owner_id", sort=True):
            f = part["firm"].to_numpy(dtype=np.int64)
            if len(f) > 1:  # a star around the first firm connects them all
                rows.append(np.full(len(f) - 1, f[0]))
                cols.append(f[1:])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    adj = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n, n))
    labels = np.full(n, "", dtype=object)
    if n == 0:
        return labels
    _, comp = connected_components(adj, directed=True, connection="weak")
    sizes = np.bincount(comp)
    big = [k for k in range(len(sizes)) if sizes[k] >= 2]
    first = {k: int(np.flatnonzero(comp == k)[0]) for k in big}
    big.sort(key=lambda k: (-sizes[k], first[k]))
    for rank, k in enumerate(big, start=1):
        labels[comp == k] = f"group-{rank}"
    return labels


def concentration_report(
    uscc: Sequence[str],
    names: Sequence[str],
    ead: np.ndarray,
    groups: np.ndarray,
    *,
    capital: float | None,
    single_limit: float,
    group_limit: float,
    top_n: int = 20,
) -> dict[str, Any]:
    """Top single names, HHI and connected-client groups, each flagged against its limit.

    A name or group breaches when its exposure exceeds ``limit * capital``; without
    ``capital`` shares of capital and breaches are ``None``.
    """
    e = np.clip(np.nan_to_num(np.asarray(ead, dtype=np.float64)), 0.0, None)
    total = float(e.sum())

    def of_capital(x: float) -> float | None:
        return x / capital if capital else None

    order = np.lexsort((np.arange(len(e)), -e))[:top_n]
    singles = [{"uscc": str(uscc[i]), "name": str(names[i]), "ead": float(e[i]),
                "share_of_portfolio": float(e[i] / total) if total > 0 else None,
                "share_of_capital": of_capital(float(e[i])),
                "breach": (float(e[i]) > single_limit * capital) if capital else None}
               for i in order if e[i] > 0]
    frame = pd.DataFrame({"group": np.asarray(groups, dtype=object), "ead": e, "uscc": list(uscc)})
    frame = frame[frame["group"] != ""]
    grouped = (frame.groupby("group", sort=True)
               .agg(ead=("ead", "sum"), members=("uscc", "size"), firms=("uscc", list)).reset_index()
               .sort_values(["ead", "group"], ascending=[False, True]))
    head = grouped.head(top_n)
    group_rows = [{"group": str(g), "members": int(m), "ead": float(x),
                   "share_of_portfolio": float(x) / total if total > 0 else None,
                   "share_of_capital": of_capital(float(x)),
                   "breach": (float(x) > group_limit * capital) if capital else None,
                   "firms": [str(u) for u in f][:50]}
                  for g, m, x, f in zip(head["group"].tolist(), head["members"].tolist(),
                                        head["ead"].tolist(), head["firms"].tolist(), strict=True) if x > 0]
    h = hhi(e)
    return {
        "tier1_capital": capital,
        "single_limit": single_limit,
        "group_limit": group_limit,
        "limits_source": SOURCE,
        "total_ead": total,
        "hhi": h if np.isfinite(h) else None,
        "equivalent_names": (1.0 / h) if np.isfinite(h) and h > 0 else None,
        "single_breaches": (int(np.sum(e > single_limit * capital)) if capital else None),
        "group_breaches": (int((grouped["ead"] > group_limit * capital).sum()) if capital else None),
        "groups": len(grouped),
        "top_names": singles,
        "top_groups": group_rows,
    }
