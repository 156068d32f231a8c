"""Why the GNN rated a firm as it did, link by link: Integrated Gradients on the firm's k-hop subgraph.

The GNN's logit of firm ``i`` depends only on the firms whose messages reach ``i`` within
``k`` message-passing layers and on the edges that carry them: its **k-hop subgraph**
(:func:`khop_subgraph`; ``k`` is the number of layers, so the logit on the subgraph equals
the logit on the whole graph). On it, PyG's :class:`~torch_geometric.explain.Explainer`
with :class:`~torch_geometric.explain.algorithm.CaptumExplainer` (Captum's
``IntegratedGradients``; Sundararajan, Taly and Yan, *Axiomatic Attribution for Deep
Networks*, ICML 2017) attributes the logit to every edge (``edge_mask_type="object"``: one
mask value ``m_e`` per edge, multiplying its message at every layer) and to every node
feature (``node_mask_type="attributes"``):

.. math::

    \\mathrm{IG}_e = m_e \\int_0^1 \\frac{\\partial f(\\alpha x, \\alpha m)}{\\partial m_e}\\, d\\alpha,
    \\qquad
    \\sum_e \\mathrm{IG}_e + \\sum_{v,j} \\mathrm{IG}_{vj} = f(x, \\mathbf 1) - f(0, \\mathbf 0)

from the baseline "no links, every feature at its training median" (0 in the encoder's
space, :class:`gnn.hetero_model.NodeEncoder`) to the firm as it is (``m = 1``: every link at
its weight). A positive attribution pushes the firm towards default. The masks enter as
they are, with no sigmoid: PyG's hetero Captum wrapper would squash them (a mask of 0
would keep half of every message and the firm "as it is" would have 73% of each), so
:class:`MaskedRiskGNN` switches that off for its own layers.

Every edge gets an attribution; :func:`attribute_firm` also folds the two directed edges
of each of the firm's own links (a supply link is a ``buyer`` message one way and a
``supplier`` message the other, both of which reach the firm's logit) into one **link**
in the vocabulary of :mod:`gnn.counterparties` (``sells_to``, ``guarantees``, ...) with
its amount and exposure, plus the attributions of the edges *into* the counterparty (the
risk the counterparty relays from its own neighbours): the route by which the chain
carried risk to the firm. :mod:`gnn.edge_attribution` measures how well these link
scores find the generator's true contagion links.

Deterministic: the network is in eval mode (no dropout), Integrated Gradients has no
random draws, and ``seed`` seeds torch for methods that do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn
from torch_geometric.data import HeteroData
from torch_geometric.explain import Explainer
from torch_geometric.explain.algorithm import CaptumExplainer
from torch_geometric.nn import MessagePassing

from gnn.counterparties import relation_edges as counterparty_edges
from gnn.hetero_data import NODE
from gnn.hetero_model import GNNModel, RiskGNN
from gnn.protocol import Cut

__all__ = [
    "FLAGS",
    "LINK_OF",
    "FirmAttribution",
    "MaskedRiskGNN",
    "Subgraph",
    "attribute_firm",
    "explain_node",
    "khop_subgraph",
    "link_scores",
]

#: The node flags after the features and missing indicators (:meth:`NodeEncoder.transform`).
FLAGS: tuple[str, ...] = ("in_default", "recent_default", "external", "in_book")

#: (GNN relation, the firm is the message's receiver?) -> the link's relation seen from the firm
#: (:data:`gnn.counterparties.RELATIONS`). A ``buyer`` message j -> i says i sells to j; the
#: reverse ``buyer`` message i -> j says j sells to i, i.e. i buys from j; and so on.
LINK_OF: dict[tuple[str, bool], str] = {
    ("buyer", True): "sells_to",
    ("buyer", False): "buys_from",
    ("supplier", True): "buys_from",
    ("supplier", False): "sells_to",
    ("borrower", True): "guarantees",
    ("borrower", False): "guaranteed_by",
    ("guarantor", True): "guaranteed_by",
    ("guarantor", False): "guarantees",
    ("debtor", True): "owed_by",
    ("debtor", False): "owes",
    ("creditor", True): "owes",
    ("creditor", False): "owed_by",
    ("owner", True): "owned_by",
    ("owner", False): "owns",
    ("owned", True): "owns",
    ("owned", False): "owned_by",
    ("co_owned", True): "co_owned",
    ("co_owned", False): "co_owned",
}


@dataclass(frozen=True)
class Subgraph:
    """A node's k-hop computation graph, relabelled.

    ``nodes[j]`` is the original index of subgraph node ``j`` and ``hop[j]`` its distance to
    the centre (messages flow towards it); ``edges[rel]`` the original positions, in
    ``data[rel]``, of the relation's kept edges: those whose receiver is at most ``k - 1``
    hops away, i.e. every edge whose message reaches the centre within ``k`` layers.
    """

    data: HeteroData
    nodes: np.ndarray
    hop: np.ndarray
    centre: int
    edges: dict[str, np.ndarray]


def khop_subgraph(data: HeteroData, node: int, hops: int) -> Subgraph:
    """The subgraph of ``data`` whose messages reach ``node`` within ``hops`` layers.

    >>> import torch
    >>> d = HeteroData()
    >>> d[NODE].x = torch.zeros(4, 1)
    >>> d[NODE, "buyer", NODE].edge_index = torch.tensor([[1, 2, 3], [0, 1, 2]])
    >>> d[NODE, "buyer", NODE].edge_weight = torch.ones(3)
    >>> s = khop_subgraph(d, 0, 2)      # 3 -> 2 -> 1 -> 0: node 3 is three hops away
    >>> s.nodes.tolist(), s.hop.tolist(), s.edges["buyer"].tolist()
    ([0, 1, 2], [0, 1, 2], [0, 1])
    """
    n = int(data[NODE].num_nodes)
    keys = [k for k in data.edge_types if data[k].edge_index.shape[1]]
    src = np.concatenate([data[k].edge_index[0].numpy() for k in keys]) if keys else np.zeros(0, np.int64)
    dst = np.concatenate([data[k].edge_index[1].numpy() for k in keys]) if keys else np.zeros(0, np.int64)
    # incoming[dst, src]: who sends to whom, over every relation
    incoming = sp.csr_matrix((np.ones(len(src), np.float32), (dst, src)), shape=(n, n))
    dist = np.full(n, -1, dtype=np.int64)
    dist[node] = 0
    frontier = np.array([node])
    for h in range(1, hops + 1):
        reached = np.unique(incoming[frontier].indices)
        reached = reached[dist[reached] < 0]
        if not len(reached):
            break
        dist[reached] = h
        frontier = reached
    nodes = np.flatnonzero(dist >= 0)
    nodes = np.concatenate([[node], nodes[nodes != node]])  # the centre first
    local = np.full(n, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    sub = HeteroData()
    idx = torch.from_numpy(nodes)
    for attr in ("x", "industry", "region"):
        if attr in data[NODE]:
            sub[NODE][attr] = data[NODE][attr][idx]
    kept: dict[str, np.ndarray] = {}
    for k in keys:
        ei = data[k].edge_index.numpy()
        d = dist[ei[1]]
        pos = np.flatnonzero((d >= 0) & (d <= hops - 1))
        if not len(pos):
            continue
        kept[k[1]] = pos
        sub[k].edge_index = torch.from_numpy(local[ei[:, pos]])
        sub[k].edge_weight = data[k].edge_weight[torch.from_numpy(pos)]
    return Subgraph(sub, nodes, dist[nodes], 0, kept)


class MaskedRiskGNN(nn.Module):
    """:class:`~gnn.hetero_model.RiskGNN` called the way PyG's explainers call a model.

    ``forward(x_dict, edge_index_dict, industry, region, edge_weight_dict)``, run through
    PyG's ``GraphConv`` message passing (not the sparse-product fast path), where the
    explainer's per-relation edge masks multiply each edge's message at every layer.
    """

    def __init__(self, net: RiskGNN) -> None:
        super().__init__()
        self.net = net

    def forward(
        self,
        x_dict: dict[str, torch.Tensor],
        edge_index_dict: dict[tuple[str, str, str], torch.Tensor],
        industry: torch.Tensor,
        region: torch.Tensor,
        edge_weight_dict: dict[tuple[str, str, str], torch.Tensor],
    ) -> torch.Tensor:
        for m in self.net.modules():
            if isinstance(m, MessagePassing) and m.explain:
                m._apply_sigmoid = False  # masks as they are: 0 removes a link, 1 keeps it (module docstring)
        data = HeteroData()
        data[NODE].x = x_dict[NODE]
        data[NODE].industry = industry
        data[NODE].region = region
        for k, ei in edge_index_dict.items():
            data[k].edge_index = ei
            data[k].edge_weight = edge_weight_dict[k]
        out: torch.Tensor = self.net(data)
        return out


@dataclass(frozen=True)
class NodeExplanation:
    """Attributions of one node's logit on its subgraph (original node indices)."""

    logit: float
    #: relation, src, dst, hop (of the receiver), weight, attribution
    edges: pd.DataFrame
    #: nodes × input columns of the node matrix
    features: np.ndarray
    nodes: np.ndarray
    hop: np.ndarray


def explain_node(
    net: RiskGNN,
    data: HeteroData,
    node: int,
    *,
    hops: int | None = None,
    method: str = "IntegratedGradients",
    n_steps: int = 50,
    seed: int = 0,
    features: bool = True,
) -> NodeExplanation:
    """Edge and node-feature attributions of ``node``'s logit (module docstring).

    ``hops`` defaults to the network's number of layers. ``method`` is a Captum method
    CaptumExplainer supports (``IntegratedGradients``, ``Saliency``, ``InputXGradient``).
    ``features=False`` attributes the edges alone, every node's features held as they are
    (the integration path then runs from "no links" only); ``features`` is then all zeros.
    """
    torch.manual_seed(seed)
    net.eval()
    k = len(net.convs) if hops is None else hops
    sub = khop_subgraph(data, node, k)
    g = sub.data
    rels = [key for key in g.edge_types if key[1] in sub.edges]
    kwargs: dict[str, Any] = {"n_steps": n_steps} if method == "IntegratedGradients" else {}
    # eval mode before the explainer records it: it puts the model back in the mode it found
    # it in, and a module starts in training mode (dropout on)
    model = MaskedRiskGNN(net).eval()
    explainer = Explainer(
        model=model,
        algorithm=CaptumExplainer(method, **kwargs),
        explanation_type="model",
        node_mask_type="attributes" if features or not rels else None,
        edge_mask_type="object" if rels else None,
        model_config={"mode": "regression", "task_level": "node", "return_type": "raw"},
    )
    x_dict = {NODE: g[NODE].x}
    ei_dict = {key: g[key].edge_index for key in rels}
    ew_dict = {key: g[key].edge_weight for key in rels}
    industry, region = g[NODE].industry, g[NODE].region
    explanation = explainer(
        x_dict, ei_dict, index=sub.centre, industry=industry, region=region, edge_weight_dict=ew_dict
    )
    with torch.no_grad():
        logit = float(model(x_dict, ei_dict, industry, region, ew_dict)[sub.centre])
    frames = []
    for key in rels:
        ei = g[key].edge_index.numpy()
        frames.append(
            pd.DataFrame(
                {
                    "relation": key[1],
                    "src": sub.nodes[ei[0]],
                    "dst": sub.nodes[ei[1]],
                    "hop": sub.hop[ei[1]] + 1,
                    "weight": g[key].edge_weight.double().numpy(),
                    "attribution": explanation[key].edge_mask.detach().double().numpy(),
                }
            )
        )
    edges = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["relation", "src", "dst", "hop", "weight", "attribution"])
    )
    node_mask = explanation[NODE].get("node_mask") if NODE in explanation.node_types else None
    attr = (
        node_mask.detach().double().numpy()
        if node_mask is not None
        else np.zeros((len(sub.nodes), g[NODE].x.shape[1]))
    )
    return NodeExplanation(logit, edges, attr, sub.nodes, sub.hop)


@dataclass(frozen=True)
class FirmAttribution:
    """One firm's GNN attributions, ready to show (:meth:`as_dict`)."""

    uscc: str
    logit: float
    #: the firm's links: relation, counterparty (USCC), amount, exposure, direct (the link's own
    #: edges), relayed (edges into the counterparty), attribution (their sum)
    links: pd.DataFrame
    #: every edge of the subgraph: relation, src, dst (USCCs), hop, weight, attribution
    edges: pd.DataFrame
    #: the firm's own features (missing flags folded into their feature), log-odds attribution
    features: pd.Series
    #: the summed feature attributions of each other node of the subgraph (USCC -> attribution)
    nodes: pd.Series

    def as_dict(self, *, top: int = 20) -> dict[str, Any]:
        """JSON-ready: links and features in full, the ``top`` edges and nodes by |attribution|."""

        def records(f: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {str(k): (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                for r in f.to_dict("records")
            ]

        order = self.edges["attribution"].abs().sort_values(ascending=False, kind="stable").index
        nodes = self.nodes.reindex(self.nodes.abs().sort_values(ascending=False, kind="stable").index)
        return {
            "logit": self.logit,
            "links": records(self.links),
            "edges": records(self.edges.loc[order[:top]]),
            "features": [{"feature": k, "attribution": float(v)} for k, v in self.features.items()],
            "nodes": [{"uscc": k, "attribution": float(v)} for k, v in nodes.iloc[:top].items()],
            "n_edges": len(self.edges),
            "n_nodes": len(self.nodes) + 1,
        }


def _feature_names(model: GNNModel) -> list[str]:
    return [*model.encoder.columns, *(f"{c}_missing" for c in model.encoder.flagged), *FLAGS]


def _links(e: NodeExplanation, row: int) -> pd.DataFrame:
    """The firm's links, scored by their own edges (both ways) and the edges into the counterparty."""
    d = e.edges
    own = d[(d["dst"] == row) | (d["src"] == row)]
    incoming = own["dst"].to_numpy() == row
    cp = np.where(incoming, own["src"].to_numpy(), own["dst"].to_numpy())
    rel = [LINK_OF[(r, bool(i))] for r, i in zip(own["relation"], incoming, strict=True)]
    direct = pd.DataFrame(
        {
            "counterparty": cp.astype(np.int64),
            "relation": pd.Series(rel, dtype=object),
            "direct": own["attribution"].to_numpy(dtype="float64"),
        }
    )
    direct = direct.groupby(["counterparty", "relation"], as_index=False, sort=True).agg(
        direct=("direct", "sum")
    )
    relay: pd.Series = d[(d["dst"] != row) & (d["src"] != row)].groupby("dst")["attribution"].sum()
    direct["relayed"] = direct["counterparty"].map(relay).fillna(0.0).to_numpy()
    direct["attribution"] = direct["direct"] + direct["relayed"]
    return direct


def attribute_firm(
    model: GNNModel,
    cut: Cut,
    uscc: str,
    *,
    data: HeteroData | None = None,
    method: str = "IntegratedGradients",
    n_steps: int = 50,
    seed: int = 0,
    features: bool = True,
) -> FirmAttribution:
    """The GNN attributions of firm ``uscc`` of ``cut``'s snapshot (module docstring).

    ``data`` is ``model.data(cut)`` when the caller explains several firms of one cut.
    """
    snap = cut.snapshot
    ids = snap.firms["uscc"].to_numpy(dtype=object)
    where = np.flatnonzero(ids == uscc)
    if not len(where):
        raise KeyError(uscc)
    row = int(where[0])
    e = explain_node(model.network(), model.data(cut) if data is None else data, row,
                     method=method, n_steps=n_steps, seed=seed, features=features)  # fmt: skip
    links = _links(e, row)
    info = counterparty_edges(snap, np.array([row]))[["counterparty", "relation", "amount", "exposure"]]
    info = info.drop_duplicates(["counterparty", "relation"]).astype({"relation": object})
    links = links.merge(info, on=["counterparty", "relation"], how="left")
    links["counterparty"] = ids[links["counterparty"].to_numpy(dtype=np.int64)]
    links = links.sort_values("attribution", ascending=False, kind="stable").reset_index(drop=True)
    links = links[["relation", "counterparty", "amount", "exposure", "direct", "relayed", "attribution"]]
    edges = e.edges.assign(src=ids[e.edges["src"].to_numpy(dtype=np.int64)],
                           dst=ids[e.edges["dst"].to_numpy(dtype=np.int64)])  # fmt: skip
    names = _feature_names(model)
    own = pd.Series(e.features[0], index=names)
    n_cols = len(model.encoder.columns)
    for j, col in enumerate(model.encoder.flagged):
        own[col] += own.iloc[n_cols + j]
    own = own.drop([f"{c}_missing" for c in model.encoder.flagged])
    own = own.reindex(own.abs().sort_values(ascending=False, kind="stable").index)
    nodes = pd.Series(e.features[1:].sum(axis=1), index=ids[e.nodes[1:]], dtype="float64")
    return FirmAttribution(str(uscc), e.logit, links, edges, own, nodes)


def link_scores(
    model: GNNModel,
    cut: Cut,
    firms: Iterable[str],
    *,
    method: str = "IntegratedGradients",
    n_steps: int = 50,
    seed: int = 0,
    features: bool = True,
) -> pd.DataFrame:
    """``firm``, ``counterparty``, ``relation``, ``score``, ``direct``, ``relayed``, ``node``: every
    link of each firm, scored by its attribution (the input of
    :func:`gnn.edge_attribution.edge_attribution_auc`); ``node`` is the counterparty's own
    features' attribution, the part of its influence that Integrated Gradients' joint path
    (links and features scaled together from the baseline) credits to its features rather than
    to the link that carries it (``docs/risk-model.md``)."""
    data = model.data(cut)
    frames = []
    for u in firms:
        a = attribute_firm(
            model, cut, u, data=data, method=method, n_steps=n_steps, seed=seed, features=features
        )
        node = a.links["counterparty"].map(a.nodes).fillna(0.0).to_numpy(dtype="float64")
        frames.append(
            a.links.assign(firm=u, score=a.links["attribution"], node=node)[
                ["firm", "counterparty", "relation", "score", "direct", "relayed", "node"]
            ]
        )
    if not frames:
        return pd.DataFrame(
            columns=["firm", "counterparty", "relation", "score", "direct", "relayed", "node"]
        )
    return pd.concat(frames, ignore_index=True)
