"""The oracle: the generator's own monthly hazards turned into a 12-month PD (a ceiling, not a target).

A generated dataset may carry ``_truth/hazards.parquet`` (``docs/generator.md``): for
every month ``m`` (dated its first day) and every firm alive in it, the monthly
probabilities of the three competing default events the simulation drew that month,
``p_own``, ``p_supply`` and ``p_guarantee``. The firm defaults in month ``m`` when any
of the three fires; they are drawn independently, so the monthly hazard is

.. math::

    q_m = 1 - (1 - p^{own}_m)(1 - p^{sup}_m)(1 - p^{gua}_m)

and, with the months of the label window ``(t, t + 12 months]`` (those whose first day
falls in it), the probability of a default within the window would be
``1 - prod_m (1 - q_m)``. The table stops at a firm's default month (it lists firms
while alive), so a firm that defaults early has fewer months; multiplying only the
months listed would rank early defaulters *below* survivors of lower hazard. The
oracle therefore extrapolates the mean monthly hazard over the months observed in the
window to the whole window:

.. math::

    PD^{oracle} = 1 - (1 - \\bar q)^{M},\\qquad \\bar q = \\frac{1}{|m|} \\sum_m q_m

(``M`` the number of months in the window). The hazards include the pressure of
neighbours that default after ``t``, which no model can know at ``t``: the oracle AUC
is the ceiling of what the data allow, and each model is reported by the share of the
gap between B1 (own features only) and that ceiling it closes,
``(AUC_model - AUC_B1) / (AUC_oracle - AUC_B1)``.

This module is the only reader of ``_truth/`` in the evaluation, and only when the
file is there.

>>> h = pd.DataFrame({"uscc": ["A", "A", "B"],
...                   "month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-01-01"]),
...                   "p_own": [0.1, 0.1, 0.0], "p_supply": [0.0, 0.0, 0.5], "p_guarantee": [0.0, 0.0, 0.0]})
>>> [round(float(v), 4) for v in oracle_pd(h, np.array(["A", "B", "C"]), date(2024, 12, 31), months=2)]
[0.19, 0.75, nan]
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from gnn.labels import HORIZON_MONTHS, window_end

__all__ = ["HAZARDS", "gap_closed", "hazards_path", "monthly_hazard", "oracle_pd", "read_hazards"]

#: Where a generated dataset keeps its monthly hazards, relative to the dataset folder.
HAZARDS = Path("_truth") / "hazards.parquet"
_COLUMNS = ["uscc", "month", "p_own", "p_supply", "p_guarantee"]


def hazards_path(dataset_dir: str | Path) -> Path | None:
    """The hazards file of a dataset folder, or None when it has none."""
    path = Path(dataset_dir) / HAZARDS
    return path if path.is_file() else None


def read_hazards(path: str | Path, as_of: date, *, horizon_months: int = HORIZON_MONTHS) -> pd.DataFrame:
    """The hazards of the months of the label window after ``as_of`` (the only rows the oracle needs)."""
    lo, hi = pd.Timestamp(as_of), pd.Timestamp(window_end(as_of, horizon_months))
    frame = pd.read_parquet(
        path, columns=_COLUMNS, filters=[("month", ">", lo.date()), ("month", "<=", hi.date())]
    )
    frame["month"] = pd.to_datetime(frame["month"])
    return frame


def monthly_hazard(frame: pd.DataFrame) -> np.ndarray:
    """``q = 1 - (1 - p_own)(1 - p_supply)(1 - p_guarantee)`` of each row (three independent draws).

    >>> monthly_hazard(pd.DataFrame({"p_own": [0.5], "p_supply": [0.5], "p_guarantee": [0.0]})).tolist()
    [0.75]
    """
    keep = np.ones(len(frame))
    for col in ("p_own", "p_supply", "p_guarantee"):
        keep *= 1.0 - frame[col].to_numpy(dtype="float64")
    return 1.0 - keep


def oracle_pd(
    hazards: pd.DataFrame, uscc: np.ndarray, as_of: date, *, months: int = HORIZON_MONTHS
) -> np.ndarray:
    """The oracle PD over the window after ``as_of`` for each of ``uscc`` (NaN for a firm not listed).

    ``hazards``: rows of :data:`HAZARDS` (any months; only those whose first day falls in
    ``(as_of, as_of + months]`` count).
    """
    lo, hi = pd.Timestamp(as_of), pd.Timestamp(window_end(as_of, months))
    month = pd.to_datetime(hazards["month"])
    inside = hazards[((month > lo) & (month <= hi)).to_numpy()]
    q = pd.Series(monthly_hazard(inside), index=inside["uscc"].to_numpy())
    mean_q = q.groupby(level=0).mean()
    return np.asarray(1.0 - (1.0 - mean_q.reindex(pd.Index(uscc, dtype=object)).to_numpy()) ** months)


def gap_closed(model: np.ndarray, b1: np.ndarray, oracle: np.ndarray) -> np.ndarray:
    """``(model - b1) / (oracle - b1)``, elementwise (NaN where the oracle is no better than B1).

    >>> gap_closed(np.array([0.72]), np.array([0.70]), np.array([0.80])).round(3).tolist()
    [0.2]
    """
    gap = np.asarray(oracle, dtype="float64") - np.asarray(b1, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gap > 0, (np.asarray(model) - np.asarray(b1)) / gap, np.nan)
