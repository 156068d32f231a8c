from __future__ import annotations

import neo4j.exceptions as ne
import pytest

from chainrisk import errors
from chainrisk.errors import (
    AuthenticationFailed,
    ChainriskError,
    ConvergenceError,
    QueryFailed,
    ScenarioError,
    ServerUnavailable,
    TransientGraphError,
    ValidationError,
)
from graph.runner import translate_driver_error


def test_all_is_sorted_and_every_error_derives_from_the_root() -> None:
    assert errors.__all__ == sorted(errors.__all__)
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), ChainriskError)


def test_every_class_is_drawn_in_the_tree_docstring() -> None:
    for name in errors.__all__:
        assert name in (errors.__doc__ or "")


def test_messages_locate_the_problem() -> None:
    assert str(ValidationError("negative amount", file="supply.csv", row=7, field="annual_value")) == (
        "file supply.csv, row 7, field 'annual_value': negative amount"
    )
    assert str(ScenarioError("unknown layer", file="s.yaml", line=12)) == "s.yaml:12: unknown layer"
    e = ConvergenceError("DebtRank", residual=1e-3, iterations=50)
    assert e.residual == 1e-3 and "after 50 iterations" in str(e)


def test_retryable_flags() -> None:
    assert ServerUnavailable.retryable and TransientGraphError.retryable
    assert not QueryFailed.retryable and not AuthenticationFailed.retryable


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ne.AuthError("bad"), AuthenticationFailed),
        (ne.ServiceUnavailable("down"), ServerUnavailable),
        (ne.TransientError("retry"), TransientGraphError),
        (ConnectionRefusedError("refused"), ServerUnavailable),
    ],
)
def test_driver_errors_are_translated_once(exc: Exception, expected: type) -> None:
    out = translate_driver_error(exc, uri="bolt://x:1")
    assert isinstance(out, expected)
    assert "\n" not in str(out)
