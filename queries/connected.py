"""Connected clients (集团客户 / 关联客户) and the bank's large exposures, as of a date.

A **connected-client group** is a weakly connected component of the network whose nodes are
firms and persons and whose links are

- **control**: an owner (firm or person) holding at least ``control_share`` of a firm on
  ``as_of`` (default 0.5: the rules' "50% or more of the voting shares"; shares of parallel
  holdings summed), so indirect control (A holds B, B holds C) and common control (one person
  holds two firms) tie the firms together; and
- **guarantees**: every active guarantee, persons included (the firm's guarantee group,
  ``queries.circles``), standing for the rules' economic dependence.

Only groups of two or more firms are groups; a firm with no tie is a single client.

The bank's exposure to a firm is ``outstanding + undrawn_factor x undrawn`` on its loans from
``lenders`` (the catalogue's ``firm_exposure``; ``undrawn_factor`` 1.0 counts unused limits in
full, the rules' credit conversion factors may be set lower); a group's is the sum over its firms.
Each is set against the bank's tier-1 capital (net), and flagged against configurable limits whose
defaults are those of the CBIRC's 商业银行大额风险暴露管理办法 (Measures for the Administration of
Large Exposures of Commercial Banks, CBIRC Order 2018 No. 1, in force 2018-07-01):

- a **large exposure** is one of at least 10% of tier-1 capital (``large_threshold``);
- exposure to a single non-bank client at most 15% of tier-1 capital (``single_limit``);
- exposure to a group of connected non-bank clients at most 20% of tier-1 capital (``group_limit``);
- loans to a single non-bank client at most 10% of net capital (资本净额, ``loan_limit``; checked
  when ``net_capital`` is given), the Commercial Banking Law's ratio the Measures keep.

Shares are compared with ``>``: an exposure of exactly the limit is within it.

>>> sorted(DEFAULT_LIMITS)
['group_limit', 'large_threshold', 'loan_limit', 'single_limit']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from chainrisk.errors import InvalidQueryParameter
from graph.protocol import QueryRunner
from queries.catalogue import records, resolve_as_of, run_for_firms, run_query
from queries.chaincache import CHAIN_CACHE, details_of
from queries.details import stale_before, with_details

__all__ = ["DEFAULT_LIMITS", "LIMITS_SOURCE", "ConnectedClients", "connected_clients"]

#: Shares of capital (see the module docstring for their source).
DEFAULT_LIMITS: dict[str, float] = {
    "large_threshold": 0.10, "single_limit": 0.15, "group_limit": 0.20, "loan_limit": 0.10,
}
LIMITS_SOURCE = ("商业银行大额风险暴露管理办法 (CBIRC Order 2018 No. 1): large exposure >= 10% of tier-1 "
                 "capital; single non-bank client <= 15% and connected non-bank clients <= 20% of tier-1 "
                 "capital; loans to a single client <= 10% of net capital")


@dataclass
class ConnectedClients:
    """Groups of connected clients and the bank's exposure to each client, against limits."""

    as_of: date
    tier1_capital: float
    net_capital: float | None
    limits: dict[str, float]
    groups: pd.DataFrame
    clients: pd.DataFrame
    source: str = field(default=LIMITS_SOURCE)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"as_of", "tier1_capital", "limits", "groups": [...], "clients": [...]}``."""
        return {"as_of": self.as_of.isoformat(), "stale_before": stale_before(self.as_of).isoformat(),
                "tier1_capital": self.tier1_capital, "net_capital": self.net_capital,
                "limits": self.limits, "source": self.source,
                "groups": records(self.groups), "clients": records(self.clients)}


_SEP = "\x1f"  # between a node's kind and id in its key; in neither


def _components(owners: pd.DataFrame,
                guarantees: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The tie network's weakly connected components, with sparse arrays rather than a graph
    object (thousands of groups at 20k firms).

    Returns the nodes (``kind``, ``id``, ``comp``) and, per component, the distinct pairs of
    nodes tied by control and by guarantees (a pair tied both ways counts in each).
    """
    near = pd.concat([owners["kind"].astype(str) + _SEP + owners["owner"].astype(str),
                      guarantees["kind"].astype(str) + _SEP + guarantees["guarantor"].astype(str)],
                     ignore_index=True)
    far = pd.concat(["firm" + _SEP + owners["firm"].astype(str),
                     "firm" + _SEP + guarantees["borrower"].astype(str)], ignore_index=True)
    control = np.r_[np.ones(len(owners), dtype=bool), np.zeros(len(guarantees), dtype=bool)]
    codes, keys = pd.factorize(pd.concat([near, far], ignore_index=True))
    m, n = len(near), len(keys)
    if n == 0:
        return pd.DataFrame({"kind": [], "id": [], "comp": []}), np.zeros(0, int), np.zeros(0, int)
    u, v = codes[:m].astype(np.int64), codes[m:].astype(np.int64)
    _, comp = connected_components(sp.coo_matrix((np.ones(m), (u, v)), shape=(n, n)), directed=False)
    pairs = pd.DataFrame({"lo": np.minimum(u, v), "hi": np.maximum(u, v), "control": control})
    pairs = pairs.drop_duplicates()
    ncomp = int(comp.max()) + 1
    tied = [np.bincount(comp[pairs.loc[pairs["control"] == c, "lo"].to_numpy()], minlength=ncomp)
            for c in (True, False)]
    split = pd.Series(keys, dtype=object).str.split(_SEP, n=1, expand=True)
    nodes = pd.DataFrame({"kind": split[0], "id": split[1], "comp": comp})
    return nodes, tied[0], tied[1]


def connected_clients(
    runner: QueryRunner,
    *,
    tier1_capital: float,
    net_capital: float | None = None,
    as_of: date | str | None = None,
    lenders: Sequence[str] | None = None,
    control_share: float = 0.5,
    undrawn_factor: float = 1.0,
    include_guarantees: bool = True,
    limits: dict[str, float] | None = None,
) -> ConnectedClients:
    """The bank's exposure per client and per group of connected clients (module doc).

    Parameters
    ----------
    tier1_capital : float
        The bank's tier-1 capital (net), yuan; every share is of it.
    net_capital : float, optional
        The bank's net capital (资本净额), for the single-client loan limit; not checked when absent.
    lenders : sequence of str, optional
        The lender ids that make up the bank (default ``settings.bank_lenders``; empty: every lender).
    control_share : float
        The least share held that ties an owner to a firm.
    undrawn_factor : float
        The part of undrawn limits counted as exposure (credit conversion factor), 0 to 1.
    include_guarantees : bool
        Tie firms by their guarantee group as well as by control.
    limits : dict, optional
        Overrides of :data:`DEFAULT_LIMITS` (shares of capital).

    Returns
    -------
    ConnectedClients
        ``groups`` (one row per group of two or more firms holding a bank exposure: ``id``,
        ``members``, ``persons``, ``borrowers``, ``exposure``, ``share_of_tier1``, ``large``,
        ``over_limit``, the ties), ordered by exposure; ``clients`` (one row per firm with a bank
        exposure: its ``group``, shares, flags and details with stale flags).
    """
    if not tier1_capital > 0:
        raise InvalidQueryParameter(f"tier1_capital must be positive, got {tier1_capital!r}")
    if net_capital is not None and not net_capital > 0:
        raise InvalidQueryParameter(f"net_capital must be positive, got {net_capital!r}")
    if not 0.0 <= control_share <= 1.0 or not 0.0 <= undrawn_factor <= 1.0:
        raise InvalidQueryParameter("control_share and undrawn_factor must lie in [0, 1]")
    unknown = sorted(set(limits or {}) - set(DEFAULT_LIMITS))
    if unknown:
        raise InvalidQueryParameter(f"unknown limit(s) {unknown}; known: {sorted(DEFAULT_LIMITS)}")
    lim = {**DEFAULT_LIMITS, **(limits or {})}
    day = resolve_as_of(runner, as_of)
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)

    # the chain cache's book, when the API warmed it up, holds firm_exposure's rows of every firm
    # with a loan started by the date: the bank's borrowers are those with a loan of the bank
    # (bank_loans > 0, bank_borrowers' rule), so neither query runs over thousands of firms
    book = CHAIN_CACHE.held_book(runner, CHAIN_CACHE.state(runner), day, bank)
    if book is not None:
        exp = book.loc[sorted(book.index[book["bank_loans"].to_numpy() > 0])].reset_index()
        exp["uscc"] = exp["uscc"].astype(str)  # the dtype a query's frame has
    else:
        borrowers = run_query(runner, "bank_borrowers", {"as_of": day, "lenders": bank})["uscc"].tolist()
        exp = run_for_firms(runner, "firm_exposure", borrowers, {"as_of": day, "lenders": bank})
    exp = exp.assign(exposure=exp["outstanding"].astype(float)
                     + undrawn_factor * exp["undrawn"].astype(float))
    exp = exp[exp["exposure"] > 0].set_index("uscc")

    owners = run_query(runner, "ownership_links", {"as_of": day, "min_share": control_share})
    empty = pd.DataFrame(columns=["kind", "guarantor", "borrower"])
    guarantees = run_query(runner, "guarantee_links", {"as_of": day}) if include_guarantees else empty
    nodes, control_pairs, guarantee_pairs = _components(owners, guarantees)

    group_rows: list[dict[str, Any]] = []
    group_of: dict[str, str] = {}
    firms_at = nodes[nodes["kind"] == "firm"].sort_values(["comp", "id"], kind="stable")
    held_at = firms_at[firms_at["id"].isin(exp.index)]
    n_firms = firms_at.groupby("comp").size()
    wanted = set(n_firms.index[n_firms >= 2]) & set(held_at["comp"])
    members = firms_at[firms_at["comp"].isin(wanted)].groupby("comp")["id"].agg(list)
    persons = (nodes[(nodes["kind"] == "person") & nodes["comp"].isin(wanted)]
               .sort_values(["comp", "id"], kind="stable").groupby("comp")["id"].agg(list))
    held = held_at[held_at["comp"].isin(wanted)].groupby("comp")["id"].agg(list)
    for c, firms in zip(members.index.to_numpy(dtype=np.int64), members.tolist(), strict=True):
        mine = held[c]
        total = float(exp.loc[mine, "exposure"].sum())
        group_rows.append({
            "members": firms, "persons": persons.get(c, []),
            "n_members": len(firms), "borrowers": mine,
            "control_pairs": int(control_pairs[c]), "guarantee_pairs": int(guarantee_pairs[c]),
            "outstanding": float(exp.loc[mine, "outstanding"].sum()), "exposure": total,
            "share_of_tier1": total / tier1_capital,
        })
    group_rows.sort(key=lambda r: (-r["exposure"], r["members"][0]))
    for i, row in enumerate(group_rows, start=1):
        row["id"] = f"K{i}"
        row["large"] = row["share_of_tier1"] >= lim["large_threshold"]
        row["over_limit"] = row["share_of_tier1"] > lim["group_limit"]
        group_of.update({f: row["id"] for f in row["members"]})
    group_cols = ["id", "members", "persons", "n_members", "borrowers", "control_pairs", "guarantee_pairs",
                  "outstanding", "exposure", "share_of_tier1", "large", "over_limit"]
    groups = pd.DataFrame(group_rows, columns=group_cols)

    clients = exp.reset_index()[["uscc", "outstanding", "undrawn", "exposure"]].copy()
    clients["share_of_tier1"] = clients["exposure"] / tier1_capital
    clients["large"] = clients["share_of_tier1"] >= lim["large_threshold"]
    clients["over_limit"] = clients["share_of_tier1"] > lim["single_limit"]
    clients["loan_share_of_net_capital"] = clients["outstanding"] / net_capital if net_capital else None
    clients["over_loan_limit"] = (clients["outstanding"] / net_capital > lim["loan_limit"]
                                  if net_capital else None)
    gexp = dict(zip(groups["id"], groups["exposure"], strict=True))
    clients["group"] = pd.Series([group_of.get(u) for u in clients["uscc"]], dtype=object)
    clients["group_exposure"] = pd.Series([gexp.get(group_of.get(u, "")) for u in clients["uscc"]],
                                          dtype=object)
    clients = clients.sort_values(["exposure", "uscc"], ascending=[False, True]).reset_index(drop=True)
    clients = with_details(clients, details_of(runner, clients["uscc"].tolist(), day))
    return ConnectedClients(as_of=day, tier1_capital=float(tier1_capital), net_capital=net_capital,
                            limits=lim, groups=groups, clients=clients)
