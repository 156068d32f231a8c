r"""DebtRank: distress propagation through an impact matrix.

Distress :math:`h_i \in [0, 1]` is the fraction of firm i's equity lost. It
spreads through the impact matrix :math:`W`, where :math:`W_{ij}` is the
fraction of i's equity lost when j is fully distressed.

``variant="single"`` (Battiston et al. 2012) follows the original algorithm
with states undistressed (U), distressed (D) and inactive (I). Initially
shocked firms are D at :math:`t = 1`; a firm that became distressed passes its
whole distress on once, in the round after, and then becomes inactive:

.. math::

    h_i(t) = \min\Bigl(1,\; h_i(t-1) + \sum_{j:\, s_j(t-1) = D} W_{ij}\, h_j(t-1)\Bigr)

and :math:`s_i(t) = D` when :math:`h_i(t) > 0` and i was never D before,
:math:`s_i(t) = I` when :math:`s_i(t-1) = D`.

``variant="differential"`` (Bardoscia et al. 2015) passes on every increment:

.. math::

    h(t+1) = \min\bigl(1,\; h(t) + W\, \Delta h(t)\bigr), \qquad
    \Delta h(t) = h(t) - h(t-1), \quad h(0) = 0,

until every increment is below ``tol``.

Scenarios are columns: all of them advance together as one sparse-matrix x
dense-matrix product per round, in column blocks sized to the cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import scipy.sparse as sp

from chainrisk.errors import ConvergenceError, InvalidModelInput
from contagion._kernels import DefaultRule, block_width, differential, scale_rows_capped, spmm
from contagion._validate import as_csr, as_scenarios, as_vector, is_sparse
from contagion.typing import Labels, MatrixLike, ScenarioLike, VectorLike

__all__ = ["DebtRankResult", "debtrank", "impact_matrix"]


@dataclass(frozen=True)
class DebtRankResult:
    """Outcome of :func:`debtrank`.

    ``distress`` and ``initial`` have the shape of the shock (n, or n x k);
    ``initial`` is :math:`h(1)`, the shock itself.
    """

    distress: np.ndarray
    initial: np.ndarray
    rounds: int
    converged: bool
    variant: str
    #: Propagation rounds summed over scenarios (the work done, in scenario-rounds).
    scenario_rounds: int = 0

    def value(self, weights: VectorLike | None = None) -> float | np.ndarray:
        r"""The DebtRank :math:`R = \sum_i v_i\,(h_i(T) - h_i(1))`, one per scenario.

        ``weights`` are the firms' economic values (e.g. equity or total
        assets), normalised here to shares :math:`v_i`; uniform when omitted.
        A float for a vector shock, an array of k values for an n x k shock.
        """
        n = self.distress.shape[0]
        v = np.full(n, 1.0 / n) if weights is None else as_vector(weights, "weights", n)
        if weights is not None:
            total = v.sum()
            if total <= 0:
                raise InvalidModelInput("weights must have a positive sum")
            v = v / total
        r = v @ (self.distress - self.initial)
        return float(r) if np.ndim(r) == 0 else np.asarray(r)


@overload
def impact_matrix(
    exposures: np.ndarray | Sequence[Sequence[float]], equity: VectorLike, *, labels: Labels | None = None
) -> np.ndarray: ...


@overload
def impact_matrix(
    exposures: MatrixLike, equity: VectorLike, *, labels: Labels | None = None
) -> sp.csr_matrix | np.ndarray: ...


def impact_matrix(
    exposures: MatrixLike, equity: VectorLike, *, labels: Labels | None = None
) -> sp.csr_matrix | np.ndarray:
    r"""The DebtRank impact matrix :math:`W_{ij} = \min(1, E_{ij} / e_i)`.

    Parameters
    ----------
    exposures : n x n matrix, dense or sparse
        ``exposures[i, j]`` is what i loses when j fails outright (i's exposure to j), >= 0.
    equity : length-n array
        Each firm's equity :math:`e_i`.
    labels : sequence, optional
        Firm names for error messages (e.g. USCCs).

    Returns
    -------
    W : same kind as ``exposures``
        CSR float64 when ``exposures`` is sparse, a dense array otherwise.
        Rule for :math:`e_i \le 0`: the firm has no buffer, so any positive
        exposure wipes it out: :math:`W_{ij} = 1` wherever :math:`E_{ij} > 0`.

    Raises
    ------
    InvalidModelInput
        NaN or negative exposures (naming the row), NaN equity, wrong shapes.

    Examples
    --------
    >>> import numpy as np
    >>> E = np.array([[0.0, 5.0, 0.0], [0.0, 0.0, 30.0], [1.0, 0.0, 0.0]])
    >>> impact_matrix(E, [10.0, 20.0, 0.0])
    array([[0. , 0.5, 0. ],
           [0. , 0. , 1. ],
           [1. , 0. , 0. ]])
    """
    sparse_in = is_sparse(exposures)
    m = as_csr(exposures, "exposures", labels=labels)
    n = m.shape[0]
    e = as_vector(equity, "equity", n, nonnegative=False, labels=labels)
    w = scale_rows_capped(m, e)
    return w if sparse_in else w.toarray()


def debtrank(
    impact: MatrixLike,
    shock: ScenarioLike,
    *,
    variant: Literal["single", "differential"] = "single",
    tol: float = 1e-9,
    max_rounds: int = 1000,
    strict: bool = True,
    rule: DefaultRule | None = None,
) -> DebtRankResult:
    r"""Run DebtRank from an initial distress, for one scenario or k at once.

    See the module docstring for the equations of both variants.

    Parameters
    ----------
    impact : n x n matrix (numpy, scipy sparse or torch)
        :math:`W_{ij}`, the fraction of i's equity lost when j is fully distressed,
        used as given (build it with :func:`impact_matrix`).
    shock : length-n vector or n x k matrix in [0, 1]
        Initial distress :math:`h(1)`; columns are independent scenarios.
    variant : {"single", "differential"}
        Battiston et al. (2012) or Bardoscia et al. (2015).
    tol : float
        ``"differential"`` stops a scenario once every increment is below ``tol``.
        ``"single"`` ends exactly (each firm propagates once) and ignores it.
    max_rounds : int
        Propagation rounds allowed.
    strict : bool
        Raise :class:`ConvergenceError` when ``max_rounds`` runs out (default);
        otherwise return with ``converged=False``.
    rule : :class:`contagion.multilayer.DefaultRule`, optional
        Defaults decided inside the rounds, as in :func:`contagion.multilayer.propagate`: a
        firm whose distress crosses the rule in a round (or in the shock) is set to distress 1
        there and passes the rest of a full default on in the next round. ``rule.latent`` is
        n x k (n, or n x 1, for a vector shock). ``"differential"`` only: the single variant
        passes a firm's distress on once, in the round after it first rises, so a firm the
        rule defaulted later would never pass the rest on; it is refused there.

    Returns
    -------
    DebtRankResult
        ``distress`` (shape of ``shock``), ``initial``, ``rounds`` (the most any
        scenario needed), ``converged``; ``value(weights)`` gives DebtRank R.

    Raises
    ------
    InvalidModelInput
        NaN or negative impacts, shock outside [0, 1], wrong shapes (naming the firm).
    ConvergenceError
        ``max_rounds`` ran out (with ``strict``).

    Examples
    --------
    Firm 0 is exposed to 1 and 1 to 0 (half their equity each way), 1 is also
    exposed to 2; firm 2 loses half its equity:

    >>> import numpy as np
    >>> W = np.array([[0.0, 0.5, 0.0], [0.5, 0.0, 0.4], [0.0, 0.0, 0.0]])
    >>> r = debtrank(W, [0.0, 0.0, 0.5])
    >>> r.distress.tolist(), r.rounds
    ([0.1, 0.25, 0.5], 3)

    Single: 1 gets 0.4 * 0.5 = 0.2, then 0 gets 0.5 * 0.2 = 0.1, then 1 gets
    0.5 * 0.1 more and stops (it already propagated). The differential variant
    keeps echoing the increments round the 0-1 loop: 0.1 / (1 - 0.25) for firm 0.

    >>> debtrank(W, [0.0, 0.0, 0.5], variant="differential").distress.round(4).tolist()
    [0.1333, 0.2667, 0.5]
    >>> round(r.value(), 4)  # R with uniform weights: (0.1 + 0.25) / 3
    0.1167

    With a Merton rule (``contagion.stress.distress``) that defaults firm 1 once
    :math:`X_1 = -1.5 < c_1 (1 - h_1) = -2 (1 - h_1)`, i.e. past distress 0.25, which its
    0.2667 above crosses: firm 1 jumps to 1 and firm 0 then loses 0.5.

    >>> from contagion.multilayer import DefaultRule
    >>> rule = DefaultRule(latent=np.array([5.0, -1.5, 5.0]), thresholds=np.array([-np.inf, -2.0, -np.inf]),
    ...                    sensitivity=1.0, cap=np.ones(3))
    >>> debtrank(W, [0.0, 0.0, 0.5], variant="differential", rule=rule).distress.round(4).tolist()
    [0.5, 1.0, 0.5]

    References
    ----------
    .. [1] S. Battiston, M. Puliga, R. Kaushik, P. Tasca, G. Caldarelli,
       "DebtRank: Too central to fail?", Sci. Rep. 2, 541 (2012).
    .. [2] M. Bardoscia, S. Battiston, F. Caccioli, G. Caldarelli,
       "DebtRank: A microscopic foundation for shock propagation", PLoS ONE 10, e0130406 (2015).
    """
    w = as_csr(impact, "impact")
    n = w.shape[0]
    if not tol > 0:
        raise InvalidModelInput(f"tol must be positive, got {tol!r}")
    h1, vector = as_scenarios(shock, "shock", n)
    if variant not in ("single", "differential"):
        raise InvalidModelInput(f"variant must be 'single' or 'differential', got {variant!r}")
    if rule is not None:
        rule = _rule_for(rule, h1.shape, variant)
    if variant == "single":
        h, rounds, residual, work = _single(w, h1, max_rounds=max_rounds)
    elif rule is None:
        h, _, rounds, residual, work = differential(w, h1, tol=tol, max_rounds=max_rounds)
    else:  # the rule runs in the attributed kernel; one matrix gives the plain kernel's sums
        h, _, rounds, residual, work = differential([w], h1, tol=tol, max_rounds=max_rounds, rule=rule)
    converged = residual == 0.0
    if not converged and strict:
        raise ConvergenceError(f"DebtRank ({variant}) did not converge", residual=residual, iterations=rounds)
    if vector:
        h, h1 = h[:, 0], h1[:, 0]
    return DebtRankResult(
        distress=h, initial=h1, rounds=rounds, converged=converged, variant=variant, scenario_rounds=work
    )


def _rule_for(rule: DefaultRule, shape: tuple[int, int], variant: str) -> DefaultRule:
    """``rule`` checked against the scenarios' shape (a vector's latent as one column)."""
    if variant != "differential":
        raise InvalidModelInput(
            "rule needs variant='differential': the single variant passes each firm's distress on "
            "once, so a firm the rule defaults after that would never pass the rest of its default on")
    latent = np.asarray(rule.latent, dtype=np.float64)
    if latent.ndim == 1 and shape[1] == 1:
        latent = latent[:, None]
    n = shape[0]
    if latent.shape != shape or np.shape(rule.thresholds) != (n,) or np.shape(rule.cap) != (n,):
        raise InvalidModelInput(
            f"rule: latent must have the shock's shape {shape}, thresholds and cap ({n},); got "
            f"{latent.shape}, {np.shape(rule.thresholds)} and {np.shape(rule.cap)}")
    return DefaultRule(latent=latent, thresholds=np.asarray(rule.thresholds, dtype=np.float64),
                       sensitivity=float(rule.sensitivity), cap=np.asarray(rule.cap, dtype=np.float64))


def _single(w: sp.csr_matrix, h1: np.ndarray, *, max_rounds: int) -> tuple[np.ndarray, int, float, int]:
    """Battiston et al. (2012) with per-scenario U/D/I masks, in column blocks."""
    n, k = h1.shape
    out = np.empty_like(h1)
    rounds_all, residual, work = 0, 0.0, 0
    b = block_width(n, k)
    for start in range(0, k, b):
        sl = slice(start, min(start + b, k))
        h = np.array(h1[:, sl], order="C")
        distressed = h > 0  # state D
        ever = distressed.copy()  # D or I
        x, y = np.empty_like(h), np.empty_like(h)
        t = 0
        while distressed.any():
            if t == max_rounds:
                residual = max(residual, float(np.max(h, where=distressed, initial=0.0)))
                break
            work += int(distressed.any(axis=0).sum())
            np.multiply(h, distressed, out=x)
            spmm(w, x, y)
            h += y
            np.minimum(h, 1.0, out=h)
            np.greater(h, 0.0, out=distressed)
            distressed &= ~ever
            ever |= distressed
            t += 1
        out[:, sl] = h
        rounds_all = max(rounds_all, t)
    return out, rounds_all, residual, work
