"""B3: a heterogeneous message-passing network over the dated snapshot, trained full-batch on CPU.

Architecture (``RiskGNN``)::

    h0 = ReLU(W_in [x ; emb(industry) ; emb(province)])                    firm encoder
    h1 = ReLU(LayerNorm(Σ_r GraphConv_r(h0)))         h1_i = Σ_r (W_r^root h0_i + W_r Σ_{j→i} w_ji h0_j)
    h2 = ReLU(LayerNorm(Σ_r GraphConv_r(h1)))         two hops along every relation
    logit = MLP([h0 ; h1 ; h2])                        jumping knowledge: a firm's own signal is never
                                                        washed out by its neighbourhood

``GraphConv`` (Morris et al., *Weisfeiler and Leman Go Neural*, AAAI 2019) is a sum aggregator
that takes a scalar edge weight, so exposures enter as they are (shares of sales and inputs,
guarantees over equity, see :mod:`gnn.hetero_data`): a firm hit by a buyer that is 80% of its
sales hears it at 0.8, one that is 1% at 0.01. Each relation and direction has its own
weights. No pyg-lib or torch-sparse is needed: PyG's scatter on dense tensors runs on CPU.

Training: every live platform firm of every training cut is a labelled node (the book alone
has a few hundred defaults a year), the loss is binary cross-entropy with the positive class
weighted by sqrt(negatives / positives) (imbalance without overshooting) and the bank's book
weighted ``book_weight`` = 3 against 1 for the other live firms (:func:`weighted_loss`; the model
is judged on the book, and on the 20k-firm validation cut, one seed, the weight lifted the book's
PR-AUC 0.248 -> 0.257 and AUC 0.7212 -> 0.7217, where focal loss, gamma 2, gave PR-AUC 0.260 but
AUC 0.7189 and a worse Brier score), Adam, full batch,
early stopping on the validation cut's **book** AUC, the scores of the best epoch calibrated
on that book by Platt scaling (:class:`gnn.baselines.Calibrator`). Deterministic under a seed
on CPU (fixed threads, seeded initialisation and dropout); on a GPU the same code runs with
results equal within floating-point tolerance.

Numeric features are clipped to the training cuts' 1st-99th percentiles, standardised on the
training cuts only, and missing values become 0 with a missing-indicator column.

Example::

    from gnn.protocol import load_cuts
    plan, cuts = load_cuts("out/platform")
    model = fit_gnn([cuts[t] for t in plan.train], cuts[plan.validation], seed=0)
    pd_test = model.predict_pd(cuts[plan.test])
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import GraphConv, HeteroConv

from gnn.baselines import Calibrator
from gnn.graph_features import RECENT_DAYS
from gnn.hetero_data import (
    NODE,
    RELATIONS,
    Edges,
    IdentityMemo,
    adjacency,
    relation_edges,
    snapshot_edges,
    to_hetero_data,
)
from gnn.metrics import auc
from gnn.protocol import Cut

#: The contribution of a firm's chain and neighbourhood in :meth:`GNNModel.feature_contributions`.
NEIGHBOURHOOD = "gnn_neighbourhood"

__all__ = [
    "NEIGHBOURHOOD",
    "FastDropout",
    "GNNConfig",
    "GNNModel",
    "MessageOperator",
    "NodeEncoder",
    "RiskGNN",
    "SparseAggregate",
    "aggregates",
    "fit_gnn",
    "weighted_loss",
]


@dataclass(frozen=True)
class GNNConfig:
    """Hyper-parameters of B3 (chosen on the validation cut; see the report)."""

    hidden: int = 64
    layers: int = 2
    dropout: float = 0.3
    lr: float = 0.005
    weight_decay: float = 1e-4
    max_epochs: int = 300
    patience: int = 25
    industry_dim: int = 8
    region_dim: int = 4
    #: train on every live platform firm (True) or on the bank's book only
    all_firms: bool = True
    #: loss weight of the bank's book firms against 1 for the other live firms (prospects):
    #: the model is judged on the book, whose defaults look unlike the prospects'
    book_weight: float = 3.0
    #: focal-loss exponent (Lin et al. 2017); 0 is plain weighted cross-entropy
    focal_gamma: float = 0.0


@dataclass
class NodeEncoder:
    """The node-feature transform fitted on the training cuts only.

    ``z = asinh((x - median) / scale)``, with ``scale`` the interquartile range / 1.349 (the
    standard deviation when that is 0): robust to heavy tails (sales, guarantees over equity)
    without clipping away the rare extreme values that carry the most risk (days overdue);
    a missing value becomes 0 and sets its column's missing flag.
    """

    columns: list[str]
    median: np.ndarray
    scale: np.ndarray
    #: columns that get a missing-indicator feature
    flagged: list[str]
    industries: dict[str, int] = field(default_factory=dict)
    provinces: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(cls, frames: Sequence[pd.DataFrame], firms: Sequence[pd.DataFrame]) -> NodeEncoder:
        x = pd.concat(frames, ignore_index=True).astype("float64")
        v = x.to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: median and scale 0 / 1
            q1, median, q3 = (np.nan_to_num(np.nanpercentile(v, q, axis=0)) for q in (25, 50, 75))
            std = np.nan_to_num(np.nanstd(v, axis=0))
        scale = (q3 - q1) / 1.349
        scale = np.where(scale > 0, scale, np.where(std > 0, std, 1.0))
        flagged = [col for col in x.columns if x[col].isna().any()]
        f = pd.concat(firms, ignore_index=True)
        industries = {k: i + 1 for i, k in enumerate(sorted(f["industry"].dropna().astype(str).unique()))}
        provinces = {k: i + 1 for i, k in enumerate(sorted(_province(f["region"]).dropna().unique()))}
        return cls(list(x.columns), median, scale, flagged, industries, provinces)

    @property
    def width(self) -> int:
        return len(self.columns) + len(self.flagged) + 4

    def transform(
        self, nodes: pd.DataFrame, firms: pd.DataFrame, book: np.ndarray, as_of: date
    ) -> np.ndarray:
        """The node matrix: standardised features, missing flags, and flags: in default (and since
        less than :data:`~gnn.graph_features.RECENT_DAYS` before ``as_of``), external, in the book."""
        v = nodes.loc[:, self.columns].to_numpy(dtype="float64")
        z = np.arcsinh((v - self.median) / self.scale)
        missing = nodes.loc[:, self.flagged].isna().to_numpy(dtype="float64")
        age = (pd.Timestamp(as_of) - pd.to_datetime(firms["default_date"])).dt.days
        flags = np.column_stack(
            [
                firms["defaulted"].to_numpy(dtype="float64"),
                # a neighbour's default weighs most soon after it (see gnn.graph_features.RECENT_DAYS)
                (age <= RECENT_DAYS).to_numpy(dtype="float64"),
                firms["external"].to_numpy(dtype="float64"),
                book.astype("float64"),
            ]
        )
        return np.column_stack([np.nan_to_num(z), missing, flags]).astype(np.float32)

    def codes(self, firms: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Integer codes of industry and province (0: unseen in training)."""
        ind = firms["industry"].astype("string").map(self.industries).fillna(0)
        prov = _province(firms["region"]).map(self.provinces).fillna(0)
        return ind.to_numpy(dtype=np.int64), prov.to_numpy(dtype=np.int64)


def _province(region: pd.Series) -> pd.Series:
    """The province of a 6-digit administrative division code (its first two digits)."""
    return region.astype("string").str.slice(0, 2)


class SparseAggregate:
    """``A @ h`` for one relation, with its gradient ``Aᵀ @ g``: GraphConv's neighbour sum.

    On CPU the products run in scipy (CSR, float32), whose kernel is several times faster
    than torch's sparse CSR on CPU; on a GPU they run as torch sparse CSR products. Both
    transposes are built once per graph, not at every backward pass.
    """

    def __init__(self, a: sp.csr_matrix, device: torch.device) -> None:
        self.device = device
        if device.type == "cpu":
            self._a: Any = sp.csr_matrix(a, dtype=np.float32)
            self._at: Any = self._a.T.tocsr()
        else:
            self._a, self._at = (_torch_csr(m, device) for m in (a, a.T))

    def _apply(self, m: Any, h: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cpu":
            return torch.from_numpy(np.asarray(m @ h.detach().numpy(), dtype=np.float32))
        return m @ h

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        return _SpMM.apply(h, self)


def _torch_csr(m: sp.spmatrix, device: torch.device) -> torch.Tensor:
    c = sp.csr_matrix(m, dtype=np.float32)
    return torch.sparse_csr_tensor(
        torch.from_numpy(c.indptr).long(),
        torch.from_numpy(c.indices).long(),
        torch.from_numpy(c.data),
        c.shape,
    ).to(device)


class MessageOperator:
    """``Σ_r A_r (h W_rᵀ)``: every relation's weighted neighbour sum through its own weights.

    Equal to ``Σ_r (A_r h) W_rᵀ``, GraphConv's ``lin_rel`` of its neighbour sum, but cheaper:
    a relation's messages are computed only for the firms that send one (the non-empty
    columns ``S_r`` of ``A_r``; on the 10k-firm platform 19.5k sender rows over nine
    relations instead of 9 × 10.3k), stacked into one matrix ``M = [h[S_1] W_1ᵀ ; ...]``, and
    summed into their receivers by a single sparse product ``[A_1[:, S_1] ... A_R[:, S_R]] M``.
    So no ``n × R·hidden`` block of aggregates is ever built or copied, and the sparse
    kernel is called once per layer instead of once per relation.

    On CPU the whole layer is one autograd node (:class:`_FusedMessages`) whose backward is
    written out: ``∂h = Pᵀ (∂M_r W_r)_r`` with ``P`` the sender gather, as one sparse product,
    and ``∂W_r = ∂M_rᵀ h[S_r]``. Autograd's own chain (a gather, a product and a slice of
    the concatenation per relation) zero-filled an ``n × hidden`` gradient per relation and
    scattered into it row by row: on the 100k-firm platform that scatter alone was a quarter
    of a training step.
    """

    def __init__(self, mats: Mapping[str, sp.csr_matrix], device: torch.device) -> None:
        self.device = device
        self._blocks: dict[str, sp.csr_matrix] = {}
        self.sources: dict[str, torch.Tensor] = {}
        self.n = next(iter(mats.values())).shape[0] if mats else 0
        for rel, a in mats.items():
            csc = sp.csc_matrix(a, dtype=np.float32)
            cols = np.flatnonzero(np.diff(csc.indptr))
            self._blocks[rel] = csc[:, cols]
            self.sources[rel] = torch.from_numpy(cols).long().to(device)
        self._ops: dict[tuple[str, ...], SparseAggregate] = {}
        self._fused: dict[tuple[str, ...], _FusedPlan] = {}

    def __contains__(self, rel: object) -> bool:
        return rel in self.sources

    def _op(self, rels: tuple[str, ...]) -> SparseAggregate:
        if rels not in self._ops:
            b = (
                sp.hstack([self._blocks[r] for r in rels], format="csr")
                if rels
                else sp.csr_matrix((self.n, 0))
            )
            self._ops[rels] = SparseAggregate(b, self.device)
        return self._ops[rels]

    def _plan(self, rels: tuple[str, ...]) -> _FusedPlan:
        if rels not in self._fused:
            self._fused[rels] = _FusedPlan(
                self.n, [self._blocks[r] for r in rels], [self.sources[r] for r in rels]
            )
        return self._fused[rels]

    def messages(self, h: torch.Tensor, weights: Sequence[tuple[str, torch.Tensor]]) -> torch.Tensor:
        """``Σ_r A_r h W_rᵀ`` over the ``(relation, W_r)`` given (each relation at most once)."""
        rels = tuple(r for r, _ in weights)
        if self.device.type == "cpu" and rels:
            return cast(torch.Tensor, _FusedMessages.apply(h, self._plan(rels), *(w for _, w in weights)))
        # index_select: its backward is a plain index_add, not the sorting accumulate of h[idx]
        m = torch.cat([torch.index_select(h, 0, self.sources[r]) @ w.T for r, w in weights], dim=0)
        return self._op(rels)(m)


class _FusedPlan:
    """The sparse matrices of one set of relations for :class:`_FusedMessages` (CPU, float32).

    ``a = [A_1[:, S_1] ... A_R[:, S_R]]`` (receivers × stacked senders) and its transpose,
    the stacked sender indices, each relation's span of them, and ``pt = Pᵀ``, the
    transposed gather (``pt[S[i], i] = 1``), which sums a sender's gradients over its relations.
    """

    def __init__(self, n: int, blocks: Sequence[sp.csr_matrix], sources: Sequence[torch.Tensor]) -> None:
        self.a = sp.hstack(blocks, format="csr").astype(np.float32)
        self.at = self.a.T.tocsr()
        self.senders = torch.cat(list(sources)) if sources else torch.zeros(0, dtype=torch.long)
        ends = np.cumsum([len(s) for s in sources])
        self.spans = list(zip(np.r_[0, ends[:-1]].tolist(), ends.tolist(), strict=True))
        m = len(self.senders)
        self.pt = sp.csr_matrix(
            (np.ones(m, dtype=np.float32), (self.senders.numpy(), np.arange(m))), shape=(n, m)
        )


class _FusedMessages(torch.autograd.Function):
    """``a @ [h[S_1] W_1ᵀ ; ... ; h[S_R] W_Rᵀ]`` with its gradients in ``h`` and every ``W_r``."""

    @staticmethod
    def forward(ctx: Any, h: torch.Tensor, plan: _FusedPlan, *weights: torch.Tensor) -> torch.Tensor:
        g = torch.index_select(h.detach(), 0, plan.senders)
        out_dim = weights[0].shape[0]
        m = torch.empty((g.shape[0], out_dim), dtype=torch.float32)
        for (lo, hi), w in zip(plan.spans, weights, strict=True):
            torch.mm(g[lo:hi], w.detach().T, out=m[lo:hi])
        ctx.plan, ctx.g, ctx.weights = plan, g, [w.detach() for w in weights]
        return torch.from_numpy(np.asarray(plan.a @ m.numpy(), dtype=np.float32))

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        plan: _FusedPlan = ctx.plan
        g: torch.Tensor = ctx.g
        gm = torch.from_numpy(np.asarray(plan.at @ grad.contiguous().numpy(), dtype=np.float32))
        grads_w: list[torch.Tensor | None] = [
            gm[lo:hi].T @ g[lo:hi] if ctx.needs_input_grad[2 + i] else None
            for i, (lo, hi) in enumerate(plan.spans)
        ]
        grad_h = None
        if ctx.needs_input_grad[0]:
            gg = torch.empty_like(g)
            for (lo, hi), w in zip(plan.spans, ctx.weights, strict=True):
                torch.mm(gm[lo:hi], w, out=gg[lo:hi])
            grad_h = torch.from_numpy(np.asarray(plan.pt @ gg.numpy(), dtype=np.float32))
        return (grad_h, None, *grads_w)


class _SpMM(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, h: torch.Tensor, op: SparseAggregate) -> torch.Tensor:
        ctx.op = op
        return op._apply(op._a, h)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        op: SparseAggregate = ctx.op
        return op._apply(op._at, grad.contiguous()), None


class FastDropout(nn.Module):
    """Inverted dropout, ``x · 1[u ≥ p] / (1 - p)`` with ``u ~ U(0, 1)`` (Srivastava et al., JMLR 2014).

    The same function as ``nn.Dropout``, drawn from ``torch.rand`` instead of ``bernoulli_``,
    whose CPU kernel took a sixth of a training step (about twice the time of the uniform
    draw and the product). Seeded by torch's generator like it; no parameters, so saved
    weights load unchanged.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p <= 0:
            return x
        keep = (torch.rand_like(x) >= self.p).to(x.dtype)
        return x * (keep * (1.0 / (1.0 - self.p)))


class RiskGNN(nn.Module):
    """The B3 network (see the module docstring)."""

    def __init__(
        self,
        in_dim: int,
        relations: Sequence[str],
        config: GNNConfig,
        n_industries: int,
        n_provinces: int,
    ) -> None:
        super().__init__()
        h = config.hidden
        self.relations = list(relations)
        self.industry = nn.Embedding(n_industries + 1, config.industry_dim)
        self.province = nn.Embedding(n_provinces + 1, config.region_dim)
        self.encoder = nn.Sequential(
            nn.Linear(in_dim + config.industry_dim + config.region_dim, h),
            nn.ReLU(),
            FastDropout(config.dropout),
        )
        self.convs = nn.ModuleList(
            HeteroConv({(NODE, r, NODE): GraphConv(h, h, aggr="add") for r in self.relations}, aggr="sum")
            for _ in range(config.layers)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(h) for _ in range(config.layers))
        self.dropout = FastDropout(config.dropout)
        self.head = nn.Sequential(nn.Linear(h * (config.layers + 1), h), nn.ReLU(), nn.Linear(h, 1))

    def embed(
        self,
        data: HeteroData,
        adj: MessageOperator | None = None,
        *,
        detach_messages: bool = False,
    ) -> torch.Tensor:
        """The concatenated representations ``[h0 ; h1 ; h2]`` of every node.

        With ``adj`` (:func:`aggregates`) the neighbour sums are sparse products (fast);
        without, PyG's ``GraphConv`` message passing over ``edge_index`` and ``edge_weight``,
        the form its explainers mask edge by edge. Both compute the same function.
        ``detach_messages`` stops gradients through the neighbours' messages (a firm's own path only).
        """
        node = data[NODE]
        h = self.encoder(torch.cat([node.x, self.industry(node.industry), self.province(node.region)], dim=1))
        hs = [h]
        rels = [k for k in data.edge_types if k[1] in self.relations]
        for conv, norm in zip(self.convs, self.norms, strict=True):
            if rels and adj is not None:
                # GraphConv's own parameters, Σ_r lin_rel_r(A_r h) + lin_root_r(h), computed as
                # Σ_r A_r (h W_rᵀ) on each relation's senders only (:class:`MessageOperator`),
                # and h times the sum of the root weights
                used = [k for k in rels if k[1] in adj]
                convs: list[GraphConv] = [cast(HeteroConv, conv).convs[k] for k in used]
                src = h.detach() if detach_messages else h
                msg = adj.messages(src, [(k[1], c.lin_rel.weight) for k, c in zip(used, convs, strict=True)])
                w_root = torch.stack([c.lin_root.weight for c in convs]).sum(0)
                bias = torch.stack([c.lin_rel.bias for c in convs]).sum(0)
                out = msg + h @ w_root.T + bias
            elif rels:
                ei = {k: data[k].edge_index for k in rels}
                out = conv({NODE: h}, ei, edge_weight_dict={k: data[k].edge_weight for k in rels})[NODE]
            else:  # no links at all: the network degrades to an MLP on the firm's own features
                out = h
            h = self.dropout(torch.relu(norm(out)))
            hs.append(h)
        return torch.cat(hs, dim=1)

    def forward(
        self,
        data: HeteroData,
        adj: MessageOperator | None = None,
        *,
        detach_messages: bool = False,
    ) -> torch.Tensor:
        return self.head(self.embed(data, adj, detach_messages=detach_messages)).squeeze(-1)


def aggregates(data: HeteroData, device: torch.device | None = None) -> MessageOperator:
    """The fast neighbour-sum operator of every relation of ``data``, built once per graph."""
    n = data[NODE].num_nodes
    mats = {}
    for key in data.edge_types:
        ei = data[key].edge_index.cpu().numpy()
        w = data[key].edge_weight.cpu().numpy()
        mats[key[1]] = adjacency((ei[0], ei[1], w), n)
    return MessageOperator(mats, device or torch.device("cpu"))


def _book_mask(cut: Cut) -> np.ndarray:
    mask = np.zeros(cut.snapshot.n, dtype=bool)
    mask[cut.rows] = True
    return mask


def _nodes(cut: Cut) -> pd.DataFrame:
    if cut.nodes is None:
        raise ValueError("the cut carries no node features: build it with gnn.protocol.cut_of")
    return cut.nodes


@dataclass
class GNNModel:
    """A fitted B3: the encoder, the network's weights and the calibration."""

    encoder: NodeEncoder
    relations: list[str]
    config: GNNConfig
    state: dict[str, torch.Tensor]
    calibrator: Calibrator
    best_epoch: int
    validation_auc: float
    name: str = "B3"
    history: list[float] = field(default_factory=list)

    def network(self) -> RiskGNN:
        net = RiskGNN(
            self.encoder.width,
            self.relations,
            self.config,
            len(self.encoder.industries),
            len(self.encoder.provinces),
        )
        net.load_state_dict(self.state)
        net.eval()
        return net

    def data(self, cut: Cut) -> HeteroData:
        return _data(cut, self.encoder, self.relations)

    @torch.no_grad()
    def node_logits(self, cut: Cut) -> np.ndarray:
        """Raw logits of every node of the cut's snapshot."""
        data, adj = _graph(cut, self.encoder, self.relations)
        return self.network()(data, adj).double().numpy()

    @torch.no_grad()
    def embeddings(self, cut: Cut) -> np.ndarray:
        """``[h0 ; h1 ; h2]`` of every node of the cut's snapshot."""
        data, adj = _graph(cut, self.encoder, self.relations)
        return self.network().embed(data, adj).double().numpy()

    def predict_pd(self, cut: Cut) -> np.ndarray:
        z = self.node_logits(cut)[cut.rows]
        return self.calibrator(1.0 / (1.0 + np.exp(-z)))

    def feature_contributions(self, cut: Cut) -> pd.DataFrame:
        """Each firm's calibrated log-odds split into its own features and its neighbourhood.

        Own features: gradient × input of the firm's logit along its own path (the neighbours'
        messages detached), in the encoder's space where 0 is the training median, a missing
        flag counted with its feature; times the Platt slope. :data:`NEIGHBOURHOOD`: the rest
        of the firm's log-odds above a base shared by all firms (the median rest), i.e. what
        its chain adds, as the network reads it, plus the non-linear remainder. Rows sum to
        the calibrated log-odds (before the PD floor).
        """
        data = self.data(cut)
        adj = aggregates(data)
        net = self.network()
        x = data[NODE].x.clone().requires_grad_(True)
        data[NODE].x = x
        rows = torch.from_numpy(cut.rows).long()
        net(data, adj, detach_messages=True)[rows].sum().backward()
        assert x.grad is not None
        gx = (x.grad[rows] * x.detach()[rows]).double().numpy()
        with torch.no_grad():
            z = net(data, adj)[rows].double().numpy()
        enc, cal = self.encoder, self.calibrator
        n_cols = len(enc.columns)
        phi = pd.DataFrame(gx[:, :n_cols], columns=enc.columns)
        for j, col in enumerate(enc.flagged):
            phi[col] += gx[:, n_cols + j]
        phi *= cal.a
        rest = cal.a * z + cal.b - phi.sum(axis=1).to_numpy()
        base = float(np.median(rest)) if len(rest) else cal.b
        phi[NEIGHBOURHOOD] = rest - base
        phi["_base"] = base
        return phi


def _data(
    cut: Cut, enc: NodeEncoder, relations: Sequence[str], edges: Mapping[str, Edges] | None = None
) -> HeteroData:
    snap = cut.snapshot
    x = enc.transform(_nodes(cut), snap.firms, _book_mask(cut), cut.as_of)
    ind, prov = enc.codes(snap.firms)
    edges = {k: v for k, v in (relation_edges(snap) if edges is None else edges).items() if k in relations}
    return to_hetero_data(snap, x, edges=edges, industry=ind, region=prov)


#: encoders and model inputs of the last cuts trained on or scored: B3 and B4's fold GNNs (whose
#: cuts share snapshot, node features and book with B3's, only the labels differ) build them once
_MEMO = IdentityMemo(12)


def _encoder(train: Sequence[Cut]) -> NodeEncoder:
    """:meth:`NodeEncoder.fit` on the training cuts, once per set of cuts (it reads no label)."""
    frames = tuple(_nodes(c) for c in train)
    firms = tuple(c.snapshot.firms for c in train)
    return _MEMO.get("encoder", (*frames, *firms), (), lambda: NodeEncoder.fit(frames, firms))


def _graph(
    cut: Cut, enc: NodeEncoder, relations: Sequence[str], device: torch.device | None = None
) -> tuple[HeteroData, MessageOperator]:
    """The cut's ``HeteroData`` and message operator, once per (snapshot, features, book, encoder).

    Read-only: :meth:`GNNModel.data` builds a fresh ``HeteroData`` for callers that change it.
    """
    dev = device or torch.device("cpu")

    def build() -> tuple[HeteroData, MessageOperator]:
        data = _data(cut, enc, relations, snapshot_edges(cut.snapshot)).to(dev)
        return data, aggregates(data, dev)

    objects = (cut.snapshot, _nodes(cut), cut.rows, enc)
    return _MEMO.get("graph", objects, (cut.as_of, tuple(relations), str(dev)), build)


def _targets(
    cut: Cut, all_firms: bool, book_weight: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(labelled node indices, labels, loss weights) of a training cut.

    A book firm weighs ``book_weight``, any other labelled firm 1.
    """
    if all_firms and cut.y_nodes is not None:
        nodes, y = np.arange(cut.snapshot.n), cut.y_nodes
    else:
        nodes, y = cut.rows, cut.y
    keep = ~np.isnan(y)
    w = np.where(_book_mask(cut)[nodes[keep]], book_weight, 1.0).astype(np.float32)
    return (
        torch.from_numpy(nodes[keep]).long(),
        torch.from_numpy(y[keep].astype(np.float32)),
        torch.from_numpy(w),
    )


def weighted_loss(
    logits: torch.Tensor, y: torch.Tensor, w: torch.Tensor, pos_weight: torch.Tensor, gamma: float = 0.0
) -> torch.Tensor:
    """Weighted mean of the (focal) binary cross-entropy with the positive class up-weighted.

    ``ℓ_i = w_i (1 - p_t,i)^γ BCE_i``, ``BCE_i = -(π y_i log σ(z_i) + (1 - y_i) log(1 - σ(z_i)))``
    with ``π`` = ``pos_weight`` and ``p_t`` the probability of the true class; the sum over
    firms is divided by ``Σ w_i``. With ``γ = 0`` and unit weights it is
    ``BCEWithLogitsLoss(pos_weight=π)``.
    """
    bce = nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight, reduction="none")
    if gamma > 0:
        p = torch.sigmoid(logits)
        pt = p * y + (1 - p) * (1 - y)
        bce = bce * (1 - pt).pow(gamma)
    return (w * bce).sum() / w.sum()


def fit_gnn(
    train: Sequence[Cut],
    val: Cut,
    *,
    seed: int = 0,
    threads: int = 2,
    config: GNNConfig | None = None,
    device: str | None = None,
    progress: Callable[[int, float], None] | None = None,
    epochs: int | None = None,
) -> GNNModel:
    """Fit B3 on the training cuts, stop early on the validation book's AUC, calibrate on it.

    ``epochs``: train exactly this many epochs and keep the last weights, with no validation
    pass per epoch and no patience tail (B4's out-of-fold GNNs take B3's early-stopped epoch
    count, :func:`gnn.stacking.out_of_fold_features`); the validation cut still calibrates.
    """
    cfg = config or GNNConfig()
    if epochs is not None and epochs < 1:
        raise ValueError(f"a fixed-length fit needs at least one epoch, got {epochs}")
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    np.random.seed(seed)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    # B4's fold GNNs pass the same cuts with some labels hidden: encoder and graphs are B3's
    enc = _encoder(train)
    seen = set().union(*(snapshot_edges(c.snapshot) for c in train))
    relations = [r for r in RELATIONS if r in seen]
    graphs, adjs = zip(*(_graph(c, enc, relations, dev) for c in train), strict=True)
    targets = [tuple(t.to(dev) for t in _targets(c, cfg.all_firms, cfg.book_weight)) for c in train]
    val_data, val_adj = _graph(val, enc, relations, dev)
    val_rows = torch.from_numpy(val.rows).long().to(dev)
    pos = sum(float(t[1].sum()) for t in targets)
    neg = sum(float(len(t[1])) for t in targets) - pos
    pos_weight = torch.tensor([max(neg / max(pos, 1.0), 1.0) ** 0.5], device=dev)
    net = RiskGNN(enc.width, relations, cfg, len(enc.industries), len(enc.provinces)).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def step() -> None:
        net.train()
        opt.zero_grad()
        loss = sum(
            weighted_loss(net(g, a)[idx], y, w, pos_weight, cfg.focal_gamma)
            for g, a, (idx, y, w) in zip(graphs, adjs, targets, strict=True)
        )
        assert isinstance(loss, torch.Tensor)
        loss.backward()
        opt.step()

    def val_logits() -> np.ndarray:
        net.eval()
        with torch.no_grad():
            return cast(np.ndarray, net(val_data, val_adj)[val_rows].double().cpu().numpy())

    history: list[float] = []
    if epochs is not None:
        for _ in range(epochs):
            step()
        z = val_logits()
        best, best_epoch = auc(val.y, z), epochs - 1
    else:
        best, best_epoch, best_state = -np.inf, 0, copy.deepcopy(net.state_dict())
        for epoch in range(cfg.max_epochs):
            step()
            score = auc(val.y, val_logits())
            history.append(score)
            if progress is not None:
                progress(epoch, score)
            if score > best:
                best, best_epoch, best_state = score, epoch, copy.deepcopy(net.state_dict())
            elif epoch - best_epoch >= cfg.patience:
                break
        net.load_state_dict(best_state)
        z = val_logits()
    net.eval()
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    calibrator = Calibrator.fit(val.y, 1.0 / (1.0 + np.exp(-z)))
    return GNNModel(enc, relations, cfg, state, calibrator, best_epoch, float(best), history=history)
