"""The credit officers' web page, served by the HTTP API's app at ``/``.

:func:`install_web` adds to an app: the login form (``/login``), logout, the page (``/``), its
JSON under ``/ui/api/...`` (session cookie plus CSRF header, never API keys), the static files
(``/static/...``: HTML, JS, CSS and the vendored Cytoscape.js; no build step, no CDN), and the
security headers of every answer (a ``Content-Security-Policy`` of ``'self'`` without
``'unsafe-inline'`` or ``'unsafe-eval'``, ``nosniff``, no framing, no referrer).

- ``chainrisk.app.web.users``: users and their scrypt password hashes;
- ``chainrisk.app.web.sessions``: the session secret, sessions, CSRF tokens, login throttling;
- ``chainrisk.app.web.data``: what the page shows, from the query library;
- ``chainrisk.app.web.routes``: the routes.

Users are created with ``chainrisk users add NAME``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chainrisk.settings import Settings

__all__ = ["STATIC_DIR", "install_web"]

STATIC_DIR = Path(__file__).parent / "static"


def install_web(app: FastAPI, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
    """Add the page's routes, static files and security headers to ``app``.

    ``app.state.runner`` must be a callable giving the app's :class:`graph.runner.GraphRunner`
    (``chainrisk.app.api.create_app`` sets it). ``clock`` (epoch seconds) dates sessions and
    failed logins.
    """
    from chainrisk.app.web.routes import build_router, install_security_headers

    def runner() -> Any:
        return app.state.runner()

    app.include_router(build_router(settings, runner, clock=clock))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_security_headers(app)
