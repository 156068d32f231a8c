r"""Eisenberg–Noe clearing with Rogers–Veraart default costs.

Firm i owes :math:`L_{ij}` to firm j and :math:`\ell_i` to external creditors
(``external_liabilities``); it holds external assets :math:`e_i`. Its total
obligation is :math:`\bar p_i = \sum_j L_{ij} + \ell_i`. Let :math:`q_i` be what
i pays to other firms in total; creditor j receives the share
:math:`\Pi_{ij} = L_{ij} / \sum_k L_{ik}` of it, so firm i's assets are

.. math::

    A_i(q) = e_i + \sum_j \Pi_{ji}\, q_j .

Firm i is solvent when :math:`A_i(q) \ge \bar p_i` and then pays everything,
:math:`p_i = \bar p_i`. Otherwise it defaults and (Rogers and Veraart 2013)
realises only :math:`v_i = \alpha e_i + \beta \sum_j \Pi_{ji} q_j`, which it pays
out in full, :math:`p_i = v_i` (:math:`\alpha = \beta = 1` is Eisenberg–Noe).
How a defaulting firm splits :math:`v_i` (``seniority``):

- ``"pro_rata"``: external debt ranks equally with interfirm debt, so firms get
  :math:`q_i = v_i \sum_j L_{ij} / \bar p_i`;
- ``"senior"``: external creditors are paid first, firms get
  :math:`q_i = \max(0, v_i - \ell_i)`.

A clearing vector is a fixed point of this map; there may be several, and this
function returns the greatest. Tie rule: a firm whose assets exactly cover its
obligations (zero clearing equity) pays in full and is **not** in default.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from chainrisk.errors import ConvergenceError, InvalidModelInput
from contagion._validate import as_csr, as_vector, is_sparse
from contagion.typing import MatrixLike, SparseMatrix, VectorLike

__all__ = ["ClearingResult", "eisenberg_noe"]


@dataclass(frozen=True)
class ClearingResult:
    """Outcome of :func:`eisenberg_noe` (all vectors of length n).

    ``interfirm_payments[i, j]`` is what i pays j (sparse when the liabilities were).
    """

    payments: np.ndarray
    interfirm_payments: SparseMatrix | np.ndarray
    defaulted: np.ndarray
    equity: np.ndarray
    iterations: int


def eisenberg_noe(
    liabilities: MatrixLike,
    external_assets: VectorLike,
    external_liabilities: VectorLike | None = None,
    *,
    seniority: Literal["pro_rata", "senior"] = "pro_rata",
    alpha: float = 1.0,
    beta: float = 1.0,
    tol: float = 1e-12,
    max_iter: int = 10_000,
) -> ClearingResult:
    r"""The greatest clearing vector of a network of mutual obligations.

    Computed by the fictitious-default algorithm (Eisenberg and Noe 2001;
    Rogers and Veraart 2013): start from full payment, find who defaults, solve
    the linear clearing equations with that default set fixed, repeat until the
    set stops changing. Each step can only lower payments, so the sequence
    descends to the greatest clearing vector in at most about n steps. A
    singular linear system (a closed loop of defaulters owing only each other
    with :math:`\beta = 1`) is finished by Picard iteration from above instead.

    Parameters
    ----------
    liabilities : n x n matrix, dense or sparse
        ``liabilities[i, j]`` is what firm i owes firm j (>= 0).
    external_assets : length-n array
        :math:`e_i \ge 0`.
    external_liabilities : length-n array, optional
        :math:`\ell_i \ge 0`, debt to creditors outside the network (default 0).
    seniority : {"pro_rata", "senior"}
        How a defaulting firm splits its payment (module docstring).
    alpha, beta : float in (0, 1]
        Share of external assets and of interfirm receivables a defaulting firm realises.
    tol : float
        Relative rounding allowance in the solvency test
        (:math:`A_i \ge \bar p_i (1 - tol) - tol`) and the Picard tolerance.
    max_iter : int
        Steps allowed (outer steps plus any Picard steps).

    Returns
    -------
    ClearingResult
        ``payments`` :math:`p` (to all creditors, external included),
        ``interfirm_payments`` (n x n), ``defaulted`` (:math:`A_i < \bar p_i`),
        ``equity`` (:math:`A_i - \bar p_i` for solvent firms, 0 for defaulted ones), ``iterations``.

    Raises
    ------
    InvalidModelInput
        NaN or negative amounts (naming the firm), ``alpha``/``beta`` outside (0, 1].
    ConvergenceError
        The default set kept changing, or Picard iteration did not settle, within ``max_iter``.

    Examples
    --------
    Firm 0 owes 1 two, 1 owes 2 one, 2 owes 0 one; external assets 0.5, 0, 1:

    >>> import numpy as np
    >>> L = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    >>> r = eisenberg_noe(L, [0.5, 0.0, 1.0])
    >>> r.payments.tolist(), r.defaulted.tolist(), r.equity.tolist()
    ([1.5, 1.0, 1.0], [True, False, False], [0.0, 0.5, 1.0])

    Firm 0 has 0.5 + 1 (from 2) < 2 and pays 1.5; firm 1 receives 1.5 and pays 1.

    References
    ----------
    .. [1] L. Eisenberg, T. H. Noe, "Systemic risk in financial systems",
       Management Science 47(2), 236-249 (2001).
    .. [2] L. C. G. Rogers, L. A. M. Veraart, "Failure and rescue in an interbank
       network", Management Science 59(4), 882-898 (2013).
    """
    sparse_in = is_sparse(liabilities)
    lmat = as_csr(liabilities, "liabilities")
    n = lmat.shape[0]
    e = as_vector(external_assets, "external_assets", n)
    ext = (
        np.zeros(n)
        if external_liabilities is None
        else as_vector(external_liabilities, "external_liabilities", n)
    )
    if seniority not in ("pro_rata", "senior"):
        raise InvalidModelInput(f"seniority must be 'pro_rata' or 'senior', got {seniority!r}")
    for name, val in (("alpha", alpha), ("beta", beta)):
        if not 0.0 < val <= 1.0:
            raise InvalidModelInput(f"{name} must lie in (0, 1], got {val!r}")

    owed = np.asarray(lmat.sum(axis=1)).ravel()  # interfirm debt of each firm
    pbar = owed + ext
    inv_owed = np.divide(1.0, owed, out=np.zeros(n), where=owed > 0)
    relt = (sp.diags(inv_owed) @ lmat).T.tocsr()  # relt[i, j] = Pi_ji: i's share of j's interfirm payment
    if seniority == "pro_rata":
        c, d = np.divide(owed, pbar, out=np.zeros(n), where=pbar > 0), np.zeros(n)
    else:
        c, d = np.ones(n), ext
    slack = tol * np.maximum(pbar, 1.0)

    def classify(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = relt @ q
        solvent = e + r >= pbar - slack
        v = alpha * e + beta * r
        paying = ~solvent & (c * v - d > 0)
        return solvent, paying, v

    def step(q: np.ndarray) -> np.ndarray:  # the clearing map itself
        solvent, _, v = classify(q)
        return np.where(solvent, owed, np.clip(c * v - d, 0.0, owed))

    q = owed.copy()
    it = 0
    classes = classify(q)[:2]
    while True:
        it += 1
        if it > max_iter:
            resid = float(np.abs(step(q) - q).max())
            raise ConvergenceError("Eisenberg-Noe default set did not settle", residual=resid, iterations=it)
        q = _solve_fixed_classes(q, relt, e, owed, c, d, alpha, beta, *classes, tol=tol, max_iter=max_iter)
        new_classes = classify(q)[:2]
        same = all(np.array_equal(a, b) for a, b in zip(classes, new_classes, strict=True))
        classes = new_classes
        if same and np.abs(step(q) - q).max(initial=0.0) <= tol * max(1.0, float(owed.max(initial=0.0))):
            break

    solvent, _, v = classify(q)
    q = np.where(solvent, owed, q)
    payments = np.where(solvent, pbar, v)
    assets = e + relt @ q
    equity = np.where(solvent, np.maximum(assets - pbar, 0.0), 0.0)
    pay_mat = sp.diags(q * inv_owed) @ lmat
    pay_mat = sp.csr_matrix(pay_mat)
    return ClearingResult(
        payments=payments,
        interfirm_payments=pay_mat if sparse_in else pay_mat.toarray(),
        defaulted=~solvent,
        equity=equity,
        iterations=it,
    )


def _solve_fixed_classes(
    q: np.ndarray,
    relt: sp.csr_matrix,
    e: np.ndarray,
    owed: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    alpha: float,
    beta: float,
    solvent: np.ndarray,
    paying: np.ndarray,
    *,
    tol: float,
    max_iter: int,
) -> np.ndarray:
    r"""Interfirm payments with the classes fixed: solvent pay in full, wiped-out pay 0,
    paying defaulters satisfy :math:`q_P = c_P(\alpha e_P + \beta (\Pi^T q)_P) - d_P`."""
    out = np.where(solvent, owed, 0.0)
    idx = np.flatnonzero(paying)
    if idx.size == 0:
        return out
    sub = relt[idx]
    rhs = c[idx] * (alpha * e[idx] + beta * (sub @ out)) - d[idx]
    a = sp.identity(idx.size, format="csc") - beta * sp.diags(c[idx]) @ sub[:, idx]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            sol = np.atleast_1d(spla.spsolve(sp.csc_matrix(a), rhs))
        ok = bool(np.isfinite(sol).all())
    except (RuntimeError, Warning, ValueError):
        ok = False
    if not ok:  # singular: Picard from above converges down to the greatest solution
        sol = np.minimum(q[idx], owed[idx])
        scale = tol * max(1.0, float(owed.max()))
        for _ in range(max_iter):
            full = out.copy()
            full[idx] = sol
            nxt = np.clip(c[idx] * (alpha * e[idx] + beta * (sub @ full)) - d[idx], 0.0, owed[idx])
            resid = float(np.abs(nxt - sol).max())
            sol = nxt
            if resid <= scale:
                break
        else:
            raise ConvergenceError("Eisenberg-Noe Picard did not settle", residual=resid, iterations=max_iter)
    out[idx] = np.clip(sol, 0.0, owed[idx])
    return out
