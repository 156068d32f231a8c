"""The HTTP API: a FastAPI app over the same library functions as the CLI.

Start it with ``chainrisk serve [--host 127.0.0.1] [--port 8000]`` (or
``uvicorn chainrisk.app.api:create_app --factory``). ``GET /health`` is open; every other route
needs an API key in ``X-API-Key`` (``chainrisk keys create --role officer|analyst|operator``),
and its role decides what it may call (``docs/api.md``). OpenAPI is at ``/openapi.json``,
Swagger UI at ``/docs`` from vendored assets.

With ``settings.api_warm_up`` (on under ``chainrisk serve``), the app builds the process's chain
cache (``queries.chaincache.warm_up``: both networks, the bank's book and every firm's details on the
latest date) in a background thread as it starts, so the first officer's exposure request only walks
its chain and looks its page's details up in memory;
``/health`` says how far that warm-up is (``chain_cache``).

- ``chainrisk.app.api.errors``: JSON answers, and library errors as JSON HTTP errors;
- ``chainrisk.app.api.security``: keys, roles, the per-key rate limit, the Cypher cap;
- ``chainrisk.app.api.routes``: firms, chain exposure, circles, named queries, Cypher;
- ``chainrisk.app.api.portfolio``: the bank's book as a whole (connected clients, concentration,
  systemic firms, early warning, prospects), as the CLI's portfolio commands;
- ``chainrisk.app.api.jobs``: stress tests as queued jobs;
- ``chainrisk.app.api.docs``: ``/docs`` without a CDN or an inline script.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from chainrisk import __version__
from chainrisk.settings import Settings, get_settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, web_clock: Callable[[], float] = time.time) -> FastAPI:
    """Build the app; one :class:`graph.runner.GraphRunner` per app, opened on first use.

    ``web_clock`` (epoch seconds) dates the web page's sessions and failed logins (a test pins it).
    """
    from chainrisk.app.api.docs import install_docs
    from chainrisk.app.api.errors import JsonAnswer, install_error_handlers
    from chainrisk.app.api.jobs import StressJobs
    from chainrisk.app.api.jobs import router as jobs_router
    from chainrisk.app.api.portfolio import router as portfolio_router
    from chainrisk.app.api.routes import router
    from chainrisk.app.api.security import ApiState, TokenBuckets
    from queries.chaincache import CHAIN_CACHE

    s = settings or get_settings()
    state = ApiState(settings=s, buckets=TokenBuckets(s.api_rate_per_s, s.api_burst))
    state.jobs = StressJobs(s, state.runner)
    CHAIN_CACHE.limit_walks(s.api_chain_walks)  # the process's cache, which the routes walk through

    warm: dict[str, Any] = {"state": "off"}

    def warm_up() -> None:
        from queries.chaincache import warm_up as build

        t = time.monotonic()
        try:
            done = build(state.runner())
            _freeze_heap()
            warm.update(state="done", as_of=done.as_of.isoformat() if done.as_of else None)
        except Exception as exc:  # the API still answers; requests build the cache themselves
            warm.update(state="failed", error=f"{type(exc).__name__}: {exc}")
        warm["seconds"] = round(time.monotonic() - t, 1)

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        await _prime_routes(app_)
        if s.api_warm_up:
            warm.update(state="running")
            # a daemon: a server stopped during the warm-up does not wait for it
            threading.Thread(target=warm_up, name="chain-cache-warm-up", daemon=True).start()
        yield
        state.jobs.close()
        state.close()

    app = FastAPI(title="chainrisk", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json",
                  description="Supply-chain and guarantee-chain credit risk on a Neo4j knowledge graph. "
                              "Every route but /health needs an X-API-Key; see docs/api.md for roles.")
    app.state.api = state
    app.state.runner = state.runner  # the graph runner, for anything mounted on this app
    install_error_handlers(app)

    @app.get("/health", tags=["health"], response_model=dict[str, Any])
    def health() -> JsonAnswer:
        """Neo4j and GDS versions of the configured database, which runs are current, and the chain
        cache's warm-up (``off``, ``running``, ``done`` or ``failed``) (open)."""
        from graph.gds import gds_version
        from graph.runs import FAMILIES, current_run

        r = state.runner()
        info = r.server_info()
        # through to_json: a current run's as_of is a driver date, which FastAPI cannot serialize
        return JsonAnswer({
            "chainrisk": __version__,
            "neo4j": info.get("version"),
            "edition": info.get("edition"),
            "gds": gds_version(r),
            "database": r.database,
            "current_runs": {f: current_run(r, f) for f in FAMILIES},
            "chain_cache": dict(warm),
        })

    app.include_router(router)
    app.include_router(portfolio_router)
    app.include_router(jobs_router)
    install_docs(app)
    # The credit officers' page (login, session cookie, CSP on every answer) on the same app.
    from chainrisk.app.web import install_web

    install_web(app, s, clock=web_clock)
    return app


async def _prime_routes(app: FastAPI) -> None:
    """One request, in process, for a path that no route has, through ``app``'s router.

    Why: FastAPI builds an included router's routes (dependencies, parameter models) when a
    request first passes through it, about 10 ms of Python on this app that the first requests
    of a freshly started server all waited for. A path that matches nothing is tried against
    every router, so all of them are built here, at start.
    """
    scope: dict[str, Any] = {
        "type": "http", "method": "GET", "path": "/.prime-routes", "raw_path": b"/.prime-routes",
        "root_path": "", "query_string": b"", "headers": [], "http_version": "1.1", "scheme": "http",
        "server": ("127.0.0.1", 0), "client": ("127.0.0.1", 0),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Any) -> None:  # the 404 goes nowhere
        return None

    await app.router(scope, receive, send)


def _freeze_heap() -> None:
    """Collect, then move every object alive out of the garbage collector's sight (:func:`gc.freeze`).

    Why: a full collection walks every object the collector tracks, about 200k in a warmed-up
    server (numba, pandas and FastAPI's own, the chain cache), some 65 ms holding the interpreter
    lock, which stalls every request in flight; one fell at random among the first pages after
    start (ten hubs' first pages took 36 ms at the median in one run, 187 ms in the next). What
    start-up built lives as long as the server (dropping the chain cache left no cyclic garbage to
    collect), and what requests make later is collected as before.
    """
    gc.collect()
    gc.freeze()

