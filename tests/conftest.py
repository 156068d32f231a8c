"""Shared fixtures.

Tests marked ``neo4j`` talk to a real server: the one ``scripts/test.sh`` starts
for the test run, with its own data folder and ports (``NEO4J_URI`` points at it).
When it is down, those tests are skipped on a developer's machine but FAIL under
``CI=true``: CI must never pass because the server did not start.

Live tests empty the database they use. So they run only where ``CHAINRISK_TEST_SERVER=1``
says the configured server is a test server (``scripts/test.sh`` sets it): a plain
``pytest`` with a developer's ``NEO4J_URI`` must never wipe the demo's or a bank's graph.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from chainrisk.errors import GraphError
from chainrisk.settings import Settings
from graph.runner import GraphRunner

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _connect() -> GraphRunner:
    return GraphRunner.from_settings(Settings())


@pytest.fixture(scope="session")
def graph_runner() -> Iterator[GraphRunner]:
    """A :class:`graph.runner.GraphRunner` on the test server (session-wide)."""
    if os.environ.get("CHAINRISK_TEST_SERVER", "") != "1":
        why = ("live tests empty the database at NEO4J_URI: run them with scripts/test.sh, or set "
               "CHAINRISK_TEST_SERVER=1 for a server that may be wiped")
        if IN_CI:
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    try:
        runner = _connect()
    except GraphError as exc:
        if IN_CI:
            pytest.fail(f"Neo4j test server is down under CI: {exc}", pytrace=False)
        pytest.skip(f"Neo4j server not available: {exc}")
    yield runner
    runner.close()


def _wipe(runner: GraphRunner) -> None:
    """Delete everything in batches (constraints and indexes stay).

    Relationships go first, so a hub node (a platform with every firm on it) is never
    deleted together with all its relationships in one transaction.
    """
    for query in (
        "MATCH ()-[r]->() WITH r LIMIT 50000 DELETE r RETURN count(*) AS deleted",
        "MATCH (n) WITH n LIMIT 50000 DETACH DELETE n RETURN count(*) AS deleted",
    ):
        while True:
            c = runner.write(query)
            if not c.returned or c.returned[0]["deleted"] == 0:
                break


@pytest.fixture()
def clean_graph(graph_runner: GraphRunner) -> GraphRunner:
    """The test server's database, emptied, with the chainrisk schema applied."""
    from graph.schema import apply_schema

    _wipe(graph_runner)
    apply_schema(graph_runner)
    return graph_runner


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test that uses the server fixtures is a neo4j test, marked or not.
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "graph_runner" in fixtures or "clean_graph" in fixtures:
            item.add_marker(pytest.mark.neo4j)
