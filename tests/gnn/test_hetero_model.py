"""B3 (``gnn.hetero_model``) on the small generated platform: one function two ways, seeds, calibration."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import torch

from gnn.baselines import PD_FLOOR
from gnn.hetero_model import (
    GNNConfig,
    GNNModel,
    NodeEncoder,
    RiskGNN,
    _targets,
    aggregates,
    fit_gnn,
    weighted_loss,
)
from gnn.protocol import Cut, CutPlan, load_cuts

# small and short: the tests check the mechanics, the benches and the evaluation the figures
SMALL = GNNConfig(hidden=16, max_epochs=12, patience=5)


@pytest.fixture(scope="module")
def cuts(platform: Path) -> tuple[CutPlan, dict[date, Cut]]:
    return load_cuts(platform)


@pytest.fixture(scope="module")
def model(cuts: tuple[CutPlan, dict[date, Cut]]) -> GNNModel:
    plan, c = cuts
    return fit_gnn([c[t] for t in plan.train], c[plan.validation], seed=3, config=SMALL)


def test_sparse_products_and_message_passing_agree(
    model: GNNModel, cuts: tuple[CutPlan, dict[date, Cut]]
) -> None:
    plan, c = cuts
    data = model.data(c[plan.test])
    net = model.network()
    x = data["firm"].x.clone().requires_grad_(True)
    data["firm"].x = x
    fast = net(data, aggregates(data))
    fast.sum().backward()
    grad_fast = x.grad.clone()
    x.grad = None
    slow = net(data)  # PyG's GraphConv over edge_index / edge_weight
    slow.sum().backward()
    assert torch.allclose(fast, slow, atol=1e-5)
    assert torch.allclose(grad_fast, x.grad, atol=1e-5)


def test_same_seed_same_pds(model: GNNModel, cuts: tuple[CutPlan, dict[date, Cut]]) -> None:
    plan, c = cuts
    again = fit_gnn([c[t] for t in plan.train], c[plan.validation], seed=3, config=SMALL)
    test = c[plan.test]
    np.testing.assert_array_equal(model.predict_pd(test), again.predict_pd(test))
    assert again.best_epoch == model.best_epoch


def test_pds_are_calibrated_floored_and_aligned(
    model: GNNModel, cuts: tuple[CutPlan, dict[date, Cut]]
) -> None:
    plan, c = cuts
    val, test = c[plan.validation], c[plan.test]
    p = model.predict_pd(test)
    assert p.shape == test.y.shape
    assert (p >= PD_FLOOR).all() and (p < 1).all()
    # Platt on the validation book: its mean PD matches its default rate
    assert model.predict_pd(val).mean() == pytest.approx(val.y.mean(), rel=0.15)
    assert 0 <= model.best_epoch < SMALL.max_epochs
    assert len(model.history) <= SMALL.max_epochs


def test_a_fixed_length_fit_retraces_the_early_stopped_one(
    model: GNNModel, cuts: tuple[CutPlan, dict[date, Cut]]
) -> None:
    """``epochs=best_epoch + 1`` under the same seed ends on the early-stopped fit's best weights:
    the validation passes it skips draw no random numbers, so the training steps are the same."""
    plan, c = cuts
    train, val = [c[t] for t in plan.train], c[plan.validation]
    fixed = fit_gnn(train, val, seed=3, config=SMALL, epochs=model.best_epoch + 1)
    assert fixed.state.keys() == model.state.keys()
    for key, value in model.state.items():
        assert torch.equal(fixed.state[key], value), key
    assert fixed.best_epoch == model.best_epoch and fixed.history == []
    assert fixed.validation_auc == pytest.approx(model.validation_auc)
    np.testing.assert_array_equal(fixed.predict_pd(c[plan.test]), model.predict_pd(c[plan.test]))
    with pytest.raises(ValueError, match="at least one epoch"):
        fit_gnn(train, val, seed=3, config=SMALL, epochs=0)


def test_fold_fits_share_b3s_graphs_and_get_the_same_function(
    model: GNNModel, cuts: tuple[CutPlan, dict[date, Cut]]
) -> None:
    """A cut with some labels hidden (B4's folds) reuses the encoder and graph tensors built for
    the same cuts; the logits equal those of a graph built afresh."""
    from dataclasses import replace

    from gnn.hetero_model import _encoder, _graph

    plan, c = cuts
    train = [c[t] for t in plan.train]
    masked = [replace(t, y=np.full_like(t.y, np.nan)) for t in train]
    enc = _encoder(train)
    assert _encoder(masked) is enc
    assert _graph(masked[0], enc, model.relations)[0] is _graph(train[0], enc, model.relations)[0]
    # another cut object of the same date is not taken for it
    test = c[plan.test]
    assert _graph(test, enc, model.relations)[0] is not _graph(train[0], enc, model.relations)[0]
    data = model.data(test)
    with torch.no_grad():
        fresh = model.network()(data, aggregates(data)).double().numpy()
    np.testing.assert_array_equal(model.node_logits(test), fresh)


def test_encoder_is_fitted_on_training_cuts_only(cuts: tuple[CutPlan, dict[date, Cut]]) -> None:
    plan, c = cuts
    train = [c[t] for t in plan.train]
    enc = NodeEncoder.fit([t.nodes for t in train if t.nodes is not None], [t.snapshot.firms for t in train])
    other = NodeEncoder.fit([c[plan.test].nodes], [c[plan.test].snapshot.firms])  # type: ignore[list-item]
    assert not np.allclose(enc.median, other.median)
    x = enc.transform(
        train[0].nodes,  # type: ignore[arg-type]
        train[0].snapshot.firms,
        np.zeros(train[0].snapshot.n, bool),
        train[0].as_of,
    )
    assert x.shape == (train[0].snapshot.n, enc.width)
    assert np.isfinite(x).all()


def test_without_links_the_network_is_an_mlp(model: GNNModel) -> None:
    net = RiskGNN(4, [], SMALL, 1, 1).eval()
    from torch_geometric.data import HeteroData

    data = HeteroData()
    data["firm"].x = torch.ones(3, 4)
    data["firm"].industry = torch.zeros(3, dtype=torch.long)
    data["firm"].region = torch.zeros(3, dtype=torch.long)
    out = net(data)
    assert out.shape == (3,) and torch.isfinite(out).all()


def test_contributions_add_up_and_every_firm_gets_reasons(
    model: GNNModel, cuts: tuple[CutPlan, dict[date, Cut]]
) -> None:
    from gnn.contributions import BASE, feature_contributions, log_odds
    from gnn.hetero_model import NEIGHBOURHOOD
    from gnn.reasons import portfolio_reasons

    plan, c = cuts
    test = c[plan.test]
    phi = feature_contributions(model, test)
    assert NEIGHBOURHOOD in phi and BASE in phi
    p = np.clip(model.predict_pd(test), 1e-9, 1 - 1e-9)
    unfloored = p > PD_FLOOR
    np.testing.assert_allclose(log_odds(phi)[unfloored], np.log(p / (1 - p))[unfloored], atol=1e-4)
    reasons = portfolio_reasons(model, test)
    assert len(reasons) == len(test.uscc) and min(map(len, reasons)) >= 3


def test_weighted_loss_is_bce_with_unit_weights_and_focal_damps_easy_firms() -> None:
    torch.manual_seed(0)
    z, y = torch.randn(50), (torch.rand(50) < 0.2).float()
    pw = torch.tensor([3.0])
    plain = torch.nn.BCEWithLogitsLoss(pos_weight=pw)(z, y)
    assert torch.allclose(weighted_loss(z, y, torch.ones(50), pw), plain)
    assert weighted_loss(z, y, torch.ones(50), pw, gamma=2.0) < plain
    # doubling every weight changes nothing; weighting one firm moves the mean towards its loss
    assert torch.allclose(weighted_loss(z, y, torch.full((50,), 2.0), pw), plain)
    w = torch.ones(50)
    w[0] = 100.0
    one = torch.nn.functional.binary_cross_entropy_with_logits(z[:1], y[:1], pos_weight=pw)
    assert abs(weighted_loss(z, y, w, pw) - one) < abs(plain - one)


def test_book_firms_weigh_book_weight_in_the_loss(cuts: tuple[CutPlan, dict[date, Cut]]) -> None:
    plan, c = cuts
    cut = c[plan.train[0]]
    nodes, _, w = _targets(cut, True, book_weight=4.0)
    book = np.isin(nodes.numpy(), cut.rows)
    assert book.any() and (~book).any()  # the book and the other live firms are both labelled
    assert (w.numpy()[book] == 4.0).all() and (w.numpy()[~book] == 1.0).all()
    nodes, _, w = _targets(cut, False, book_weight=4.0)
    np.testing.assert_array_equal(np.sort(nodes.numpy()), np.sort(cut.rows[~np.isnan(cut.y)]))


def test_message_operator_is_the_sum_of_each_relations_weighted_aggregate() -> None:
    import scipy.sparse as sp

    from gnn.hetero_model import MessageOperator

    rng = np.random.default_rng(0)
    n, d, k = 7, 3, 2
    # "a": edges 0->1, 2->1, 2->3 (senders 0 and 2 only); "b": one edge 5->6; "c": no edge at all
    mats = {
        "a": sp.csr_matrix((np.array([0.5, 2.0, 1.0]), ([1, 1, 3], [0, 2, 2])), shape=(n, n)),
        "b": sp.csr_matrix((np.array([0.8]), ([6], [5])), shape=(n, n)),
        "c": sp.csr_matrix((n, n)),
    }
    op = MessageOperator(mats, torch.device("cpu"))
    assert op.sources["a"].tolist() == [0, 2] and op.sources["c"].tolist() == []
    h = torch.from_numpy(rng.normal(size=(n, d)).astype(np.float32)).requires_grad_(True)
    ws = {r: torch.from_numpy(rng.normal(size=(k, d)).astype(np.float32)).requires_grad_(True) for r in mats}
    fast = op.messages(h, [(r, ws[r]) for r in ("a", "b", "c")])
    dense = sum(torch.from_numpy(mats[r].toarray().astype(np.float32)) @ h @ ws[r].T for r in mats)
    assert isinstance(dense, torch.Tensor)
    assert torch.allclose(fast, dense, atol=1e-6)
    # the written-out backward: the gradients in h and in every relation's weights (c's: zero)
    g_fast = torch.autograd.grad(fast.square().sum(), [h, *ws.values()])
    g_dense = torch.autograd.grad(dense.square().sum(), [h, *ws.values()])
    for a, b in zip(g_fast, g_dense, strict=True):
        assert torch.allclose(a, b, atol=1e-5)
    assert torch.count_nonzero(g_fast[3]) == 0 and torch.count_nonzero(g_fast[1]) > 0
    # messages of a detached h still train the weights
    (g_w,) = torch.autograd.grad(op.messages(h.detach(), [("a", ws["a"])]).sum(), [ws["a"]])
    assert torch.count_nonzero(g_w) > 0
    # a subset of the relations sums only those
    only_b = op.messages(h, [("b", ws["b"])])
    assert torch.allclose(only_b, torch.from_numpy(mats["b"].toarray().astype(np.float32)) @ h @ ws["b"].T)


def test_fast_dropout_is_inverted_dropout_seeded_and_off_in_eval() -> None:
    from gnn.hetero_model import FastDropout

    drop = FastDropout(0.3)
    x = torch.ones(200, 50)
    torch.manual_seed(1)
    a = drop(x)
    torch.manual_seed(1)
    b = drop(x)
    assert torch.equal(a, b)  # the seed fixes the mask
    zero = float((a == 0).float().mean())
    assert 0.27 < zero < 0.33  # about p of the units dropped
    assert torch.allclose(a[a != 0], torch.full_like(a[a != 0], 1 / 0.7))  # the rest scaled up
    assert torch.equal(drop.eval()(x), x)
