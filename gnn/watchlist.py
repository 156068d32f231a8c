"""The watchlist: firms whose risk tier worsened between two scorings, and the reasons that moved them.

A firm is on the watchlist when it is in both scorings and its tier (:mod:`gnn.tiers`)
is higher now than before. Each row carries the old and new PD and tier and the
firm's current reasons, each marked ``new`` when the previous scoring gave no
reason like it.

Two reasons are *alike* when they read the same once their figures are masked
(:func:`reason_key`): "leverage 0.81 against 0.55 for its industry" and "leverage
0.84 against 0.55 ..." are one reason whose figure moved; a reason naming another
counterparty (its USCC, or the leading 8+ characters of it, are kept) is a new one.

>>> reason_key("guarantees 3.2× its equity for 91350100…, in default since 2025-03")
'guarantees #× its equity for 91350100…, in default since #-#'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["reason_key", "reasons_of", "watchlist"]

# a USCC (18 characters) or its leading part as reasons abbreviate it: 8+ code characters
_CODE = re.compile(r"\b[0-9A-Z]{8,18}")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def reason_key(text: str) -> str:
    """``text`` with its figures masked as ``#`` and counterparty codes kept (module docstring)."""
    out, last = [], 0
    for m in _CODE.finditer(text):
        if any(ch.isdigit() for ch in m.group(0)):  # a code, not a word in capitals
            out += [_NUMBER.sub("#", text[last : m.start()]), m.group(0)]
            last = m.end()
    out.append(_NUMBER.sub("#", text[last:]))
    return "".join(out)


def reasons_of(value: Any) -> list[str]:
    """A reasons cell (list, array, ``None`` or one string) as a list of strings."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return [str(value)]


def watchlist(current: pd.DataFrame, previous: pd.DataFrame) -> list[dict[str, Any]]:
    """Firms whose tier worsened from ``previous`` to ``current``, the largest jump first.

    Both frames have columns ``uscc``, ``pd``, ``tier`` and optionally ``reasons`` and
    ``segment``. Each row: ``uscc``, ``segment`` (current, when known), ``pd_previous``,
    ``pd_current``, ``tier_previous``, ``tier_current``, ``reasons`` (``[{"text", "new"}]``).
    """
    cols = [c for c in ("uscc", "pd", "tier", "reasons") if c in previous.columns]
    both = current.merge(previous[cols], on="uscc", suffixes=("", "_previous"), how="inner")
    worse = both[both["tier"].astype(int) > both["tier_previous"].astype(int)]
    worse = worse.assign(_jump=worse["tier"].astype(int) - worse["tier_previous"].astype(int))
    worse = worse.sort_values(["_jump", "pd", "uscc"], ascending=[False, False, True], kind="stable")
    rows = []
    for rec in worse.to_dict(orient="records"):
        before = {reason_key(t) for t in reasons_of(rec.get("reasons_previous"))}
        rows.append(
            {
                "uscc": rec["uscc"],
                "segment": rec.get("segment"),
                "pd_previous": float(rec["pd_previous"]),
                "pd_current": float(rec["pd"]),
                "tier_previous": int(rec["tier_previous"]),
                "tier_current": int(rec["tier"]),
                "reasons": [
                    {"text": t, "new": reason_key(t) not in before} for t in reasons_of(rec.get("reasons"))
                ],
            }
        )
    return rows
