"""Bank loans and their monthly status.

About half the firms borrow (more of the larger ones). A borrower holds a chain of
term loans from one lender, each renewed at maturity with probability 0.85, and a
quarter of borrowers hold a second chain from another lender. Terms are 12, 24 or
36 months; principal scales with assets; collateral follows size.

Monthly status rows run from the month after the start to the maturity month.
After the borrower defaults at month ``t`` (the event falls inside month ``t``)
days overdue pass 90 at row ``t + 1`` and grow by 30 a month; the rows before show
the run-up (5-25, 30-55, 60-85 days). The lender's classification follows the
2023 five-category rules (any overdue: special mention or worse; > 90 days:
substandard; > 270: doubtful; > 360: loss), except for a small share of rows
that are deliberately classified too leniently (the inconsistencies a validator
should flag) and a few performing loans a careful lender marks special mention.

>>> classify_days(np.array([0, 10, 91, 271, 400])).tolist()
[0, 1, 2, 3, 4]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from ingest.generate.firms import FirmTable
from ingest.generate.timeline import Calendar

__all__ = [
    "CLASSES",
    "COLLATERAL",
    "LENDERS",
    "LoanTable",
    "classify_days",
    "drop_after_default",
    "make_loans",
    "status_batches",
]

LENDERS: tuple[str, ...] = ("BANK_A", "BANK_B", "BANK_C", "BANK_D", "RCC_ZJ", "MICROFIN_1")
_LENDER_P = np.array([0.30, 0.25, 0.20, 0.10, 0.08, 0.07])
COLLATERAL: tuple[str, ...] = ("none", "real_estate", "equipment", "receivables", "deposit", "guarantee_only")
#: Collateral type probabilities per size class (rows micro..large).
_COLLATERAL_P = np.array(
    [
        [0.25, 0.15, 0.10, 0.15, 0.05, 0.30],
        [0.15, 0.30, 0.15, 0.15, 0.05, 0.20],
        [0.10, 0.45, 0.20, 0.10, 0.05, 0.10],
        [0.20, 0.45, 0.15, 0.05, 0.10, 0.05],
    ]
)
_COLLATERAL_COVER = np.array([0.0, 1.3, 0.6, 0.8, 1.0, 0.0])
_LGD = np.array([0.65, 0.30, 0.45, 0.40, 0.10, 0.55])
CLASSES: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")
_BORROW_P = np.array([0.40, 0.55, 0.70, 0.80])
_CHAIN = 8  # loans per chain at most


@dataclass(frozen=True, eq=False, kw_only=True)
class LoanTable:
    """Loans as arrays; months are indices, days are offsets from the window start."""

    borrower: np.ndarray  # int32
    lender: np.ndarray  # int8 index into LENDERS
    start_month: np.ndarray  # int32
    term: np.ndarray  # int32 months
    start_day: np.ndarray  # int32
    maturity_day: np.ndarray  # int32
    principal: np.ndarray  # float64
    limit: np.ndarray
    collateral: np.ndarray  # int8 index into COLLATERAL
    collateral_value: np.ndarray
    lgd: np.ndarray  # NaN when the lender gives none

    @property
    def n(self) -> int:
        """Number of loans."""
        return len(self.borrower)

    def take(self, idx: np.ndarray) -> LoanTable:
        """The loans at ``idx`` (index array or mask)."""
        return replace(self, **{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})


def classify_days(days: np.ndarray) -> np.ndarray:
    """Minimum class index under the 2023 rules for each days-overdue value."""
    return np.searchsorted(np.array([1, 91, 271, 361]), days, "right").astype(np.int8)


def make_loans(rng: np.random.Generator, firms: FirmTable, cal: Calendar) -> LoanTable:
    """Draw loan chains for the borrowing firms, sorted by borrower then start.

    Only loans outstanding at some point of the window are kept, and none starts
    before its borrower was founded.
    """
    n, months = firms.n, cal.months
    borrows = rng.random(n) < _BORROW_P[firms.size]
    second = borrows & (rng.random(n) < 0.25)
    b = np.concatenate([np.flatnonzero(borrows), np.flatnonzero(second)]).astype(np.int32)
    k = len(b)
    term = rng.choice(np.array([12, 24, 36]), (k, _CHAIN), p=[0.5, 0.3, 0.2]).astype(np.int32)
    # Renewal at maturity, or a gap of a few months before the next loan.
    gap = np.where(rng.random((k, _CHAIN)) < 0.85, 0, rng.integers(1, 12, (k, _CHAIN)))
    first = np.maximum(rng.integers(-36, 12, k), firms.founded_month[b] + 1)
    offs = np.concatenate([np.zeros((k, 1), np.int64), np.cumsum(term + gap, axis=1)[:, :-1]], axis=1)
    start_m = (first[:, None] + offs).astype(np.int32)
    lender = np.repeat(rng.choice(len(LENDERS), k, p=_LENDER_P)[:, None], _CHAIN, axis=1)
    keep = (start_m < months) & (start_m + term > 0)
    bb = np.repeat(b[:, None], _CHAIN, axis=1)[keep]
    start_m, term, lender = start_m[keep], term[keep], lender[keep]
    order = np.lexsort((start_m, bb))
    bb, start_m, term, lender = bb[order], start_m[order], term[order], lender[order]
    m = len(bb)
    dom = rng.integers(0, 28, m)
    start_day = cal.day(start_m) + dom
    maturity_day = cal.day(start_m + term) + dom
    size = firms.size[bb]
    principal = np.round(firms.assets0[bb] * rng.uniform(0.08, 0.35, m), -4) + 1e4
    limit = np.round(principal * rng.uniform(1.0, 1.5, m), -4)
    cum = np.cumsum(_COLLATERAL_P[size], axis=1)
    coll = (rng.random(m)[:, None] > cum).sum(axis=1).clip(0, 5).astype(np.int8)
    cval = np.round(principal * _COLLATERAL_COVER[coll] * rng.uniform(0.8, 1.2, m), 2)
    lgd = np.where(rng.random(m) < 0.5, np.round(_LGD[coll] * rng.uniform(0.8, 1.2, m), 3), np.nan)
    return LoanTable(
        borrower=bb.astype(np.int32),
        lender=lender.astype(np.int8),
        start_month=start_m,
        term=term,
        start_day=start_day.astype(np.int32),
        maturity_day=maturity_day.astype(np.int32),
        principal=principal,
        limit=np.maximum(limit, principal),
        collateral=coll,
        collateral_value=cval,
        lgd=lgd,
    )


def drop_after_default(loans: LoanTable, default_month: np.ndarray) -> LoanTable:
    """Drop loans that start after their borrower's default month (no bank lends then)."""
    dm = default_month[loans.borrower]
    return loans.take((dm < 0) | (loans.start_month <= dm))


def status_batches(
    rng: np.random.Generator,
    loans: LoanTable,
    default_month: np.ndarray,
    cal: Calendar,
    *,
    batch: int = 200_000,
) -> Iterator[dict[str, np.ndarray]]:
    """Monthly status rows, ``batch`` loans at a time.

    Yields dicts with ``loan`` (row of ``loans``), ``month`` (index),
    ``outstanding``, ``days_overdue`` and ``classification`` (index into :data:`CLASSES`).
    """
    months = cal.months
    for lo in range(0, loans.n, batch):
        idx = np.arange(lo, min(lo + batch, loans.n))
        sm, term = loans.start_month[idx], loans.term[idx]
        dm = default_month[loans.borrower[idx]]
        defaulted = (dm >= 0) & (sm <= dm) & (sm + term >= dm - 2)
        # A loan of a defaulted borrower stays on the books, overdue, up to 24 months after default.
        last = np.where(defaulted, np.minimum(dm + 24, months - 1), np.minimum(sm + term, months - 1))
        first = np.maximum(sm + 1, 0)
        count = np.maximum(last - first + 1, 0)
        rows = np.repeat(np.arange(len(idx)), count)
        month = (
            np.repeat(first, count) + np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
        ).astype(np.int32)
        k = len(rows)
        elapsed = (month - sm[rows]) / term[rows]
        principal = loans.principal[idx][rows]
        outstanding = principal * (1.0 - 0.6 * np.clip(elapsed, 0.0, 1.0))
        rel = month - dm[rows]
        d = defaulted[rows]
        days = np.zeros(k, np.int32)
        # Short overdue episodes that cure: never past 60 days.
        blip = rng.random(k) < 0.008
        days[blip] = rng.integers(1, 61, int(blip.sum()))
        run_up = (
            (rel == -2, 5, 26),
            (rel == -1, 30, 56),
            (rel == 0, 60, 86),
        )
        for cond, a, z in run_up:
            sel = d & cond
            days[sel] = rng.integers(a, z, int(sel.sum()))
        after = d & (rel >= 1)
        days[after] = 91 + 30 * (rel[after] - 1) + rng.integers(0, 20, int(after.sum()))
        # Balance freezes at default.
        frozen = principal * (1.0 - 0.6 * np.clip((dm[rows] - sm[rows]) / term[rows], 0.0, 1.0))
        outstanding = np.where(d & (rel >= 0), frozen, outstanding)
        cls = classify_days(days)
        u = rng.random(k)
        lenient = (days > 0) & (u < 0.02)
        cls = np.where(lenient, np.maximum(cls - 1, 0), cls)
        cls = np.where((days > 90) & (u > 0.995), 0, cls)  # > 90 days yet "normal"
        cls = np.where((days == 0) & (u < 0.01), 1, cls)  # careful lender: stricter is allowed
        yield {
            "loan": idx[rows],
            "month": month,
            "outstanding": np.round(outstanding, 2),
            "days_overdue": days,
            "classification": cls.astype(np.int8),
        }
