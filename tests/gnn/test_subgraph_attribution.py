"""The GNN explainer on a firm's k-hop subgraph (``gnn.subgraph_attribution``) and its edge-mask AUC."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import HeteroData

from gnn.counterparties import RELATIONS as LINK_RELATIONS
from gnn.edge_attribution import explainer_figures
from gnn.explain import explain
from gnn.hetero_data import NODE
from gnn.hetero_model import GNNConfig, GNNModel, RiskGNN, aggregates, fit_gnn
from gnn.protocol import Cut, CutPlan
from gnn.subgraph_attribution import MaskedRiskGNN, attribute_firm, explain_node, khop_subgraph, link_scores

TINY = GNNConfig(hidden=8, dropout=0.0, industry_dim=2, region_dim=2)


def _graph(src: list[int], dst: list[int], x: np.ndarray, rel: str = "buyer") -> HeteroData:
    d = HeteroData()
    n = len(x)
    d[NODE].x = torch.from_numpy(np.asarray(x, dtype=np.float32))
    d[NODE].industry = torch.zeros(n, dtype=torch.long)
    d[NODE].region = torch.zeros(n, dtype=torch.long)
    d[NODE, rel, NODE].edge_index = torch.tensor([src, dst])
    d[NODE, rel, NODE].edge_weight = torch.ones(len(src))
    return d


def _random_graph(seed: int = 0, n: int = 30) -> HeteroData:
    rng = np.random.default_rng(seed)
    d = _graph([], [], rng.normal(size=(n, 3)))
    for rel in ("buyer", "supplier"):
        s, t = rng.integers(0, n, 60), rng.integers(0, n, 60)
        keep = s != t
        d[NODE, rel, NODE].edge_index = torch.from_numpy(np.stack([s[keep], t[keep]]))
        d[NODE, rel, NODE].edge_weight = torch.from_numpy(
            rng.uniform(0.1, 1.0, int(keep.sum())).astype(np.float32)
        )
    return d


def test_the_subgraph_gives_the_same_logit_as_the_whole_graph() -> None:
    torch.manual_seed(0)
    data = _random_graph()
    net = RiskGNN(3, ["buyer", "supplier"], TINY, 0, 0).eval()
    with torch.no_grad():
        whole = net(data, aggregates(data))
        for node in (0, 7, 19):
            sub = khop_subgraph(data, node, 2)
            assert len(sub.nodes) < data[NODE].num_nodes or node == 0
            assert float(net(sub.data)[sub.centre]) == pytest.approx(float(whole[node]), abs=1e-5)
            # every kept edge ends within one hop of the centre: its message reaches it in 2 layers
            assert all((sub.hop[sub.data[k].edge_index[1].numpy()] <= 1).all() for k in sub.data.edge_types)


def test_integrated_gradients_add_up_from_no_links_and_median_features() -> None:
    # completeness: the attributions sum to f(firm as it is) - f(no links, features 0); it
    # holds only if the masks enter unsquashed (a sigmoid would make 0 keep half of each message)
    torch.manual_seed(1)
    data = _random_graph(1)
    net = RiskGNN(3, ["buyer", "supplier"], TINY, 0, 0).eval()
    e = explain_node(net, data, 5, n_steps=64)
    sub = khop_subgraph(data, 5, 2)
    g = sub.data
    with torch.no_grad():
        empty = {k: g[k].edge_index[:, :0] for k in g.edge_types}
        weights = {k: g[k].edge_weight[:0] for k in g.edge_types}
        f0 = float(MaskedRiskGNN(net)({NODE: torch.zeros_like(g[NODE].x)}, empty, g[NODE].industry,
                                      g[NODE].region, weights)[0])  # fmt: skip
    total = e.edges["attribution"].sum() + e.features.sum()
    assert total == pytest.approx(e.logit - f0, abs=0.02 * abs(e.logit - f0) + 1e-3)


@pytest.fixture(scope="module")
def star_model() -> tuple[RiskGNN, HeteroData, np.ndarray]:
    """Eight stars: each centre hears from three leaves; it defaults when one leaf is in default."""
    rng = np.random.default_rng(3)
    x, src, dst, y = [], [], [], []
    for s in range(8):
        centre = 4 * s
        bad = s % 2 == 0
        x.append([0.0, *rng.normal(size=2)])
        for leaf in range(3):
            x.append([1.0 if bad and leaf == s % 3 else 0.0, *rng.normal(size=2)])
            src.append(centre + 1 + leaf)
            dst.append(centre)
        y += [float(bad), 0.0, 0.0, 0.0]
    data = _graph(src, dst, np.array(x))
    torch.manual_seed(0)
    net = RiskGNN(3, ["buyer"], TINY, 0, 0)
    opt = torch.optim.Adam(net.parameters(), lr=0.03)
    target = torch.tensor(y)
    for _ in range(80):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(data), target).backward()
        opt.step()
    return net.eval(), data, np.array(y)


def test_the_edge_that_carries_the_default_ranks_first(
    star_model: tuple[RiskGNN, HeteroData, np.ndarray],
) -> None:
    net, data, y = star_model
    x0 = data[NODE].x[:, 0].numpy()
    for centre in np.flatnonzero(y == 1):
        e = explain_node(net, data, int(centre), n_steps=20)
        top = e.edges.sort_values("attribution", ascending=False).iloc[0]
        assert x0[int(top["src"])] == 1.0 and top["dst"] == centre and top["attribution"] > 0


def test_the_same_seed_gives_the_same_attributions(
    star_model: tuple[RiskGNN, HeteroData, np.ndarray],
) -> None:
    net, data, _ = star_model
    a, b = (explain_node(net, data, 0, n_steps=10, seed=4) for _ in range(2))
    pd.testing.assert_frame_equal(a.edges, b.edges)
    assert np.array_equal(a.features, b.features)


@pytest.fixture(scope="module")
def small_gnn(platform_cuts: tuple[CutPlan, dict[date, Cut]]) -> GNNModel:
    """B3 fitted for a few epochs on the shared platform: enough to explain, not to rank well."""
    plan, cuts = platform_cuts
    cfg = GNNConfig(hidden=8, max_epochs=3, patience=3)
    return fit_gnn([cuts[t] for t in plan.train], cuts[plan.validation], seed=0, threads=1, config=cfg)


def _firm_next_to_a_default(test: Cut) -> str:
    snap = test.snapshot
    d = snap.firms["defaulted"].to_numpy(dtype="float64")
    near = (snap.supply @ d + snap.supply.T @ d + snap.guarantees @ d + snap.guarantees.T @ d)[test.rows]
    return str(test.uscc[int(np.flatnonzero(near > 0)[0])])


def test_explain_carries_the_gnn_attributions_as_json(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], small_gnn: GNNModel
) -> None:
    plan, cuts = platform_cuts
    test = cuts[plan.test]
    firm = _firm_next_to_a_default(test)
    x = explain(small_gnn, test, firm, hops=1)
    doc = json.loads(json.dumps(x))
    g = doc["gnn_attribution"]
    assert "own logit" in g["explains"] and "IntegratedGradients" in g["method"]
    assert g["links"] and {"relation", "counterparty", "amount", "attribution"} <= set(g["links"][0])
    assert {link["relation"] for link in g["links"]} <= set(LINK_RELATIONS)
    # the links are sorted by attribution and name the firm's own counterparties
    att = [link["attribution"] for link in g["links"]]
    assert att == sorted(att, reverse=True)
    hop1 = {c["uscc"] for c in doc["counterparties"] if c["hop"] == 1}
    assert {link["counterparty"] for link in g["links"]} <= hop1
    assert {f["feature"] for f in g["features"]} >= {"in_default", "in_book"}
    assert g["logit"] == pytest.approx(
        float(small_gnn.node_logits(test)[test.rows][test.uscc == firm][0]), abs=1e-4
    )
    # on request, the explanation leaves it out
    assert "gnn_attribution" not in explain(small_gnn, test, firm, attribution=False)


def test_the_evaluation_scores_the_explainer_against_the_truth(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], platform: Path, small_gnn: GNNModel
) -> None:
    plan, cuts = platform_cuts
    test = cuts[plan.test]
    truth = pd.read_parquet(platform / "_truth" / "defaults.parquet")
    r = explainer_figures(small_gnn, test, truth, max_firms=4, n_steps=5)
    assert 0 < r["firms_explained"] <= min(4, r["firms_with_link_defaults"])
    for k in (
        "explainer",
        "explainer_signed",
        "explainer_direct",
        "explainer_total",
        "explainer_total_signed",
        "baseline",
    ):
        assert r[k]["n_firms"] == r["firms_explained"] and 0 <= r[k]["coverage"] <= 1
    assert r["explainer"]["n_edges"] == r["explainer_signed"]["n_edges"] == r["explainer_direct"]["n_edges"]
    assert r["met"] == (r["explainer"]["auc"] >= 0.8) and r["target"] == 0.8


def test_attribute_firm_names_an_unknown_firm(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], small_gnn: GNNModel
) -> None:
    plan, cuts = platform_cuts
    with pytest.raises(KeyError):
        attribute_firm(small_gnn, cuts[plan.test], "NOT-A-FIRM")


def test_link_scores_carry_the_counterpartys_own_feature_attribution(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], small_gnn: GNNModel
) -> None:
    plan, cuts = platform_cuts
    test = cuts[plan.test]
    data = small_gnn.data(test)
    a = next(
        a
        for u in test.uscc[:50]
        if len((a := attribute_firm(small_gnn, test, str(u), data=data, n_steps=5)).links)
    )
    scores = link_scores(small_gnn, test, [a.uscc], n_steps=5)
    assert len(scores) == len(a.links)
    expected = scores["counterparty"].map(a.nodes).fillna(0.0).to_numpy()
    np.testing.assert_allclose(scores["node"].to_numpy(), expected)
    assert (scores["node"] != 0).any()  # the counterparties' features do carry attribution
