"""The active supply and guarantee networks of one date as arrays, and what every chain walk on
that date shares (:class:`ChainIndex`): the bank's figures per node and each network's page order.

The walk (per list, breadth-first from the focal firm ``F``): with the frontier at distance
:math:`d - 1`, every active link of a frontier firm to a party not yet reached adds its value to
that party's ``value`` and :math:`w / W_{near} \\cdot share(near)` to its ``share``
(:math:`W_{near}` all of near's active inputs, upstream, or sales, downstream), and the parties
first reached at this level get distance :math:`d`; persons are reached but never walked from.
This is the reference path's rule link for link, so answers are the same (shares up to the
order of floating-point additions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from queries.bfs import links, reach
from queries.sections import BookArrays, Section

__all__ = ["WALKS", "WALK_COLUMNS", "ChainIndex", "Network"]

#: How each list walks its network: (network, against the links' direction, shares computed).
WALKS: dict[str, tuple[str, bool, bool]] = {
    "upstream": ("supply", True, True),      # from a buyer to its suppliers
    "downstream": ("supply", False, True),   # from a supplier to its buyers
    "guarantors": ("guarantee", True, False),  # from a borrower to its guarantors
    "guaranteed": ("guarantee", False, False),  # from a guarantor to the borrowers
}
WALK_COLUMNS = ["id", "distance", "value", "share", "party"]


class _Csr:
    """Links grouped by their start node: ``nbr[ptr[i]:ptr[i + 1]]`` are ``i``'s far ends."""

    def __init__(self, near: np.ndarray, far: np.ndarray, value: np.ndarray, n: int):
        order = np.argsort(near, kind="stable")
        self.nbr = far[order]
        self.val = value[order]
        self.ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(near, minlength=n), out=self.ptr[1:])
        # every active link of a node, to anyone: the share's denominator
        self.total = np.bincount(near, weights=value, minlength=n)

    def links(self, frontier: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(near, far, value) of every link of the frontier nodes."""
        return links(self.ptr, self.nbr, self.val, frontier)


class Network:
    """One kind of active links on one date (per (source, target) pair, values summed), both ways.

    ``ids[i]`` is node ``i``'s USCC or person id, ``is_firm[i]`` whether it is a firm.
    """

    def __init__(self, source: Sequence[str], target: Sequence[str], value: Sequence[float],
                 source_is_firm: Sequence[bool] | None = None):
        codes, ids = pd.factorize(pd.Index(list(source) + list(target)), sort=False)
        n_links = len(source)
        self.ids = np.asarray(ids, dtype=object)
        self.index = {str(x): i for i, x in enumerate(self.ids)}
        n = len(self.ids)
        src, dst = codes[:n_links].astype(np.int64), codes[n_links:].astype(np.int64)
        val = pd.to_numeric(pd.Series(value, dtype=object)).fillna(0.0).to_numpy(dtype=float)
        self.is_firm = np.ones(n, dtype=bool)
        if source_is_firm is not None:
            self.is_firm[src[~np.asarray(source_is_firm, dtype=bool)]] = False
        self.forward = _Csr(src, dst, val, n)   # source -> target
        self.backward = _Csr(dst, src, val, n)  # target -> source
        self.links = n_links

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every link once as node indices (source, target) and its value (summed per pair)."""
        fwd = self.forward
        return np.repeat(np.arange(len(self.ids), dtype=np.int64), np.diff(fwd.ptr)), fwd.nbr, fwd.val

    def neighbours(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(near, far, value) of every link of ``nodes`` either way, the values of both directions
        between the same two nodes summed (one row per pair), sorted by (near, far)."""
        n1, f1, v1 = self.forward.links(nodes)
        n2, f2, v2 = self.backward.links(nodes)
        near, far, val = np.concatenate((n1, n2)), np.concatenate((f1, f2)), np.concatenate((v1, v2))
        if len(near) == 0:
            return near, far, val
        key = near * len(self.ids) + far
        uniq, inv = np.unique(key, return_inverse=True)
        return uniq // len(self.ids), uniq % len(self.ids), np.bincount(inv, weights=val, minlength=len(uniq))

    def reach(self, focal: str, hops: int, *, backward: bool, shares: bool,
              ranked: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Breadth-first from ``focal`` to ``hops`` (module docstring): the parties reached as node
        indices with their distance, value and share (zeros unless ``shares``); in node order, or
        by distance and then ``ranked``'s order (``queries.bfs.reach``)."""
        start = self.index.get(focal)
        if start is None:
            e = np.zeros(0, dtype=np.int64)
            return e, e, np.zeros(0), np.zeros(0)
        csr = self.backward if backward else self.forward
        return reach(csr.ptr, csr.nbr, csr.val, csr.total, self.is_firm, start, hops, shares=shares,
                     ranked=ranked)

    def walk(self, focal: str, hops: int, *, backward: bool, shares: bool) -> pd.DataFrame:
        """:meth:`reach` as the reference path's frame: one row per party reached."""
        reached, dist, value, share = self.reach(focal, hops, backward=backward, shares=shares)
        if len(reached) == 0:
            return pd.DataFrame(columns=WALK_COLUMNS)  # as the reference path's empty walk
        return pd.DataFrame({
            "id": self.ids[reached], "distance": dist, "value": value, "share": share,
            "party": np.where(self.is_firm[reached], "firm", "person"),
        }, columns=WALK_COLUMNS)

    @cached_property
    def id_rank(self) -> np.ndarray:
        """Each node's rank among the ids as text (code points): ties in a list's order are broken
        by id, and an integer rank sorts much faster than the strings."""
        rank = np.empty(len(self.ids), dtype=np.int64)
        rank[np.argsort(self.ids.astype(str), kind="stable")] = np.arange(len(self.ids))
        return rank


@dataclass(frozen=True)
class ChainIndex:
    """What every chain walk on one date for one bank shares: both networks and, for each network's
    nodes, the bank's figures from its book and a key shared by both networks (the same firm
    reached over supply and guarantee links is one party of the chain).

    Built once per ingest state, date and bank (:meth:`ChainCache.chain_index`), so a walk's
    lists are array lookups: no join on USCC text per chain.
    """

    networks: dict[str, Network]
    key: dict[str, np.ndarray]
    #: every node of a network in (exposure descending, id) order: a list's order within a distance
    ranked: dict[str, np.ndarray]
    #: the book's figures and loan class rank per network node (zeros and NaN for persons and
    #: firms outside the book), so a walk's lists are plain gathers
    money: dict[str, dict[str, np.ndarray]]
    rank: dict[str, np.ndarray]

    @classmethod
    def build(cls, networks: dict[str, Network], book: pd.DataFrame) -> ChainIndex:
        arrays = BookArrays.from_frame(book)
        every = pd.Index(np.concatenate([n.ids for n in networks.values()]), dtype=object).unique()
        pos = {k: arrays.positions(n.ids) for k, n in networks.items()}
        money, rank, ranked = {}, {}, {}
        for k, net in networks.items():
            known = net.is_firm & (pos[k] >= 0)
            take = np.where(known, pos[k], 0)
            empty = len(arrays.rank) == 0
            money[k] = {c: np.zeros(len(net.ids)) if empty else np.where(known, v[take], 0.0)
                        for c, v in arrays.money.items()}
            rank[k] = np.full(len(net.ids), np.nan) if empty else np.where(known, arrays.rank[take], np.nan)
            ranked[k] = np.lexsort((net.id_rank, -money[k]["exposure"]))
            if len(net.ids):  # the walk's kernels compile (or load) here, at warm-up, not in a request
                net.reach(str(net.ids[0]), 1, backward=False, shares=True, ranked=ranked[k])
        return cls(networks,
                   {k: np.asarray(every.get_indexer(n.ids), dtype=np.int64) for k, n in networks.items()},
                   ranked, money, rank)

    def section(self, name: str, focal: str, hops: int) -> Section:
        """The list ``name`` (``upstream`` ...) of ``focal``'s chain within ``hops``, in page order:
        the walk hands its parties back by distance, each distance in the network's (exposure
        descending, id) order, so no comparison sort is needed.

        The order is by distance first, and a party's distance, value and share are settled at the
        level it is reached, so the list within ``d < hops`` is the list within ``hops`` cut after
        its distance-``d`` rows, row for row: a page that needs no more walks no deeper.
        """
        kind, backward, shares = WALKS[name]
        net = self.networks[kind]
        at, dist, value, share = net.reach(focal, hops, backward=backward, shares=shares,
                                           ranked=self.ranked[kind])
        return Section(name, ids=net.ids[at], firm=net.is_firm[at], distance=dist, value=value,
                       share=share, money={c: v[at] for c, v in self.money[kind].items()},
                       rank=self.rank[kind][at], key=self.key[kind][at])

    def lists(self, focal: str, hops: int, wanted: Sequence[str],
              depths: dict[str, int] | None = None) -> dict[str, Section]:
        """Every list of ``focal``'s chain (the ``wanted`` ones walked, the others empty); a list
        named in ``depths`` only that many hops deep (its first rows, :meth:`section`)."""
        depths = depths or {}
        return {s: self.section(s, focal, min(hops, depths.get(s, hops))) if s in wanted else Section.empty(s)
                for s in WALKS}

    def hubs(self, share: float) -> list[str]:
        """The firms with the most links (supply and guarantee, both ways, one per counterparty):
        the top ``share`` of the firms, at least one, most links first (ties by USCC)."""
        size = max((int(k.max()) + 1 for k in self.key.values() if len(k)), default=0)
        links, firm = np.zeros(size, dtype=np.int64), np.zeros(size, dtype=bool)
        ids = np.empty(size, dtype=object)
        for kind, net in self.networks.items():
            key = self.key[kind]  # unique within a network: plain fancy-index adds are exact
            links[key] += np.diff(net.forward.ptr) + np.diff(net.backward.ptr)
            firm[key] |= net.is_firm
            ids[key] = net.ids
        cand = np.flatnonzero(firm)
        if len(cand) == 0:
            return []
        ranked = cand[np.lexsort((ids[cand].astype(str), -links[cand]))]
        top = ranked[: max(1, int(np.ceil(share * len(cand))))]
        return [str(u) for u in ids[top]]
