"""B4's read-outs (``gnn.stacking``): the one- and two-hop neighbourhood features of the GNN's logits."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from gnn.hetero_data import relation_edges
from gnn.protocol import Cut, CutPlan
from gnn.stacking import STACKED_FEATURES, TWO_HOP_FEATURES, fold_of, stacked_features


@pytest.fixture(scope="module")
def test_cut(platform_cuts: tuple[CutPlan, dict[date, Cut]]) -> Cut:
    plan, cuts = platform_cuts
    return cuts[plan.test]


def _logits(cut: Cut, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(-3.0, 1.0, cut.snapshot.n)


def test_two_hop_readouts_have_one_row_per_book_firm(test_cut: Cut) -> None:
    one = stacked_features(test_cut, _logits(test_cut))
    two = stacked_features(test_cut, _logits(test_cut), two_hop=True)
    assert list(one.columns) == list(STACKED_FEATURES)
    assert list(two.columns) == [*STACKED_FEATURES, *TWO_HOP_FEATURES]
    assert len(two) == len(test_cut.rows)
    np.testing.assert_array_equal(two[list(STACKED_FEATURES)].to_numpy(), one.to_numpy())
    # probabilities averaged or maximised stay probabilities; a firm with neighbours has a mean
    hood = two[["gnn_hood_mean", "gnn_hood_max"]].to_numpy()
    assert np.nanmin(hood) >= 0.0 and np.nanmax(hood) <= 1.0
    assert two["gnn_hood_mean"].notna().any() and (two.filter(like="_2hop").to_numpy() >= 0).all()


def test_a_firms_own_logit_never_enters_its_neighbourhood(test_cut: Cut) -> None:
    """Raising one firm's logit changes its ``gnn_logit`` and nothing else of its own row."""
    z = _logits(test_cut)
    base = stacked_features(test_cut, z, two_hop=True)
    hood = [c for c in base.columns if c != "gnn_logit"]
    busy = base["gnn_hood_mean"].fillna(0.0).to_numpy() + base["gnn_buyers_2hop"].to_numpy()
    busiest = np.argsort(-busy)[:5]
    for i in busiest:
        bumped = z.copy()
        bumped[test_cut.rows[i]] = 10.0
        new = stacked_features(test_cut, bumped, two_hop=True)
        assert new.loc[i, "gnn_logit"] == 10.0
        np.testing.assert_allclose(new.loc[i, hood].to_numpy(float), base.loc[i, hood].to_numpy(float))


def test_two_hop_and_max_agree_with_a_walk_over_the_edges(test_cut: Cut) -> None:
    z = _logits(test_cut, seed=1)
    p = 1.0 / (1.0 + np.exp(-z))
    feats = stacked_features(test_cut, z, two_hop=True)
    edges = relation_edges(test_cut.snapshot)
    src, dst, w = edges["buyer"]
    into: dict[int, list[tuple[int, float]]] = {}
    for s, d, x in zip(src.tolist(), dst.tolist(), w.tolist(), strict=True):
        into.setdefault(d, []).append((s, x))
    neighbours: dict[int, set[int]] = {}
    for s_, d_, _ in edges.values():
        for s, d in zip(s_.tolist(), d_.tolist(), strict=True):
            neighbours.setdefault(s, set()).add(d)
            neighbours.setdefault(d, set()).add(s)
    checked = 0
    for i, row in enumerate(test_cut.rows.tolist()):
        two = sum(x * y * p[k] for j, x in into.get(row, []) for k, y in into.get(j, []) if k != row)
        assert feats.loc[i, "gnn_buyers_2hop"] == pytest.approx(two)
        near = neighbours.get(row, set()) - {row}
        if near:
            assert feats.loc[i, "gnn_hood_max"] == pytest.approx(max(p[k] for k in near))
            checked += 1
        else:
            assert np.isnan(feats.loc[i, "gnn_hood_max"])
    assert checked > 0


def test_folds_follow_the_firm_not_the_year() -> None:
    uscc = np.array([f"9135{i:014d}" for i in range(200)])
    f = fold_of(uscc, 3)
    np.testing.assert_array_equal(f, fold_of(uscc[::-1], 3)[::-1])
    assert set(f.tolist()) == {0, 1, 2}
