"""The hand-built platform of ``_graph``, ingested once per module into the test server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.runner import GraphRunner
from ingest.load import load_dataset
from tests.queries._graph import write_platform


@pytest.fixture(scope="module")
def platform(graph_runner: GraphRunner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphRunner]:
    """The test server holding only ``_graph``'s platform (wiped and loaded once per module)."""
    from graph.schema import apply_schema
    from tests.conftest import _wipe

    _wipe(graph_runner)
    apply_schema(graph_runner)
    report = load_dataset(write_platform(tmp_path_factory.mktemp("platform") / "ds"), runner=graph_runner)
    assert report.totals()["quarantined"] == 0
    yield graph_runner

