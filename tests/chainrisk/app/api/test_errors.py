"""Library errors map to HTTP statuses at the edge; answers become plain JSON."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrisk.app.api.errors import JsonAnswer, status_for
from chainrisk.app.auth.keys import KeyRefused
from chainrisk.errors import (
    AuthenticationFailed,
    ChainriskError,
    ConfigError,
    InvalidQueryParameter,
    InvalidUSCC,
    ModelError,
    QueryFailed,
    ScenarioError,
    ServerUnavailable,
    UnknownFirm,
    UnsafeQuery,
)


@pytest.mark.parametrize(("exc", "path", "status"), [
    (KeyRefused("x", reason="missing"), "/queries", 401),
    (UnknownFirm("x"), "/firms/x", 404),
    (InvalidUSCC("x", expected_check="3"), "/firms/x", 422),
    (InvalidQueryParameter("x"), "/queries/q", 422),
    (ScenarioError("x"), "/stress-runs", 422),
    (UnsafeQuery("x", layer="plan"), "/cypher", 422),
    (QueryFailed("x"), "/cypher", 400),
    (QueryFailed("x"), "/circles", 502),
    (AuthenticationFailed("x"), "/cypher", 502),
    (ServerUnavailable("x"), "/cypher", 503),
    (ConfigError("x"), "/stress-runs", 400),
    (ModelError("x"), "/stress-runs", 500),
])
def test_status_for(exc: ChainriskError, path: str, status: int) -> None:
    assert status_for(exc, path) == status


def test_answers_are_plain_json() -> None:
    body = JsonAnswer({"n": np.int64(3), "x": np.float64("nan"), "inf": math.inf, "a": np.array([1.5, 2.0]),
                       "s": {"k"}}).body
    assert body == b'{"n": 3, "x": null, "inf": null, "a": [1.5, 2.0], "s": ["k"]}'
