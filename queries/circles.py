"""Guarantee groups and circles (担保圈), as of a date.

The guarantee network has a node per firm and per person and a link ``g -> b`` when ``g``
guarantees a loan of ``b`` on ``as_of`` (amounts summed per pair; the catalogue's
``guarantee_links``).

- A **group** is a weakly connected component of that network; persons count as nodes, so a
  person guaranteeing two firms ties them into one group.
- A **circle** is a strongly connected component of two or more firms: firms that guarantee each
  other through some cycle. Its cycles (simple, of length 2 to 10) are enumerated with
  ``networkx.simple_cycles(length_bound=10)``: at most ``max_listed`` (1,000) are listed, and
  they are counted up to ``count_limit``; where counting stops the total is a lower bound
  (``cycles_exact`` false): a 13-firm joint clique has more than 10⁸ such cycles.

Types (documented in ``docs/queries.md``). A circle is

- ``mutual`` (互保): two firms guaranteeing each other;
- ``joint`` (联保): three or more firms, every one guaranteeing every other (a complete digraph);
- ``cycle`` (循环担保): three or more firms in one ring (as many links as firms);
- ``complex``: any other strongly connected pattern.

A group is

- ``cross`` (交叉担保): it holds two or more circles joined by guarantees between them;
- the type of its one circle, when that circle is the whole group;
- ``chain`` (担保链): no circle, a directed path (``a -> b -> c``; a single guarantee is a chain of one);
- ``star``: no circle, three or more members around one hub that every link touches (the hub is
  a guarantor of many, or a borrower guaranteed by many; ``hub`` names it);
- ``complex``: anything else (a circle with tails, a tree of guarantees ...).

For each group and circle: its firms and persons, the guaranteed amount on its internal links
against the members' equity (latest published statements), the members' loan balance with every
lender, the share of member firms with a loan special mention or worse, the bank's exposure
(outstanding + undrawn, ``settings.bank_lenders``), and a grade by loan balance: grade ``k + 1``
where ``k`` is the number of ``grade_thresholds`` (yuan; default 50M, 200M, 1bn: a bank's own
policy, no regulatory source) the balance reaches.

Large groups are split for review at weak links (the whole group stays reported): a group of
more than ``review_size`` members is cut into Louvain communities of the undirected network
weighted by guaranteed amounts (Blondel et al., J. Stat. Mech. 2008, P10008), and a part still too
large is bisected by Kernighan-Lin (Bell Syst. Tech. J. 49, 1970), recursively, seeded; the parts
and the cut links are reported. These are balanced weak cuts, not the global minimum cut: on the
tree-like groups of guarantee data, Stoer-Wagner's minimum cut only shears off one leaf at a time
(and took 200 s on a 1,024-member group, where this takes well under a second).

The components themselves (groups and circles) come from GDS in the database where the server has
it: WCC and SCC over one named projection of the active guarantees with persons
(``graph.gds.guarantee_components``); networkx then only enumerates each circle's cycles, types and
splits. Without GDS, networkx finds the components too: that path is the fallback and the reference,
and a test keeps the two equal (``components="networkx"`` forces it). :func:`gds_components` gives
the GDS components alone, without types or metrics.

>>> links = pd.DataFrame({"kind": ["firm", "firm", "firm"], "guarantor": ["a", "b", "c"],
...                       "borrower": ["b", "c", "a"], "amount": [1.0, 1.0, 1.0]})
>>> net = analyse_guarantees(links)
>>> net.to_dict()["circles"][0]["type"], net.to_dict()["circles"][0]["cycles_total"]
('cycle', 1)
>>> net.groups.loc[0, "type"]
'cycle'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from typing import Any, Literal

import networkx as nx
import pandas as pd

from chainrisk.errors import InvalidQueryParameter, QueryFailed
from graph.protocol import QueryRunner
from queries.catalogue import jsonable, records, resolve_as_of, run_for_firms, run_query
from queries.chaincache import details_of
from queries.details import stale_before

__all__ = [
    "DEFAULT_GRADE_THRESHOLDS",
    "GuaranteeNetwork",
    "analyse_guarantees",
    "gds_components",
    "guarantee_circles",
]

#: Loan balance (yuan) from which a group's grade steps up: grade 1 below the first.
DEFAULT_GRADE_THRESHOLDS: tuple[float, ...] = (50e6, 200e6, 1e9)
MAX_CYCLE_LENGTH = 10
Node = tuple[str, str]  # (party, id): a firm's USCC never collides with a person's id
#: Groups (weakly connected, persons included) and circles (strongly connected, 2 or more firms).
Partition = tuple[list[set[Node]], list[set[Node]]]


@dataclass
class GuaranteeNetwork:
    """Groups and circles of the guarantee network on ``as_of`` (one row each)."""

    as_of: date | None
    groups: pd.DataFrame
    circles: pd.DataFrame
    #: every member firm's details (name, the dates of its latest statement, signal and loan status
    #: with their stale flags, risk labels) by USCC, where read (:func:`guarantee_circles`)
    firms: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"as_of", "stale_before", "groups": [{"id", "type", "members", ...}],
        "circles": [...], "firms": {uscc: {...}}}``."""
        return {"as_of": self.as_of.isoformat() if self.as_of else None,
                "stale_before": stale_before(self.as_of).isoformat() if self.as_of else None,
                "groups": records(self.groups), "circles": records(self.circles),
                "firms": {u: jsonable(d) for u, d in self.firms.items()}}


def _graph(links: pd.DataFrame) -> nx.DiGraph:
    g = nx.DiGraph()
    for kind, a, b, amount in zip(links["kind"], links["guarantor"], links["borrower"], links["amount"],
                                  strict=True):
        u, v = (str(kind), str(a)), ("firm", str(b))
        w = float(amount or 0.0)
        if g.has_edge(u, v):
            g[u][v]["amount"] += w
        else:
            g.add_edge(u, v, amount=w)
    return g


def _circle_type(sub: nx.DiGraph) -> str:
    n, m = sub.number_of_nodes(), sub.number_of_edges()
    if n == 2:
        return "mutual"
    if m == n * (n - 1):
        return "joint"
    if m == n:
        return "cycle"
    return "complex"


def _group_type(sub: nx.DiGraph, circles: list[set[Node]]) -> tuple[str, str | None]:
    """(type, hub id or None) of a weakly connected group; see the module docstring."""
    if len(circles) >= 2:
        return "cross", None
    if len(circles) == 1:
        members = circles[0]
        return (_circle_type(sub.subgraph(members)) if len(members) == sub.number_of_nodes() else "complex",
                None)
    n = sub.number_of_nodes()
    if all(sub.in_degree(x) <= 1 and sub.out_degree(x) <= 1 for x in sub):
        return "chain", None
    und = sub.to_undirected()
    if n >= 3:
        hub = max(und, key=lambda x: (und.degree(x), x))
        if und.degree(hub) == n - 1 and und.number_of_edges() == n - 1:
            return "star", hub[1]
    return "complex", None


def _cycles(sub: nx.DiGraph, max_listed: int, count_limit: int) -> tuple[list[list[str]], int, bool]:
    """Up to ``max_listed`` cycles (each from its smallest member), the count up to ``count_limit``,
    and whether that count is exact."""
    listed: list[list[str]] = []
    total = 0
    for cycle in islice(nx.simple_cycles(sub, length_bound=MAX_CYCLE_LENGTH), count_limit + 1):
        total += 1
        if len(listed) < max_listed:
            ids = [x[1] for x in cycle]
            k = ids.index(min(ids))
            listed.append(ids[k:] + ids[:k])
    exact = total <= count_limit
    return sorted(listed, key=lambda c: (len(c), c)), min(total, count_limit), exact


def _split(
    und: nx.Graph, review_size: int, seed: int
) -> tuple[list[list[str]], list[tuple[str, str, float]]]:
    """Parts of at most ``review_size`` nodes cut at weak links, and the links cut.

    Louvain communities (weighted modularity) first; a part still too large, or one Louvain
    leaves whole, is bisected by Kernighan-Lin; both seeded, so the split is reproducible.
    """
    parts: list[set[Node]] = []
    stack = [und]
    while stack:
        g = stack.pop()
        if g.number_of_nodes() <= review_size:
            parts.append(set(g))
            continue
        pieces = nx.community.louvain_communities(g, weight="weight", seed=seed)
        if len(pieces) < 2:
            pieces = list(nx.community.kernighan_lin_bisection(g, weight="weight", seed=seed))
        stack += [g.subgraph(p).copy() for p in pieces]
    where = {x: i for i, p in enumerate(parts) for x in p}
    cut = sorted((u[1], v[1], float(w)) for u, v, w in und.edges(data="weight") if where[u] != where[v])
    return sorted((sorted(x[1] for x in p) for p in parts), key=lambda p: (-len(p), p)), cut


Facts = dict[str, tuple[float | None, float, float, float]]  # equity, balance_all, worst_rank, exposure


def _num(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def _facts(facts: pd.DataFrame | None) -> Facts:
    """Per firm (equity or None, loan balance, worst class rank, bank exposure): plain tuples, since
    thousands of groups each look up their members (a pandas reindex per group took half the time)."""
    if facts is None or facts.empty:
        return {}
    cols = [facts[c].tolist() for c in ("uscc", "equity", "balance_all", "worst_rank", "exposure")]
    return {str(u): (_num(e), _num(b) or 0.0, _num(w) or 0.0, _num(x) or 0.0)
            for u, e, b, w, x in zip(*cols, strict=True)}


def _metrics(firms: Sequence[str], internal: float, facts: Facts,
             thresholds: Sequence[float]) -> dict[str, Any]:
    rows = [facts[f] for f in firms if f in facts]
    # no member with a statement: equity unknown, not zero
    known = [r[0] for r in rows if r[0] is not None]
    equity = float(sum(known)) if known else None
    balance = float(sum(r[1] for r in rows))
    bad = sum(1 for r in rows if r[2] >= 1)
    return {
        "guaranteed_amount": internal,
        "members_equity": equity,
        "guarantee_to_equity": internal / equity if equity is not None and equity > 0 else None,
        "loan_balance": balance,
        "share_special_mention_or_worse": bad / len(firms) if firms else 0.0,
        "bank_exposure": float(sum(r[3] for r in rows)),
        "grade": 1 + sum(balance >= t for t in thresholds),
    }


def _covers(partition: Partition, g: nx.DiGraph) -> bool:
    """Whether the groups cover the nodes of ``g`` exactly, once each, and every circle lies in one
    group with firms only."""
    groups, circles = partition
    seen = [x for c in groups for x in c]
    if len(seen) != g.number_of_nodes() or set(seen) != set(g.nodes):
        return False
    group_of = {x: i for i, c in enumerate(groups) for x in c}
    return all(len(c) >= 2 and all(x[0] == "firm" for x in c) and len({group_of[x] for x in c}) == 1
               for c in circles)


def analyse_guarantees(
    links: pd.DataFrame,
    facts: pd.DataFrame | None = None,
    *,
    as_of: date | None = None,
    grade_thresholds: Sequence[float] = DEFAULT_GRADE_THRESHOLDS,
    review_size: int = 50,
    max_listed: int = 1000,
    count_limit: int = 100_000,
    seed: int = 0,
    partition: Partition | None = None,
) -> GuaranteeNetwork:
    """Groups and circles from guarantee links (a pure function; :func:`guarantee_circles` feeds it).

    Parameters
    ----------
    links : DataFrame
        ``kind`` (``firm`` | ``person``), ``guarantor``, ``borrower``, ``amount``.
    facts : DataFrame or None
        Per firm (``uscc``): ``equity``, ``balance_all``, ``worst_rank``, ``exposure`` (the
        catalogue's ``firm_exposure``); ``None`` gives zeros.
    grade_thresholds : sequence of float
        Increasing loan balances (yuan) at which the grade steps up.
    review_size : int
        Groups with more members are split for review by minimum cuts.
    max_listed, count_limit : int
        Cycles listed per circle, and counted before the count becomes a lower bound.
    seed : int
        Seed of the review split (Louvain, Kernighan-Lin): same inputs and seed, same parts.
    partition : (groups, circles) or None
        The components found elsewhere (GDS in the database), as sets of ``(party, id)`` nodes;
        ``None``, or one that does not cover exactly the nodes of ``links``, and networkx finds them.
    """
    if list(grade_thresholds) != sorted(grade_thresholds):
        raise InvalidQueryParameter(f"grade thresholds must increase, got {list(grade_thresholds)}")
    if review_size < 2 or max_listed < 0 or count_limit < 1:
        raise InvalidQueryParameter("review_size must be at least 2, max_listed >= 0 and count_limit >= 1")
    fx = _facts(facts)
    g = _graph(links)
    group_rows: list[dict[str, Any]] = []
    circle_rows: list[dict[str, Any]] = []
    if partition is not None and not _covers(partition, g):
        partition = None  # read at another moment than the links (an ingest between): recompute
    groups, circles = partition or (list(nx.weakly_connected_components(g)),
                                    [c for c in nx.strongly_connected_components(g) if len(c) >= 2])
    comps = sorted((sorted(c) for c in groups), key=lambda c: (-len(c), c))
    group_of = {x: i for i, comp in enumerate(comps) for x in comp}
    circles_in: list[list[list[Node]]] = [[] for _ in comps]
    for c in circles:
        members = sorted(c)
        circles_in[group_of[members[0]]].append(members)
    for gi, comp in enumerate(comps, start=1):
        sub = g.subgraph(comp)
        sccs = sorted(circles_in[gi - 1], key=lambda c: (-len(c), c))
        gtype, hub = _group_type(sub, [set(c) for c in sccs])
        firms = [x[1] for x in comp if x[0] == "firm"]
        amount = float(sum(w for _, _, w in sub.edges(data="amount")))
        row: dict[str, Any] = {
            "id": f"G{gi}", "type": gtype, "members": firms,
            "persons": [x[1] for x in comp if x[0] == "person"],
            "n_members": len(comp), "links": sub.number_of_edges(), "circles": len(sccs), "hub": hub,
            **_metrics(firms, amount, fx, grade_thresholds),
            "review_parts": None, "cut_links": None,
        }
        if len(comp) > review_size:
            und = nx.Graph()
            for u, v, w in sub.edges(data="amount"):
                prev = und.get_edge_data(u, v, {"weight": 0.0})["weight"]
                und.add_edge(u, v, weight=prev + float(w))
            row["review_parts"], row["cut_links"] = _split(und, review_size, seed)
        group_rows.append(row)
        for members in sccs:
            csub = sub.subgraph(members)
            cycles, total, exact = _cycles(csub, max_listed, count_limit)
            ids = [x[1] for x in members]
            circle_rows.append({
                "id": f"C{len(circle_rows) + 1}", "group": f"G{gi}", "type": _circle_type(csub),
                "members": ids, "n_members": len(ids), "links": csub.number_of_edges(),
                "cycles": cycles, "cycles_total": total, "cycles_exact": exact,
                **_metrics(ids, float(sum(w for _, _, w in csub.edges(data="amount"))), fx, grade_thresholds),
            })
    group_cols = ["id", "type", "members", "persons", "n_members", "links", "circles", "hub",
                  "guaranteed_amount", "members_equity", "guarantee_to_equity", "loan_balance",
                  "share_special_mention_or_worse", "bank_exposure", "grade", "review_parts", "cut_links"]
    circle_cols = ["id", "group", "type", "members", "n_members", "links", "cycles", "cycles_total",
                   "cycles_exact", "guaranteed_amount", "members_equity", "guarantee_to_equity",
                   "loan_balance", "share_special_mention_or_worse", "bank_exposure", "grade"]
    return GuaranteeNetwork(as_of=as_of, groups=pd.DataFrame(group_rows, columns=group_cols),
                            circles=pd.DataFrame(circle_rows, columns=circle_cols))


def guarantee_circles(
    runner: QueryRunner,
    *,
    as_of: date | str | None = None,
    lenders: Sequence[str] | None = None,
    grade_thresholds: Sequence[float] = DEFAULT_GRADE_THRESHOLDS,
    review_size: int = 50,
    max_listed: int = 1000,
    count_limit: int = 100_000,
    seed: int = 0,
    components: Literal["auto", "gds", "networkx"] = "auto",
) -> GuaranteeNetwork:
    """The guarantee groups and circles of the graph on ``as_of`` (default: the latest ingested date).

    Reads the active links and the members' facts, finds the components (``components``: ``"gds"``
    in the database, ``"networkx"`` in this process, ``"auto"`` GDS where the server has it, else
    networkx), then :func:`analyse_guarantees`. ``lenders`` (the bank) defaults to
    ``settings.bank_lenders``. Both component paths give the same answer.
    """
    if components not in ("auto", "gds", "networkx"):
        raise InvalidQueryParameter(f"components must be auto, gds or networkx, got {components!r}")
    day = resolve_as_of(runner, as_of)
    links = run_query(runner, "guarantee_links", {"as_of": day})
    firms = sorted(set(links["borrower"]) | set(links.loc[links["kind"] == "firm", "guarantor"]))
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    facts = run_for_firms(runner, "firm_exposure", firms, {"as_of": day, "lenders": bank}) if firms else None
    partition: Partition | None = None
    if components != "networkx" and firms:
        try:
            partition = _gds_partition(runner, day)
        except QueryFailed:
            if components == "gds":
                raise
            # no GDS on this server (or its procedures refused): networkx finds the components
    net = analyse_guarantees(links, facts, as_of=day, grade_thresholds=grade_thresholds,
                             review_size=review_size, max_listed=max_listed, count_limit=count_limit,
                             seed=seed, partition=partition)
    # an officer sees how old each member's data is (the details table when one is held)
    net.firms = details_of(runner, firms, day)
    return net


def _gds_partition(runner: QueryRunner, day: date) -> Partition:
    """Groups and circles (two or more firms) of GDS WCC / SCC on ``day``, as sets of nodes."""
    from graph.gds import guarantee_components

    parts = guarantee_components(runner, as_of=day)
    nodes = list(zip(parts["party"].astype(str), parts["id"].astype(str), strict=True))
    groups: dict[Any, set[Node]] = {}
    circles: dict[Any, set[Node]] = {}
    for node, gid, cid in zip(nodes, parts["group"], parts["circle"], strict=True):
        groups.setdefault(gid, set()).add(node)
        if node[0] == "firm":
            circles.setdefault(cid, set()).add(node)
    return list(groups.values()), [c for c in circles.values() if len(c) >= 2]


def gds_components(runner: QueryRunner, *, as_of: date | str | None = None) -> GuaranteeNetwork:
    """Groups (WCC, persons included) and circles (SCC of two or more firms) computed by GDS in the
    database; ``members`` (firms), ``persons`` and ``n_members`` only, ordered and named as
    :func:`analyse_guarantees` orders them (largest first, then by members)."""
    from graph.gds import guarantee_components

    day = resolve_as_of(runner, as_of)
    parts = guarantee_components(runner, as_of=day)
    groups: list[dict[str, Any]] = []
    for _, g in parts.groupby("group"):
        firms = sorted(g.loc[g["party"] == "firm", "id"])
        persons = sorted(g.loc[g["party"] == "person", "id"])
        groups.append({"members": firms, "persons": persons, "n_members": len(g),
                       "_key": sorted([*(("firm", f) for f in firms), *(("person", p) for p in persons)])})
    groups.sort(key=lambda r: (-r["n_members"], r["_key"]))
    group_of = {m: f"G{i}" for i, r in enumerate(groups, start=1) for m in r["members"]}
    firms_only = parts[parts["party"] == "firm"]
    circles = [sorted(c["id"]) for _, c in firms_only.groupby("circle") if len(c) >= 2]
    circles.sort(key=lambda c: (int(group_of[c[0]][1:]), -len(c), c))
    return GuaranteeNetwork(
        as_of=day,
        groups=pd.DataFrame([{"id": f"G{i}", **{k: v for k, v in r.items() if k != "_key"}}
                             for i, r in enumerate(groups, start=1)],
                            columns=["id", "members", "persons", "n_members"]),
        circles=pd.DataFrame([{"id": f"C{i}", "group": group_of[c[0]], "members": c, "n_members": len(c)}
                              for i, c in enumerate(circles, start=1)],
                             columns=["id", "group", "members", "n_members"]),
    )
