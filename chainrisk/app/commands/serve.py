"""``chainrisk serve``: the HTTP API (and whatever is mounted on its app) under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Mount the ``serve`` command on ``app``."""

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")]
        = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
        warm_up: Annotated[bool, typer.Option(
            help="Build the chain cache in the background at start (/health says when it is done).")]
        = True,
    ) -> None:
        """Serve the HTTP API (OpenAPI at /openapi.json, Swagger UI at /docs); Ctrl-C stops it.

        Every route but /health needs an X-API-Key from `chainrisk keys create`. Put a TLS proxy in
        front of it for anything beyond this machine.

        Example: chainrisk serve --host 127.0.0.1 --port 8000
        """
        import uvicorn

        from chainrisk.app.api import create_app
        from chainrisk.settings import get_settings

        settings = get_settings().model_copy(update={"api_warm_up": warm_up})
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                    proxy_headers=False, server_header=False)
