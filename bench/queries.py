"""Query benchmark: chain exposure (hubs and median firms, one client and 8 at once) and guarantee circles.

Prints figures; never asserts a time. Runs against a scratch server home of its own
(``<work>/neo4j``, free ports), never the development server; the dataset is generated (or
given with ``--dataset``) and bulk-imported once, then reused while ``<work>/loaded.json`` names it.

    python bench/queries.py --firms 20000                       # ~5 min on 2 shared cores
    python bench/queries.py --dataset out/eval20k --work out/bench-q20k
    python bench/queries.py --firms 100000 --heap 1g --pagecache 1g

Figures (3 hops, first page of 100 rows, the bank = every lender):

1. Baseline in the same process: ``chain_exposure(..., cache=None)``, the reference path (one hop
   query per level in the database, ``firm_exposure`` over every firm reached), on a few hub and
   median firms; then the same firms through the process cache: the ratio.
2. Warm-up of the cache (``queries.chaincache.warm_up``): the active networks, the bank's book and
   every firm's details (the details table, with its size), once per date and ingest.
3. p50 / p99 for hubs (the 1% of firms with the most supply links) and median firms (around the
   median supply degree): the first page of a chain not walked yet ("walk": neither the chain nor
   per-firm details kept), and again ("kept"),
   one client and 8 client threads at once (library level, one driver shared, as in the API).
4. Through the HTTP API (``GET /firms/{uscc}/exposure``, uvicorn on loopback, 8 clients, one
   officer key each): the server warms its chain cache at start (``CHAINRISK_API_WARM_UP``) and
   the bench waits for ``/health`` to say it is done; then every sampled firm once ("walk") and the
   last 16 again ("kept": the server's LRU holds 32 chains, so asking for all 40 again would only
   walk them again), then those 16 eight times over ("kept x8"); with the server process's CPU
   time per request (from ``/proc``, Linux).
5. ``guarantee_circles`` over the whole graph: wall time.
6. ``portfolio``: the portfolio questions at the bank = every lender. Top 20 systemic firms by
   ESRI (no stress run): first call with an empty chain cache (networks read), then again (the
   list is kept per ingest and date), and with ``--esri-baseline`` the former method in the same
   process (the whole snapshot read, ``snapshot_esri`` on every firm; minutes at 20k firms).
   Prospects at 1 and 2 hops: the reference path (``cache=None``, one query per hop and batch,
   per-prospect subqueries) unless ``--baseline 0``, then the cached network (cold, then kept).
   Connected clients, early warning, concentration: one call each. Then, as the API answers
   them, the cache emptied and ``warm_up`` run (the API's start), and each question's first call.

    python bench/queries.py --env-server --parts portfolio      # the server the environment names
    python bench/queries.py --env-server --parts library,http,portfolio --hubs 40 --median 40
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chainrisk.settings import Settings  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(home: Path, heap: str, pagecache: str) -> Settings:
    bolt = _free_port()
    return Settings(_env_file=None, server_home=home, bolt_port=bolt, http_port=_free_port(),
                    neo4j_uri=f"bolt://127.0.0.1:{bolt}", heap=heap, pagecache=pagecache)


def _pct(xs: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of xs, in ms."""
    s = sorted(xs)
    return 1000 * s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _fmt(xs: Sequence[float]) -> str:
    return f"p50 {_pct(xs, 0.5):8.1f} ms  p99 {_pct(xs, 0.99):8.1f} ms  (n={len(xs)})"


def _timed(f: Callable[[], Any]) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def _concurrent(firms: Sequence[str], clients: int, call: Callable[[str], Any]) -> tuple[list[float], float]:
    """Every firm once, spread over ``clients`` threads; latencies and the wall time."""
    lat: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(mine: Sequence[str]) -> None:
        for f in mine:
            try:
                dt = _timed(lambda f=f: call(f))
            except BaseException as exc:  # reported after the run
                errors.append(exc)
                continue
            with lock:
                lat.append(dt)

    threads = [threading.Thread(target=work, args=(firms[i::clients],)) for i in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    return lat, time.perf_counter() - t


def _load(dataset: Path, s: Settings, work: Path) -> None:
    """Bulk-import ``dataset`` unless ``<work>/loaded.json`` says it is already in the database."""
    from graph import server
    from ingest.offline_import import bulk_load

    marker = work / "loaded.json"
    want = {"dataset": str(dataset.resolve())}
    if marker.exists() and json.loads(marker.read_text()) == want:
        # a server left running (--keep-server) listens on the last run's ports: start it on this run's
        server.stop_server(s)
        server.start_server(s)
        print(f"reusing the database in {s.server_home} ({dataset})")
        return
    server.stop_server(s)
    t = time.monotonic()
    report = bulk_load(dataset, settings=s, force=True)  # starts the server and applies the schema
    print(f"bulk import of {dataset}: {report.totals()['read']:,} rows in {time.monotonic() - t:.0f} s")
    marker.write_text(json.dumps(want))


def _sample(runner: Any, n_hubs: int, n_median: int) -> tuple[list[str], list[str]]:
    rows = runner.read("MATCH (f:Firm) WHERE NOT coalesce(f.external, false) "
                       "RETURN f.uscc AS u, COUNT { (f)-[:SUPPLIES]-() } AS d ORDER BY d DESC, u")
    top = [r["u"] for r in rows[: max(1, len(rows) // 100)]]
    mid = len(rows) // 2
    median = [r["u"] for r in rows[max(0, mid - n_median // 2): mid + (n_median + 1) // 2]]
    # hubs spread over the top 1%, not only its head
    step = max(1, len(top) // n_hubs)
    print(f"{len(rows):,} firms; hub supply degree {rows[0]['d']}..{rows[len(top) - 1]['d']}, "
          f"median {rows[mid]['d']}")
    return top[::step][:n_hubs], median


def _cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far; ``None`` where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per_request(before: float | None, after: float | None, n: int) -> str:
    return "n/a" if before is None or after is None or n == 0 else f"{1000 * (after - before) / n:.1f} ms"


def _http(s: Settings, runner: Any, firms: dict[str, list[str]], clients: int, hops: int,
          walks: int = 0) -> None:
    try:
        from chainrisk.app.api import create_app
        from chainrisk.app.auth.keys import create_key
    except ImportError as exc:
        print(f"[http] skipped: the app has no API with keys here ({exc})")
        return
    # the OpenAPI paths: app.routes holds included routers unexpanded on recent FastAPI
    paths = set(create_app(s).openapi().get("paths", {}))
    if "/firms/{uscc}/exposure" not in paths:
        print("[http] skipped: the app has no GET /firms/{uscc}/exposure route here")
        return
    import urllib.request

    auth = Path(s.server_home) / "bench-auth.sqlite"
    keys = [create_key(auth, "officer").key for _ in range(clients)]
    port = _free_port()
    # the server warms its chain cache at start, as under `chainrisk serve`
    env = {**os.environ, "NEO4J_URI": s.neo4j_uri, "CHAINRISK_AUTH_DB": str(auth),
           "CHAINRISK_API_RATE_PER_S": "100000", "CHAINRISK_API_BURST": "100000",
           "CHAINRISK_API_WARM_UP": "1", "CHAINRISK_API_CHAIN_WALKS": str(walks)}
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "chainrisk.app.api:create_app", "--factory",
                             "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                            env=env, cwd=ROOT)
    try:
        warm: dict[str, Any] = {}
        for _ in range(1200):  # at most ~10 min for the start and the warm-up
            try:
                warm = json.loads(urllib.request.urlopen(f"{base}/health", timeout=5).read())["chain_cache"]
                if warm.get("state") != "running":
                    break
            except OSError:
                pass
            time.sleep(0.5)
        print(f"[http] server up and chain cache {warm.get('state')} after {time.perf_counter() - t0:.1f} s "
              f"(warm-up {warm.get('seconds')} s); walks at once: {walks or 'one per core'}")
        where = {f: i for i, f in enumerate(f for fs in firms.values() for f in fs)}

        def call(f: str) -> None:
            req = urllib.request.Request(f"{base}/firms/{f}/exposure?hops={hops}&page=1",
                                         headers={"X-API-Key": keys[where[f] % clients]})
            with urllib.request.urlopen(req, timeout=300) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"{f}: HTTP {resp.status}")
                json.loads(resp.read())

        for label, fs in firms.items():
            c0 = _cpu_s(proc.pid)
            walk, wall = _concurrent(fs, clients, call)
            c1 = _cpu_s(proc.pid)
            # the server keeps 32 chains (LRU): ask again for at most that many, most recent first
            again = fs[-min(len(fs), 32 // 2):]
            kept, wall2 = _concurrent(again, clients, call)
            c2 = _cpu_s(proc.pid)
            print(f"[http {clients} clients] {label:<6} walk {_fmt(walk)} | kept {_fmt(kept)} "
                  f"({len(fs) / wall:.1f} / {len(again) / wall2:.1f} requests/s; server CPU a request "
                  f"{_per_request(c0, c1, len(fs))} / {_per_request(c1, c2, len(again))})")
            # the kept pages once more, many times over: a steadier p50 / p99 than 16 requests give
            many = [f for _ in range(8) for f in again]
            loop, wall3 = _concurrent(many, clients, call)
            c3 = _cpu_s(proc.pid)
            cpu = _per_request(c2, c3, len(many))
            print(f"[http {clients} clients] {label:<6} kept x8 {_fmt(loop)} "
                  f"({len(many) / wall3:.1f} requests/s; server CPU a request {cpu})")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--firms", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--months", type=int, default=13)
    ap.add_argument("--dataset", type=Path, help="a generated dataset to use instead of generating one")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "chainrisk-bench-queries")
    ap.add_argument("--heap", default="512m")
    ap.add_argument("--pagecache", default="256m")
    ap.add_argument("--hubs", type=int, default=40, help="hub firms sampled from the top 1%%")
    ap.add_argument("--median", type=int, default=40, help="firms around the median supply degree")
    ap.add_argument("--baseline", type=int, default=3, help="firms of each kind through the reference path")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--hops", type=int, default=3)
    ap.add_argument("--api-walks", default="0",
                    help="http: the API's CHAINRISK_API_CHAIN_WALKS, comma separated for one run each "
                         "(0: one per core, the default; e.g. 64,0 compares walks side by side with it)")
    ap.add_argument("--keep-server", action="store_true", help="leave the bench server running")
    ap.add_argument("--parts", default="library,http,circles",
                    help="which figures (comma separated): library (1-3), http (4), circles (5), "
                         "portfolio (6)")
    ap.add_argument("--env-server", action="store_true",
                    help="use the running server the environment's settings name, with the data it holds "
                         "(no scratch server, no import, left running)")
    ap.add_argument("--esri-baseline", action="store_true",
                    help="portfolio: also time the former systemic method (whole snapshot, every "
                         "firm's ESRI)")
    args = ap.parse_args(argv)

    from graph import server
    from graph.runner import GraphRunner
    from ingest.generate import generate

    parts = {p.strip() for p in args.parts.split(",")}
    if args.env_server:
        s = Settings()
        print(f"load average at start {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); the running server "
              f"of the environment")
        with GraphRunner.from_settings(s) as g:
            _parts(g, s, parts, args)
        print(f"load average at end {os.getloadavg()[0]:.1f}")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    dataset = args.dataset or args.work / f"g{args.firms}-s{args.seed}-m{args.months}"
    if not (dataset / "dataset.yaml").exists():
        t = time.monotonic()
        generate(dataset, firms=args.firms, seed=args.seed, months=args.months)
        print(f"generated {args.firms:,} firms in {time.monotonic() - t:.1f} s -> {dataset}")
    s = _settings(args.work / "neo4j", args.heap, args.pagecache)
    print(f"load average at start {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores); "
          f"server heap {args.heap}, page cache {args.pagecache}")
    try:
        _load(dataset, s, args.work)
        with GraphRunner.from_settings(s) as g:
            _parts(g, s, parts, args)
        print(f"load average at end {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep_server:
            server.stop_server(s)
        shutil.rmtree(s.server_home / "import", ignore_errors=True)


def _parts(g: Any, s: Settings, parts: set[str], args: argparse.Namespace) -> None:
    """The figures ``parts`` names, on the server ``g`` reads (``s`` its settings)."""
    from queries.circles import guarantee_circles

    if parts & {"library", "http"}:
        hubs, median = _sample(g, args.hubs, args.median)
        if "library" in parts:
            _library(g, hubs, median, args)
        if "http" in parts:
            for walks in (int(w) for w in args.api_walks.split(",")):
                _http(s, g, {"hub": hubs, "median": median}, args.clients, args.hops, walks)
    if "portfolio" in parts:
        _portfolio(g, args)
    if "circles" in parts:
        for how in ("networkx", "gds"):
            t = time.perf_counter()
            net = guarantee_circles(g, lenders=[], components=how)
            print(f"[circles {how}] {len(net.groups):,} groups, {len(net.circles):,} circles in "
                  f"{time.perf_counter() - t:.1f} s")


def _library(g: Any, hubs: list[str], median: list[str], args: argparse.Namespace) -> None:
    """Figures 1-3: the reference path, the warm-up, and the cache at one and several clients."""
    from queries.chaincache import ChainCache, warm_up
    from queries.exposure import chain_exposure

    kw: dict[str, Any] = {"hops": args.hops, "page": 1, "page_size": 100, "lenders": []}
    cache = ChainCache(chains=4 * (len(hubs) + len(median)))

    # 2. warm-up (what the API's start builds), then a first chain on a firm outside both samples
    t = time.perf_counter()
    state = warm_up(g, cache, lenders=[])
    t1 = time.perf_counter()
    chain_exposure(g, hubs[-1] if len(hubs) > 1 else median[-1], cache=cache, **kw)
    table = cache.held_table(g, state, state.as_of) if hasattr(cache, "held_table") else None
    held = (f"; details table {len(table):,} firms, {table.nbytes / 2**20:.1f} MiB "
            f"({table.nbytes / max(1, len(table)):.0f} B a firm)" if table is not None else "")
    print(f"[warm-up] warm_up {t1 - t:.1f} s + first chain {time.perf_counter() - t1:.1f} s{held}")

    # 1. baseline against the process cache, same firms
    for label, fs in (("hub", hubs[: args.baseline]), ("median", median[: args.baseline])):
        if not fs:
            continue  # --baseline 0
        base = [_timed(lambda f=f: chain_exposure(g, f, cache=None, **kw)) for f in fs]
        walk = [_timed(lambda f=f: chain_exposure(g, f, cache=cache, **kw)) for f in fs]
        sizes = [sum(chain_exposure(g, f, cache=cache, **kw).counts.values()) for f in fs]
        print(f"[baseline] {label:<6} reference path median {statistics.median(base):6.2f} s, "
              f"cache (walk) {statistics.median(walk) * 1000:7.1f} ms: "
              f"{statistics.median(base) / statistics.median(walk):,.0f}x "
              f"(chains of {min(sizes):,}..{max(sizes):,} rows)")

    # 3. sequential and concurrent, walk then kept
    samples = {"hub": hubs, "median": median}
    for label, fs in samples.items():
        # a first walk: neither the chain nor its firms' per-firm details kept (what warm_up
        # builds stays, as in the API)
        cache.chains.clear()
        cache.firm_details.clear()
        walk = [_timed(lambda f=f: chain_exposure(g, f, cache=cache, **kw)) for f in fs]
        kept = [_timed(lambda f=f: chain_exposure(g, f, cache=cache, **kw)) for f in fs]
        print(f"[1 client] {label:<6} walk {_fmt(walk)} | kept {_fmt(kept)}")
    for label, fs in samples.items():
        cache.chains.clear()
        cache.firm_details.clear()
        walk, wall = _concurrent(fs, args.clients, lambda f: chain_exposure(g, f, cache=cache, **kw))
        kept, wall2 = _concurrent(fs, args.clients, lambda f: chain_exposure(g, f, cache=cache, **kw))
        print(f"[{args.clients} clients] {label:<6} walk {_fmt(walk)} | kept {_fmt(kept)} "
              f"({len(fs) / wall:.1f} / {len(fs) / wall2:.1f} requests/s)")


def _portfolio(g: Any, args: argparse.Namespace) -> None:
    """Figure 6: the portfolio questions, the reference path first where there is one."""
    from queries.chaincache import CHAIN_CACHE, ChainCache, warm_up
    from queries.concentration import concentration
    from queries.connected import connected_clients
    from queries.prospects import prospects
    from queries.systemic import top_systemic
    from queries.warning import early_warning

    def run(label: str, call: Callable[[], Any], base: float | None = None) -> float:
        t = time.perf_counter()
        got = call()
        dt = time.perf_counter() - t
        size = len(got) if hasattr(got, "__len__") else len(got.clients)
        ratio = f" ({base / dt:,.1f}x the reference)" if base else ""
        print(f"[portfolio] {label:<34} {dt:8.2f} s  ({size:,} rows){ratio}", flush=True)
        return dt

    base = None
    if args.esri_baseline:
        from contagion.esri import snapshot_esri
        from ingest.snapshot.from_graph import read_snapshot
        from queries.catalogue import resolve_as_of

        def former() -> Any:
            snap = read_snapshot(g, as_of=resolve_as_of(g, None))
            return snapshot_esri(snap).esri

        base = run("systemic: former (snapshot, all)", former)
    CHAIN_CACHE.clear()
    run("systemic top 20: cold", lambda: top_systemic(g, top=20, method="esri", lenders=[]), base)
    run("systemic top 20: kept", lambda: top_systemic(g, top=20, method="esri", lenders=[]), base)
    for hops in (1, 2):
        ref = None
        if args.baseline > 0:
            ref = run(f"prospects {hops} hop(s): reference", partial(prospects, g, hops=hops, lenders=[],
                                                                      cache=None))
        fast = partial(prospects, g, hops=hops, lenders=[], cache=ChainCache())
        run(f"prospects {hops} hop(s): cold cache", fast, ref)
        run(f"prospects {hops} hop(s): kept network", fast, ref)
    run("connected clients", lambda: connected_clients(g, tier1_capital=1e10, lenders=[]))
    run("early warning", lambda: early_warning(g, lenders=[]))
    run("concentration", lambda: concentration(g, lenders=[]).summary)
    # in a process warmed up as the API's start does (networks, book and, where the code has one,
    # the details table): each question's first call
    CHAIN_CACHE.clear()
    t = time.perf_counter()
    warm_up(g, lenders=[])
    print(f"[portfolio] warm-up (the API's start)          {time.perf_counter() - t:8.2f} s", flush=True)
    run("systemic top 20: after warm-up", lambda: top_systemic(g, top=20, method="esri", lenders=[]))
    run("prospects 1 hop: after warm-up", partial(prospects, g, hops=1, lenders=[]))
    run("connected clients: after warm-up", lambda: connected_clients(g, tier1_capital=1e10, lenders=[]))
    run("early warning: after warm-up", lambda: early_warning(g, lenders=[]))
    run("concentration: after warm-up", lambda: concentration(g, lenders=[]).summary)


if __name__ == "__main__":
    main()
