"""The page end to end in headless Chromium (Playwright, Debian's /usr/bin/chromium).

The app runs under uvicorn in a thread on a free loopback port, against the test server holding
the hand-built platform (conftest). The test logs in, searches, opens firm F, checks the drawing
and that a firm named ``<img src=x onerror=alert(1)>`` shows as that text and runs nothing; a
request to any other host fails the test. A screenshot is kept under ``tmp_path``.

Without the browser the test is skipped on a developer's machine and FAILS under ``CI=true``
(``scripts/test.sh`` installs Debian's chromium).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chainrisk.app.web.users import add_user
from chainrisk.settings import Settings
from tests.chainrisk.app.web.conftest import EVIL, U
from tests.conftest import IN_CI

pytestmark = pytest.mark.neo4j
log = logging.getLogger(__name__)

CHROMIUM = Path(os.environ.get("CHAINRISK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long password 1"
#: A cheap scrypt cost: these tests are about sessions, not the hash (test_users checks the real one).
FAST = 2**4


def _need_browser() -> None:
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        missing = f"playwright is not installed: {exc}"
    if missing is None and not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install -y chromium; scripts/test.sh does it)"
    if missing:
        if IN_CI:
            pytest.fail(f"browser test under CI: {missing}", pytrace=False)
        pytest.skip(missing)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def served(web_graph, tmp_path) -> Iterator[str]:
    """The app on a free loopback port, with user alice; yields its base URL."""
    import uvicorn

    from chainrisk.app.api import create_app

    settings = Settings(CHAINRISK_AUTH_DB=tmp_path / "auth.sqlite")  # type: ignore[call-arg]
    add_user(settings.auth_db, "alice", PASSWORD, n=FAST)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_page_end_to_end(served: str, tmp_path: Path) -> None:
    _need_browser()
    from playwright.sync_api import Route, sync_playwright

    home = urlsplit(served).netloc
    foreign: list[str] = []
    dialogs: list[str] = []
    problems: list[str] = []

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).netloc != home:
            foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.route("**/*", guard)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            # a CSP violation shows as a console error: any error fails the test
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

            page.goto(served + "/")
            assert page.url.endswith("/login")
            page.fill("#username", "alice")
            page.fill("#password", PASSWORD)
            page.click("#login-button")
            page.wait_for_url(served + "/")
            page.locator("#user", has_text="alice").wait_for()

            # the evil name comes back from search as text
            page.fill("#q", "img")
            page.click("#search-button")
            link = page.locator(f".firm-link[data-uscc='{U['B2']}']")
            link.wait_for()
            assert link.text_content() == EVIL
            assert page.locator("img").count() == 0  # nothing was parsed as HTML

            page.fill("#q", "Firm F")
            page.click("#search-button")
            page.locator(f".firm-link[data-uscc='{U['F']}']").click()
            page.wait_for_selector("#cy[data-drawn='1']", timeout=30_000)
            # hand-worked in test_data: F's active 1-hop neighbourhood is S1, S2, B1, B2, G1, P1
            assert page.get_attribute("#cy", "data-nodes") == "7"
            assert page.locator("#cy canvas").count() >= 1
            assert page.text_content("#firm-name") == "Firm F"
            page.wait_for_selector("#exposure tbody tr")
            assert EVIL in [t.strip() for t in page.locator("#exposure tbody td").all_text_contents()]
            page.wait_for_selector("#group-facts dd")

            page.focus("#hops")  # the slider, one step right: 2 hops -> 11 parties (test_data's walk)
            page.keyboard.press("ArrowRight")
            page.wait_for_selector("#cy[data-drawn='1'][data-nodes='11']", timeout=30_000)
            shot = tmp_path / "page.png"
            page.screenshot(path=str(shot), full_page=True)
            log.warning("screenshot of the page: %s", shot)
            print(f"screenshot: {shot}")
        finally:
            browser.close()
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert dialogs == [], f"a dialog fired: {dialogs}"
    assert problems == [], problems
