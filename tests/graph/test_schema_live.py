"""Schema and write-safety against the live server."""

from __future__ import annotations

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
