r"""Guarantees: what a call is, who pays it, and the default cascade it drives.

**The guarantee model** (one model for the contagion layer and for the bank's loss,
:mod:`contagion.stress`). Contract :math:`c` has guarantor :math:`g(c)`, borrower
:math:`b(c)` and amount :math:`a_c`; it covers one loan, or, with no ``loan_id``
(a general guarantee), each loan :math:`\ell` of its borrower for the share
:math:`w_\ell = \mathrm{EAD}_\ell / \sum_{\ell' \in b} \mathrm{EAD}_{\ell'}` of its amount
(:func:`guarantee_calls`). With :math:`a_{c\ell}` the part of :math:`a_c` on loan
:math:`\ell`, :math:`A_\ell = \sum_c a_{c\ell}` and :math:`G_\ell = \mathrm{EAD}_\ell\,
\mathrm{LGD}_\ell` the lender's loss on the loan when its borrower defaults,

.. math::

    \text{call}_{c\ell} = a_{c\ell}\, \min\bigl(1,\ G_\ell / A_\ell\bigr)

so a call is the borrower's loss on the loan, capped at the guarantee (and so at the
debt, :math:`G_\ell \le \mathrm{EAD}_\ell`), and co-guarantors share it pro rata
to their amounts. :math:`C_{gb} = \sum_{c:\, g(c)=g,\, b(c)=b} \text{call}_c` is
what g owes when b defaults (:func:`call_matrix`); it is also the exposure of the
guarantee layer, whose impact on g is :math:`C_{gb} / e_g`.

In a run with default indicators :math:`D`, guarantor g is called for
:math:`T_g = \sum_b C_{gb} D_b` and pays the share (:func:`payment_rates`)

.. math::

    \pi_g = \begin{cases} 1 - \lambda & g \text{ defaulted in the run} \\
                           \min(1,\ K_g / T_g) & \text{otherwise} \end{cases}

of each call: a survivor pays up to its capacity :math:`K_g` (its equity), and a
guarantor that defaults pays what its estate recovers on unsecured claims,
:math:`1 - \lambda` (wrong-way risk in guarantee circles, not all-or-nothing).
What it pays is equity it loses, i.e. its guarantee-layer distress.

**The default cascade** (:func:`guarantee_cascade`, a standalone model):
``guarantees[g, b]`` is the amount firm g guarantees for firm b's loans. When
borrower b defaults, each of its guarantors g is called for
:math:`G_{gb}\,\lambda_b` (:math:`\lambda` the loss rate; pass the call matrix
:math:`C` with :math:`\lambda = 1` for the model above). Calls accumulate;
a guarantor defaults in the round its cumulative calls reach its equity,

.. math::

    C_g(t) = \sum_{b \in D(t-1)} G_{gb}\, \lambda_b, \qquad
    g \in D(t) \iff C_g(t) \ge e_g \text{ and } C_g(t) > 0,

and then calls its own guarantors in the next round. Every default fires once,
so guarantee circles (cycles) end after at most n rounds. A guarantor with
zero equity defaults on its first positive call; a firm that is never called
never defaults by this mechanism, whatever its equity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from chainrisk.errors import ConvergenceError, InvalidModelInput
from contagion._kernels import block_width, spmm
from contagion._validate import as_csr, as_vector
from contagion.typing import MatrixLike, ScenarioLike, VectorLike

__all__ = ["GuaranteeResult", "call_matrix", "guarantee_calls", "guarantee_cascade", "payment_rates"]


@dataclass(frozen=True)
class GuaranteeResult:
    """Outcome of :func:`guarantee_cascade`; arrays are n x k (n for a vector input).

    ``default_round`` is 0 for initial defaults, t for firms that defaulted in
    round t, and -1 for firms that survive. ``calls`` is the total amount
    each guarantor was called for (its loss; not capped at its equity).
    """

    defaulted: np.ndarray
    default_round: np.ndarray
    calls: np.ndarray
    rounds: int


def guarantee_cascade(
    guarantees: MatrixLike,
    equity: VectorLike,
    initial_default: ScenarioLike,
    *,
    loss_rate: float | VectorLike = 0.45,
    max_rounds: int | None = None,
) -> GuaranteeResult:
    r"""Spread defaults through a guarantee network, for one scenario or k at once.

    Parameters
    ----------
    guarantees : n x n matrix, dense or sparse
        ``guarantees[g, b]``: amount g guarantees for b (guarantor -> borrower), >= 0.
    equity : length-n array
        Each firm's equity :math:`e_g \ge 0`, the buffer calls are charged against.
    initial_default : bool array, length n or n x k
        Firms in default at round 0; columns are independent scenarios.
    loss_rate : float or length-n array in [0, 1]
        :math:`\lambda_b`, the share of a guaranteed amount called when borrower b defaults.
    max_rounds : int, optional
        Rounds allowed (default n + 1, which always suffices).

    Returns
    -------
    GuaranteeResult
        ``defaulted``, ``default_round``, ``calls`` and ``rounds`` (rounds in which
        someone new defaulted, the most over scenarios).

    Raises
    ------
    InvalidModelInput
        NaN or negative guarantees or equity, loss rates outside [0, 1], bad shapes.
    ConvergenceError
        ``max_rounds`` ran out while firms were still defaulting.

    Examples
    --------
    A guarantee circle: 0 guarantees 1, 1 guarantees 2, 2 guarantees 0, 10 each;
    equity 4, 5, 6; loss rate 0.5 so a call is 5. Firm 0 defaults:

    >>> import numpy as np
    >>> G = np.array([[0, 10, 0], [0, 0, 10], [10, 0, 0]], dtype=float)
    >>> r = guarantee_cascade(G, [4.0, 5.0, 6.0], [True, False, False], loss_rate=0.5)
    >>> r.defaulted.tolist(), r.default_round.tolist(), r.calls.tolist(), r.rounds
    ([True, False, False], [0, -1, -1], [0.0, 0.0, 5.0], 0)

    Firm 2 (guarantor of 0) is called for 5 < 6 and survives; with equity 5 it
    falls (5 >= 5), calls firm 1 for 5 >= 5, which calls firm 0 (already down):

    >>> r = guarantee_cascade(G, [4.0, 5.0, 5.0], [True, False, False], loss_rate=0.5)
    >>> r.default_round.tolist(), r.calls.tolist(), r.rounds
    ([0, 2, 1], [5.0, 5.0, 5.0], 2)

    References
    ----------
    .. [1] The default-cascade scheme (each default fires once, threshold on
       cumulative losses) follows S. Battiston et al., "DebtRank: Too central
       to fail?", Sci. Rep. 2, 541 (2012); the call rule (guaranteed amount
       times loss rate against the guarantor's equity) is the chainrisk brief's.
    """
    gmat = as_csr(guarantees, "guarantees")
    n = gmat.shape[0]
    e = as_vector(equity, "equity", n)
    lam = as_vector(loss_rate, "loss_rate", n, upper=1.0)
    init = np.asarray(initial_default)
    vector = init.ndim == 1
    if init.dtype != bool or init.shape[0] != n or init.ndim not in (1, 2):
        raise InvalidModelInput(f"initial_default must be a bool array of shape ({n},) or ({n}, k)")
    init = init.reshape(n, -1)
    k = init.shape[1]
    limit = n + 1 if max_rounds is None else max_rounds
    called = sp.csr_matrix(gmat @ sp.diags(lam))  # called[g, b]: call on g when b defaults

    defaulted = np.array(init, order="C")
    rnd = np.where(init, 0, -1)
    calls = np.zeros((n, k))
    rounds = 0
    b = block_width(n, k)
    for start in range(0, k, b):
        sl = slice(start, min(start + b, k))
        dflt = np.array(defaulted[:, sl], order="C")
        new = dflt.astype(np.float64)
        c = np.zeros_like(new)
        y = np.empty_like(new)
        t = 0
        while new.any():
            if t == limit:
                raise ConvergenceError(
                    "guarantee cascade still spreading", residual=float(new.sum()), iterations=t
                )
            t += 1
            c += spmm(called, new, y)
            fresh = (c >= e[:, None]) & (c > 0) & ~dflt
            dflt |= fresh
            rnd[:, sl][fresh] = t
            new = fresh.astype(np.float64)
            if not fresh.any():
                t -= 1  # the last round only delivered calls
                break
        defaulted[:, sl], calls[:, sl] = dflt, c
        rounds = max(rounds, t)
    if vector:
        return GuaranteeResult(defaulted[:, 0], rnd[:, 0], calls[:, 0], rounds)
    return GuaranteeResult(defaulted, rnd, calls, rounds)


def guarantee_calls(
    loan_borrower: VectorLike,
    loan_ead: VectorLike,
    loan_loss: VectorLike,
    contract_borrower: VectorLike,
    contract_loan: VectorLike,
    contract_amount: VectorLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Each contract's call on each loan it covers when the borrower defaults (module docstring).

    Parameters
    ----------
    loan_borrower, loan_ead, loan_loss : length-m arrays
        Borrower row, exposure at default and loss :math:`G_\ell` (EAD x LGD) of each loan.
    contract_borrower, contract_loan, contract_amount : length-c arrays
        Borrower row, covered loan (position in the loan arrays; -1 for a general
        guarantee over all the borrower's loans) and amount of each contract.

    Returns
    -------
    unit_contract, unit_loan, unit_call : arrays
        One entry per (contract, covered loan): the contract, the loan and the call.
        A general guarantee whose borrower has no loan (or only loans of zero EAD)
        covers nothing and has no entry.

    Examples
    --------
    Loan 0 (EAD 100, loss 60) has two specific guarantees of 50 and 30: they share
    the 60 pro rata (37.5 and 22.5). Loan 1 (EAD 100, loss 20) and loan 2 (EAD 300,
    loss 90) of borrower 1 have one general guarantee of 40, split 10 / 30 by EAD:
    its calls are capped at the losses, 10 and 30.

    >>> u = guarantee_calls([0, 1, 1], [100.0, 100.0, 300.0], [60.0, 20.0, 90.0],
    ...                     [0, 0, 1], [0, 0, -1], [50.0, 30.0, 40.0])
    >>> [a.tolist() for a in u]
    [[0, 1, 2, 2], [0, 0, 1, 2], [37.5, 22.5, 10.0, 30.0]]
    """
    lb = np.asarray(loan_borrower, dtype=np.int64)
    ead = np.asarray(loan_ead, dtype=np.float64)
    loss = np.asarray(loan_loss, dtype=np.float64)
    cb = np.asarray(contract_borrower, dtype=np.int64)
    cl = np.asarray(contract_loan, dtype=np.int64)
    amount = np.asarray(contract_amount, dtype=np.float64)
    m = len(lb)
    if not (len(ead) == len(loss) == m and len(cl) == len(amount) == len(cb)):
        raise InvalidModelInput("loan arrays and contract arrays must each have equal lengths")
    if np.any(cl >= m) or np.any(amount < 0) or not np.all(np.isfinite(amount)):
        raise InvalidModelInput("contract loans must index the loans and amounts be finite and >= 0")
    specific = np.flatnonzero(cl >= 0)
    uc, ul, ua = [specific], [cl[specific]], [amount[specific]]
    general = np.flatnonzero(cl < 0)
    if len(general):
        # general guarantees: spread over the borrower's loans pro rata to EAD
        nb = int(max(lb.max(initial=-1), cb.max(initial=-1))) + 1
        total = np.bincount(lb, weights=ead, minlength=nb)
        order = np.argsort(lb, kind="stable")
        starts = np.searchsorted(lb[order], np.arange(nb + 1))
        for c in general:
            b = cb[c]
            if total[b] <= 0:
                continue
            loans = order[starts[b]:starts[b + 1]]
            uc.append(np.full(len(loans), c))
            ul.append(loans)
            ua.append(amount[c] * ead[loans] / total[b])
    unit_contract = np.concatenate(uc).astype(np.int64)
    unit_loan = np.concatenate(ul).astype(np.int64)
    unit_amount = np.concatenate(ua).astype(np.float64)
    covered = np.bincount(unit_loan, weights=unit_amount, minlength=m)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(covered > 0, np.minimum(1.0, np.maximum(loss, 0.0) / covered), 0.0)
    order = np.argsort(unit_contract, kind="stable")
    return unit_contract[order], unit_loan[order], (unit_amount * scale[unit_loan])[order]


def call_matrix(guarantor: VectorLike, borrower: VectorLike, call: VectorLike, n: int) -> sp.csr_matrix:
    """:math:`C_{gb}`: what firm g is called for when b defaults (person guarantors, row -1, left out).

    >>> call_matrix([0, 0, -1, 2], [1, 1, 1, 1], [5.0, 2.0, 9.0, 1.0], 3).toarray().tolist()
    [[0.0, 7.0, 0.0], [0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    g = np.asarray(guarantor, dtype=np.int64)
    b = np.asarray(borrower, dtype=np.int64)
    v = np.asarray(call, dtype=np.float64)
    keep = (g >= 0) & (g != b)
    m = sp.csr_matrix((v[keep], (g[keep], b[keep])), shape=(n, n))
    m.sum_duplicates()
    return m


def payment_rates(
    calls: MatrixLike, defaulted: np.ndarray, capacity: VectorLike, *, defaulted_pays: float
) -> np.ndarray:
    r"""The share :math:`\pi_g` of its calls each firm pays in each run (module docstring).

    Parameters
    ----------
    calls : n x n matrix
        :math:`C` of :func:`call_matrix`.
    defaulted : n x k bool
        Which borrowers call (and which guarantors are in default) in each run.
    capacity : length-n array >= 0
        :math:`K_g`, what a surviving guarantor can pay in a run (its equity; ``inf``: no limit).
    defaulted_pays : float in [0, 1]
        :math:`1 - \lambda`, the share a defaulted guarantor pays.

    Examples
    --------
    Firm 0 owes 60 when firm 1 defaults and 60 when firm 2 does; its capacity is 90.
    Run 0: only 1 defaults, firm 0 pays in full; run 1: both do, it pays 90 / 120;
    run 2: firm 0 defaults too and pays 55 %.

    >>> C = sp.csr_matrix([[0, 60.0, 60.0], [0, 0, 0], [0, 0, 0]])
    >>> D = np.array([[False, False, True], [True, True, True], [False, True, True]])
    >>> payment_rates(C, D, [90.0, 1.0, 1.0], defaulted_pays=0.55)[0].tolist()
    [1.0, 0.75, 0.55]
    """
    cmat = as_csr(calls, "calls")
    n = cmat.shape[0]
    cap = np.asarray(capacity, dtype=np.float64)
    if cap.shape != (n,) or np.isnan(cap).any() or (cap < 0).any():
        raise InvalidModelInput(f"capacity must be a length-{n} array of values >= 0 (inf: unlimited)")
    if not 0.0 <= defaulted_pays <= 1.0:
        raise InvalidModelInput(f"defaulted_pays must lie in [0, 1], got {defaulted_pays!r}")
    d = np.asarray(defaulted, dtype=bool).reshape(n, -1)
    total = np.asarray(cmat @ d.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        alive = np.where(total > cap[:, None], cap[:, None] / np.where(total > 0, total, 1.0), 1.0)
    return np.where(d, defaulted_pays, alive)
