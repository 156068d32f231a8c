r"""The bank's loss in one draw: exposure at default times loss given default, less guarantees.

For each of the bank's loans :math:`\ell` to borrower :math:`b(\ell)`:

.. math::

    \mathrm{EAD}_\ell &= O_\ell + \mathrm{CCF}\cdot\max(0,\ \mathrm{limit}_\ell - O_\ell)
                         \qquad (O_\ell \text{ the outstanding amount}) \\
    \mathrm{LGD}_\ell &= \begin{cases}
        \mathrm{lgd}_\ell & \text{when the loan gives one} \\
        \max\!\bigl(0,\ 1 - V_\ell (1 - h_{\mathrm{type}(\ell)}) / \mathrm{EAD}_\ell\bigr)
            & \text{with collateral of value } V_\ell > 0 \\
        45\,\% & \text{otherwise}
    \end{cases} \\
    L_\ell &= D_{b(\ell)} \cdot \max\Bigl(0,\ \mathrm{EAD}_\ell\,\mathrm{LGD}_\ell
             - \sum_{c \to \ell} a_c\, \pi_c\, (1 - D_{g(c)})\Bigr)

where :math:`D` is the draw's default indicator, :math:`a_c` the amount of guarantee
contract :math:`c` on loan :math:`\ell`, :math:`\pi_c` the share a guarantor pays
(``firm_recovery``, default 100 %, or ``person_recovery``, default 30 %, for a
person) and :math:`D_{g(c)}` whether the firm guarantor defaults in the same draw
(a person never does): a guarantor that falls with its borrower pays nothing, so
guarantee circles give no protection when they fall together (wrong-way risk).
The outstanding amount falls back to the principal when a loan has no status
row; a missing limit means no undrawn part. ``CCF = 40 %`` is the Basel III
standardised factor for general commitments (CRE20.100). Collateral haircuts
:math:`h` (fraction of value lost in a forced sale, overridable per scenario)
are in :data:`COLLATERAL_HAIRCUTS`; an unknown type takes the ``other`` haircut.
Guarantees only count while active (``start <= as_of <= end`` where given); a
guarantor's ability to honour all its contracts at once is not modelled.

>>> import pandas as pd
>>> from contagion.stress.scenario import LossParameters
>>> loans = pd.DataFrame({"loan_id": ["L1"], "borrower": [0], "lender": ["B"], "outstanding": [100.0],
...                       "limit": [100.0], "lgd": [0.5], "collateral_type": [None],
...                       "collateral_value": [None]})
>>> g = pd.DataFrame({"guarantor_type": ["firm"], "guarantor": [1], "borrower": [0], "loan_id": ["L1"],
...                   "amount": [30.0]})
>>> book = loan_book(loans, g, n=2, lenders=None, params=LossParameters())
>>> D = np.array([[True, True], [False, True]])   # run 0: guarantor survives; run 1: it defaults
>>> loan_losses(book, D)[0].tolist()
[[20.0, 50.0]]
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

from contagion.stress.scenario import LossParameters

__all__ = ["COLLATERAL_HAIRCUTS", "LoanBook", "exposure_at_default", "loan_book", "loan_losses",
           "loss_given_default"]

#: Fraction of a collateral's value lost when it is realised, by ``collateral_type`` (lower case).
COLLATERAL_HAIRCUTS: dict[str, float] = {
    "cash": 0.0,
    "deposit": 0.0,
    "deposits": 0.0,
    "securities": 0.25,
    "real_estate": 0.40,
    "property": 0.40,
    "land_use_right": 0.40,
    "receivables": 0.50,
    "accounts_receivable": 0.50,
    "equipment": 0.60,
    "machinery": 0.60,
    "vehicle": 0.50,
    "inventory": 0.60,
    "intellectual_property": 0.80,
    "equity_pledge": 0.70,
    "other": 0.70,
}

#: Collateral types that mean "no collateral".
_UNSECURED = {"", "none", "unsecured", "credit", "guarantee", "nan"}


@dataclass(frozen=True)
class LoanBook:
    """The bank's loans as arrays, ready to price any default matrix."""

    loan_id: np.ndarray
    lender: np.ndarray
    borrower: np.ndarray  # int rows of firms
    ead: np.ndarray
    lgd: np.ndarray
    lgd_source: np.ndarray  # "loan" | "collateral" | "default"
    #: Guarantee contracts on the bank's loans: loan position, guarantor row (-1 person), payable amount.
    guarantee_loan: np.ndarray
    guarantor: np.ndarray
    guarantee_pay: np.ndarray
    n_firms: int

    @property
    def gross(self) -> np.ndarray:
        """EAD x LGD per loan, before guarantees."""
        return self.ead * self.lgd

    def borrower_matrix(self) -> sp.csr_matrix:
        """``n_firms x n_loans`` 0/1 matrix: loan losses -> borrower losses."""
        m = len(self.borrower)
        return sp.csr_matrix((np.ones(m), (self.borrower, np.arange(m))), shape=(self.n_firms, m))


def _num(frame: pd.DataFrame, col: str, default: float = np.nan) -> np.ndarray:
    if col not in frame:
        return np.full(len(frame), default)
    return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)


def exposure_at_default(loans: pd.DataFrame, ccf: float) -> np.ndarray:
    """EAD per loan: outstanding (principal when missing) + CCF x undrawn limit."""
    outstanding = _num(loans, "outstanding")
    outstanding = np.where(np.isfinite(outstanding), outstanding, _num(loans, "principal"))
    outstanding = np.nan_to_num(np.maximum(outstanding, 0.0), nan=0.0)
    limit = _num(loans, "limit")
    undrawn = np.where(np.isfinite(limit), np.maximum(limit - outstanding, 0.0), 0.0)
    return outstanding + ccf * undrawn


def loss_given_default(
    loans: pd.DataFrame, ead: np.ndarray, params: LossParameters
) -> tuple[np.ndarray, np.ndarray]:
    """LGD per loan and where it came from (``loan``, ``collateral`` or ``default``)."""
    given = _num(loans, "lgd")
    value = _num(loans, "collateral_value")
    haircuts = {**COLLATERAL_HAIRCUTS, **params.collateral_haircuts}
    if "collateral_type" in loans:
        kinds = loans["collateral_type"].astype("string").fillna("").str.strip().str.lower().tolist()
    else:
        kinds = [""] * len(loans)
    lgd = np.full(len(loans), params.default_lgd)
    source = np.full(len(loans), "default", dtype=object)
    for i, kind in enumerate(kinds):
        if np.isfinite(given[i]):
            lgd[i], source[i] = min(max(given[i], 0.0), 1.0), "loan"
        elif np.isfinite(value[i]) and value[i] > 0 and kind not in _UNSECURED and ead[i] > 0:
            h = haircuts.get(kind, haircuts["other"])
            lgd[i], source[i] = max(0.0, 1.0 - value[i] * (1.0 - h) / ead[i]), "collateral"
    return lgd, source


def _active(frame: pd.DataFrame, as_of: date | None) -> np.ndarray:
    ok = np.ones(len(frame), dtype=bool)
    if as_of is None:
        return ok
    day = pd.Timestamp(as_of)
    if "start" in frame:
        start = pd.to_datetime(frame["start"], errors="coerce")
        ok &= ~(start > day).to_numpy(dtype=bool)
    if "end" in frame:
        end = pd.to_datetime(frame["end"], errors="coerce")
        ok &= ~(end < day).to_numpy(dtype=bool)
    return ok


def loan_book(
    loans: pd.DataFrame,
    guarantee_contracts: pd.DataFrame,
    *,
    n: int,
    lenders: Collection[str] | None,
    params: LossParameters,
    as_of: date | None = None,
) -> LoanBook:
    """The bank's loans (``lender`` in ``lenders``; ``None`` or empty: every lender) priced for stress."""
    frame = loans
    if lenders and "lender" in loans:
        frame = loans[loans["lender"].astype(str).isin({str(x) for x in lenders})]
    frame = frame.reset_index(drop=True)
    borrower = _num(frame, "borrower")
    keep = np.isfinite(borrower) & (borrower >= 0)
    frame = frame[keep].reset_index(drop=True)
    ead = exposure_at_default(frame, params.ccf)
    lgd, source = loss_given_default(frame, ead, params)
    if "loan_id" in frame:
        loan_ids = frame["loan_id"].astype(str).to_numpy()
    else:
        loan_ids = np.arange(len(frame)).astype(str)
    position = {lid: i for i, lid in enumerate(loan_ids)}

    g = guarantee_contracts
    if len(g) and "loan_id" in g:
        g = g[_active(g, as_of)]
        pos = g["loan_id"].astype(str).map(position)
        g = g[pos.notna().to_numpy()]
        pos = pos[pos.notna()]
    else:
        g, pos = g.iloc[0:0], pd.Series(dtype=float)
    if len(g) and "guarantor_type" in g:
        person = (g["guarantor_type"].astype(str).str.lower() == "person").to_numpy(dtype=bool)
    else:
        person = np.zeros(len(g), dtype=bool)
    guarantor = np.nan_to_num(_num(g, "guarantor", -1.0), nan=-1.0).astype(np.int64)
    guarantor = np.where(person | (guarantor < 0), -1, guarantor)
    amount = np.nan_to_num(_num(g, "amount"), nan=0.0).clip(min=0.0)
    share = np.where(guarantor < 0, params.person_recovery, params.firm_recovery)
    loan_pos = pos.to_numpy(dtype=np.int64)
    borrower_rows = _num(frame, "borrower").astype(np.int64)
    self_guarantee = guarantor == borrower_rows[loan_pos] if len(loan_pos) else np.zeros(0, bool)
    return LoanBook(
        loan_id=loan_ids,
        lender=frame["lender"].astype(str).to_numpy() if "lender" in frame else np.full(len(frame), ""),
        borrower=borrower_rows,
        ead=ead,
        lgd=lgd,
        lgd_source=source.astype(str),
        guarantee_loan=loan_pos[~self_guarantee],
        guarantor=guarantor[~self_guarantee],
        guarantee_pay=(amount * share)[~self_guarantee],
        n_firms=n,
    )


def loan_losses(book: LoanBook, defaulted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Loss per loan and draw, and the guarantee money lost to wrong-way risk per draw.

    Parameters
    ----------
    book : LoanBook
    defaulted : (n_firms, k) bool
        Default indicator of every firm in each of k draws.

    Returns
    -------
    losses : (n_loans, k) array
        :math:`L_\\ell` of the module docstring.
    wrong_way : (k,) array
        Per draw, how much more the defaulted loans would have recovered had every
        defaulting firm guarantor paid (capped, like the payments, at the gross loss).
    """
    D = np.asarray(defaulted, dtype=bool)
    k = D.shape[1]
    m = len(book.borrower)
    loan_default = D[book.borrower]  # (m, k)
    gross = book.gross[:, None] * loan_default
    if len(book.guarantor):
        alive = np.ones((len(book.guarantor), k), dtype=bool)
        firm = book.guarantor >= 0
        alive[firm] = ~D[book.guarantor[firm]]
        to_loan = sp.csr_matrix(
            (book.guarantee_pay, (book.guarantee_loan, np.arange(len(book.guarantor)))),
            shape=(m, len(book.guarantor)),
        )
        paid = np.asarray(to_loan @ alive.astype(np.float64))
        promised = np.asarray(to_loan @ np.ones((len(book.guarantor), 1)))
    else:
        paid = np.zeros((m, k))
        promised = np.zeros((m, 1))
    losses = np.maximum(gross - paid, 0.0) * loan_default
    covered_all = np.maximum(gross - promised, 0.0) * loan_default
    wrong_way = np.ascontiguousarray((losses - covered_all).T).sum(axis=1)
    return losses, wrong_way
