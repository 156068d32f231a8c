"""The page end to end in headless Chromium (Playwright, Debian's /usr/bin/chromium).

The app runs under uvicorn in a thread on a free loopback port, against the test server holding
the hand-built platform (conftest). The test logs in, searches, opens firm F, checks the drawing
and that a firm named ``<img src=x onerror=alert(1)>`` shows as that text and runs nothing; a
request to any other host fails the test. It checks that the page states the ``as_of`` it reads at
and each firm's latest statement, signal and loan-status dates with stale flags (card, search
results, exposure table, and the party under the pointer in the drawing), and that persons are
drawn apart and expanded (T1's two hops run through person P2). A screenshot is kept under
``tmp_path``.

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
from typing import Any
from urllib.parse import urlsplit

import pytest

from chainrisk.app.web.users import add_user
from chainrisk.settings import Settings
from tests.chainrisk.app.web.conftest import AS_OF, EVIL, U
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


def _bound_socket() -> socket.socket:
    """A socket bound to a free loopback port, handed to the server as it is: a port looked up,
    closed and bound again later could be taken by anything else in between."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


@pytest.fixture()
def served(web_graph, tmp_path) -> Iterator[str]:
    """The app on a free loopback port, with user alice; yields its base URL."""
    import uvicorn

    from chainrisk.app.api import create_app

    settings = Settings(CHAINRISK_AUTH_DB=tmp_path / "auth.sqlite")  # type: ignore[call-arg]
    add_user(settings.auth_db, "alice", PASSWORD, n=FAST)
    sock = _bound_socket()
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
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


#: The drawing's Cytoscape instance (Cytoscape keeps it on its container).
CY = "document.getElementById('cy')._cyreg.cy"


def _dates(page: Any, selector: str) -> dict[str, tuple[str, bool]]:
    """The data-date spans under ``selector`` as {label: (date or "none", flagged stale)}."""
    spans = page.locator(f"{selector} span > span")
    out = {}
    for i in range(spans.count()):
        text = spans.nth(i).text_content() or ""
        label = text.rsplit(" ", 1)[0]
        out[label] = (text.rsplit(" ", 1)[1], "stale" in (spans.nth(i).get_attribute("class") or ""))
    return out


def test_page_end_to_end(served: str, tmp_path: Path) -> None:
    _need_browser()
    from playwright.sync_api import Route, expect, sync_playwright

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
            assert page.text_content("#as-of") == f"as of {AS_OF}"
            # B2 has no statement, signal or loan: each date says so, none is flagged stale
            assert _dates(page, f"#results li:has(.firm-link[data-uscc='{U['B2']}'])") == {
                "statement": ("none", False),
                "signal": ("none", False),
                "loan status": ("none", False),
            }

            page.fill("#q", "Firm F")
            page.click("#search-button")
            page.locator(f".firm-link[data-uscc='{U['F']}']").click()
            page.wait_for_selector("#cy[data-drawn='1']", timeout=30_000)
            # hand-worked in test_data: F's active 1-hop neighbourhood is S1, S2, B1, B2, G1, P1
            assert page.get_attribute("#cy", "data-nodes") == "7"
            assert page.locator("#cy canvas").count() >= 1
            # the card is fetched beside the drawing and may land after it: wait for it, then read it
            # (renderCard fills the name and the dates in one go)
            expect(page.locator("#firm-name")).to_have_text("Firm F", timeout=30_000)
            assert page.text_content("#firm-name") == "Firm F"
            # the card: as_of and F's dates (statement 2024-04-30, signal and loan status 2024-06; fresh)
            assert page.text_content("#as-of") == f"as of {AS_OF}"
            facts = dict(
                zip(
                    page.locator("#firm-dates dt").all_text_contents(),
                    page.locator("#firm-dates dd").all_text_contents(),
                    strict=True,
                )
            )
            assert facts == {
                "as of": AS_OF,
                "latest statement": "2024-04-30",
                "latest signal": "2024-06-01",
                "latest loan status": "2024-06-01",
                "stale if before": "2023-12-30",
            }
            assert page.locator("#firm-dates dd.stale").count() == 0
            page.wait_for_selector("#exposure tbody tr")
            assert EVIL in [t.strip() for t in page.locator("#exposure tbody td").all_text_contents()]
            # S1's statement (2023-04-30) and B1's loan status (2023-10) are over 6 months old at AS_OF
            s1 = _dates(page, f"#exposure tbody tr:has(td:text-is('{U['S1']}'))")
            assert s1["statement"] == ("2023-04-30", True) and s1["loan status"] == ("2024-06-01", False)
            assert _dates(page, f"#exposure tbody tr:has(td:text-is('{U['B1']}'))")["loan status"] == (
                "2023-10-01",
                True,
            )
            page.wait_for_selector("#group-facts dd")
            # the drawing: person P1 is drawn, apart (a diamond); pointing at S1 shows its dates
            assert page.evaluate(
                f"{CY}.nodes(\"[kind = 'person']\").map(n => [n.id(), n.style('shape')])"
            ) == [["person-P1", "diamond"]]
            xy = page.evaluate(
                f"id => {{ const p = {CY}.$id(id).renderedPosition(); return [p.x, p.y]; }}", U["S1"]
            )
            box = page.locator("#cy").bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + xy[0], box["y"] + xy[1])
            page.locator("#node-info strong", has_text="Firm S1").wait_for()
            assert _dates(page, "#node-info")["statement"] == ("2023-04-30", True)
            assert f"(as of {AS_OF})" in (page.text_content("#node-info") or "")

            page.focus("#hops")  # the slider, one step right: 2 hops -> 11 parties (test_data's walk)
            page.keyboard.press("ArrowRight")
            page.wait_for_selector("#cy[data-drawn='1'][data-nodes='11']", timeout=30_000)
            shot = tmp_path / "page.png"
            page.screenshot(path=str(shot), full_page=True)
            log.warning("screenshot of the page: %s", shot)
            print(f"screenshot: {shot}")
            # the relation filter: guarantees off redraws the supply side alone (test_data's 8 parties at
            # 2 hops), with the path to defaulted S3 (S3 -> S1 -> F) drawn apart
            page.uncheck("#rel-guarantee")
            page.wait_for_selector("#cy[data-drawn='1'][data-nodes='8']", timeout=30_000)
            assert sorted(page.evaluate(f"{CY}.nodes('[onpath = 1]').map(n => n.id())")) == sorted(
                [U["F"], U["S1"], U["S3"]]
            )
            onpath = page.evaluate(f"{CY}.edges('[onpath = 1]').map(e => [e.source().id(), e.target().id()])")
            assert sorted(map(tuple, onpath)) == sorted([(U["S3"], U["S1"]), (U["S1"], U["F"])])
            colours = page.evaluate(
                f"[1, 0].map(k => {CY}.edges('[onpath = ' + k + ']')[0].style('line-color'))"
            )
            assert colours[0] != colours[1]
            # a hub's neighbours past the cap are one "+N more" node: cap 2 on F's four supply links
            page.goto(f"{served}/?firm={U['F']}&hops=1&cap=2")
            page.wait_for_selector("#cy[data-drawn='1']", timeout=30_000)
            page.uncheck("#rel-guarantee")
            page.wait_for_function(
                "() => { const c = document.getElementById('cy'); return c.dataset.drawn === '1' && "
                "c._cyreg.cy.nodes(\"[kind = 'more']\").map(n => n.data('label')).join() === '+2 more'; }",
                timeout=30_000,
            )
            assert sorted(page.evaluate(f"{CY}.nodes(\"[kind != 'more']\").map(n => n.id())")) == sorted(
                [U["F"], U["B1"], U["S1"]]
            )

            # T1's two hops run through person P2, who also guarantees T2 and T3 (test_data)
            page.goto(f"{served}/?firm={U['T1']}&hops=2")
            page.wait_for_selector("#cy[data-drawn='1'][data-nodes='4']", timeout=30_000)
            assert sorted(page.evaluate(f"{CY}.nodes().map(n => n.data('kind'))")) == [
                "firm",
                "firm",
                "firm",
                "person",
            ]
        finally:
            browser.close()
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert dialogs == [], f"a dialog fired: {dialogs}"
    assert problems == [], problems
