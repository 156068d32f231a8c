"""Schema and write-safety against the live server."""

from __future__ import annotations

from typing import LiteralString

import pytest

from chainrisk.errors import UnsafeDatabase
from graph.runner import GraphRunner
from graph.schema import CONSTRAINTS, INDEXES, apply_schema, ensure_schema, schema_status
from tests.conftest import _wipe

pytestmark = pytest.mark.neo4j


def test_constraints_exist_after_init(clean_graph: GraphRunner) -> None:
    status = schema_status(clean_graph)
    assert status == {name: True for name, _ in (*CONSTRAINTS, *INDEXES)}
    kinds = {r["name"]: r["type"] for r in clean_graph.read("SHOW CONSTRAINTS YIELD name, type")}
    assert kinds["firm_uscc"] == "UNIQUENESS"


def test_init_twice_changes_nothing(clean_graph: GraphRunner) -> None:
    before = clean_graph.read("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS n")[0]["n"]
    assert apply_schema(clean_graph) == 0
    after = clean_graph.read("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS n")[0]["n"]
    assert sorted(before) == sorted(after)


def test_uniqueness_is_enforced(clean_graph: GraphRunner) -> None:
    from chainrisk.errors import QueryFailed

    clean_graph.write("CREATE (:Firm {uscc: 'U1'})")
    with pytest.raises(QueryFailed):
        clean_graph.write("CREATE (:Firm {uscc: 'U1'})")


@pytest.mark.parametrize("rel", ["SUPPLIES", "GUARANTEES", "OWNS", "OWES"])
def test_two_fact_links_cannot_share_a_uid(clean_graph: GraphRunner, rel: str) -> None:
    from chainrisk.errors import QueryFailed

    assert schema_status(clean_graph)[f"{rel.lower()}_uid"]
    kinds = {r["name"]: r["type"] for r in clean_graph.read("SHOW CONSTRAINTS YIELD name, type")}
    assert kinds[f"{rel.lower()}_uid"] == "RELATIONSHIP_UNIQUENESS"
    clean_graph.write("CREATE (:Firm {uscc: 'U1'}), (:Firm {uscc: 'U2'}), (:Firm {uscc: 'U3'})")
    create: dict[str, LiteralString] = {
        "SUPPLIES": "MATCH (a:Firm {uscc: $a}), (b:Firm {uscc: $b}) CREATE (a)-[:SUPPLIES {uid: $u}]->(b)",
        "GUARANTEES": (
            "MATCH (a:Firm {uscc: $a}), (b:Firm {uscc: $b}) CREATE (a)-[:GUARANTEES {uid: $u}]->(b)"
        ),
        "OWNS": "MATCH (a:Firm {uscc: $a}), (b:Firm {uscc: $b}) CREATE (a)-[:OWNS {uid: $u}]->(b)",
        "OWES": "MATCH (a:Firm {uscc: $a}), (b:Firm {uscc: $b}) CREATE (a)-[:OWES {uid: $u}]->(b)",
    }
    clean_graph.write(create[rel], {"a": "U1", "b": "U2", "u": "U1|U2|k"})
    for a, b in (("U1", "U2"), ("U3", "U2")):  # parallel link, or any other pair of firms
        with pytest.raises(QueryFailed):
            clean_graph.write(create[rel], {"a": a, "b": b, "u": "U1|U2|k"})
    clean_graph.write(create[rel], {"a": "U1", "b": "U2", "u": "U1|U2|other"})


def test_refuses_foreign_database_unless_forced(graph_runner: GraphRunner) -> None:
    _wipe(graph_runner)
    graph_runner.write("CREATE (:Customer {id: 1})")  # someone else's data, no chainrisk marker
    try:
        with pytest.raises(UnsafeDatabase):
            ensure_schema(graph_runner)
        ensure_schema(graph_runner, force=True)
        assert graph_runner.read("MATCH (m:ChainriskMeta) RETURN count(m) AS n") == [{"n": 1}]
    finally:
        _wipe(graph_runner)
