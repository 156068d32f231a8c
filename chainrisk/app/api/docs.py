"""``/docs``: Swagger UI from assets vendored in the package, with no inline script and no CDN.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and starts it with an inline script, which a
``Content-Security-Policy`` of ``default-src 'self'`` blocks (and banks run without internet
access). Here the page (``static/docs/docs.html``), its start script (``docs-init.js``) and
swagger-ui-dist's bundle and stylesheet (``static/vendor/swagger-ui/``, Apache-2.0, version in
``VERSION``) are package data served from this app; the OpenAPI document stays at
``/openapi.json``.

The app's policy (:data:`chainrisk.app.web.routes.CSP`, ``'self'`` only) holds here too, with one
widening on ``/docs`` alone: ``img-src 'self' data:`` (:func:`docs_csp`), because swagger-ui.css
draws its small icons (copy buttons, select arrows, the lock) from ``data:`` URLs, which
``img-src 'self'`` blocks. A ``data:`` image is inert (it runs no script; SVG loaded as an image
cannot); scripts and styles stay ``'self'``, with no ``'unsafe-inline'`` or ``'unsafe-eval'``.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files

from fastapi import FastAPI
from starlette.responses import HTMLResponse, Response

from chainrisk.app.api.errors import ApiError

__all__ = ["ASSETS", "docs_csp", "install_docs"]

#: The files ``/docs/assets/<name>`` serves: name -> (path under ``static/``, media type).
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("vendor/swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("vendor/swagger-ui/swagger-ui.css", "text/css; charset=utf-8"),
    "docs-init.js": ("docs/docs-init.js", "text/javascript; charset=utf-8"),
    "favicon-32x32.png": ("vendor/swagger-ui/favicon-32x32.png", "image/png"),
}


def docs_csp() -> str:
    """The app's Content-Security-Policy with ``data:`` images allowed: ``/docs`` only.

    >>> "img-src 'self' data:;" in docs_csp() and "unsafe" not in docs_csp()
    True
    """
    from chainrisk.app.web.routes import CSP

    widened = CSP.replace("img-src 'self';", "img-src 'self' data:;")
    if widened == CSP:  # the app's policy changed shape: fail loudly rather than serve it unwidened
        raise RuntimeError(f"no img-src 'self' directive to widen in {CSP!r}")
    return widened


@cache
def _static(path: str) -> bytes:
    return files("chainrisk.app").joinpath("static", *path.split("/")).read_bytes()


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets on ``app`` (create the app with ``docs_url=None``)."""
    page = _static("docs/docs.html").decode("utf-8").replace(
        "{openapi_url}", html.escape(app.openapi_url or "/openapi.json", quote=True))

    policy = docs_csp()

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        # the page's own policy: the app's security middleware keeps a policy a route sets
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        if name not in ASSETS:  # a fixed list: nothing the client sends becomes a path
            raise ApiError(404, "NotFound", f"no asset {name!r}")
        path, media = ASSETS[name]
        return Response(_static(path), media_type=media, headers={"Cache-Control": "max-age=86400"})
