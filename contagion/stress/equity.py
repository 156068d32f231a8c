r"""Equity buffers for the stress test: reported where usable, imputed where not, never zero.

DebtRank measures distress as the share of equity lost, so a firm's equity is its
buffer: a firm without one passes every hit on in full. Firms without a usable
statement (no ``equity``, or equity :math:`\le 0`, as for external counterparties
known only from links) would have no buffer and saturate the contagion. They get
the median positive equity of comparable firms instead, first found of:

1. the same ``size_class`` and industry division (the first three characters of the
   GB/T 4754 code, e.g. ``C33``), when that cell has at least ``min_cell`` reported firms;
2. the same ``size_class``;
3. the same industry division;
4. every firm with a reported positive equity;
5. 1 (a unit buffer) when no firm reports one.

Each imputed firm is flagged (``equity_source``: ``unknown`` or ``non_positive``;
``reported`` otherwise) with the level it was imputed at, and the stress summary
counts them. The imputed value is also the firm's capacity to pay guarantee calls
(:mod:`contagion.guarantee`).

>>> import pandas as pd
>>> firms = pd.DataFrame({"size_class": ["small"] * 4 + ["large"],
...                       "industry": ["C3311", "C3312", "C3390", "C3311", "F5110"],
...                       "equity": [10.0, 20.0, 30.0, np.nan, -5.0]})
>>> r = impute_equity(firms)
>>> r.equity.tolist()
[10.0, 20.0, 30.0, 20.0, 20.0]
>>> r.source[3:].tolist(), r.level[3:].tolist()
(['unknown', 'non_positive'], ['size_class_industry', 'all'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["EquityImputation", "impute_equity"]


@dataclass(frozen=True)
class EquityImputation:
    """Equity per firm as the stress test uses it (always > 0), and where it came from."""

    equity: np.ndarray
    #: ``reported``, ``unknown`` (no statement) or ``non_positive`` (reported <= 0).
    source: np.ndarray
    #: ``reported`` or the level of the median used (``size_class_industry``, ``size_class``,
    #: ``industry``, ``all``, ``unit``).
    level: np.ndarray

    @property
    def imputed(self) -> np.ndarray:
        """Firms whose equity was imputed."""
        return self.source != "reported"

    def summary(self) -> dict[str, Any]:
        """Counts for ``summary.json``: imputed firms by reason and by level."""
        imputed = self.imputed
        return {
            "firms": len(self.equity),
            "imputed": int(imputed.sum()),
            "by_reason": {
                k: int(v) for k, v in zip(*np.unique(self.source[imputed], return_counts=True), strict=True)
            },
            "by_level": {
                k: int(v) for k, v in zip(*np.unique(self.level[imputed], return_counts=True), strict=True)
            },
            "method": "median positive equity of the same size class and industry division, "
            "else size class, else industry, else all firms",
        }


def _text(firms: pd.DataFrame, col: str, digits: int | None = None) -> pd.Series:
    if col not in firms:
        return pd.Series([""] * len(firms), index=firms.index, dtype=object)
    t = firms[col].astype("string").fillna("").str.strip()
    return (t.str[:digits] if digits else t).astype(object)


def impute_equity(firms: pd.DataFrame, *, min_cell: int = 3) -> EquityImputation:
    """Equity per firm row with unknown or non-positive values imputed (module docstring)."""
    n = len(firms)
    raw = (
        pd.to_numeric(firms["equity"], errors="coerce").to_numpy(dtype=np.float64)
        if "equity" in firms
        else np.full(n, np.nan)
    )
    ok = np.isfinite(raw) & (raw > 0)
    source = np.where(ok, "reported", np.where(np.isfinite(raw), "non_positive", "unknown")).astype(object)
    level = np.where(ok, "reported", "").astype(object)
    equity = np.where(ok, raw, np.nan)
    size = _text(firms, "size_class")
    industry = _text(firms, "industry", 3)
    keys = {
        "size_class_industry": size + "|" + industry,
        "size_class": size,
        "industry": industry,
    }
    for name, key in keys.items():
        todo = ~np.isfinite(equity)
        if not todo.any():
            break
        known = pd.DataFrame({"key": key.to_numpy()[ok], "e": raw[ok]})
        known = known[
            ~known["key"].isin(["", "|"])
            & ~known["key"].str.startswith("|")
            & ~known["key"].str.endswith("|")
        ]
        agg = known.groupby("key")["e"].agg(["median", "size"])
        medians = agg.loc[agg["size"] >= min_cell, "median"].to_dict()
        fill = np.array([medians.get(k, np.nan) for k in key.tolist()], dtype=np.float64)
        hit = todo & np.isfinite(fill)
        equity = np.where(hit, fill, equity)
        level[hit] = name
    todo = ~np.isfinite(equity)
    if todo.any():
        overall = float(np.median(raw[ok])) if ok.any() else 1.0
        equity = np.where(todo, overall, equity)
        level[todo] = "all" if ok.any() else "unit"
    return EquityImputation(
        equity=equity.astype(np.float64), source=source.astype(str), level=level.astype(str)
    )
