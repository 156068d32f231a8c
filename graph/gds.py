"""Graph Data Science algorithms on the chainrisk graph.

GDS procedures are called through Cypher, here and nowhere else, over the same
:class:`~graph.runner.GraphRunner` seam as every other query. (The
``graphdatascience`` client is also usable against open GDS from version 1.x with
the ``gds.debug.arrow`` fix; see :func:`gds_client`. We call procedures through
Cypher so that every call goes through the one seam with its timeouts, retries
and error translation.)

Projections are named per call and always dropped afterwards, so a failed call
leaves no graph in the catalogue.

>>> sorted(REQUIRED_PROCEDURES)[:2]
['gds.fastRP.stream', 'gds.graph.drop']
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, LiteralString

import pandas as pd

from chainrisk.errors import GraphError, QueryFailed
from graph.protocol import QueryRunner
from graph.runner import GraphRunner

__all__ = [
    "REQUIRED_PROCEDURES",
    "fastrp_embeddings",
    "gds_client",
    "gds_version",
    "guarantee_components",
    "guarantee_structure",
    "missing_procedures",
    "pagerank",
    "projected",
    "scc",
    "wcc",
]

#: Every GDS procedure chainrisk calls; a test checks each is listed by ``gds.list()``.
REQUIRED_PROCEDURES: frozenset[str] = frozenset(
    {
        "gds.graph.project",
        "gds.graph.drop",
        "gds.pageRank.stream",
        "gds.wcc.stream",
        "gds.scc.stream",
        "gds.fastRP.stream",
        "gds.version",
    }
)

# Relationship projections we use; literal so they never come from user input.
_PROJECTIONS: dict[str, LiteralString] = {
    "SUPPLIES": "SUPPLIES",
    "GUARANTEES": "GUARANTEES",
}


def gds_version(runner: GraphRunner) -> str:
    """The GDS library version, or ``"not installed"``."""
    try:
        return str(runner.read("RETURN gds.version() AS v")[0]["v"])
    except QueryFailed:
        return "not installed"


def missing_procedures(runner: GraphRunner) -> set[str]:
    """Those of :data:`REQUIRED_PROCEDURES` that ``gds.list()`` does not list."""
    names = {r["name"] for r in runner.read("CALL gds.list() YIELD name RETURN name")}
    return set(REQUIRED_PROCEDURES) - names


def gds_client(runner: GraphRunner) -> Any:
    """A ``graphdatascience.GraphDataScience`` client over the runner's driver (Arrow off).

    Offered for notebooks; the library itself calls GDS through :func:`projected` and friends.
    """
    from graphdatascience import GraphDataScience

    try:
        return GraphDataScience(runner._driver, database=runner.database, arrow=False)
    except Exception as exc:  # the client raises driver errors and its own
        from graph.runner import translate_driver_error

        raise translate_driver_error(exc, uri=runner.settings.neo4j_uri) from exc


@contextmanager
def projected(
    runner: GraphRunner, relationship: str, *, as_of: date | None = None,
    weight: LiteralString | None = None, orientation: LiteralString = "NATURAL",
) -> Iterator[str | None]:
    """Project ``(:Firm)-[relationship]->(:Firm)`` as of a date and drop it afterwards.

    Yields the projected graph's name, or ``None`` when no link is active (GDS cannot
    project an empty graph). A link is active on ``as_of`` (default: today) when it
    started on or before it and has not ended by it, the same rule as the snapshot's; the
    filter runs in the database through a Cypher projection.
    """
    rel = _PROJECTIONS.get(relationship)
    if rel is None:
        raise GraphError(f"no projection for relationship {relationship!r}; known: {sorted(_PROJECTIONS)}")
    name = f"chainrisk-{rel.lower()}-{uuid.uuid4().hex[:10]}"
    rows = runner.read(
        "MATCH (a:Firm)-[r]->(b:Firm) WHERE type(r) = $rel "
        "  AND (r.start IS NULL OR r.start <= $as_of) AND (r.end IS NULL OR r.end > $as_of) "
        "WITH gds.graph.project($name, a, b, "
        "  {relationshipProperties: {weight: coalesce(toFloat(r[$weight]), 1.0)}}, "
        "  {undirectedRelationshipTypes: CASE $orientation WHEN 'UNDIRECTED' THEN ['*'] ELSE [] END}"
        ") AS g RETURN g.graphName AS graph",
        {"rel": rel, "name": name, "weight": weight or "", "orientation": orientation,
         "as_of": as_of or date.today()},
    )
    if not rows or rows[0]["graph"] is None:
        yield None
        return
    try:
        yield name
    finally:
        runner.read("CALL gds.graph.drop($name, false) YIELD graphName RETURN graphName", {"name": name})


def _stream(runner: GraphRunner, query: LiteralString, params: dict[str, Any],
            columns: list[str]) -> pd.DataFrame:
    if params.get("g") is None:  # nothing was projected
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(runner.read(query, params), columns=columns)


def pagerank(runner: GraphRunner, relationship: str = "SUPPLIES", *, as_of: date | None = None,
             damping: float = 0.85,
             weighted: bool = False, max_iterations: int = 200, tolerance: float = 1e-10) -> pd.DataFrame:
    """PageRank of every firm on the active ``relationship`` links: columns ``uscc, score``.

    GDS's unnormalised form, :math:`PR(v) = (1-d) + d \\sum_{u \\to v} PR(u) / k^{out}_u`
    (sinks do not redistribute their mass), iterated to ``tolerance``.
    """
    with projected(runner, relationship, as_of=as_of, weight="annual_value" if weighted else None) as g:
        return _stream(
            runner,
            "CALL gds.pageRank.stream($g, {dampingFactor: $d, maxIterations: $it, tolerance: $tol, "
            "relationshipWeightProperty: CASE WHEN $w THEN 'weight' ELSE null END}) YIELD nodeId, score "
            "RETURN gds.util.asNode(nodeId).uscc AS uscc, score ORDER BY uscc",
            {"g": g, "d": damping, "w": weighted, "it": max_iterations, "tol": tolerance},
            ["uscc", "score"],
        )


def wcc(runner: GraphRunner, relationship: str = "GUARANTEES", *, as_of: date | None = None) -> pd.DataFrame:
    """Weakly connected components: columns ``uscc, component`` (guarantee groups)."""
    with projected(runner, relationship, as_of=as_of) as g:
        return _stream(
            runner,
            "CALL gds.wcc.stream($g) YIELD nodeId, componentId "
            "RETURN gds.util.asNode(nodeId).uscc AS uscc, componentId AS component ORDER BY uscc",
            {"g": g},
            ["uscc", "component"],
        )


def scc(runner: GraphRunner, relationship: str = "GUARANTEES", *, as_of: date | None = None) -> pd.DataFrame:
    """Strongly connected components: columns ``uscc, component`` (guarantee circles)."""
    with projected(runner, relationship, as_of=as_of) as g:
        return _stream(
            runner,
            "CALL gds.scc.stream($g) YIELD nodeId, componentId "
            "RETURN gds.util.asNode(nodeId).uscc AS uscc, componentId AS component ORDER BY uscc",
            {"g": g},
            ["uscc", "component"],
        )


def guarantee_structure(runner: GraphRunner, *, as_of: date | None = None) -> pd.DataFrame:
    """Per firm in the guarantee network: its group (WCC), circle (SCC) and their sizes.

    A *group* (担保圈 in the broad sense) is a weakly connected component; a *circle* is a
    strongly connected component of two or more firms that guarantee each other through a cycle.
    """
    groups = wcc(runner, as_of=as_of)
    circles = scc(runner, as_of=as_of)
    df = groups.merge(circles, on="uscc", suffixes=("_group", "_circle"))
    df = df.rename(columns={"component_group": "group", "component_circle": "circle"})
    df["group_size"] = df.groupby("group")["uscc"].transform("size")
    df["circle_size"] = df.groupby("circle")["uscc"].transform("size")
    df.loc[df["circle_size"] < 2, "circle"] = -1
    return df


def fastrp_embeddings(runner: GraphRunner, relationship: str = "SUPPLIES", *, as_of: date | None = None,
                      dimension: int = 16, seed: int = 42) -> pd.DataFrame:
    """FastRP node embeddings (undirected view), columns ``uscc, embedding``; seeded."""
    with projected(runner, relationship, as_of=as_of, orientation="UNDIRECTED") as g:
        return _stream(
            runner,
            "CALL gds.fastRP.stream($g, {embeddingDimension: $dim, randomSeed: $seed}) "
            "YIELD nodeId, embedding "
            "RETURN gds.util.asNode(nodeId).uscc AS uscc, embedding ORDER BY uscc",
            {"g": g, "dim": dimension, "seed": seed},
            ["uscc", "embedding"],
        )


def guarantee_components(runner: QueryRunner, *, as_of: date) -> pd.DataFrame:
    """Guarantee groups (WCC) and circles (SCC) computed in the database, persons included.

    Projects ``(:Firm|Person)-[:GUARANTEES]->(:Firm)`` active on ``as_of`` (``start <= as_of``, no
    ``end`` or ``end > as_of``) as one named graph (a unique name, dropped afterwards whatever
    happens), streams WCC and SCC over it, and returns one row per party: ``id`` (USCC or person
    id), ``party`` (``firm`` | ``person``), ``group`` and ``circle`` (GDS component ids; equal ids,
    same component). Empty when no guarantee is active.
    """
    name = f"chainrisk-guarantee-groups-{uuid.uuid4().hex[:10]}"
    rows = runner.read(
        "MATCH (a:Firm|Person)-[r:GUARANTEES]->(b:Firm) "
        "WHERE r.start <= $as_of AND (r.end IS NULL OR r.end > $as_of) "
        "WITH gds.graph.project($name, a, b) AS g RETURN g.graphName AS graph",
        {"name": name, "as_of": as_of},
    )
    columns = ["id", "party", "group", "circle"]
    if not rows or rows[0]["graph"] is None:
        return pd.DataFrame(columns=columns)
    try:
        node: LiteralString = (
            "WITH gds.util.asNode(nodeId) AS n, componentId "
            "RETURN coalesce(n.uscc, n.person_id) AS id, "
            "CASE WHEN n:Person THEN 'person' ELSE 'firm' END AS party, componentId AS component"
        )
        groups = runner.read("CALL gds.wcc.stream($g) YIELD nodeId, componentId " + node, {"g": name})
        circles = runner.read("CALL gds.scc.stream($g) YIELD nodeId, componentId " + node, {"g": name})
    finally:
        runner.read("CALL gds.graph.drop($name, false) YIELD graphName RETURN graphName", {"name": name})
    df = pd.DataFrame(groups).rename(columns={"component": "group"})
    df = df.merge(pd.DataFrame(circles).rename(columns={"component": "circle"}), on=["id", "party"])
    return df[columns].sort_values(["party", "id"]).reset_index(drop=True)
