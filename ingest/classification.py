"""Five-category loan classification: floors implied by days overdue, and flags.

Rules in force since 2023-07-01 (《商业银行金融资产风险分类办法》, CBIRC/PBoC
order 2023 No. 1): any overdue -> at least special mention (关注); more than 90
days -> at least substandard (次级); more than 270 days -> at least doubtful
(可疑); more than 360 days -> loss (损失). Non-performing = substandard +
doubtful + loss.

Borrower-level rules of the same measure, as the regulator summarised them for
non-retail borrowers:

- **20% rule**: when more than 20% of a borrower's debt across all banks is more
  than 90 days overdue, every bank classifies all of it as non-performing.
  :func:`borrower_20pct_flags` measures "debt" as outstanding balance over the
  loans *in the dataset* (the bank's view may be partial: the flag is a lower
  bound on what the rule catches).
- **10% rule**: when more than 10% of a borrower's claims at one bank are
  non-performing, all of that bank's claims on it are non-performing.
  :func:`lender_10pct_flags` measures the share by outstanding balance per
  (borrower, lender).

These functions only *flag*: a lender's classification is never corrected.

>>> min_classification(0), min_classification(1), min_classification(91), min_classification(361)
('normal', 'special_mention', 'substandard', 'loss')
>>> classification_flag("normal", 120)
'more than 90 days overdue yet normal (120 days; at least substandard)'
>>> classification_flag("doubtful", 120)
''
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ingest.tables import CLASSIFICATIONS

__all__ = [
    "NON_PERFORMING",
    "borrower_20pct_flags",
    "classification_flag",
    "is_non_performing",
    "lender_10pct_flags",
    "min_classification",
    "rank",
]

#: Non-performing categories.
NON_PERFORMING: frozenset[str] = frozenset({"substandard", "doubtful", "loss"})

_RANK = {c: i for i, c in enumerate(CLASSIFICATIONS)}
#: (days overdue strictly above, floor, wording)
_BANDS: tuple[tuple[int, str, str], ...] = (
    (360, "loss", "more than 360 days overdue"),
    (270, "doubtful", "more than 270 days overdue"),
    (90, "substandard", "more than 90 days overdue"),
    (0, "special_mention", "overdue"),
)


def rank(classification: str) -> int:
    """Severity rank: normal 0 ... loss 4 (``KeyError`` for an unknown category)."""
    return _RANK[classification]


def is_non_performing(classification: str | None) -> bool:
    """Whether a category is non-performing (substandard, doubtful or loss)."""
    return classification in NON_PERFORMING


def _missing(x: object) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def min_classification(days_overdue: int | float | None) -> str | None:
    """The lowest category the 2023 rules allow for ``days_overdue`` (``None`` when unknown).

    Parameters
    ----------
    days_overdue : int or None
        Days the loan is past due (0 = current).

    Returns
    -------
    str or None
        ``normal`` (0 days), ``special_mention`` (1-90), ``substandard`` (91-270),
        ``doubtful`` (271-360) or ``loss`` (361+).
    """
    if _missing(days_overdue):
        return None
    d = float(days_overdue)  # type: ignore[arg-type]
    for above, floor, _ in _BANDS:
        if d > above:
            return floor
    return "normal"


def classification_flag(classification: str | None, days_overdue: int | float | None) -> str:
    """``""`` when the lender's category respects the floor, else a description.

    Examples: ``"overdue yet normal (12 days; at least special_mention)"``,
    ``"more than 90 days overdue yet normal (120 days; at least substandard)"``.
    """
    if _missing(classification) or _missing(days_overdue):
        return ""
    d = float(days_overdue)  # type: ignore[arg-type]
    for above, floor, wording in _BANDS:
        if d > above:
            if _RANK[str(classification)] < _RANK[floor]:
                return f"{wording} yet {classification} ({d:g} days; at least {floor})"
            return ""
    return ""


def borrower_20pct_flags(loans: pd.DataFrame) -> pd.Series:
    """Flag performing loans of borrowers caught by the 20% rule.

    Parameters
    ----------
    loans : DataFrame
        Columns ``borrower_uscc``, ``outstanding``, ``days_overdue``, ``classification``.

    Returns
    -------
    Series of str, aligned with ``loans``
        ``""`` or ``"borrower has 35% of its debt more than 90 days overdue (20% rule): all of it is
        non-performing"`` for loans still classified performing.
    """
    out = pd.Series("", index=loans.index, dtype=object)
    if loans.empty:
        return out
    bal = pd.to_numeric(loans["outstanding"], errors="coerce").fillna(0.0).astype(float)
    over = pd.to_numeric(loans["days_overdue"], errors="coerce").fillna(0).astype(float) > 90
    total = bal.groupby(loans["borrower_uscc"]).transform("sum")
    late = bal.where(over, 0.0).groupby(loans["borrower_uscc"]).transform("sum")
    share = np.where(total > 0, late / total.where(total > 0, 1.0), 0.0)
    performing = (~loans["classification"].isin(NON_PERFORMING) & loans["classification"].notna()).to_numpy()
    hit = (share > 0.20) & performing
    for i in np.flatnonzero(hit).tolist():
        out.iat[i] = (
            f"borrower has {share[i]:.0%} of its debt more than 90 days overdue (20% rule): "
            "all of it is non-performing"
        )
    return out


def lender_10pct_flags(loans: pd.DataFrame) -> pd.Series:
    """Flag performing loans when over 10% of the borrower's balance at that lender is non-performing.

    Parameters
    ----------
    loans : DataFrame
        Columns ``borrower_uscc``, ``lender``, ``outstanding``, ``classification``.

    Returns
    -------
    Series of str, aligned with ``loans``
    """
    out = pd.Series("", index=loans.index, dtype=object)
    if loans.empty:
        return out
    bal = pd.to_numeric(loans["outstanding"], errors="coerce").fillna(0.0).astype(float)
    npl = loans["classification"].isin(NON_PERFORMING)
    keys = [loans["borrower_uscc"], loans["lender"]]
    total = bal.groupby(keys).transform("sum")
    bad = bal.where(npl, 0.0).groupby(keys).transform("sum")
    share = np.where(total > 0, bad / total.where(total > 0, 1.0), 0.0)
    hit = (share > 0.10) & (~npl & loans["classification"].notna()).to_numpy()
    for i in np.flatnonzero(hit).tolist():
        out.iat[i] = (
            f"{share[i]:.0%} of the borrower's balance at this lender is non-performing (10% rule): "
            "all of it is non-performing"
        )
    return out
