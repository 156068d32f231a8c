r"""The bank's loss in one draw: exposure at default times loss given default, less guarantees.

For each of the bank's loans :math:`\ell` to borrower :math:`b(\ell)`:

.. math::

    \mathrm{EAD}_\ell &= O_\ell + \mathrm{CCF}\cdot\max(0,\ \mathrm{limit}_\ell - O_\ell)
                         \qquad (O_\ell \text{ the outstanding amount}) \\
    \mathrm{LGD}_\ell &= \max\bigl(f_\ell,\ \mathrm{LGD}^0_\ell\bigr), \qquad
    \mathrm{LGD}^0_\ell = \begin{cases}
        \mathrm{lgd}_\ell & \text{when the loan gives one} \\
        \max\!\bigl(0,\ 1 - R_\ell / \mathrm{EAD}_\ell\bigr)
            & \text{with collateral: } R_\ell = V_\ell (1 - h_{\mathrm{type}}) \\
        45\,\% & \text{otherwise}
    \end{cases} \\
    L_\ell &= D_{b(\ell)} \Bigl(\mathrm{EAD}_\ell\,\mathrm{LGD}_\ell
             - \sum_{c \to \ell} \text{call}_{c\ell}\; \pi_{g(c)}\; m_c\Bigr)

where :math:`D` is the draw's default indicator, :math:`\text{call}_{c\ell}` the call of
guarantee contract :math:`c` on the loan and :math:`\pi_g` the share its guarantor pays in
the draw (both from :mod:`contagion.guarantee`: calls capped at the guarantee and at the
loss, shared pro rata by co-guarantors, general guarantees spread over the borrower's
loans by EAD; a surviving firm pays up to its capacity, a defaulted one
:math:`1 - \lambda`), and :math:`m_c` the scenario's multiplier: ``firm_recovery``
(default 1) for a firm, ``person_recovery`` (default 0.3) for a person. A person who
owns the borrower (``ownership``) is in default with it whenever it is called (their
wealth is the firm), so pays :math:`1 - \lambda` of the call before the multiplier.
Calls are computed over every lender's loans, since a guarantor's capacity is spent
on all of them; a guarantee whose covered loan is not in the data calls
:math:`\lambda \times` its amount (:math:`\lambda` = ``contagion.loss_rate``).

*Collateral* (:func:`loss_given_default`): a collateral value :math:`V` recorded on
several loans is one collateral securing them all; it is split over them in
proportion to EAD, never counted twice. Loans are taken to share a collateral when
they carry the same ``collateral_id`` (when the data has that column), else when they
are the same borrower's with the same type and value. Haircuts :math:`h` (the share of
value lost in a forced sale, overridable per scenario) are in
:data:`COLLATERAL_HAIRCUTS`; an unknown type takes the ``other`` haircut.

*LGD floor* (Basel A-IRB, CRE32.16-17): :math:`f_\ell = f_U (1 - s_\ell) + f_S s_\ell`
with :math:`s_\ell = \min(1, R_\ell / \mathrm{EAD}_\ell)` the secured share,
:math:`f_U` = ``lgd_floor_unsecured`` (25 %) and :math:`f_S` = ``lgd_floor_secured`` (10 %).

*Downturn LGD* (``downturn_lgd``; Frye & Jacobs 2012): with the borrower's PD
:math:`p` and its PD :math:`p_s` under the scenario's macro shifts,
:math:`\mathrm{LGD}^{dt} = \Phi(\Phi^{-1}(p_s) - k)/p_s`,
:math:`k = \Phi^{-1}(p) - \Phi^{-1}(p\,\mathrm{LGD})`: equal to the LGD at
:math:`p_s = p` and rising with the stress (a scenario without shifts leaves LGD
unchanged).

The outstanding amount falls back to the principal when a loan has no status row; a
missing limit means no undrawn part. ``CCF = 40 %`` is the Basel III standardised
factor for general commitments (CRE20.100). Guarantees only count while active
(``start <= as_of <= end`` where given).

References: J. Frye, M. Jacobs Jr., "Credit loss and systematic loss given default",
J. Credit Risk 8(1):109-140 (2012); BCBS, CRE32 (LGD floors), CRE20.100 (CCF).

>>> import pandas as pd
>>> from contagion.stress.scenario import LossParameters
>>> loans = pd.DataFrame({"loan_id": ["L1"], "borrower": [0], "lender": ["B"], "outstanding": [100.0],
...                       "limit": [100.0], "lgd": [0.5], "collateral_type": [None],
...                       "collateral_value": [None]})
>>> g = pd.DataFrame({"guarantor_type": ["firm"], "guarantor": [1], "borrower": [0], "loan_id": ["L1"],
...                   "amount": [30.0]})
>>> book = loan_book(loans, g, n=2, lenders=None, params=LossParameters(), capacity=np.array([1e3, 1e3]))
>>> D = np.array([[True, True], [False, True]])   # run 0: guarantor survives; run 1: it defaults
>>> loan_losses(book, D)[0].tolist()    # it pays 30, then 55 % of 30
[[20.0, 33.5]]
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import ndtr, ndtri

from contagion.guarantee import call_matrix, guarantee_calls, payment_rates
from contagion.stress.scenario import LossParameters

__all__ = ["COLLATERAL_HAIRCUTS", "LoanBook", "downturn_lgd", "exposure_at_default", "loan_book",
           "loan_losses", "loss_given_default"]

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
    # the platform's Chinese labels: 抵押 a mortgage (mostly real estate), 质押 a pledge of movables or rights
    "抵押": 0.40,
    "质押": 0.50,
}

#: Collateral types that mean "no collateral" (保证: guaranteed, 信用: unsecured credit).
_UNSECURED = {"", "none", "unsecured", "credit", "guarantee", "nan", "保证", "信用"}


@dataclass(frozen=True)
class LoanBook:
    """The bank's loans as arrays, ready to price any default matrix."""

    loan_id: np.ndarray
    lender: np.ndarray
    borrower: np.ndarray  # int rows of firms
    ead: np.ndarray
    lgd: np.ndarray
    lgd_source: np.ndarray  # "loan" | "collateral" | "default"
    #: Guarantee calls on the bank's loans: loan position, guarantor row (-1 person), the call
    #: when the borrower defaults, and the multiplier on what is paid of it.
    guarantee_loan: np.ndarray
    guarantor: np.ndarray
    guarantee_call: np.ndarray
    guarantee_share: np.ndarray
    #: Every firm's calls over every lender's loans, C[g, b] (:func:`contagion.guarantee.call_matrix`).
    calls: sp.csr_matrix
    #: What each firm can pay in a run while it survives (its equity, imputed where unknown).
    capacity: np.ndarray
    #: Share of its calls a defaulted firm guarantor pays (1 - contagion.loss_rate).
    defaulted_pays: float
    n_firms: int

    @property
    def gross(self) -> np.ndarray:
        """EAD x LGD per loan, before guarantees."""
        return self.ead * self.lgd

    def borrower_matrix(self) -> sp.csr_matrix:
        """``n_firms x n_loans`` 0/1 matrix: loan losses -> borrower losses."""
        m = len(self.borrower)
        return sp.csr_matrix((np.ones(m), (self.borrower, np.arange(m))), shape=(self.n_firms, m))

    def firm_lgd(self) -> np.ndarray:
        """EAD-weighted LGD of each firm's loans in the book (NaN for firms without one)."""
        ead = np.bincount(self.borrower, weights=self.ead, minlength=self.n_firms)
        gross = np.bincount(self.borrower, weights=self.gross, minlength=self.n_firms)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(ead > 0, gross / np.where(ead > 0, ead, 1.0), np.nan)


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


def _collateral_recovery(loans: pd.DataFrame, ead: np.ndarray, params: LossParameters) -> np.ndarray:
    """What each loan recovers from collateral after haircut, a shared collateral split by EAD."""
    value = _num(loans, "collateral_value")
    haircuts = {**COLLATERAL_HAIRCUTS, **params.collateral_haircuts}
    if "collateral_type" in loans:
        kinds = loans["collateral_type"].astype("string").fillna("").str.strip().str.lower()
    else:
        kinds = pd.Series([""] * len(loans), index=loans.index, dtype="string")
    secured = (np.isfinite(value) & (value > 0) & ~kinds.isin(list(_UNSECURED)).to_numpy(dtype=bool)
               & (ead > 0))
    if "collateral_id" in loans:
        key = loans["collateral_id"].astype("string").fillna("").to_numpy(dtype=object)
        key = np.array([k if k else f"#row{i}" for i, k in enumerate(key)], dtype=object)
    else:
        key = (pd.Series(_num(loans, "borrower")).astype(str) + "|" + kinds.to_numpy().astype(str) + "|"
               + pd.Series(value).astype(str)).to_numpy(dtype=object)
    group = pd.Series([k if s else None for k, s in zip(key.tolist(), secured.tolist(), strict=True)],
                      dtype=object)
    share = np.zeros(len(loans))
    if secured.any():
        total = pd.Series(ead).where(secured).groupby(group).transform("sum").to_numpy(dtype=np.float64)
        share = np.where(secured, ead / np.where(total > 0, total, 1.0), 0.0)
    cut = np.array([haircuts.get(k, haircuts["other"]) for k in kinds.tolist()], dtype=np.float64)
    return np.where(secured, np.nan_to_num(value) * share * (1.0 - cut), 0.0)


def downturn_lgd(lgd: np.ndarray, pd_: np.ndarray, pd_stressed: np.ndarray) -> np.ndarray:
    """Frye-Jacobs LGD at the stressed PD, calibrated to equal ``lgd`` at ``pd_`` (module docstring).

    >>> downturn_lgd(np.array([0.45, 0.45]), np.array([0.01, 0.01]), np.array([0.01, 0.05])).round(3).tolist()
    [0.45, 0.535]
    """
    p = np.asarray(pd_, dtype=np.float64)
    ps = np.asarray(pd_stressed, dtype=np.float64)
    ok = (p > 0) & (p < 1) & (ps > p) & (ps < 1) & (lgd > 0) & (lgd < 1)
    out = np.array(lgd, dtype=np.float64)
    if ok.any():
        k = ndtri(p[ok]) - ndtri(p[ok] * lgd[ok])
        out[ok] = np.minimum(1.0, ndtr(ndtri(ps[ok]) - k) / ps[ok])
    return out


def loss_given_default(
    loans: pd.DataFrame, ead: np.ndarray, params: LossParameters
) -> tuple[np.ndarray, np.ndarray]:
    """LGD per loan, floored, and where it came from (``loan``, ``collateral`` or ``default``)."""
    given = _num(loans, "lgd")
    recovery = _collateral_recovery(loans, ead, params)
    with np.errstate(invalid="ignore", divide="ignore"):
        secured_share = np.where(ead > 0, np.minimum(1.0, recovery / np.where(ead > 0, ead, 1.0)), 0.0)
    has_given = np.isfinite(given)
    has_collateral = ~has_given & (recovery > 0)
    lgd = np.where(has_given, np.clip(np.nan_to_num(given), 0.0, 1.0),
                   np.where(has_collateral, 1.0 - secured_share, params.default_lgd))
    floor = params.lgd_floor_unsecured * (1.0 - secured_share) + params.lgd_floor_secured * secured_share
    source = np.where(has_given, "loan", np.where(has_collateral, "collateral", "default"))
    return np.maximum(lgd, floor), source.astype(object)


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


def _owner_pairs(ownership: pd.DataFrame | None) -> set[tuple[str, str]]:
    """(person id, firm USCC) of every person who owns a firm."""
    if ownership is None or len(ownership) == 0 or not {"owner_id", "firm_uscc"} <= set(ownership):
        return set()
    own = ownership
    if "owner_type" in own:
        own = own[own["owner_type"].astype(str).str.lower() == "person"]
    return set(zip(own["owner_id"].astype(str), own["firm_uscc"].astype(str), strict=True))


def loan_book(
    loans: pd.DataFrame,
    guarantee_contracts: pd.DataFrame,
    *,
    n: int,
    lenders: Collection[str] | None,
    params: LossParameters,
    as_of: date | None = None,
    capacity: np.ndarray | None = None,
    loss_rate: float = 0.45,
    ownership: pd.DataFrame | None = None,
    pd_: np.ndarray | None = None,
    pd_stressed: np.ndarray | None = None,
) -> LoanBook:
    """The bank's loans (``lender`` in ``lenders``; ``None`` or empty: every lender) priced for stress.

    ``capacity`` is each firm's capacity to pay calls (default: unlimited), ``loss_rate``
    the :math:`\\lambda` of the module docstring, ``ownership`` the snapshot's ownership
    table (persons who own their borrower), ``pd_`` and ``pd_stressed`` the firms' PDs
    without and with the scenario's shifts (for ``downturn_lgd``).
    """
    frame = loans.reset_index(drop=True)
    borrower = _num(frame, "borrower")
    frame = frame[np.isfinite(borrower) & (borrower >= 0)].reset_index(drop=True)
    ead = exposure_at_default(frame, params.ccf)
    lgd, source = loss_given_default(frame, ead, params)
    borrower_rows = _num(frame, "borrower").astype(np.int64)
    if params.downturn_lgd and pd_ is not None and pd_stressed is not None:
        lgd = downturn_lgd(lgd, np.asarray(pd_)[borrower_rows], np.asarray(pd_stressed)[borrower_rows])
    loan_ids = (frame["loan_id"].astype(str).to_numpy() if "loan_id" in frame
                else np.arange(len(frame)).astype(str))
    lender = frame["lender"].astype(str).to_numpy() if "lender" in frame else np.full(len(frame), "")
    bank = (np.isin(lender, [str(x) for x in lenders]) if lenders and "lender" in frame
            else np.ones(len(frame), dtype=bool))

    # every lender's loans carry calls: a guarantor's capacity is spent on all of them
    g = guarantee_contracts
    g = g[_active(g, as_of)].reset_index(drop=True) if len(g) else g.iloc[0:0]
    person = ((g["guarantor_type"].astype(str).str.lower() == "person").to_numpy(dtype=bool)
              if len(g) and "guarantor_type" in g else np.zeros(len(g), dtype=bool))
    guarantor = np.nan_to_num(_num(g, "guarantor", -1.0), nan=-1.0).astype(np.int64)
    guarantor = np.where(person | (guarantor < 0), -1, guarantor)
    cb = np.nan_to_num(_num(g, "borrower", -1.0), nan=-1.0).astype(np.int64)
    amount = np.nan_to_num(_num(g, "amount"), nan=0.0).clip(min=0.0)
    keep = (cb >= 0) & (guarantor != cb) & (amount > 0)  # a self-guarantee protects nothing
    g = g[keep].reset_index(drop=True)
    person, guarantor, cb, amount = person[keep], guarantor[keep], cb[keep], amount[keep]
    position = {lid: i for i, lid in enumerate(loan_ids)}
    if "loan_id" in g:
        text = g["loan_id"].astype("string").fillna("").str.strip()
        has_id = (text != "").to_numpy(dtype=bool)
    else:
        has_id = np.zeros(len(g), dtype=bool)
    ids = g["loan_id"].astype(str).to_numpy() if "loan_id" in g else np.full(len(g), "")
    cl = np.array([position.get(lid, -2) if h else -1 for lid, h in zip(ids, has_id, strict=True)],
                  dtype=np.int64)
    # a covered debt not in the data (a loan of an unknown lender, or a general guarantee of a
    # borrower with no loan): a loan of its own, EAD the amount, loss lambda x amount
    debt = np.bincount(borrower_rows, weights=ead, minlength=n)
    virtual = (cl == -2) | ((cl == -1) & (debt[np.clip(cb, 0, n - 1)] <= 0))
    m = len(loan_ids)
    cl = np.where(virtual, m + np.cumsum(virtual) - 1, cl)
    all_borrower = np.concatenate([borrower_rows, cb[virtual]])
    all_ead = np.concatenate([ead, amount[virtual]])
    all_loss = np.concatenate([ead * lgd, loss_rate * amount[virtual]])
    unit_c, unit_l, unit_call = guarantee_calls(all_borrower, all_ead, all_loss, cb, cl, amount)
    calls = call_matrix(guarantor[unit_c], cb[unit_c], unit_call, n)

    owners = _owner_pairs(ownership)
    gid = g["guarantor_id"].astype(str).to_numpy() if "guarantor_id" in g else np.full(len(g), "")
    buscc = g["borrower_uscc"].astype(str).to_numpy() if "borrower_uscc" in g else np.full(len(g), "")
    owner = person & np.array([(a, b) in owners for a, b in zip(gid, buscc, strict=True)], dtype=bool)
    share = np.where(person, params.person_recovery * np.where(owner, 1.0 - loss_rate, 1.0),
                     params.firm_recovery)
    on_bank = (unit_l < m) & bank[np.minimum(unit_l, max(m - 1, 0))] if m else np.zeros(len(unit_l), bool)
    bank_pos = np.cumsum(bank) - 1
    cap = np.full(n, np.inf) if capacity is None else np.asarray(capacity, dtype=np.float64)
    return LoanBook(
        loan_id=loan_ids[bank],
        lender=lender[bank],
        borrower=borrower_rows[bank],
        ead=ead[bank],
        lgd=lgd[bank],
        lgd_source=source[bank].astype(str),
        guarantee_loan=bank_pos[unit_l[on_bank]].astype(np.int64),
        guarantor=guarantor[unit_c[on_bank]],
        guarantee_call=unit_call[on_bank],
        guarantee_share=share[unit_c[on_bank]],
        calls=calls,
        capacity=cap,
        defaulted_pays=1.0 - loss_rate,
        n_firms=n,
    )


def loan_losses(
    book: LoanBook,
    defaulted: np.ndarray,
    *,
    callers: np.ndarray | None = None,
    broke: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Loss per loan and draw, and the guarantee money lost to defaulted or exhausted guarantors per draw.

    Parameters
    ----------
    book : LoanBook
    defaulted : (n_firms, k) bool
        Default indicator of every firm in each of k draws.
    callers : (n_firms, k) bool, optional
        The defaults whose guarantees are called in the draw, which spend guarantors'
        capacity (default ``defaulted``; the stress test leaves out the default stock).
    broke : (n_firms,) bool, optional
        Firms that pay nothing on any call (the default stock).

    Returns
    -------
    losses : (n_loans, k) array
        :math:`L_\\ell` of the module docstring.
    wrong_way : (k,) array
        Per draw, how much more the defaulted loans would have recovered had every firm
        guarantor paid its calls in full.
    """
    D = np.asarray(defaulted, dtype=bool)
    k = D.shape[1]
    m = len(book.borrower)
    loan_default = D[book.borrower]  # (m, k)
    gross = book.gross[:, None] * loan_default
    if not len(book.guarantor):
        return gross, np.zeros(k)
    rates = payment_rates(book.calls, D if callers is None else callers, book.capacity,
                          defaulted_pays=book.defaulted_pays)
    rates = np.where(D, book.defaulted_pays, rates)  # a defaulted guarantor pays as one, called or not
    if broke is not None:
        rates = np.where(np.asarray(broke, dtype=bool)[:, None], 0.0, rates)
    firm = book.guarantor >= 0
    rate = np.ones((len(book.guarantor), k))
    rate[firm] = rates[book.guarantor[firm]]
    to_loan = sp.csr_matrix(
        (book.guarantee_call * book.guarantee_share, (book.guarantee_loan, np.arange(len(book.guarantor)))),
        shape=(m, len(book.guarantor)),
    )
    paid = np.asarray(to_loan @ rate)
    promised = np.asarray(to_loan @ np.ones((len(book.guarantor), 1)))
    losses = np.maximum(gross - paid, 0.0) * loan_default
    covered_all = np.maximum(gross - promised, 0.0) * loan_default
    wrong_way = np.ascontiguousarray((losses - covered_all).T).sum(axis=1)
    return losses, wrong_way
