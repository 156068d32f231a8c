"""The web page's routes: login and logout, the page itself, its JSON under ``/ui/api``.

Open routes: ``GET /login``, ``POST /login`` and ``/static/...``. Everything else needs a live
session: the page (``/``) redirects to ``/login``, ``/ui/api/...`` answers 401. Each
``/ui/api`` call must also carry the session's CSRF token in ``X-CSRF-Token`` (403 without), and
``POST /logout`` carries it as a form field. The JSON endpoints call the query library
(:mod:`chainrisk.app.web.data`, :mod:`queries`) with the app's one runner.
"""

from __future__ import annotations

import hmac
import html
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chainrisk.app.web import sessions, users
from chainrisk.app.web.data import exposure_csv, firm_card, firm_rows, guarantee_group, neighbourhood
from chainrisk.settings import Settings

__all__ = ["CSP", "SESSION_COOKIE", "build_router", "install_security_headers"]

SESSION_COOKIE = "chainrisk_session"
PRE_COOKIE = "chainrisk_pre"
CSRF_HEADER = "X-CSRF-Token"
#: The login and logout forms are a few short fields.
MAX_FORM_BYTES = 8192
STATIC = Path(__file__).parent / "static"
_LOGIN_HTML = (STATIC / "login.html").read_text(encoding="utf-8")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(resp: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    resp.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )


def build_router(settings: Settings, runner: Callable[[], Any], *,
                 clock: Callable[[], float] = time.time) -> APIRouter:
    """The page's routes for ``settings`` (store, idle expiry) and the app's runner factory.

    ``clock`` (epoch seconds) dates sessions and failed logins: a test pins it, so that the login
    backoff it checks does not run out while a busy machine is slow between two tries.
    """
    db = settings.auth_db
    idle_s = settings.web_session_idle_min * 60.0
    secret_box: dict[str, bytes] = {}

    def secret() -> bytes:
        # read (or created) on first use, so an app that never serves the page writes no file
        if "s" not in secret_box:
            secret_box["s"] = sessions.load_secret(db)
        return secret_box["s"]

    def current(request: Request) -> sessions.Session | None:
        sid = sessions.unsign(secret(), "session", request.cookies.get(SESSION_COOKIE))
        return sessions.touch_session(db, sid, idle_s, now=clock()) if sid else None

    def api_session(request: Request) -> sessions.Session:
        s = current(request)
        if s is None:
            raise HTTPException(401, "log in first")
        if not hmac.compare_digest(request.headers.get(CSRF_HEADER, ""), s.csrf):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
        return s

    def download_session(request: Request) -> sessions.Session:
        # a plain download link cannot send a header; the GET changes nothing, a cross-site page
        # cannot read its answer, and SameSite=Strict keeps the cookie off cross-site navigations
        s = current(request)
        if s is None:
            raise HTTPException(401, "log in first")
        return s

    auth = [Depends(api_session)]
    r = APIRouter()

    def login_page(
        request: Request, message: str = "", status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        pre = secrets.token_urlsafe(24)
        token = sessions.sign(secret(), "csrf", pre)
        body = _LOGIN_HTML.replace("{{csrf}}", html.escape(token, quote=True)).replace(
            "{{message}}", html.escape(message)
        )
        resp = Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=headers)
        _set_cookie(resp, request, PRE_COOKIE, f"{pre}.{sessions.sign(secret(), 'pre', pre)}", 3600)
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @r.get("/login", include_in_schema=False)
    def login_form(request: Request) -> Response:
        return login_page(request)

    async def read_form(request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            raise HTTPException(413, "form too large")
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}

    @r.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await read_form(request)
        pre = sessions.unsign(secret(), "pre", request.cookies.get(PRE_COOKIE))
        if pre is None or not hmac.compare_digest(form.get("csrf", ""), sessions.sign(secret(), "csrf", pre)):
            return login_page(request, "The form expired; please try again.", 403)
        name, password = form.get("username", "")[:64], form.get("password", "")[:1024]
        addr = request.client.host if request.client else "unknown"
        keys = [f"user:{name}", f"addr:{addr}"]
        # admitted and counted as a failure in one step: parallel tries cannot all pass the check
        wait = await run_in_threadpool(sessions.claim_try, db, keys, now=clock())
        if wait > 0:
            return login_page(
                request,
                f"Too many failed logins; try again in {int(wait) + 1} s.",
                429,
                {"Retry-After": str(int(wait) + 1)},
            )
        if not await run_in_threadpool(users.authenticate, db, name, password):
            return login_page(request, "Wrong user name or password.", 401)  # counted already
        await run_in_threadpool(sessions.forgive_try, db, user=keys[0], others=keys[1:])
        s = await run_in_threadpool(sessions.create_session, db, name, now=clock())
        resp = RedirectResponse("/", status_code=303)
        _set_cookie(
            resp, request, SESSION_COOKIE, f"{s.sid}.{sessions.sign(secret(), 'session', s.sid)}", None
        )
        resp.delete_cookie(PRE_COOKIE, path="/")
        return resp

    @r.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await read_form(request)
        s = current(request)
        if s is None:
            return RedirectResponse("/login", status_code=303)
        if not hmac.compare_digest(form.get("csrf", ""), s.csrf):
            raise HTTPException(403, "missing or wrong CSRF token")
        sessions.delete_session(db, s.sid)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @r.get("/", include_in_schema=False)
    def page(request: Request) -> Response:
        if current(request) is None:
            return RedirectResponse("/login", status_code=303)
        return FileResponse(
            STATIC / "index.html",
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )

    @r.get("/ui/api/me", include_in_schema=False)
    def me(request: Request) -> dict[str, Any]:
        # the one JSON call without the header: it is how the page learns its token (same-origin
        # only: a cross-site page cannot read the answer, and SameSite=Strict keeps the cookie home)
        s = current(request)
        if s is None:
            raise HTTPException(401, "log in first")
        return {"user": s.user, "csrf": s.csrf, "idle_minutes": settings.web_session_idle_min}

    @r.get("/ui/api/firms", include_in_schema=False, dependencies=auth)
    def search(q: Annotated[str, Query(min_length=1, max_length=100)]) -> dict[str, Any]:
        from queries.catalogue import records, resolve_as_of, run_query

        frame = run_query(runner(), "firm_search", {"q": q.strip(), "limit": 50})
        # every answer states the date it reads at, and each firm's data dates with stale flags
        day = resolve_as_of(runner(), None)
        found = records(frame)
        dates = firm_rows(runner(), [str(f["uscc"]) for f in found], day)
        return {"as_of": day.isoformat(), "firms": [{**dates.get(str(f["uscc"]), {}), **f} for f in found]}

    @r.get("/ui/api/firms/{uscc}", include_in_schema=False, dependencies=auth)
    def card(uscc: str) -> dict[str, Any]:
        return firm_card(runner(), uscc)

    @r.get("/ui/api/firms/{uscc}/exposure", include_in_schema=False, dependencies=auth)
    def exposure(
        uscc: str,
        hops: Annotated[int, Query(ge=1, le=5)] = 3,
        page: Annotated[int, Query(ge=1)] = 1,
        page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        from queries.exposure import chain_exposure

        return chain_exposure(runner(), uscc, hops=hops, page=page, page_size=page_size).to_dict()

    @r.get(
        "/ui/api/firms/{uscc}/exposure.csv", include_in_schema=False, dependencies=[Depends(download_session)]
    )
    def exposure_file(uscc: str, hops: Annotated[int, Query(ge=1, le=5)] = 3) -> Response:
        text = exposure_csv(runner(), uscc, hops=hops)
        safe = "".join(c for c in uscc if c.isalnum())
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="chain-exposure-{safe}.csv"'},
        )

    @r.get("/ui/api/firms/{uscc}/group", include_in_schema=False, dependencies=auth)
    def group(uscc: str) -> dict[str, Any]:
        return guarantee_group(runner(), uscc)

    @r.get("/ui/api/firms/{uscc}/graph", include_in_schema=False, dependencies=auth)
    def drawing(
        uscc: str,
        hops: Annotated[int, Query(ge=1, le=3)] = 1,
        relations: Annotated[str, Query(max_length=40)] = "supply,guarantee",
        cap: Annotated[int, Query(ge=1, le=1000)] = 25,
    ) -> dict[str, Any]:
        rels = [x for x in relations.split(",") if x]
        return neighbourhood(runner(), uscc, hops=hops, relations=rels, cap=cap)

    return r


#: Content-Security-Policy of every answer: only this origin's files, no inline code or styles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def install_security_headers(app: FastAPI) -> None:
    """Set the CSP and the other hardening headers on every response of ``app``."""
    app.add_middleware(SecurityHeaders)


class SecurityHeaders:
    """ASGI middleware: the hardening headers on every HTTP response; a route that sets its own
    ``Content-Security-Policy`` (a docs page with a hashed script) keeps it.

    A plain ASGI middleware, not ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware``
    runs the route in a task of its own and streams the body through a memory channel, several
    hundred microseconds of Python on every answer, for four headers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
            await send(message)

        await self.app(scope, receive, send_with_headers)
