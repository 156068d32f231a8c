"""Library errors map to HTTP statuses at the edge; answers become plain JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd
import pytest

from chainrisk.app.api.errors import JsonAnswer, json_bytes, status_for, to_json
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
    assert body == b'{"n":3,"x":null,"inf":null,"a":[1.5,2.0],"s":["k"]}'


@dataclass
class _Point:
    x: int


@pytest.mark.parametrize("value", [
    {"t": datetime(2024, 6, 30, 12, 5, 1, 250), "ts": pd.Timestamp("2024-06-30 08:00"), "nat": pd.NaT,
     "na": pd.NA, "d": date(2024, 1, 2), "tm": time(9, 30)},
    {"np": [np.bool_(True), np.float32(0.5), np.int32(-7), np.float64("-inf")], "p": _Point(1)},
    {"nested": {"rows": [{"a": 1.0e16, "b": 1 / 3, "c": "名 <img>"}, ()]}, "u": "\u2028"},
    {1: "key not text", None: [2**70]},
])
def test_json_bytes_says_what_to_json_says(value: object) -> None:
    # orjson writes most values itself, to_json the rest: the JSON read back is to_json's either way
    assert json.loads(json_bytes(value)) == json.loads(json.dumps(to_json(value)))
