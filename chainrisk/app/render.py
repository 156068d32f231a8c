"""Output helpers shared by the commands: one JSON document, CSV, or a rich table.

``--json`` prints exactly one JSON document on stdout (dates and other values without a JSON
form as text, NaN as ``null``); ``--csv`` one CSV table; otherwise a table for people.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

__all__ = ["clean", "emit_json", "frame_table", "print_frame"]


def clean(value: Any) -> Any:
    """``value`` with NaN as ``None`` and numpy scalars as Python, recursively.

    >>> clean({"a": [float("nan"), 1.5]})
    {'a': [None, 1.5]}
    """
    if hasattr(value, "item") and not isinstance(value, list | dict | tuple):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def emit_json(doc: Any) -> None:
    """Print ``doc`` as one JSON document on stdout."""
    sys.stdout.write(json.dumps(clean(doc), ensure_ascii=False, default=str) + "\n")


def frame_table(frame: pd.DataFrame, title: str | None = None, *, columns: list[str] | None = None) -> Table:
    """A rich table of ``frame`` (``columns`` only, when given); values shown as text, never markup."""
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    table = Table(title=title)
    for c in cols:
        table.add_column(str(c), overflow="fold")
    for row in frame[cols].itertuples(index=False):
        # Text, not str: a firm's name from outside must not be read as rich markup
        table.add_row(*(Text(_cell(v)) for v in row))
    return table


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return f"{v:,.4g}" if isinstance(v, float) else str(v)


def print_frame(
    frame: pd.DataFrame, *, as_json: bool, as_csv: bool, extra: dict[str, Any] | None = None
) -> None:
    """Print a query's answer in the chosen form (JSON: ``{"columns", "rows", **extra}``)."""
    if as_json:
        emit_json({**(extra or {}), "columns": [str(c) for c in frame.columns],
                   "rows": [clean(list(r)) for r in frame.itertuples(index=False)]})
    elif as_csv:
        sys.stdout.write(frame.to_csv(index=False))
    else:
        Console(soft_wrap=True).print(frame_table(frame))
