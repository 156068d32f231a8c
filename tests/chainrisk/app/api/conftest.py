"""The API's live tests share one client on the query tests' hand-worked platform (``tests/queries/_graph``),
loaded once for this package, with one key per role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chainrisk.app.api import create_app
from chainrisk.app.auth.keys import create_key
from chainrisk.settings import Settings
from graph.runner import GraphRunner
from ingest.load import load_dataset
from tests.queries._graph import BANK, write_platform


class Api:
    """A client on the platform with one key per role (``keys[role]`` is the raw key)."""

    def __init__(self, client: TestClient, settings: Settings, keys: dict[str, str]):
        self.client, self.settings, self.keys = client, settings, keys

    def get(self, url: str, role: str = "officer", **kw: Any) -> Any:
        return self.client.get(url, headers={"X-API-Key": self.keys[role]}, **kw)

    def post(self, url: str, role: str, body: Any) -> Any:
        return self.client.post(url, headers={"X-API-Key": self.keys[role]}, json=body)

    def cypher(self, query: str, **params: Any) -> Any:
        return self.post("/cypher", "analyst", {"query": query, "parameters": params})


@pytest.fixture(scope="package")
def platform(graph_runner: GraphRunner, tmp_path_factory: pytest.TempPathFactory) -> GraphRunner:
    """The test server holding only the platform (wiped and loaded once for the API's tests)."""
    from graph.schema import apply_schema
    from tests.conftest import _wipe

    _wipe(graph_runner)
    apply_schema(graph_runner)
    report = load_dataset(write_platform(tmp_path_factory.mktemp("platform") / "ds"), runner=graph_runner)
    assert report.totals()["quarantined"] == 0
    return graph_runner


@pytest.fixture(scope="package")
def api(platform: GraphRunner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("api")
    settings = Settings(auth_db=tmp / "auth.sqlite", query_log=tmp / "audit.jsonl",  # type: ignore[call-arg]
                        stress_jobs_dir=tmp / "jobs", bank_lenders=BANK, api_burst=10_000)
    keys = {r: create_key(settings.auth_db, r, name=f"{r}-test").key
            for r in ("officer", "analyst", "operator")}
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings, keys)
