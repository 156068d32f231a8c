"""The HTTP API: a small FastAPI app over the same library functions as the CLI.

Run it with ``uvicorn chainrisk.app.api:create_app --factory --host 127.0.0.1 --port 8000``.
Domain errors become HTTP errors here, at the edge: a server that is down is 503,
anything else the library refuses is 4xx with the one-line message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chainrisk import __version__
from chainrisk.errors import ChainriskError, DataError, GraphError, ServerUnavailable
from chainrisk.settings import Settings, get_settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; one :class:`graph.runner.GraphRunner` per app, opened lazily."""
    s = settings or get_settings()
    state: dict[str, Any] = {}

    def runner() -> Any:
        from graph.runner import GraphRunner

        if "runner" not in state:
            state["runner"] = GraphRunner.from_settings(s)
        return state["runner"]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if "runner" in state:
            state.pop("runner").close()

    app = FastAPI(title="chainrisk", version=__version__, lifespan=lifespan)
    app.state.runner = runner

    @app.exception_handler(ChainriskError)
    async def _domain_error(_: Request, exc: ChainriskError) -> JSONResponse:
        status = 503 if isinstance(exc, ServerUnavailable) else 400 if isinstance(exc, DataError) else 422
        if isinstance(exc, GraphError) and status == 422:
            status = 502
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=status)

    @app.get("/health")
    def health() -> dict[str, Any]:
        """Neo4j and GDS versions of the configured database, and which runs are current."""
        from graph.gds import gds_version
        from graph.runs import FAMILIES, current_run

        r = runner()
        info = r.server_info()
        return {
            "chainrisk": __version__,
            "neo4j": info.get("version"),
            "edition": info.get("edition"),
            "gds": gds_version(r),
            "database": r.database,
            "current_runs": {f: current_run(r, f) for f in FAMILIES},
        }

    from chainrisk.app.web import install_web

    install_web(app, s)
    return app
