"""Keys, roles and limits at the API's edge: 401, 403 and 429, each answered as JSON.

The app points at a port where no server listens, so a request the gate lets through ends in 503
(server down) or answers without the graph: that tells "admitted" from 401/403/429 with no
database at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from chainrisk.app.api import create_app
from chainrisk.app.auth.keys import create_key, revoke_key
from chainrisk.settings import Settings
from ingest.uscc import make

FIRM = make("91350100M00000001")


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(_env_file=None, neo4j_uri="bolt://127.0.0.1:1", auth_db=tmp_path / "auth.sqlite",  # type: ignore[call-arg]
                    query_log=tmp_path / "audit.jsonl", stress_jobs_dir=tmp_path / "jobs", **extra)


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(tmp_path, api_burst=1000))) as c:
        yield c


def _key(client: TestClient, role: str) -> dict[str, str]:
    db = client.app.state.api.settings.auth_db  # type: ignore[attr-defined]
    return {"X-API-Key": create_key(db, role).key}


def test_health_is_open_and_everything_else_needs_a_key(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/health").status_code == 503  # admitted: the server is down
    db = tmp_path / "auth.sqlite"
    expired = create_key(db, "officer", expires_days=1, now=datetime.now(UTC) - timedelta(days=2)).key
    revoked = create_key(db, "officer")
    revoke_key(db, revoked.info.id)
    cases = {"missing": {}, "unknown": {"X-API-Key": "cr_00000000_" + "A" * 43},
             "expired": {"X-API-Key": expired}, "revoked": {"X-API-Key": revoked.key}}
    for why, headers in cases.items():
        for method, url in (("GET", "/queries"), ("GET", f"/firms/{FIRM}"), ("POST", "/cypher"),
                            ("GET", "/stress-runs"), ("GET", "/circles")):
            resp = client.request(method, url, headers=headers, json={"query": "RETURN 1"})
            assert resp.status_code == 401, (why, url)
            body = resp.json()
            assert body["error"] == "KeyRefused" and body["detail"], body
            assert resp.headers["WWW-Authenticate"] == "X-API-Key"
        assert why in body["detail"] or why in ("missing", "unknown"), body
    assert "required" in client.get("/queries").json()["detail"]


def test_roles(client: TestClient) -> None:
    bad_job = {"example": "regional_downturn", "scenario": "name: x"}  # 422 once past the gate
    routes = [("GET", "/queries", None), ("GET", "/queries/firm_search?q=a", None),
              ("GET", "/firms?q=a", None), ("GET", f"/firms/{FIRM}", None),
              ("GET", f"/firms/{FIRM}/exposure", None), ("GET", "/circles", None),
              ("GET", "/stress-runs", None), ("POST", "/cypher", {"query": "RETURN 1"}),
              ("POST", "/stress-runs", bad_job)]
    allowed = {"/cypher": {"analyst"}, "/stress-runs POST": {"operator"}}
    for role in ("officer", "analyst", "operator"):
        headers = _key(client, role)
        for method, url, body in routes:
            resp = client.request(method, url, headers=headers, json=body)
            path = url.split("?")[0]
            who = allowed.get(path if method == "GET" or path == "/cypher" else f"{path} POST",
                              {"officer", "analyst", "operator"})
            if role in who:
                assert resp.status_code in (200, 422, 503), (role, url, resp.json())
            else:
                assert resp.status_code == 403, (role, url)
                assert resp.json()["error"] == "Forbidden" and role in resp.json()["detail"]


def test_rate_limit_per_key(tmp_path: Path) -> None:
    with TestClient(create_app(_settings(tmp_path, api_burst=2, api_rate_per_s=0.01))) as client:
        first, second = _key(client, "officer"), _key(client, "officer")
        assert [client.get("/queries", headers=first).status_code for _ in range(2)] == [200, 200]
        resp = client.get("/queries", headers=first)
        assert resp.status_code == 429 and resp.json()["error"] == "RateLimited"
        assert int(resp.headers["Retry-After"]) >= 1
        assert client.get("/queries", headers=second).status_code == 200  # another key's own bucket


def test_at_most_two_cypher_queries_at_once_per_key(client: TestClient) -> None:
    headers = _key(client, "analyst")
    key_id = headers["X-API-Key"].split("_")[1]
    slots = client.app.state.api.cypher_slots  # type: ignore[attr-defined]
    assert slots.acquire(key_id) and slots.acquire(key_id)  # two queries running
    try:
        resp = client.post("/cypher", headers=headers, json={"query": "RETURN 1"})
        assert resp.status_code == 429 and resp.json()["error"] == "TooManyConcurrentQueries"
        assert resp.headers["Retry-After"] == "1"
        other = _key(client, "analyst")
        assert client.post("/cypher", headers=other, json={"query": "RETURN 1"}).status_code == 503
        slots.release(key_id)
        assert client.post("/cypher", headers=headers, json={"query": "RETURN 1"}).status_code == 503
    finally:
        slots.release(key_id)
    assert slots.acquire(key_id)  # a failed query gave its slot back


def test_errors_are_json(client: TestClient) -> None:
    headers = _key(client, "analyst")
    for resp in (client.get("/no-such-route"), client.post("/cypher", headers=headers, json={"q": 1}),
                 client.get("/firms", headers=headers), client.delete("/queries", headers=headers)):
        assert resp.headers["content-type"].startswith("application/json")
        assert set(resp.json()) >= {"error", "detail"}


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_revoked_key_is_refused_once_its_verification_is_older_than_the_ttl(tmp_path: Path) -> None:
    from chainrisk.app.api.security import KeyCache
    from chainrisk.app.auth.keys import KeyRefused

    db, clock = tmp_path / "auth.sqlite", _Clock()
    cache = KeyCache(5.0, clock=clock)
    issued = create_key(db, "officer", name="kept")
    assert cache.check(db, issued.key).name == "kept"
    revoke_key(db, issued.info.id)
    # within the TTL the verified key is still admitted: the documented window of a revocation
    clock.t = 4.9
    assert cache.check(db, issued.key).id == issued.info.id
    # at the TTL the store is asked again, and says revoked
    clock.t = 5.0
    with pytest.raises(KeyRefused) as refused:
        cache.check(db, issued.key)
    assert refused.value.reason == "revoked"
    # a refusal is not kept: refused again at once, and a fresh key is not mistaken for it
    with pytest.raises(KeyRefused):
        cache.check(db, issued.key)
    other = create_key(db, "analyst")
    assert cache.check(db, other.key).role == "analyst"


def test_a_kept_key_is_refused_when_it_expires_even_within_the_ttl(tmp_path: Path) -> None:
    from chainrisk.app.api.security import KeyCache
    from chainrisk.app.auth.keys import KeyRefused

    db = tmp_path / "auth.sqlite"
    cache = KeyCache(3600.0, clock=_Clock())
    # expires 1.5 days after a creation 1 day ago: active now, expired half a day from now
    soon = create_key(db, "officer", expires_days=1.5, now=datetime.now(UTC) - timedelta(days=1))
    assert cache.check(db, soon.key).id == soon.info.id and cache.get(soon.key) is not None
    # a key kept while active whose expiry has since passed: the cache does not answer for it
    gone = create_key(db, "officer", expires_days=1, now=datetime.now(UTC) - timedelta(days=2))
    cache.put(gone.key, gone.info)
    assert cache.get(gone.key) is None
    with pytest.raises(KeyRefused) as refused:
        cache.check(db, gone.key)
    assert refused.value.reason == "expired"


def test_the_api_revokes_a_key_in_use_within_the_ttl(tmp_path: Path) -> None:
    from chainrisk.app.api.security import KeyCache

    clock = _Clock()
    app = create_app(_settings(tmp_path, api_burst=1000))
    app.state.api.keys = KeyCache(5.0, clock=clock)
    db = tmp_path / "auth.sqlite"
    with TestClient(app) as c:
        issued = create_key(db, "officer")
        headers = {"X-API-Key": issued.key}
        assert c.get("/queries", headers=headers).status_code == 200
        revoke_key(db, issued.info.id)
        assert c.get("/queries", headers=headers).status_code == 200  # kept: verified 0 s ago
        clock.t = 5.0
        resp = c.get("/queries", headers=headers)
        assert resp.status_code == 401 and "revoked" in resp.json()["detail"]
