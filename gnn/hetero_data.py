"""The dated snapshot as a PyTorch Geometric ``HeteroData``: one firm node type, typed directed relations.

Every row of :class:`~ingest.snapshot.Snapshot` is a ``firm`` node, the bank's book, the
platform's other firms and external counterparties alike: the ones without a label still
pass messages. Each link of the snapshot gives **two relation types**, one per direction,
because risk travels differently each way (a buyer's failure starves its supplier; a
supplier's failure stops its buyer's production). A message flows from ``src`` to ``dst``
and ``dst`` is the firm whose risk it informs; its weight says how much of ``dst`` rides
on ``src``:

=====================  =======================  ===============================================
relation (src → dst)   link                     edge weight
=====================  =======================  ===============================================
``buyer``              dst sells to src         S[dst, src] / dst's sales (share of its sales)
``supplier``           src sells to dst         S[src, dst] / dst's inputs (share of its inputs)
``borrower``           dst guarantees src       G[dst, src] / dst's equity, capped at 5
                                                (5 for equity <= 0; share of its guarantees
                                                when equity is unknown)
``guarantor``          src guarantees dst       G[src, dst] / dst's guarantee cover (share)
``debtor``             src owes dst trade       R[dst, src] / dst's receivables (share)
                       credit
``creditor``           dst owes src             R[src, dst] / dst's payables (share)
``owner``              src owns a share of dst  the share held
``owned``              dst owns a share of src  the share held
``co_owned``           a person owns both       1 / (firms the person owns - 1)
=====================  =======================  ===============================================

Relations a dataset lacks (no receivables, no ownership table) have no edges and are
simply absent. Node features are the own and chain features of :mod:`gnn.features` and
:mod:`gnn.graph_features` (a :class:`~gnn.protocol.Cut`'s ``nodes`` frame), plus flags
that matter to neighbours: in default at the cut, external, in the bank's book.

>>> import numpy as np, scipy.sparse as sp
>>> s = sp.csr_matrix(np.array([[0, 3.0, 1.0], [0, 0, 0], [0, 0, 0]]))
>>> src, dst, w = supply_edges(s, "buyer")
>>> src.tolist(), dst.tolist(), w.round(2).tolist()   # firm 0 hears from its buyers 1 and 2
([1, 2], [0, 0], [0.75, 0.25])
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch_geometric.data import HeteroData

from ingest.snapshot import Snapshot

__all__ = [
    "NODE",
    "RELATIONS",
    "IdentityMemo",
    "adjacency",
    "edge_index",
    "relation_edges",
    "snapshot_edges",
    "supply_edges",
    "to_hetero_data",
]

NODE = "firm"
#: Every relation type the builder knows, in a fixed order.
RELATIONS: tuple[str, ...] = (
    "buyer",
    "supplier",
    "borrower",
    "guarantor",
    "debtor",
    "creditor",
    "owner",
    "owned",
    "co_owned",
)
#: Guarantees over equity above this count as this (a wiped-out guarantor is wiped out).
GUARANTEE_CAP = 5.0
#: A person owning more firms than this links them through their shares only (no clique).
MAX_CO_OWNED = 20

Edges = tuple[np.ndarray, np.ndarray, np.ndarray]
T = TypeVar("T")


class IdentityMemo:
    """The last ``size`` values built from given objects, found again by those objects' identity.

    Training fits several GNNs on the same snapshots (B3, then B4's fold models, whose cuts
    differ only in their hidden labels): their relation edges, encoder and graph tensors are
    the same and are built once. Keys are the objects themselves (their ``id``, with strong
    references kept so an id cannot be reused while its entry lives) plus hashable extras;
    callers must treat the values as read-only, and the objects as unchanged once built from.

    >>> memo, calls = IdentityMemo(2), []
    >>> a = [1, 2]
    >>> memo.get("sum", (a,), (), lambda: calls.append(1) or sum(a)), memo.get("sum", (a,), (), lambda: 0)
    (3, 3)
    >>> len(calls)
    1
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[tuple[object, ...], Any]] = OrderedDict()

    def get(
        self, kind: str, objects: tuple[object, ...], extra: tuple[Hashable, ...], build: Callable[[], T]
    ) -> T:
        key = (kind, *(id(o) for o in objects), *extra)
        hit = self._entries.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], objects, strict=True)):
            self._entries.move_to_end(key)
            return hit[1]
        value = build()
        self._entries[key] = (objects, value)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()


#: relation edges of the last snapshots seen (a training run's cuts, validation and test)
_EDGES = IdentityMemo(8)


def _row_share(m: sp.csr_matrix) -> sp.csr_matrix:
    """``m`` with each row divided by its sum (rows summing to 0 stay 0)."""
    total = np.asarray(m.sum(axis=1)).ravel()
    inv = np.where(total > 0, 1.0 / np.where(total > 0, total, 1.0), 0.0)
    return sp.csr_matrix(sp.diags(inv) @ m)


def _edges_into_rows(m: sp.csr_matrix) -> Edges:
    """Messages ``col -> row`` of ``m``, weighted by ``m[row, col]``."""
    c = sp.coo_matrix(m)
    keep = c.data > 0
    src, dst, w = c.col[keep].astype(np.int64), c.row[keep].astype(np.int64), c.data[keep].astype(np.float64)
    order = np.lexsort((src, dst))  # by receiver, then sender: the same order whatever the matrix's history
    return src[order], dst[order], w[order]


def supply_edges(s: sp.csr_matrix, relation: str) -> Edges:
    """``buyer`` (buyers inform their supplier) or ``supplier`` (suppliers inform their buyer) edges."""
    s = sp.csr_matrix(s, dtype=np.float64)
    if relation == "buyer":
        return _edges_into_rows(_row_share(s))
    if relation == "supplier":
        return _edges_into_rows(_row_share(s.T.tocsr()))
    raise ValueError(f"not a supply relation: {relation}")


def _guarantee_edges(g: sp.csr_matrix, equity: np.ndarray) -> dict[str, Edges]:
    g = sp.csr_matrix(g, dtype=np.float64)
    given = np.asarray(g.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        # the guarantor's equity at stake per unit guaranteed; unknown equity falls back to shares
        scale = np.where(
            np.isnan(equity),
            np.where(given > 0, 1.0 / np.where(given > 0, given, 1.0), 0.0),
            np.where(equity > 0, 1.0 / np.where(equity > 0, equity, 1.0), np.inf),
        )
    c = sp.coo_matrix(g)
    w = np.minimum(c.data * scale[c.row], GUARANTEE_CAP)
    keep = c.data > 0
    borrower = (c.col[keep].astype(np.int64), c.row[keep].astype(np.int64), w[keep])
    return {"borrower": borrower, "guarantor": _edges_into_rows(_row_share(g.T.tocsr()))}


def _ownership_edges(own: pd.DataFrame) -> dict[str, Edges]:
    if own is None or own.empty or "firm" not in own:
        return {}
    owner = own["owner"].to_numpy(dtype=np.int64)
    firm = own["firm"].to_numpy(dtype=np.int64)
    share = pd.to_numeric(own["share"], errors="coerce").fillna(0.0).to_numpy(dtype=np.float64)
    out: dict[str, Edges] = {}
    direct = (owner >= 0) & (firm >= 0) & (owner != firm)
    if direct.any():
        out["owner"] = (owner[direct], firm[direct], share[direct])
        out["owned"] = (firm[direct], owner[direct], share[direct])
    # firms held by the same person (the owner is not a firm node): link them pairwise
    persons = own.loc[(owner < 0) & (firm >= 0), ["owner_id", "firm"]].drop_duplicates()
    pairs = _co_owned_pairs(persons["owner_id"].to_numpy(), persons["firm"].to_numpy(dtype=np.int64))
    if pairs is not None:
        out["co_owned"] = pairs
    return out


def _co_owned_pairs(person: np.ndarray, firm: np.ndarray) -> Edges | None:
    """Every ordered pair of distinct firms held by one person, weighted 1 / (firms held - 1).

    A person holding one firm or more than :data:`MAX_CO_OWNED` links none. Pairs come
    person by person (sorted), then by sender, then by receiver, without a Python loop over
    persons (a 100k-firm register has tens of thousands of them).

    >>> src, dst, w = _co_owned_pairs(np.array(["p", "p", "q", "p"]), np.array([5, 3, 9, 7]))
    >>> src.tolist(), dst.tolist(), w.tolist()
    ([3, 3, 5, 5, 7, 7], [5, 7, 3, 7, 3, 5], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    """
    if len(firm) == 0:
        return None
    code, _ = pd.factorize(pd.Series(person), sort=True)
    order = np.lexsort((firm, code))
    code, firm = code[order], firm[order]
    # one row per (person, firm): a firm listed twice for a person counts once
    first = np.ones(len(firm), dtype=bool)
    first[1:] = (code[1:] != code[:-1]) | (firm[1:] != firm[:-1])
    code, firm = code[first], firm[first]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    sizes = np.diff(np.r_[starts, len(code)])
    keep = (sizes >= 2) & (sizes <= MAX_CO_OWNED)
    if not keep.any():
        return None
    starts, sizes = starts[keep], sizes[keep]
    # each kept person's k firms give k x k (sender, receiver) slots, row-major; the diagonal goes
    per = sizes * sizes
    group = np.repeat(np.arange(len(sizes)), per)
    slot = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
    k = sizes[group]
    i, j = slot // k, slot % k
    off = i != j
    base = starts[group]
    src, dst = firm[base + i][off], firm[base + j][off]
    return src, dst, (1.0 / (k - 1))[off].astype(np.float64)


def relation_edges(snapshot: Snapshot) -> dict[str, Edges]:
    """Every relation of the snapshot with at least one edge: ``{relation: (src, dst, weight)}``."""
    equity = snapshot.firms["equity"].to_numpy(dtype=np.float64)
    out: dict[str, Edges] = {
        "buyer": supply_edges(snapshot.supply, "buyer"),
        "supplier": supply_edges(snapshot.supply, "supplier"),
        **_guarantee_edges(snapshot.guarantees, equity),
    }
    r = sp.csr_matrix(snapshot.receivables, dtype=np.float64)
    out["debtor"] = _edges_into_rows(_row_share(r))
    out["creditor"] = _edges_into_rows(_row_share(r.T.tocsr()))
    out.update(_ownership_edges(snapshot.ownership))
    return {k: out[k] for k in RELATIONS if k in out and len(out[k][0])}


def snapshot_edges(snapshot: Snapshot) -> dict[str, Edges]:
    """:func:`relation_edges` of ``snapshot``, built once per snapshot object (read-only arrays).

    B3, B4's fold GNNs and their read-outs all read the same snapshots' edges (the co-owned
    pairs alone take a second at 100k firms); the last few snapshots' edges are kept.
    """
    return _EDGES.get("edges", (snapshot,), (), lambda: relation_edges(snapshot))


def edge_index(edges: Edges) -> tuple[torch.Tensor, torch.Tensor]:
    """``(edge_index, edge_weight)`` tensors of one relation."""
    src, dst, w = edges
    return (
        torch.from_numpy(np.stack([src, dst])).long(),
        torch.from_numpy(np.asarray(w, dtype=np.float32)),
    )


def adjacency(edges: Edges, n: int) -> sp.csr_matrix:
    """The weighted, transposed adjacency ``A[dst, src] = w`` of one relation (float32 CSR).

    The model aggregates ``A @ h`` in one sparse product (:class:`gnn.hetero_model.SparseAggregate`),
    an order of magnitude faster on CPU than gathering and scattering per edge.
    """
    src, dst, w = edges
    return sp.csr_matrix((np.asarray(w, dtype=np.float32), (dst, src)), shape=(n, n))


def to_hetero_data(
    snapshot: Snapshot,
    x: np.ndarray,
    *,
    edges: Mapping[str, Edges] | None = None,
    industry: np.ndarray | None = None,
    region: np.ndarray | None = None,
) -> HeteroData:
    """A ``HeteroData`` of the snapshot with node features ``x`` (one row per firm row).

    Each relation holds ``edge_index`` and ``edge_weight`` (PyG's usual form, for explainers);
    :func:`adjacency` gives the same edges as a sparse ``[dst, src]`` matrix for training.
    ``industry`` and ``region`` are integer codes for the model's embeddings (0: unknown).
    """
    data = HeteroData()
    data[NODE].x = torch.from_numpy(np.asarray(x, dtype=np.float32))
    n = snapshot.n
    data[NODE].industry = torch.from_numpy(np.zeros(n, np.int64) if industry is None else industry)
    data[NODE].region = torch.from_numpy(np.zeros(n, np.int64) if region is None else region)
    for rel, e in (relation_edges(snapshot) if edges is None else edges).items():
        ei, ew = edge_index(e)
        data[NODE, rel, NODE].edge_index = ei
        data[NODE, rel, NODE].edge_weight = ew
    return data
