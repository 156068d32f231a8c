from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from chainrisk.app.api import create_app
from chainrisk.settings import Settings

pytestmark = pytest.mark.neo4j


def test_health_reports_versions(clean_graph: object) -> None:
    with TestClient(create_app(Settings())) as client:
        body = client.get("/health").json()
    assert body["neo4j"].startswith("5.26.") and body["gds"].startswith("2.13.")
    assert body["current_runs"] == {"risk": None, "stress": None}


def test_server_down_is_503() -> None:
    s = Settings(_env_file=None, NEO4J_URI="bolt://127.0.0.1:1")  # type: ignore[call-arg]
    with TestClient(create_app(s)) as client:
        resp = client.get("/health")
    assert resp.status_code == 503 and "chainrisk db start" in resp.json()["detail"]
