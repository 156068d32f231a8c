"""B4's read-outs (``gnn.stacking``): the one- and two-hop neighbourhood features of the GNN's logits,
out of fold without the firm's own label."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

import gnn.stacking as stacking
from gnn.hetero_data import relation_edges
from gnn.hetero_model import GNNConfig, fit_gnn
from gnn.protocol import Cut, CutPlan
from gnn.stacking import (
    STACKED_FEATURES,
    TWO_HOP_FEATURES,
    fit_stacked,
    fold_of,
    out_of_fold_features,
    stacked_features,
)


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


class _LabelSpreader:
    """A toy "GNN" that is all leak: a node's logit is the sum of the labels it was fitted on,
    its own and its neighbours' (any relation, either direction). Fitted on masked cuts, it
    keeps those labels; what it returns for a node depends on exactly the labels it saw.
    """

    def __init__(self, train: list[Cut]) -> None:
        self.labels = {c.as_of: np.nan_to_num(np.asarray(c.y_nodes, dtype="float64")) for c in train}

    def node_logits(self, cut: Cut) -> np.ndarray:
        y = self.labels[cut.as_of]
        out = y.copy()
        for src, dst, _ in relation_edges(cut.snapshot).values():
            np.add.at(out, dst, y[src])
            np.add.at(out, src, y[dst])
        return out - 3.0


def _spread(train: list[Cut], val: Cut, **_: object) -> _LabelSpreader:
    return _LabelSpreader(train)


def _flip(cut: Cut, i: int) -> Cut:
    """The cut with the label of its ``i``-th row flipped (in ``y`` and ``y_nodes``)."""
    y, y_nodes = cut.y.copy(), np.asarray(cut.y_nodes, dtype="float64").copy()
    y[i] = 1.0 - y[i]
    y_nodes[cut.rows[i]] = y[i]
    return replace(cut, y=y, y_nodes=y_nodes)


def _linked_across_folds(cut: Cut, folds: int) -> int:
    """A book row with a book neighbour in another fold (whose read-outs may see its label)."""
    fold = fold_of(cut.uscc, folds)
    row_of = {int(r): i for i, r in enumerate(cut.rows.tolist())}
    for src, dst, _ in relation_edges(cut.snapshot).values():
        for s, d in zip(src.tolist(), dst.tolist(), strict=True):
            if s in row_of and d in row_of and fold[row_of[s]] != fold[row_of[d]]:
                return row_of[s]
    raise AssertionError("no link across folds")


def test_no_label_of_a_firm_reaches_its_own_out_of_fold_readouts(
    platform_cuts: tuple[CutPlan, dict[date, Cut]],
) -> None:
    plan, cuts = platform_cuts
    train, val = [cuts[plan.train[-1]]], cuts[plan.validation]
    i = _linked_across_folds(train[0], 2)
    kw = {"folds": 2, "seed": 0, "threads": 1, "config": None, "fit": _spread}
    base = out_of_fold_features(train, val, **kw)[0]  # type: ignore[arg-type]
    flipped = out_of_fold_features([_flip(train[0], i)], val, **kw)[0]  # type: ignore[arg-type]
    assert list(base.columns) == [*STACKED_FEATURES, *TWO_HOP_FEATURES] and len(base) == len(train[0].rows)
    # the firm's own row: not one read-out moved, though its label flipped
    np.testing.assert_array_equal(base.iloc[i].to_numpy(float), flipped.iloc[i].to_numpy(float))
    # the test has teeth: the toy model does carry the label to the firm's neighbours in the other fold
    changed = ~np.isclose(base.to_numpy(float), flipped.to_numpy(float), equal_nan=True).all(axis=1)
    fold = fold_of(train[0].uscc, 2)
    assert changed.any() and (fold[changed] != fold[i]).all()


def test_the_real_gnn_reads_outs_ignore_the_firms_own_label(
    platform_cuts: tuple[CutPlan, dict[date, Cut]],
) -> None:
    """The same with B3 fitted for a few epochs: every fit is deterministic under its seed."""
    plan, cuts = platform_cuts
    train, val = [cuts[plan.train[-1]]], cuts[plan.validation]
    i = _linked_across_folds(train[0], 2)
    cfg = GNNConfig(hidden=8, max_epochs=3, patience=3)
    kw = {"folds": 2, "seed": 0, "threads": 1, "config": cfg, "two_hop": False}
    base = out_of_fold_features(train, val, **kw)[0]  # type: ignore[arg-type]
    flipped = out_of_fold_features([_flip(train[0], i)], val, **kw)[0]  # type: ignore[arg-type]
    np.testing.assert_array_equal(base.iloc[i].to_numpy(float), flipped.iloc[i].to_numpy(float))
    assert not np.allclose(base.to_numpy(float), flipped.to_numpy(float), equal_nan=True)


def test_fold_gnns_train_for_b3s_epoch_count_deterministically(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """B4's fold GNNs run B3's early-stopped epoch count with no validation pass of their own,
    and the same seed gives the same read-outs."""
    plan, cuts = platform_cuts
    train, val = [cuts[t] for t in plan.train], cuts[plan.validation]
    cfg = GNNConfig(hidden=8, max_epochs=6, patience=2)
    b3 = fit_gnn(train, val, seed=0, threads=1, config=cfg)
    folds: list[dict[str, object]] = []

    def fold_fit(masked: list[Cut], v: Cut, **kw: object) -> object:
        model = fit_gnn(masked, v, **kw)  # type: ignore[arg-type]
        folds.append({"epochs": kw["epochs"], "best_epoch": model.best_epoch, "history": model.history})
        return model

    real = stacking.out_of_fold_features
    seen: list[list[object]] = []

    def recording(*args: object, **kw: object) -> list[object]:
        out = real(*args, **{**kw, "fit": fold_fit})  # type: ignore[arg-type]
        seen.append(out)
        return out

    monkeypatch.setattr(stacking, "out_of_fold_features", recording)
    b4 = fit_stacked(train, val, gnn=b3, seed=0, threads=1, two_hop=False)
    again = fit_stacked(train, val, gnn=b3, seed=0, threads=1, two_hop=False)
    assert len(folds) == 4  # two folds, two fits
    for f in folds:
        assert f == {"epochs": b3.best_epoch + 1, "best_epoch": b3.best_epoch, "history": []}
    for a, b in zip(seen[0], seen[1], strict=True):
        np.testing.assert_array_equal(a.to_numpy(float), b.to_numpy(float))  # type: ignore[attr-defined]
    test = cuts[plan.test]
    np.testing.assert_array_equal(b4.predict_pd(test), again.predict_pd(test))
