"""JSON answers and JSON errors of the HTTP API.

Every answer is JSON (:class:`JsonAnswer`: values with no JSON form become text, NaN ``null``)
and every error is ``{"error": ..., "detail": ...}`` with a status taken here, at the edge:

=============================================  ======
library error                                  status
=============================================  ======
``InvalidUSCC`` (names the expected check)     422
``InvalidQueryParameter``, ``ScenarioError``   422
``UnsafeQuery`` (an analyst's query refused)   422
``UnknownFirm``                                404
``KeyRefused`` (missing, unknown, expired ...)  401
other ``DataError`` / ``ConfigError``          400
``ServerUnavailable``                          503
``QueryFailed`` on ``POST /cypher``            400 (the analyst's query); elsewhere 502
other ``GraphError``                           502
=============================================  ======

>>> to_json({"a": float("nan"), "d": date(2024, 6, 30), "n": [pd.NA, pd.NaT, pd.Timestamp("2024-06-30")]})
{'a': None, 'd': '2024-06-30', 'n': [None, None, '2024-06-30T00:00:00']}
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from chainrisk.app.auth.keys import KeyRefused
from chainrisk.errors import (
    ChainriskError,
    ConfigError,
    DataError,
    GraphError,
    InvalidQueryParameter,
    InvalidUSCC,
    QueryError,
    QueryFailed,
    ScenarioError,
    ServerUnavailable,
    UnknownFirm,
    UnsafeQuery,
)

__all__ = ["ApiError", "JsonAnswer", "error_answer", "install_error_handlers", "json_bytes", "status_for",
           "to_json"]


def to_json(value: Any) -> Any:
    """``value`` with JSON's types only: numpy scalars as Python, NaN and infinities as ``None``,
    dates and times (Python's, pandas' and Neo4j's) as ISO text, anything else unknown as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    if value is pd.NA or value is pd.NaT:  # NaT is a datetime, NA refuses to be a bool
        return None
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if hasattr(value, "iso_format"):  # the driver's temporal types
        return value.iso_format()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return to_json(value.tolist())
    return str(value)


def json_bytes(value: Any) -> bytes:
    """The body :class:`JsonAnswer` sends for ``value`` (UTF-8 JSON through :func:`to_json`).

    Most answers hold no NaN: they go straight to the C encoder, which calls :func:`to_json` only
    for the values JSON has no type for; one with a NaN (the encoder refuses it) is converted
    whole first. The same bytes either way (but for ``True``, ``False`` and ``None`` as dict keys,
    which the encoder writes as JSON does), without a Python pass over every value of a large page.

    >>> json_bytes({"a": [1, 2.5, None], "d": date(2024, 6, 30)}), json_bytes({"x": float("nan")})
    (b'{"a": [1, 2.5, null], "d": "2024-06-30"}', b'{"x": null}')
    """
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=to_json).encode("utf-8")
    except (ValueError, TypeError):
        return json.dumps(to_json(value), ensure_ascii=False, allow_nan=False).encode("utf-8")


class JsonAnswer(Response):
    """A JSON response through :func:`to_json` (Starlette's own refuses NaN and dates)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


class ApiError(Exception):
    """An error the API answers as ``{"error": error, "detail": detail, **extra}`` with ``status``."""

    def __init__(self, status: int, error: str, detail: str, *, headers: dict[str, str] | None = None,
                 **extra: Any):
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def error_answer(status: int, error: str, detail: Any, headers: dict[str, str] | None = None,
                 **extra: Any) -> JsonAnswer:
    return JsonAnswer({"error": error, "detail": detail, **extra}, status_code=status, headers=headers)


def status_for(exc: ChainriskError, path: str = "") -> int:
    """The HTTP status of a library error (the table of the module docstring)."""
    if isinstance(exc, KeyRefused):
        return 401
    if isinstance(exc, UnknownFirm):
        return 404
    if isinstance(exc, InvalidUSCC | InvalidQueryParameter | ScenarioError | UnsafeQuery):
        return 422
    if isinstance(exc, ServerUnavailable):
        return 503
    if isinstance(exc, QueryFailed) and path == "/cypher":
        return 400  # the analyst's own query: its syntax, its timeout, its memory
    if isinstance(exc, GraphError):
        return 502
    if isinstance(exc, DataError | ConfigError):
        return 400
    if isinstance(exc, QueryError):
        return 422
    return 500


def install_error_handlers(app: FastAPI) -> None:
    """Answer library errors, request validation and unknown routes as JSON errors."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return error_answer(exc.status, exc.error, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(ChainriskError)
    async def _domain_error(request: Request, exc: ChainriskError) -> Response:
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidUSCC) and exc.expected_check is not None:
            extra["expected_check"] = exc.expected_check
        if isinstance(exc, UnsafeQuery):
            extra["layer"] = exc.layer
        headers = {"WWW-Authenticate": "X-API-Key"} if isinstance(exc, KeyRefused) else None
        return error_answer(status_for(exc, request.url.path), type(exc).__name__, str(exc), headers,
                            **extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> Response:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
        return error_answer(422, "InvalidRequest", "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> Response:
        names = {404: "NotFound", 405: "MethodNotAllowed"}
        return error_answer(exc.status_code, names.get(exc.status_code, "HTTPError"), exc.detail,
                            dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        # the traceback goes to the server's log (Starlette re-raises it); the client learns the kind only
        return error_answer(500, "InternalError", f"unexpected {type(exc).__name__}")
