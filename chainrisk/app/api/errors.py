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

import orjson
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
    """The body :class:`JsonAnswer` sends for ``value`` (compact UTF-8 JSON through :func:`to_json`).

    Most answers go straight to orjson's encoder, which writes NaN and infinities as ``null`` (as
    :func:`to_json` does) and calls :func:`to_json` only for the values it has no type for: dates
    and times with a time (so pandas' ``NaT`` too), dataclasses, numpy scalars. Why orjson: a hub's
    chain page is about 150 kB of JSON, and ``json.dumps`` took about a third of its CPU. An answer
    orjson refuses (keys that are not text, integers beyond 64 bits) is converted whole first.

    >>> json_bytes({"a": [1, 2.5, None], "d": date(2024, 6, 30)}), json_bytes({"x": float("nan")})
    (b'{"a":[1,2.5,null],"d":"2024-06-30"}', b'{"x":null}')
    >>> json_bytes({1: "one"}), json_bytes({"big": 2**70})
    (b'{"1":"one"}', b'{"big":1180591620717411303424}')
    """
    try:
        return orjson.dumps(value, default=to_json, option=_ORJSON)
    except TypeError:
        # orjson.JSONEncodeError is a TypeError: non-text keys, integers beyond 64 bits
        return json.dumps(to_json(value), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")


#: Leave datetimes and dataclasses to :func:`to_json`, so every encoder path writes them alike.
_ORJSON = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


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
