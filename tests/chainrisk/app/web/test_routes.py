"""The page's login, sessions, CSRF, throttling and headers through the app (no graph needed)."""

import re
import stat

import pytest
from fastapi.testclient import TestClient

from chainrisk.app.api import create_app
from chainrisk.app.web import sessions
from chainrisk.app.web.routes import CSP, SESSION_COOKIE
from chainrisk.app.web.users import add_user
from chainrisk.settings import Settings

PASSWORD = "a long password 1"
#: A cheap scrypt cost: these tests are about sessions, not the hash (test_users checks the real one).
FAST = 2**4


@pytest.fixture()
def settings(tmp_path) -> Settings:
    s = Settings(
        _env_file=None,
        CHAINRISK_AUTH_DB=tmp_path / "auth.sqlite",  # type: ignore[call-arg]
        NEO4J_URI="bolt://127.0.0.1:1",
    )
    add_user(s.auth_db, "alice", PASSWORD, n=FAST)
    return s


@pytest.fixture()
def client(settings):
    with TestClient(create_app(settings), base_url="http://testserver") as c:
        yield c


def _token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m, page.text
    return m.group(1)


def _login(client: TestClient, password: str = PASSWORD, user: str = "alice"):
    return client.post(
        "/login",
        data={"csrf": _token(client), "username": user, "password": password},
        follow_redirects=False,
    )


def _csrf(client: TestClient) -> str:
    return str(client.get("/ui/api/me").json()["csrf"])


def test_only_login_and_static_are_open(client):
    assert client.get("/login").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/vendor/cytoscape.min.js").status_code == 200
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    for path in ("/ui/api/me", "/ui/api/firms?q=a", "/ui/api/firms/x/graph", "/ui/api/firms/x/exposure.csv"):
        assert client.get(path).status_code == 401, path


def test_login_sets_a_strict_httponly_signed_cookie(client):
    r = _login(client)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = next(h for k, h in r.headers.multi_items() if k == "set-cookie" and h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert client.get("/", follow_redirects=False).status_code == 200
    me = client.get("/ui/api/me").json()
    assert me["user"] == "alice" and len(me["csrf"]) > 20


def test_cookie_is_secure_under_https(settings):
    with TestClient(create_app(settings), base_url="https://testserver") as c:
        r = _login(c)
    cookie = next(h for k, h in r.headers.multi_items() if k == "set-cookie" and h.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


def test_forged_cookie_is_refused(client):
    _login(client)
    sid_mac = client.cookies[SESSION_COOKIE]
    client.cookies.set(SESSION_COOKIE, sid_mac[:-4] + "0000")
    assert client.get("/ui/api/me").status_code == 401


def test_login_without_form_token_is_refused(client):
    client.get("/login")
    r = client.post(
        "/login", data={"csrf": "forged", "username": "alice", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 403 and SESSION_COOKIE not in client.cookies


def test_oversized_form_is_refused(client):
    client.get("/login")
    r = client.post(
        "/login",
        content=b"csrf=" + b"x" * 10_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


def test_json_calls_need_the_csrf_header(client):
    _login(client)
    assert client.get("/ui/api/firms?q=a").status_code == 403
    assert client.get("/ui/api/firms?q=a", headers={"X-CSRF-Token": "wrong"}).status_code == 403


def test_logout_needs_the_token_and_ends_the_session_on_the_server(client):
    _login(client)
    stolen = client.cookies[SESSION_COOKIE]
    token = _csrf(client)
    assert client.post("/logout", data={"csrf": "wrong"}, follow_redirects=False).status_code == 403
    r = client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    client.cookies.set(SESSION_COOKIE, stolen)  # a copy of the old cookie is dead too
    assert client.get("/ui/api/me").status_code == 401


def test_idle_session_expires(settings):
    db = settings.auth_db
    s = sessions.create_session(db, "alice", now=1000.0)
    idle = settings.web_session_idle_min * 60
    assert sessions.touch_session(db, s.sid, idle, now=1000.0 + idle - 1) is not None
    # used just now: the idle clock restarted
    assert sessions.touch_session(db, s.sid, idle, now=1000.0 + 2 * idle - 2) is not None
    assert sessions.touch_session(db, s.sid, idle, now=1000.0 + 3 * idle) is None
    assert sessions.touch_session(db, s.sid, idle, now=1000.0) is None  # deleted, not just hidden


def test_throttle_after_repeated_failures(settings):
    # the page's clock is pinned: the first backoff is 1 s, and a busy machine can spend that
    # between the last failure and the try that must wait for it (the right password got in)
    now = [1_000_000.0]
    with TestClient(create_app(settings, web_clock=lambda: now[0]), base_url="http://testserver") as client:
        codes = [_login(client, "wrong password!").status_code for _ in range(sessions.FREE_FAILURES)]
        assert codes == [401] * sessions.FREE_FAILURES
        r = _login(client)  # even the right password waits now
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        now[0] += 2.0 ** 0  # 2 ** (failures - FREE_FAILURES) s after the last failure
        r = _login(client)
        assert r.status_code == 303 and r.headers["location"] == "/"


def test_throttle_per_address_covers_other_names(settings):
    db = settings.auth_db
    keys = ["user:x", "addr:10.0.0.1"]
    for _ in range(sessions.FREE_FAILURES):
        sessions.record_failure(db, keys, now=100.0)
    assert sessions.retry_after(db, ["user:y", "addr:10.0.0.1"], now=100.0) > 0
    assert sessions.retry_after(db, ["user:y", "addr:10.0.0.2"], now=100.0) == 0
    # the 6th failure: wait 2 ** (6 - 5) = 2 s from the last one
    sessions.record_failure(db, keys, now=100.0)
    assert sessions.retry_after(db, keys, now=100.0) == 2.0
    assert sessions.retry_after(db, keys, now=101.5) == 0.5
    assert sessions.retry_after(db, keys, now=102.0) == 0.0


def test_a_try_counts_from_when_it_is_admitted(settings):
    db, keys = settings.auth_db, ["user:x", "addr:10.0.0.1"]
    for _ in range(sessions.FREE_FAILURES - 1):
        sessions.record_failure(db, keys, now=100.0)
    assert sessions.claim_try(db, keys, now=100.0) == 0.0  # the last free try; its password not checked yet
    assert sessions.claim_try(db, keys, now=100.0) == 1.0  # a try beside it waits already
    sessions.forgive_try(db, user="user:x", others=["addr:10.0.0.1"])  # the first was the right password
    assert sessions.retry_after(db, ["user:x"], now=100.0) == 0.0  # the user's count is cleared
    # the address is back at its FREE_FAILURES - 1 failures: one more try is free, not two
    assert sessions.claim_try(db, ["user:y", "addr:10.0.0.1"], now=100.0) == 0.0
    assert sessions.claim_try(db, ["user:z", "addr:10.0.0.1"], now=100.0) == 1.0


def test_parallel_tries_pass_the_throttle_one_at_a_time(settings):
    import threading

    db, keys = settings.auth_db, ["user:x", "addr:10.0.0.1"]
    for _ in range(sessions.FREE_FAILURES - 1):
        sessions.record_failure(db, keys, now=100.0)
    waits: list[float] = []
    start = threading.Barrier(8)

    def try_once():
        start.wait()
        waits.append(sessions.claim_try(db, keys, now=100.0))

    threads = [threading.Thread(target=try_once) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the check and the count are one transaction: one try is admitted, the others wait for it
    assert sorted(waits) == [0.0] + [1.0] * 7


def test_security_headers_on_every_answer(client):
    for path in ("/login", "/static/app.js", "/ui/api/me"):
        h = client.get(path).headers
        assert h["content-security-policy"] == CSP, path
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "default-src 'self'" in CSP and "frame-ancestors 'none'" in CSP


def test_page_has_no_inline_script_or_style():
    from chainrisk.app.web import STATIC_DIR

    for name in ("index.html", "login.html"):
        text = (STATIC_DIR / name).read_text()
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, name
        assert "<style" not in text and " style=" not in text and re.search(r"\son[a-z]+=", text) is None
    assert "innerHTML" not in (STATIC_DIR / "app.js").read_text()


def test_secret_is_generated_once_owner_only(settings):
    path = sessions.secret_path(settings.auth_db)
    assert not path.exists()
    first = sessions.load_secret(settings.auth_db)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) == 32
    assert sessions.load_secret(settings.auth_db) == first
    other = sessions.load_secret(settings.auth_db.with_name("other.sqlite"))
    assert other != first  # no built-in default


@pytest.fixture()
def live_client(web_graph, tmp_path):
    s = Settings(CHAINRISK_AUTH_DB=tmp_path / "auth.sqlite")  # type: ignore[call-arg]
    add_user(s.auth_db, "alice", PASSWORD, n=FAST)
    with TestClient(create_app(s)) as c:
        _login(c)
        c.headers["X-CSRF-Token"] = _csrf(c)
        yield c


def test_page_json_over_the_library(live_client):
    from tests.chainrisk.app.web.conftest import AS_OF, EVIL, U

    found = live_client.get("/ui/api/firms", params={"q": "img"}).json()
    assert found["as_of"] == AS_OF and [f["name"] for f in found["firms"]] == [EVIL]
    assert found["firms"][0]["statement_published"] is None and found["firms"][0]["stale"] is False
    by_code = live_client.get("/ui/api/firms", params={"q": U["F"].lower()}).json()  # a USCC, any case
    assert [f["uscc"] for f in by_code["firms"]] == [U["F"]]
    card = live_client.get(f"/ui/api/firms/{U['F']}").json()
    assert card["as_of"] == AS_OF and card["risk"]["tier"] == 4
    g = live_client.get(f"/ui/api/firms/{U['F']}/graph", params={"hops": 1, "relations": "guarantee"}).json()
    # guarantee links only: G1 -> F, P1 -> F, F -> B1
    assert {n["id"] for n in g["nodes"]} == {U["F"], U["G1"], "person-P1", U["B1"]}
    exp = live_client.get(f"/ui/api/firms/{U['F']}/exposure", params={"hops": 1}).json()
    assert exp["as_of"] == AS_OF and exp["counts"]["upstream"] == 2
    assert live_client.get(f"/ui/api/firms/{U['F']}/group").json()["group"]["n_members"] == 5
    csv_resp = live_client.get(f"/ui/api/firms/{U['F']}/exposure.csv", params={"hops": 1})
    assert csv_resp.headers["content-type"].startswith("text/csv")
    assert f'filename="chain-exposure-{U["F"]}.csv"' in csv_resp.headers["content-disposition"]
    assert live_client.get(f"/ui/api/firms/{U['F']}/graph", params={"hops": 4}).status_code == 422
    bad = live_client.get(f"/ui/api/firms/{U['F']}/graph", params={"relations": "owns"})
    assert bad.status_code == 422 and "relations" in bad.json()["detail"]
