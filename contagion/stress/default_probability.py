"""Per-firm default probabilities for the Monte Carlo.

The probability of default of firm :math:`i` over the stress horizon is, in order:

1. ``snapshot.firms["pd"]`` where the column exists and the value is finite
   (the GNN's score, once it is written into the snapshot), clipped to [0, 1];
2. ``defaulted`` firms (already in default as of the snapshot): ``PD = 1``, not a
   parameter (they are the default stock, :mod:`contagion.stress.default_stock`);
3. otherwise the worst five-category class over the firm's loans (all lenders,
   taking the worse of the lender's ``classification`` and the
   ``min_classification`` floor implied by days overdue), mapped as

   ==================  =====
   class               PD
   ==================  =====
   normal              1 %
   special_mention     5 %
   substandard         30 %
   doubtful            60 %
   loss                100 %
   ==================  =====

4. firms with no loan, or no recognisable class: the base PD (2 %).

Every other number is a field of :class:`contagion.stress.scenario.PDParameters`, so a
scenario can override it.

>>> import pandas as pd
>>> from contagion.stress.scenario import PDParameters
>>> firms = pd.DataFrame({"uscc": ["A", "B", "C"], "defaulted": [False, False, True]})
>>> loans = pd.DataFrame({"borrower": [0, 0], "classification": ["normal", "substandard"],
...                       "min_classification": ["normal", "normal"]})
>>> default_probabilities(firms, loans, PDParameters()).tolist()
[0.3, 0.02, 1.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from chainrisk.errors import InvalidModelInput
from contagion.stress.scenario import PDParameters

__all__ = ["CLASS_ORDER", "default_probabilities", "worst_classification"]

#: Five-category classes, best to worst.
CLASS_ORDER: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")

_ALIASES = {
    "正常": "normal",
    "关注": "special_mention",
    "次级": "substandard",
    "可疑": "doubtful",
    "损失": "loss",
    "special mention": "special_mention",
    "special-mention": "special_mention",
}


def _rank(values: pd.Series) -> np.ndarray:
    """Class -> 0..4 (normal..loss); -1 for missing or unknown."""
    text = values.astype("string").str.strip().str.lower().fillna("")
    text = text.map(lambda t: _ALIASES.get(t, t))
    order = {c: i for i, c in enumerate(CLASS_ORDER)}
    return np.array([order.get(t, -1) for t in text.tolist()], dtype=np.int64)


def worst_classification(loans: pd.DataFrame, n: int) -> np.ndarray:
    """Worst class rank (0 normal .. 4 loss) per borrower row; -1 for firms with no classified loan."""
    worst = np.full(n, -1, dtype=np.int64)
    if len(loans) == 0 or "borrower" not in loans:
        return worst
    rank = np.full(len(loans), -1, dtype=np.int64)
    for col in ("classification", "min_classification"):
        if col in loans:
            rank = np.maximum(rank, _rank(loans[col]))
    borrower = pd.to_numeric(loans["borrower"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    ok = (borrower >= 0) & (borrower < n)
    np.maximum.at(worst, borrower[ok], rank[ok])
    return worst


def default_probabilities(firms: pd.DataFrame, loans: pd.DataFrame, params: PDParameters) -> np.ndarray:
    """PD per firm row (see the module docstring for the rules, in order).

    Raises
    ------
    InvalidModelInput
        A snapshot ``pd`` outside [0, 1] (names the firm).
    """
    n = len(firms)
    by_class = np.array([params.normal, params.special_mention, params.substandard, params.doubtful,
                         params.loss, params.no_loan])
    worst = worst_classification(loans, n)
    pd_ = by_class[np.where(worst < 0, 5, worst)]
    if "defaulted" in firms:
        defaulted = firms["defaulted"].fillna(False).to_numpy(dtype=bool)
        pd_ = np.where(defaulted, 1.0, pd_)  # the default stock: in default already
    if params.use_snapshot_pd and "pd" in firms:
        given = pd.to_numeric(firms["pd"], errors="coerce").to_numpy(dtype=np.float64)
        finite = np.isfinite(given)
        bad = finite & ((given < 0.0) | (given > 1.0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidModelInput(f"firm {firms['uscc'].iloc[i]}: pd {given[i]!r} is outside [0, 1]")
        pd_ = np.where(finite, given, pd_)
    return np.asarray(pd_, dtype=np.float64)
