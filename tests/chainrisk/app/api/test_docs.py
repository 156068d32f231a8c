"""``/docs``: Swagger UI from vendored assets, no inline script, no other host, working under
``Content-Security-Policy: default-src 'self'`` in headless Chromium."""

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
from chainrisk.app.api.docs import ASSETS
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


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if IN_CI:
            pytest.fail("no chromium for the browser test under CI", pytrace=False)
        pytest.skip("no chromium on this machine")
    return path


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, every answer with ``default-src 'self'``."""
    import uvicorn

    app = _app(tmp_path)

    @app.middleware("http")
    async def csp(request: Any, call_next: Any) -> Any:
        resp = await call_next(request)
        resp.headers["Content-Security-Policy"] = "default-src 'self'"
        return resp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_swagger_ui_renders_under_csp_self_in_chromium(served: str) -> None:
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
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # swagger-ui.css draws a few icons from data: URLs, which 'self' blocks: cosmetic only
            page.on("console", lambda m: errors.append(m.text)
                    if m.type == "error" and "data:image" not in m.text else None)
            page.goto(f"{served}/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            paths = set(page.locator(".opblock-summary-path").all_inner_texts())
            assert {"/firms/{uscc}/exposure", "/cypher", "/stress-runs"} <= {t.strip() for t in paths}
            assert page.locator("button.authorize").count() == 1
        finally:
            browser.close()
    assert elsewhere == [] and errors == []
