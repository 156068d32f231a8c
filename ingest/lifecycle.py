"""Lifecycle stage from the signs of cash flows (Dickinson 2011).

Dickinson, V. (2011), "Cash flow patterns as a proxy for firm life cycle",
*The Accounting Review* 86(6): 1969-1994. The signs of operating, investing and
financing cash flow (OCF, ICF, FCF) give eight patterns and five stages:

::

    OCF  ICF  FCF   stage
     -    -    +    start-up (Dickinson's "introduction")
     +    -    +    growth
     +    -    -    mature
     -    -    -    shake-out
     +    +    +    shake-out
     +    +    -    shake-out
     -    +    +    decline
     -    +    -    decline

A zero counts as positive (a firm with no financing flow at all is not raising
money, but it is not repaying either; Dickinson's coding treats sign > 0 vs
< 0 and leaves zero to the analyst: we choose ``>= 0`` so a micro firm with no
investment and no financing is not read as start-up). Any missing flow gives
``unknown``.

>>> lifecycle_stage(-1, -1, 1), lifecycle_stage(1, -1, -1), lifecycle_stage(-5, 3, 0)
('start-up', 'mature', 'decline')
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["LIFECYCLE_PATTERNS", "LIFECYCLE_STAGES", "lifecycle_stage", "lifecycle_stages"]

#: The stages, in lifecycle order, plus ``unknown``.
LIFECYCLE_STAGES: tuple[str, ...] = ("start-up", "growth", "mature", "shake-out", "decline", "unknown")

#: (OCF >= 0, ICF >= 0, FCF >= 0) -> stage.
LIFECYCLE_PATTERNS: dict[tuple[bool, bool, bool], str] = {
    (False, False, True): "start-up",
    (True, False, True): "growth",
    (True, False, False): "mature",
    (False, False, False): "shake-out",
    (True, True, True): "shake-out",
    (True, True, False): "shake-out",
    (False, True, True): "decline",
    (False, True, False): "decline",
}


def lifecycle_stage(
    operating_cf: float | None, investing_cf: float | None, financing_cf: float | None
) -> str:
    """The Dickinson stage of one firm-period (``unknown`` when a flow is missing)."""
    flows = (operating_cf, investing_cf, financing_cf)
    if any(f is None or f is pd.NA or (isinstance(f, float) and math.isnan(f)) for f in flows):
        return "unknown"
    return LIFECYCLE_PATTERNS[tuple(float(f) >= 0 for f in flows)]  # type: ignore[arg-type, index]


def lifecycle_stages(operating_cf: pd.Series, investing_cf: pd.Series, financing_cf: pd.Series) -> pd.Series:
    """Vectorised :func:`lifecycle_stage` (object Series aligned with the inputs)."""
    o, i, f = (
        pd.to_numeric(s, errors="coerce").astype(float).to_numpy()
        for s in (operating_cf, investing_cf, financing_cf)
    )
    code = (o >= 0).astype(int) * 4 + (i >= 0).astype(int) * 2 + (f >= 0).astype(int)
    table = np.empty(8, dtype=object)
    for (a, b, c), stage in LIFECYCLE_PATTERNS.items():
        table[int(a) * 4 + int(b) * 2 + int(c)] = stage
    out = table[code]
    out[np.isnan(o) | np.isnan(i) | np.isnan(f)] = "unknown"
    return pd.Series(out, index=operating_cf.index, dtype=object)
