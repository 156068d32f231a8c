"""The hand-built platform of ``_graph``, ingested into the test server and shared by the query tests.

Loading takes a few seconds, so a module reuses the platform a previous module loaded when the
database still holds exactly it (the same ingest run and the same node and relationship counts);
any other test that wiped or changed the database makes the next module load it afresh. A test
that writes (a risk or stress run) removes what it wrote.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest

from graph.runner import GraphRunner
from ingest.load import load_dataset
from tests.queries._graph import write_platform

_FINGERPRINT = (
    "MATCH (r:Run {kind: 'ingest'}) WITH collect(r.run_id) AS runs "
    "RETURN runs, COUNT { MATCH (n) } AS nodes, COUNT { MATCH ()-[x]->() } AS links"
)
_loaded: dict[str, object] = {}


def _fingerprint(runner: GraphRunner) -> tuple[object, ...]:
    row = runner.read(_FINGERPRINT)[0]
    return tuple(sorted(row["runs"])), row["nodes"], row["links"]


@pytest.fixture(scope="module")
def platform(graph_runner: GraphRunner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphRunner]:
    """The test server holding only ``_graph``'s platform (loaded when it does not hold it already)."""
    from graph.schema import apply_schema
    from tests.conftest import _wipe

    if _loaded.get("fingerprint") != _fingerprint(graph_runner):
        _wipe(graph_runner)
        apply_schema(graph_runner)
        report = load_dataset(write_platform(tmp_path_factory.mktemp("platform") / "ds"), runner=graph_runner)
        assert report.totals()["quarantined"] == 0
        _loaded["fingerprint"] = _fingerprint(graph_runner)
    yield graph_runner


@contextmanager
def published(runner: GraphRunner, family: str, rows: list[dict[str, Any]]) -> Iterator[None]:
    """A committed ``family`` run with ``rows`` as the current one, removed afterwards."""
    from graph.runs import publish
    from tests.queries._graph import AS_OF

    run = publish(runner, kind="score" if family == "risk" else "stress", family=family,
                  parameters={"test": True}, as_of=date.fromisoformat(AS_OF), firm_rows=rows)
    try:
        yield
    finally:
        runner.write("MATCH (x:Result {run_id: $id}) DETACH DELETE x", {"id": run.run_id})
        runner.write("MATCH (r:Run {run_id: $id}) DETACH DELETE r", {"id": run.run_id})
        runner.write("MATCH (c:Current {family: $f}) WHERE NOT (c)-[:POINTS_TO]->() DELETE c", {"f": family})
