"""Graph ablations (``gnn.ablations``): the shuffle keeps degrees, dropping a relation empties it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from chainrisk.errors import ModelError
from gnn.ablations import (
    RELATIONS,
    ablate_cut,
    ablation_variants,
    degree_preserving_shuffle,
    drop_relations,
    relations_of,
    shuffle_relations,
)
from gnn.protocol import Cut, CutPlan
from ingest.snapshot import Snapshot


def _degrees(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.bincount(src, minlength=n), np.bincount(dst, minlength=n)


def test_shuffle_keeps_every_degree_and_makes_a_simple_graph() -> None:
    rng = np.random.default_rng(0)
    n, m = 300, 1500
    pairs = np.unique(rng.integers(0, n, size=(m, 2)), axis=0)
    src, dst = pairs[:, 0], pairs[:, 1]
    keep = src != dst
    src, dst = src[keep], dst[keep]
    new = degree_preserving_shuffle(src, dst, seed=3)
    assert all((a == b).all() for a, b in zip(_degrees(src, new, n), _degrees(src, dst, n), strict=True))
    assert (new != src).all() and len(np.unique(src * n + new)) == len(src)
    # most edges moved, and the same seed gives the same graph
    assert (new != dst).mean() > 0.9
    assert (degree_preserving_shuffle(src, dst, seed=3) == new).all()
    assert not (degree_preserving_shuffle(src, dst, seed=4) == new).all()


def test_a_graph_that_cannot_be_shuffled_is_refused() -> None:
    # two edges 0 -> 1: any rewiring repeats the pair
    with pytest.raises(ModelError):
        degree_preserving_shuffle(np.array([0, 0]), np.array([1, 1]), seed=0)


def _snapshot(cuts: tuple[CutPlan, dict[date, Cut]]) -> Snapshot:
    plan, by_date = cuts
    return by_date[plan.test].snapshot


def test_dropping_a_relation_empties_it_and_keeps_the_rest(
    platform_cuts: tuple[CutPlan, dict[date, Cut]],
) -> None:
    snap = _snapshot(platform_cuts)
    assert relations_of(snap) == list(RELATIONS)  # the generator writes every relation
    for rel in RELATIONS:
        out = drop_relations(snap, [rel])
        assert relations_of(out) == [r for r in RELATIONS if r != rel]
        if rel == "guarantees":  # person guarantees are not firm edges: they stay
            assert set(out.guarantee_contracts["guarantor_type"]) == {"person"}
        assert out.firms is snap.firms and out.loans is snap.loans
    assert relations_of(drop_relations(snap, RELATIONS)) == []
    with pytest.raises(ValueError):
        drop_relations(snap, ["trade"])


def test_shuffling_every_relation_keeps_degrees(platform_cuts: tuple[CutPlan, dict[date, Cut]]) -> None:
    snap = _snapshot(platform_cuts)
    out = shuffle_relations(snap, seed=1)
    for rel in ("supply", "guarantees", "receivables"):
        a, b = sp.csr_matrix(getattr(snap, rel)), sp.csr_matrix(getattr(out, rel))
        assert a.nnz == b.nnz
        assert (np.diff(a.indptr) == np.diff(b.indptr)).all()  # out-degrees
        assert (np.diff(a.tocsc().indptr) == np.diff(b.tocsc().indptr)).all()  # in-degrees
        assert np.allclose(
            np.asarray(a.sum(axis=1)).ravel(), np.asarray(b.sum(axis=1)).ravel()
        )  # out-strength
        assert (a != b).nnz > 0  # and the links did move
    # firm guarantee contracts follow their rewired pair
    gc = out.guarantee_contracts
    firm = gc[gc["guarantor_type"] == "firm"]
    g = sp.csr_matrix(out.guarantees)
    assert (np.asarray(g[firm["guarantor"].to_numpy(), firm["borrower"].to_numpy()]).ravel() != 0).all()
    assert (out.firms["uscc"].to_numpy()[gc["borrower"].to_numpy()] == gc["borrower_uscc"].to_numpy()).all()
    # ownership: every owner keeps its firms' count, every firm its owners' count
    for col in ("owner_id", "firm"):
        before = snap.ownership[col].value_counts().sort_index()
        after = out.ownership[col].value_counts().sort_index()
        assert before.equals(after)
    assert not out.ownership.duplicated(["owner_id", "firm"]).any()
    assert (
        out.firms["uscc"].to_numpy()[out.ownership["firm"].to_numpy()] == out.ownership["firm_uscc"]
    ).all()


def test_ablated_cut_keeps_firms_and_labels_and_rebuilds_chain_features(
    platform_cuts: tuple[CutPlan, dict[date, Cut]],
) -> None:
    plan, by_date = platform_cuts
    cut = by_date[plan.test]
    assert ablation_variants([cut.snapshot]) == ["no_edges", "shuffled", *(f"drop_{r}" for r in RELATIONS)]
    bare = ablate_cut(cut, "no_edges", seed=0)
    assert (bare.rows == cut.rows).all() and np.array_equal(bare.y, cut.y, equal_nan=True)
    pd.testing.assert_frame_equal(bare.own, cut.own)  # a firm's own features do not come from links
    assert (bare.chain["out_degree"] == 0).all() and cut.chain["out_degree"].sum() > 0
    shuffled = ablate_cut(cut, "shuffled", seed=0)
    assert (shuffled.chain["out_degree"] == cut.chain["out_degree"]).all()
    assert not shuffled.chain["sales_to_defaulted"].equals(cut.chain["sales_to_defaulted"])
    with pytest.raises(ValueError):
        ablate_cut(cut, "upside_down", seed=0)
