"""Prospects: platform firms the bank does not lend to yet, near its good borrowers, as of a date.

The platform as a channel to new customers. A **good borrower** has a loan from the bank whose
latest status is ``normal`` and not overdue on every loan, and no default or bankruptcy event. A
**prospect** is a firm on the platform (not an external counterparty) with no loan from the bank
and no default or bankruptcy, within ``hops`` (1 or 2) active supply links of a good borrower, in
either direction: the borrower's suppliers and buyers (and theirs). The catalogue's
``good_borrowers`` finds the borrowers; ``supply_neighbour_hop`` walks one step at a time from them
(breadth-first, like chain exposure: each active link touched once, where a variable-length
pattern would enumerate every walk through a hub); then each prospect gets

- ``risk_pd`` / ``risk_tier`` from the current risk run (where one exists);
- its signals' trend (``signal_trends``: each signal's mean over the last ``window`` months against
  the window before, and their average ``signal_change``);
- its worst five-category class with other lenders (``worst_class``): a prospect with a loan
  special mention or worse elsewhere is dropped (``exclude_bad``);
- its details and stale flags.

Ranked by low risk: ``risk_pd`` ascending (unscored last), then healthy signals (``signal_change``
descending; none last), then the good borrowers near it (more first), the trade with them, USCC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

from chainrisk.errors import InvalidQueryParameter
from graph.protocol import QueryRunner
from ingest.tables import CLASSIFICATIONS
from queries.catalogue import CATALOGUE, FIRM_BATCH, resolve_as_of, run_for_firms, run_query
from queries.chaincache import CHAIN_CACHE, ChainCache, details_of, ingest_state
from queries.details import firm_details, stale_before, with_details

__all__ = ["prospects"]


def _hop(runner: QueryRunner, frontier: list[str], day: date, bank: list[str]) -> pd.DataFrame:
    q = CATALOGUE["supply_neighbour_hop"]
    parts = [runner.read_frame(q.text, {"frontier": frontier[i:i + FIRM_BATCH], "as_of": day,
                                        "lenders": bank}, timeout=q.timeout_s)
             for i in range(0, len(frontier), FIRM_BATCH)]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(q.columns))


_NEAR_COLUMNS = ["uscc", "distance", "near_borrowers", "trade_with_borrowers", "borrowers"]


def _near_by_queries(runner: QueryRunner, good: list[str], hops: int, day: date,
                     bank: list[str]) -> pd.DataFrame:
    """The reference path of :func:`_near`: one ``supply_neighbour_hop`` query per hop and batch in the
    database, then Python sets."""
    first = _hop(runner, good, day, bank)
    reach: dict[str, set[str]] = {}
    direct: dict[str, float] = {}
    excluded = set(good)
    for near, far, value, bad in first[["near", "far", "value", "excluded"]].itertuples(index=False):
        reach.setdefault(far, set()).add(near)
        direct[far] = direct.get(far, 0.0) + float(value or 0.0)
        if bad:
            excluded.add(far)
    distance = dict.fromkeys(reach, 1)
    if hops == 2 and reach:
        second = _hop(runner, sorted(reach), day, bank)
        within = {k: set(v) for k, v in reach.items()}
        for near, far, _, bad in second[["near", "far", "value", "excluded"]].itertuples(index=False):
            within.setdefault(far, set()).update(reach[near])
            distance.setdefault(far, 2)
            if bad:
                excluded.add(far)
        reach = within
    rows = [{"uscc": c, "distance": distance[c], "near_borrowers": len(b - {c}),
             "trade_with_borrowers": direct.get(c, 0.0), "borrowers": sorted(b - {c})[:20]}
            for c, b in reach.items() if c not in excluded and b - {c}]
    return pd.DataFrame(rows, columns=_NEAR_COLUMNS).sort_values("uscc").reset_index(drop=True)


def _near(runner: QueryRunner, cache: ChainCache, good: list[str], hops: int, day: date,
          bank: list[str]) -> pd.DataFrame:
    """Per prospect: distance to the nearest good borrower, the good borrowers within ``hops``, and
    the direct trade with them; :func:`_near_by_queries`'s answer from the chain cache's supply
    network (sparse matrix products in this process) and one query for the firms that are no
    prospect.

    With :math:`A` the supply links' pattern either way and :math:`G` the good borrowers' rows of
    it (in USCC order), the pairs within one hop are the non-zeros of :math:`G`, within two those
    of :math:`G + G A` (through any firm, as the reference path walks); a prospect's column holds
    its good borrowers, the trade is the column sum of the values either way over :math:`G`.
    """
    net = cache.network(runner, ingest_state(runner), "supply", day)
    n = len(net.ids)
    rows = np.array([net.index[u] for u in sorted(set(good)) if u in net.index], dtype=np.int64)
    no = set(run_query(runner, "non_prospects", {"as_of": day, "lenders": bank})["uscc"].tolist()) | set(good)
    cand = np.flatnonzero(~np.isin(net.ids.astype(str), list(no)))
    if len(rows) == 0 or len(cand) == 0:
        return pd.DataFrame(columns=_NEAR_COLUMNS)
    src, dst, val = net.edges()
    # the pattern separately from the values: a link of no value still makes neighbours
    adj = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    adj = sp.csr_matrix(adj + adj.T)
    value = sp.csr_matrix((val, (src, dst)), shape=(n, n))
    value = sp.csr_matrix(value + value.T)
    mine = adj[rows]
    one = sp.csc_matrix(mine[:, cand])
    within = one if hops == 1 else sp.csc_matrix(one + (mine @ adj[:, cand]))
    within.sort_indices()
    counts = np.diff(within.indptr)
    found = np.flatnonzero(counts)
    trade = np.asarray(value[rows][:, cand].sum(axis=0)).ravel()
    ids = net.ids.astype(str)
    good_ids = ids[rows]
    ptr, idx = within.indptr, within.indices
    frame = pd.DataFrame({
        "uscc": ids[cand[found]],
        "distance": np.where(np.diff(one.indptr)[found] > 0, 1, 2),
        "near_borrowers": counts[found],
        "trade_with_borrowers": trade[found].astype(float),
        "borrowers": [good_ids[idx[ptr[j]:min(ptr[j + 1], ptr[j] + 20)]].tolist() for j in found],
    }, columns=_NEAR_COLUMNS)
    return frame.sort_values("uscc").reset_index(drop=True)


def prospects(
    runner: QueryRunner,
    *,
    as_of: date | str | None = None,
    hops: int = 1,
    window: int = 3,
    top: int = 100,
    exclude_bad: bool = True,
    lenders: Sequence[str] | None = None,
    cache: ChainCache | None = CHAIN_CACHE,
) -> pd.DataFrame:
    """The ranked prospects (module doc), at most ``top``; ``frame.attrs`` holds ``as_of``.

    ``cache`` (default the process's chain cache) finds them from its supply network in this
    process; ``None`` takes the reference path (one query per hop and batch), same answers.
    """
    day = resolve_as_of(runner, as_of)
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    if hops not in (1, 2):
        raise InvalidQueryParameter(f"hops must be 1 or 2, got {hops!r}")
    good = run_query(runner, "good_borrowers", {"as_of": day, "lenders": bank})["uscc"].tolist()
    if cache is None:
        found = _near_by_queries(runner, good, hops, day, bank)
    else:
        found = _near(runner, cache, good, hops, day, bank)
    usccs = found["uscc"].tolist()
    if usccs:
        # every lender's loans: their worst class is the prospect's record elsewhere
        if cache is None:
            loans = run_for_firms(runner, "firm_exposure", usccs, {"as_of": day, "lenders": []})
        elif (book := cache.held_book(runner, cache.state(runner), day, bank)) is not None:
            # the held book's worst_rank is loan_worst_class's (every lender's loans, any firm with a
            # loan started by the date is in the book): no query
            loans = pd.DataFrame({"uscc": book.index, "worst_rank": book["worst_rank"].to_numpy()})
        else:  # one set query over every loan, not one subquery per prospect
            loans = run_query(runner, "loan_worst_class", {"as_of": day})
        rank = dict(zip(loans["uscc"], loans["worst_rank"], strict=True))
        trends = run_for_firms(runner, "signal_trends", usccs, {"as_of": day, "window": window})
        found = found.merge(trends, on="uscc", how="left")
        found["worst_class"] = [CLASSIFICATIONS[int(r)] if r is not None and r == r else None
                                for r in (rank.get(u) for u in found["uscc"])]
        if exclude_bad:
            found = found[~found["worst_class"].isin(CLASSIFICATIONS[1:])]
    else:
        found = found.assign(signal_change=pd.Series(dtype=float), worst_class=pd.Series(dtype=object))
    if cache is None:
        details = firm_details(runner, found["uscc"].tolist(), day)
        pd_of = {u: d.get("risk_pd") for u, d in details.items()}
    else:  # the PDs of every firm in one query; details only for the rows shown
        scores = run_query(runner, "current_risk_pd").drop_duplicates("uscc")
        pd_of = dict(zip(scores["uscc"], scores["risk_pd"], strict=True))
    found["risk_pd"] = pd.to_numeric(pd.Series([pd_of.get(u) for u in found["uscc"]],
                                               index=found.index, dtype=object))
    found = found.sort_values(
        ["risk_pd", "signal_change", "near_borrowers", "trade_with_borrowers", "uscc"],
        ascending=[True, False, False, False, True], na_position="last", kind="stable",
    ).iloc[:top].reset_index(drop=True)
    found.insert(1, "rank", range(1, len(found) + 1))
    if cache is not None:
        details = details_of(runner, found["uscc"].tolist(), day, cache)
    found = with_details(found, details)
    found.attrs.update({"as_of": day.isoformat(), "hops": hops, "window": window,
                        "stale_before": stale_before(day).isoformat()})
    return found
