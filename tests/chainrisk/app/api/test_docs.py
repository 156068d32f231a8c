"""``/docs``: Swagger UI from vendored assets, no inline script, no other host, working under the
app's own ``Content-Security-Policy`` in headless Chromium with no violation at all: ``'self'``
everywhere, widened on ``/docs`` alone to ``data:`` images (swagger-ui.css's icons)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chainrisk.app.api import create_app
from chainrisk.app.api.docs import ASSETS, docs_csp
from chainrisk.app.web.routes import CSP
from chainrisk.settings import Settings

STATIC = Path(__file__).resolve().parents[4] / "chainrisk" / "app" / "static"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _app(tmp_path: Path) -> Any:
    # no graph needed: the docs and the OpenAPI document are served without one
    return create_app(Settings(_env_file=None, neo4j_uri="bolt://127.0.0.1:1",  # type: ignore[call-arg]
                               auth_db=tmp_path / "auth.sqlite"))


def test_the_page_has_no_inline_script_and_names_no_other_host(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path)) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
        assert len(scripts) == 2 and all('src="/docs/assets/' in attrs and not body.strip()
                                          for attrs, body in scripts)
        assert not re.search(r"\son\w+=", page.text)  # no inline event handlers either
        for text in (page.text, client.get("/docs/assets/docs-init.js").text):
            assert "//" not in re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE).replace("://127", "")
        for name, (path, media) in ASSETS.items():
            resp = client.get(f"/docs/assets/{name}")
            assert resp.status_code == 200 and resp.headers["content-type"] == media
            assert resp.content == (STATIC / path).read_bytes()
        missing = client.get("/docs/assets/..%2F..%2Fauth%2Fkeys.py")
        assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
        spec = client.get("/openapi.json").json()
        assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {
            "type": "apiKey", "in": "header", "name": "X-API-Key",
            "description": "An API key from `chainrisk keys create --role officer|analyst|operator`."}
    for name in ("LICENSE", "NOTICE", "VERSION"):
        assert (STATIC / "vendor" / "swagger-ui" / name).is_file()
    pyproject = (STATIC.parents[2] / "pyproject.toml").read_text()
    assert '"chainrisk.app" = ["static/**/*"]' in pyproject  # shipped as package data


def _directives(policy: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (x.strip() for x in policy.split(";")) if d}


def test_data_images_are_allowed_on_docs_only(tmp_path: Path) -> None:
    with TestClient(_app(tmp_path)) as client:
        docs = _directives(client.get("/docs").headers["Content-Security-Policy"])
        assert docs == {**_directives(CSP), "img-src": ["'self'", "data:"]}  # one widening, nothing else
        assert docs["script-src"] == ["'self'"] and docs["style-src"] == ["'self'"]
        assert docs_csp() == client.get("/docs").headers["Content-Security-Policy"]
        for path in ("/docs/assets/swagger-ui.css", "/openapi.json", "/health", "/login", "/", "/nowhere"):
            policy = client.get(path, follow_redirects=False).headers["Content-Security-Policy"]
            assert policy == CSP and "data:" not in policy, path
    for policy in (CSP, docs_csp()):
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if IN_CI:
            pytest.fail("no chromium for the browser test under CI", pytrace=False)
        pytest.skip("no chromium on this machine")
    return path


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, with its own security headers."""
    import uvicorn

    app = _app(tmp_path)
    # the server is handed the bound socket itself: a port looked up, closed and bound again by
    # the server could be taken by anything else in between
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()


#: Collects every CSP violation the page reports (a Playwright init script: not subject to the CSP).
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI.slice(0, 60)));
"""


def test_swagger_ui_renders_without_csp_violations_in_chromium(served: str) -> None:
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    elsewhere: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        try:
            page = browser.new_page()

            def only_here(route: Any) -> None:
                if route.request.url.startswith(served + "/"):
                    route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    route.abort()

            page.route("**/*", only_here)
            page.add_init_script(WATCH_CSP)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # a CSP violation is also a console error: every console error fails the test
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{served}/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            paths = set(page.locator(".opblock-summary-path").all_inner_texts())
            assert {"/firms/{uscc}/exposure", "/cypher", "/stress-runs"} <= {t.strip() for t in paths}
            assert page.locator("button.authorize").count() == 1
            page.locator(".opblock-summary").first.click()  # an open operation draws more icons
            page.wait_for_selector(".opblock-body", timeout=10_000)
            # the icons drawn from data: URLs are there, and nothing was blocked drawing them
            icons = page.evaluate(
                "[...document.querySelectorAll('*')].filter("
                "e => getComputedStyle(e).backgroundImage.startsWith('url(\"data:image')).length")
            assert icons > 0
            violations = page.evaluate("window.__csp")
        finally:
            browser.close()
    assert violations == []
    assert elsewhere == [] and errors == []
