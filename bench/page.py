"""Web page benchmark: time to the first drawing of a ~500-node neighbourhood in headless Chromium.

Prints figures; never asserts a time. It loads a small synthetic platform into a SCRATCH Neo4j
server (its data are wiped): a hub firm ``H`` with 60 suppliers and 60 buyers, each with 3
suppliers or buyers of its own, and 20 guarantors of ``H``, so ``H``'s 2-hop neighbourhood holds
1 + 120 + 360 + 20 = 501 parties; a seeded risk run colours them. Then it serves the app under
uvicorn on a free loopback port, logs in with Playwright and Debian's Chromium, and opens
``/?firm=H&hops=2&cap=200`` several times. Each load waits until the page's other requests (the
hub's whole 3-hop exposure and its guarantee group, asked for after the drawing) have finished
before the next load starts, so a drawing never competes with the previous load's queries.

Figures (milliseconds, median and max over ``--repeat`` loads):

- ``draw``: in the page, from the graph request to the second animation frame after the
  elements are in (the request, the JSON, the placing and the first paint of the canvas);
- ``fetch``: the graph request alone;
- ``layout``: placing the elements (after the fetch, before painting): the page makes its
  Cytoscape instance while the request travels and adds the elements at their ring positions in
  one batch (before, it built the instance here), so Cytoscape's style and geometry work now falls
  mostly in the first paint, inside ``draw``;
- ``navigation``: from ``page.goto`` to that same frame (page, scripts, firm card included);
- ``query``: :func:`chainrisk.app.web.data.neighbourhood` called in this process (the graph
  request's server side, without HTTP and JSON).

    python bench/page.py --scratch-uri bolt://127.0.0.1:17687   # a test server: its data are wiped
    python bench/page.py --scratch-uri bolt://127.0.0.1:17687 --no-load   # reuse the loaded platform
    python bench/page.py                                          # starts a scratch server (minutes)
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chainrisk.settings import Settings  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AS_OF = "2024-06-30"
PASSWORD = "bench password 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_hub(folder: Path) -> tuple[Path, str, list[str]]:
    """The synthetic platform; returns (folder, H's USCC, every firm's USCC)."""
    from ingest.uscc import make

    folder.mkdir(parents=True, exist_ok=True)
    ids: list[str] = []

    def firm() -> str:
        ids.append(make(f"91350100M{len(ids) + 1:08d}"))
        return ids[-1]

    hub = firm()
    supply: list[tuple[str, str, int]] = []
    for _ in range(60):
        s, b = firm(), firm()
        supply += [(s, hub, 100), (hub, b, 100)]
        supply += [(firm(), s, 10) for _ in range(3)]
        supply += [(b, firm(), 10) for _ in range(3)]
    guarantors = [firm() for _ in range(20)]
    (folder / "dataset.yaml").write_text(
        f"source: bench-page\nas_of: {AS_OF}\nmode: full\ncurrency: CNY\nunit: yuan\n", encoding="utf-8"
    )
    (folder / "firms.csv").write_text(
        "uscc,name,industry,region\n" + "".join(f"{u},Firm {i},C3311,350100\n" for i, u in enumerate(ids)),
        encoding="utf-8",
    )
    (folder / "supply.csv").write_text(
        "supplier_uscc,buyer_uscc,annual_value,start,end\n"
        + "".join(f"{a},{b},{v},2022-01-01,\n" for a, b, v in supply),
        encoding="utf-8",
    )
    (folder / "guarantees.csv").write_text(
        "guarantor_id,guarantor_type,borrower_uscc,loan_id,amount,start,end\n"
        + "".join(f"{g},firm,{hub},,50,2023-01-01,\n" for g in guarantors),
        encoding="utf-8",
    )
    return folder, hub, ids


def load(settings: Settings, work: Path) -> str:
    """Wipe the scratch server, load the platform and a seeded risk run; H's USCC."""
    from graph.runner import GraphRunner
    from graph.runs import publish
    from graph.schema import apply_schema
    from ingest.load import load_dataset

    folder, hub, ids = write_hub(work / "ds")
    with GraphRunner.from_settings(settings) as runner:
        for q in (
            "MATCH ()-[r]->() WITH r LIMIT 50000 DELETE r RETURN count(*) AS n",
            "MATCH (n) WITH n LIMIT 50000 DETACH DELETE n RETURN count(*) AS n",
        ):
            while runner.write(q).returned[0]["n"]:
                pass
        apply_schema(runner)
        load_dataset(folder, runner=runner)
        rng = random.Random(7)
        rows = [
            {
                "uscc": u,
                "risk_pd": rng.random() * 0.1,
                "risk_tier": rng.randint(1, 6),
                "risk_suggested_class": "normal",
                "risk_reasons": [],
            }
            for u in ids
        ]
        publish(
            runner,
            kind="risk-score",
            family="risk",
            parameters={"bench": 1},
            as_of=date.fromisoformat(AS_OF),
            firm_rows=rows,
        )
    return hub


def loaded_hub(settings: Settings) -> str | None:
    """H's USCC when the scratch server already holds this platform (``--no-load``), else ``None``."""
    from graph.runner import GraphRunner
    from ingest.uscc import make

    hub = make("91350100M00000001")
    with GraphRunner.from_settings(settings) as runner:
        rows = runner.read(
            "MATCH (f:Firm {uscc: $hub}) RETURN COUNT { (f)--() } AS links, "
            "COUNT { MATCH (n:Firm) } AS firms",
            {"hub": hub},
        )
    # 1 + 120 + 360 + 20 firms; the hub's 120 supply links and 20 guarantees
    return hub if rows and rows[0]["firms"] == 501 and rows[0]["links"] >= 140 else None


def query_times(settings: Settings, hub: str, repeat: int) -> list[float]:
    """The drawing's server side in this process: ``neighbourhood`` as the page asks for it (ms)."""
    from chainrisk.app.web.data import neighbourhood
    from graph.runner import GraphRunner

    out = []
    with GraphRunner.from_settings(settings) as runner:
        for i in range(repeat + 1):  # the first warms the plans: not counted
            t = time.perf_counter()
            neighbourhood(runner, hub, hops=2, cap=200)
            if i:
                out.append((time.perf_counter() - t) * 1000)
    return out


def measure(settings: Settings, hub: str, repeat: int, chromium: str) -> dict[str, list[float]]:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from chainrisk.app.api import create_app
    from chainrisk.app.web.users import add_user

    add_user(settings.auth_db, "bench", PASSWORD)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, list[float]] = {"draw": [], "fetch": [], "layout": [], "navigation": [], "nodes": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(base + "/login")
            page.fill("#username", "bench")
            page.fill("#password", PASSWORD)
            page.click("#login-button")
            page.wait_for_url(base + "/")
            for i in range(repeat + 1):  # the first load warms the server's query plans: not counted
                t0 = time.perf_counter()
                page.goto(f"{base}/?firm={hub}&hops=2&cap=200")
                page.wait_for_selector("#cy[data-drawn='1']", timeout=60_000)
                nav = (time.perf_counter() - t0) * 1000
                # the hub's exposure and group follow the drawing: let them end before the next load
                page.wait_for_load_state("networkidle", timeout=120_000)
                if i == 0:
                    continue
                out["navigation"].append(nav)
                out["draw"].append(float(page.get_attribute("#cy", "data-draw-ms") or "nan"))
                out["fetch"].append(float(page.get_attribute("#cy", "data-fetch-ms") or "nan"))
                out["layout"].append(float(page.get_attribute("#cy", "data-layout-ms") or "nan"))
                out["nodes"].append(float(page.get_attribute("#cy", "data-nodes") or "nan"))
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--scratch-uri",
        help="bolt URI of a scratch server whose data may be wiped "
        "(password from NEO4J_PASSWORD); default: start one of its own",
    )
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--no-load",
        action="store_true",
        help="reuse the platform a previous run loaded on the scratch server (with --scratch-uri)",
    )
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="chainrisk-bench-page-"))
    started = None
    if args.scratch_uri:
        settings = Settings(neo4j_uri=args.scratch_uri, auth_db=work / "auth.sqlite")
    else:
        from graph.server import start_server

        bolt = _free_port()
        started = Settings(
            _env_file=None,
            server_home=work / "neo4j",
            bolt_port=bolt,
            http_port=_free_port(),
            neo4j_uri=f"bolt://127.0.0.1:{bolt}",
            heap="512m",
            pagecache="256m",
            auth_db=work / "auth.sqlite",
        )
        start_server(started)
        settings = started
    try:
        reused = loaded_hub(settings) if args.no_load and args.scratch_uri else None
        if reused is None:
            t = time.perf_counter()
            hub = load(settings, work)
            print(f"loaded the hub platform in {time.perf_counter() - t:.1f} s")
        else:
            hub = reused
            print("reusing the hub platform already loaded")
        r = measure(settings, hub, args.repeat, args.chromium)
        r["query"] = query_times(settings, hub, args.repeat)
    finally:
        if started is not None:
            from graph.server import stop_server

            stop_server(started)
    print(f"nodes drawn: {int(r['nodes'][0])} (2 hops around the hub, every neighbour shown)")
    for k in ("draw", "fetch", "layout", "navigation", "query"):
        v = r[k]
        print(f"{k:>10}: median {statistics.median(v):7.0f} ms   max {max(v):7.0f} ms   (n={len(v)})")


if __name__ == "__main__":
    main()
