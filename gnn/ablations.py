"""Ablations of the graph: is a graph-aware model's lift the network's, or its features'?

Each ablation transforms **every cut's snapshot the same way** (training, validation and
test alike), rebuilds the cut's own and chain features from the transformed snapshot
(:func:`gnn.protocol.cut_of`, same firms, same labels), refits each graph-aware model on
the transformed cuts and scores the transformed test cut:

==================  ==================================================================
variant             transformation
==================  ==================================================================
``no_edges``        every relation emptied (supply, guarantees, receivables, ownership)
``shuffled``        each relation rewired by a degree-preserving shuffle (seeded)
``drop_<rel>``      one relation emptied, the others kept (for each relation present)
==================  ==================================================================

The **degree-preserving shuffle** keeps every edge's source and weight and permutes the
targets among the edges, so each firm keeps its out-degree, out-strength and in-degree
(the configuration model of a directed graph); self-loops and duplicate pairs that the
permutation creates are re-permuted with a random sample of other edges until none is
left (Milo et al. 2003, "Network motifs", the switching idea). What the shuffle destroys
is *who* is linked to whom: which neighbour defaulted, and the neighbours' signals. If
the model's lift survives the shuffle, it came from degrees and volumes, not contagion.

Firm attributes that describe the firm itself stay (its guarantees given, over equity,
come from its own books); guarantee contracts of firm guarantors follow their relation
(dropped with it; rewired to the shuffled borrower, loan ids kept). Ownership is an
owner -> firm edge list (owners may be persons), shuffled the same way.

>>> src = np.array([0, 0, 1, 2]); dst = np.array([1, 2, 2, 0])
>>> new = degree_preserving_shuffle(src, dst, seed=0)
>>> sorted(new.tolist()) == sorted(dst.tolist()), bool((new != src).all())
(True, True)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from chainrisk.errors import ModelError
from gnn.protocol import Cut, cut_of
from ingest.snapshot import Snapshot

__all__ = [
    "RELATIONS",
    "ablate_cut",
    "ablation_variants",
    "degree_preserving_shuffle",
    "drop_relations",
    "relations_of",
    "shuffle_relations",
]

#: The snapshot's relations, as the ablations name them.
RELATIONS: tuple[str, ...] = ("supply", "guarantees", "receivables", "ownership")
_MAX_ROUNDS = 500


def relations_of(snapshot: Snapshot) -> list[str]:
    """The relations of ``snapshot`` that have at least one edge."""
    present = []
    for rel in RELATIONS:
        if rel == "ownership":
            if len(snapshot.ownership):
                present.append(rel)
        elif sp.csr_matrix(getattr(snapshot, rel)).nnz:
            present.append(rel)
    return present


def ablation_variants(snapshots: Sequence[Snapshot]) -> list[str]:
    """``no_edges``, ``shuffled`` and ``drop_<rel>`` for each relation any of ``snapshots`` has."""
    present = [r for r in RELATIONS if any(r in relations_of(s) for s in snapshots)]
    return ["no_edges", "shuffled", *(f"drop_{r}" for r in present)]


def _bad_edges(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Self-loops, and every copy of a (src, dst) pair after its first."""
    key = src.astype(np.int64) * (int(max(src.max(initial=0), dst.max(initial=0))) + 1) + dst
    _, first = np.unique(key, return_index=True)
    dup = np.ones(len(key), dtype=bool)
    dup[first] = False
    return dup | (src == dst)


def degree_preserving_shuffle(src: np.ndarray, dst: np.ndarray, *, seed: int) -> np.ndarray:
    """New targets for the edges ``src -> dst``: a permutation of ``dst`` with no self-loop or repeated pair.

    Every node keeps its out-degree (edges keep their source) and its in-degree (targets
    are permuted). Raises :class:`~chainrisk.errors.ModelError` when no such rewiring is
    found (a graph too dense to shuffle).
    """
    rng = np.random.default_rng(seed)
    src = np.asarray(src, dtype=np.int64)
    new = np.asarray(dst, dtype=np.int64)[rng.permutation(len(dst))]
    for _ in range(_MAX_ROUNDS):
        bad = _bad_edges(src, new)
        if not bad.any():
            return new
        b, good = np.flatnonzero(bad), np.flatnonzero(~bad)
        extra = rng.choice(good, size=min(len(good), max(2 * len(b), 8)), replace=False)
        pool = np.concatenate([b, extra])
        new[pool] = new[pool][rng.permutation(len(pool))]
    raise ModelError(f"no degree-preserving shuffle of {len(src)} edges without self-loops or repeats")


def _empty(n: int) -> sp.csr_matrix:
    return sp.csr_matrix((n, n), dtype=np.float64)


def drop_relations(snapshot: Snapshot, relations: Sequence[str]) -> Snapshot:
    """``snapshot`` with the given relations emptied (see the module table)."""
    unknown = set(relations) - set(RELATIONS)
    if unknown:
        raise ValueError(f"unknown relations: {sorted(unknown)}")
    changes: dict[str, Any] = {}
    for rel in relations:
        if rel == "ownership":
            changes["ownership"] = snapshot.ownership.iloc[0:0]
        else:
            changes[rel] = _empty(snapshot.n)
    if "guarantees" in relations and len(snapshot.guarantee_contracts):
        gc = snapshot.guarantee_contracts
        changes["guarantee_contracts"] = gc[(gc["guarantor_type"] != "firm").to_numpy()].reset_index(
            drop=True
        )
    return dataclasses.replace(snapshot, **changes)


def _shuffle_matrix(m: sp.csr_matrix, seed: int) -> tuple[sp.csr_matrix, pd.Series]:
    """The shuffled matrix, and the new target of each old (source, target) pair keyed ``src * n + dst``."""
    coo = sp.coo_matrix(m)
    n = m.shape[0]
    src, dst = coo.row.astype(np.int64), coo.col.astype(np.int64)
    new = degree_preserving_shuffle(src, dst, seed=seed) if len(src) else dst
    out = sp.csr_matrix((coo.data, (src, new)), shape=m.shape, dtype=np.float64)
    out.sort_indices()
    return out, pd.Series(new, index=src * n + dst)


def _shuffle_ownership(own: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if own.empty:
        return own
    owner = own["owner"].to_numpy(dtype=np.int64)
    # a person owner (row -1) becomes a node of its own past the firms, so self-loops are firm ones only
    persons = pd.factorize(own["owner_id"])[0].astype(np.int64) + n
    src = np.where(owner >= 0, owner, persons)
    firm = own["firm"].to_numpy(dtype=np.int64)
    known = firm >= 0  # rows naming no firm of the snapshot stay as they are
    new = firm.copy()
    new[known] = degree_preserving_shuffle(src[known], firm[known], seed=seed)
    out = own.copy()
    by_row = pd.Series(own["firm_uscc"].to_numpy(), index=firm).groupby(level=0).first()
    out["firm"] = new
    out["firm_uscc"] = by_row.reindex(new).to_numpy()
    return out


def shuffle_relations(snapshot: Snapshot, *, seed: int) -> Snapshot:
    """``snapshot`` with every relation rewired by :func:`degree_preserving_shuffle` (seeded per relation)."""
    seeds = np.random.SeedSequence(seed).spawn(len(RELATIONS))
    sub = {rel: int(s.generate_state(1)[0]) for rel, s in zip(RELATIONS, seeds, strict=True)}
    changes: dict[str, Any] = {}
    for rel in ("supply", "receivables"):
        changes[rel], _ = _shuffle_matrix(sp.csr_matrix(getattr(snapshot, rel)), sub[rel])
    changes["guarantees"], targets = _shuffle_matrix(sp.csr_matrix(snapshot.guarantees), sub["guarantees"])
    gc = snapshot.guarantee_contracts
    if len(gc):
        gc = gc.copy()
        g = gc["guarantor"].to_numpy(dtype=np.int64)
        b = gc["borrower"].to_numpy(dtype=np.int64)
        firm = (g >= 0) & (b >= 0)
        moved = targets.reindex(g[firm] * snapshot.n + b[firm]).to_numpy()
        # contracts whose pair carries no amount in the matrix keep their borrower
        nb = b.copy()
        nb[firm] = np.where(np.isnan(moved), b[firm], moved).astype(np.int64)
        gc["borrower"] = nb
        gc["borrower_uscc"] = snapshot.firms["uscc"].to_numpy()[nb]
        changes["guarantee_contracts"] = gc
    changes["ownership"] = _shuffle_ownership(snapshot.ownership, snapshot.n, sub["ownership"])
    return dataclasses.replace(snapshot, **changes)


def ablate_cut(cut: Cut, variant: str, *, seed: int) -> Cut:
    """``cut`` rebuilt from its snapshot transformed by ``variant`` (same firms, same labels)."""
    snap = cut.snapshot
    if variant == "no_edges":
        snap = drop_relations(snap, RELATIONS)
    elif variant == "shuffled":
        # a different stream per cut date: the cuts hold different edges
        snap = shuffle_relations(snap, seed=seed * 100_003 + snap.as_of.toordinal())
    elif variant.startswith("drop_"):
        snap = drop_relations(snap, [variant.removeprefix("drop_")])
    else:
        raise ValueError(f"unknown ablation {variant!r}")
    extra: dict[str, Any] = {}
    y_nodes = getattr(cut, "y_nodes", None)
    if y_nodes is not None:  # graph models train on every live firm: its labels do not change
        extra["y_nodes"] = y_nodes
    return cut_of(snap, cut.rows, cut.y, **extra)


def run_ablations(
    train: Sequence[Cut],
    val: Cut,
    test: Cut,
    *,
    models: Sequence[str],
    fit: Callable[[str, Sequence[Cut], Cut], Callable[[Cut], np.ndarray]],
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Refit ``models`` under every variant; per variant, the test PDs of each model and the time.

    ``fit(name, train, val)`` returns a function that scores a cut (the evaluation's seed 0).
    """
    say = progress or (lambda _msg: None)
    out: dict[str, dict[str, Any]] = {}
    for variant in ablation_variants([c.snapshot for c in (*train, val, test)]):
        t0 = time.monotonic()
        say(f"ablation {variant}: rebuilding the cuts")
        a_train = [ablate_cut(c, variant, seed=seed) for c in train]
        a_val, a_test = ablate_cut(val, variant, seed=seed), ablate_cut(test, variant, seed=seed)
        preds = {}
        for name in models:
            say(f"ablation {variant}: {name}")
            preds[name] = fit(name, a_train, a_val)(a_test)
        out[variant] = {"preds": preds, "seconds": round(time.monotonic() - t0, 1)}
    return out
