"""Risk tiers and the *suggested* five-category class of a 12-month PD.

The tiers are a master scale: fixed PD bands, each about 2.5x the one below, so a
tier means the same PD whatever model or year produced it (a credit officer reads
"tier 4" as "between 4% and 10%" in every report). Bands:

====  =========  ==================
tier  name       12-month PD
====  =========  ==================
1     minimal    below 0.5%
2     low        0.5% to 1.5%
3     moderate   1.5% to 4%
4     elevated   4% to 10%
5     high       10% to 25%
6     severe     25% and above
====  =========  ==================

The **suggested class** maps the same PD onto the five categories of the 2023 rules
(正常 normal, 关注 special mention, 次级 substandard, 可疑 doubtful, 损失 loss), and
never suggests less than the days-overdue floor of the firm's worst loan. It is a
suggestion for the credit officer: the lender's official classification is never
overwritten (it lives on the ``Loan``; this is a ``risk_*`` result of the firm).

>>> import numpy as np
>>> tier_of(np.array([0.001, 0.02, 0.3])).tolist()
[1, 3, 6]
>>> suggested_class(np.array([0.01, 0.2, 0.01]), floor=np.array(["normal", "normal", "substandard"])).tolist()
['normal', 'special_mention', 'substandard']
"""

from __future__ import annotations

import numpy as np

__all__ = ["CLASSES", "CLASS_PD_BANDS", "TIER_BOUNDS", "TIER_NAMES", "suggested_class", "tier_of"]

#: Upper PD bound of tiers 1..5 (tier 6 is everything above the last bound).
TIER_BOUNDS: tuple[float, ...] = (0.005, 0.015, 0.04, 0.10, 0.25)
TIER_NAMES: dict[int, str] = {1: "minimal", 2: "low", 3: "moderate", 4: "elevated", 5: "high", 6: "severe"}

#: The five categories, best first.
CLASSES: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")
#: Lower PD bound of each class after ``normal``: a 12-month PD of 10% or more is a watch-list
#: credit (special mention); 50% or more means default is more likely than not (substandard).
CLASS_PD_BANDS: tuple[float, ...] = (0.10, 0.50, 0.80, 0.95)


def tier_of(pd_: np.ndarray) -> np.ndarray:
    """Tier 1..6 of each PD (see the table above)."""
    return np.searchsorted(np.asarray(TIER_BOUNDS), np.asarray(pd_, dtype=float), side="right") + 1


def suggested_class(pd_: np.ndarray, *, floor: np.ndarray | None = None) -> np.ndarray:
    """The suggested five-category class of each PD, never better than ``floor`` (a class name or "")."""
    idx = np.searchsorted(np.asarray(CLASS_PD_BANDS), np.asarray(pd_, dtype=float), side="right")
    if floor is not None:
        rank = {c: i for i, c in enumerate(CLASSES)}
        floor_idx = np.array([rank.get(str(c), 0) for c in floor], dtype=int)
        idx = np.maximum(idx, floor_idx)
    return np.asarray(CLASSES, dtype=object)[idx]
