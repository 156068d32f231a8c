r"""Guarantee cascades: defaults call guarantees, calls eat guarantors' equity.

``guarantees[g, b]`` is the amount firm g guarantees for firm b's loans. When
borrower b defaults, each of its guarantors g is called for
:math:`G_{gb}\,\lambda_b` (:math:`\lambda` the loss rate). Calls accumulate;
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

__all__ = ["GuaranteeResult", "guarantee_cascade"]


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
