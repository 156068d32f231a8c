r"""Loss-distribution figures and their Monte Carlo standard errors.

For :math:`N` simulated losses with order statistics :math:`L_{(1)} \le \dots \le L_{(N)}`:

- expected loss :math:`\widehat{EL} = \bar L`, standard error :math:`s / \sqrt N`
  (:math:`s` the sample standard deviation);
- value at risk :math:`\widehat{VaR}_q = L_{(\lceil Nq \rceil)}`. Its standard error
  comes from the order-statistics (binomial) confidence interval: the number of
  draws below the true quantile is :math:`\mathrm{Bin}(N, q)`, so
  :math:`[L_{(a)}, L_{(b)}]` with :math:`a, b = Nq \mp z\sqrt{Nq(1-q)}`,
  :math:`z = 1.96`, covers it with about 95 % probability, and
  :math:`SE \approx (L_{(b)} - L_{(a)}) / (2z)`;
- expected shortfall (Acerbi & Tasche 2002)
  :math:`\widehat{ES}_q = \widehat{VaR}_q + \frac{1}{N(1-q)} \sum_i (L_i - \widehat{VaR}_q)^+`,
  with the asymptotic standard error of the tail-mean estimator
  (Manistre & Hancock 2005, the Sukhatme-type formula)
  :math:`SE^2 = \bigl[s^2_{\text{tail}} + q\,(\widehat{ES}_q - \widehat{VaR}_q)^2\bigr] / (N(1-q))`,
  :math:`s^2_{\text{tail}}` the sample variance of the losses at or above :math:`\widehat{VaR}_q`.

Unexpected loss is :math:`UL_q = VaR_q - EL` (its standard error combines theirs as
if independent, an upper bound since both estimates move together).

Weighted runs (importance sampling, :mod:`contagion.stress.importance`). With
likelihood ratios :math:`w_r` normalised to :math:`\omega_r = N w_r / \sum w` (the
ratio estimator), every figure is a functional of the weighted empirical
distribution :math:`\hat F(x) = \frac1N \sum_r \omega_r 1\{L_r \le x\}` and the
formulas above are their :math:`\omega \equiv 1` case:

- :math:`\widehat{EL} = \frac1N\sum_r \omega_r L_r`;
- :math:`\widehat{VaR}_q = \inf\{x : \frac1N \sum_r \omega_r 1\{L_r > x\} \le 1 - q\}`
  (Glasserman & Li's tail estimator); its standard error inverts the confidence
  band of the tail probability at :math:`\widehat{VaR}_q`, whose standard error is
  :math:`\sqrt{\sum_r \omega_r^2 (1\{L_r > \widehat{VaR}_q\} - \hat p)^2} / N`;
- :math:`\widehat{ES}_q = \sum_r \theta_r L_r` with :math:`\theta_r = \omega_r / (N(1-q))`
  on the runs beyond the VaR and the remaining mass :math:`1 - \sum \theta` on the runs
  at it (:func:`es_weights`); the same :math:`\theta` gives each firm's Euler
  contribution, so they sum to :math:`\widehat{ES}_q`;
- standard errors by the delta method, :math:`SE^2 = \sum_r \omega_r^2 (\psi_r - \bar\psi)^2 / (N(N-1))`
  with the influence :math:`\psi_r = L_r` for EL and
  :math:`\psi_r = VaR_q + (L_r - VaR_q)^+ / (1 - q)` for ES (for :math:`\omega \equiv 1`
  the latter is Manistre & Hancock's formula).

A tail figure at level :math:`q` rests on about :math:`N(1-q)` draws (with weights:
the runs at or beyond the VaR); with fewer than :data:`MIN_TAIL_DRAWS` of them
:func:`loss_measures` warns (:class:`StressPrecisionWarning`) and says so in its
``warnings``.

References
----------
.. [1] C. Acerbi, D. Tasche, "On the coherence of expected shortfall", J. Banking
       & Finance 26(7):1487-1503 (2002).
.. [2] B. J. Manistre, G. H. Hancock, "Variance of the CTE estimator", North
       American Actuarial Journal 9(2):129-156 (2005).
.. [3] H. A. David, H. N. Nagaraja, *Order Statistics*, 3rd ed., Wiley (2003), sec. 7.1.
.. [4] P. Glasserman, J. Li, "Importance sampling for portfolio credit risk",
       Management Science 51(11):1643-1656 (2005).
.. [5] D. Tasche, "Euler allocation: theory and practice", arXiv:0708.2542 (2007).

>>> m = loss_measures(np.arange(1, 2001, dtype=float), levels=(0.95,))
>>> m.loc[m.measure == "VaR", "value"].item(), round(m.loc[m.measure == "ES", "value"].item(), 9)
(1900.0, 1950.5)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["MIN_TAIL_DRAWS", "StressPrecisionWarning", "es_weights", "loss_measures", "measure_key",
           "normalised_weights", "precision_warnings", "weighted_var"]

#: Fewest draws beyond the VaR for a tail figure worth reporting.
MIN_TAIL_DRAWS = 10

_Z = 1.959963984540054


class StressPrecisionWarning(UserWarning):
    """Too few Monte Carlo runs for a tail figure (VaR / ES) to be trusted."""


def _var_index(n: int, q: float) -> int:
    """0-based index of the order statistic :math:`L_{(\\lceil Nq \\rceil)}`."""
    return min(n - 1, max(0, math.ceil(n * q - 1e-12) - 1))


def precision_warnings(runs: int, levels: Sequence[float], tail_draws: Sequence[float] | None = None
                       ) -> list[str]:
    """Messages for every level whose tail rests on fewer than :data:`MIN_TAIL_DRAWS` draws.

    ``tail_draws`` gives the draws per level (weighted runs); else :math:`N(1-q)`.
    """
    out = []
    for i, q in enumerate(levels):
        tail = runs * (1.0 - q) if tail_draws is None else float(tail_draws[i])
        if tail < MIN_TAIL_DRAWS:
            need = math.ceil(MIN_TAIL_DRAWS / (1.0 - q) - 1e-9)
            out.append(
                f"{runs} runs leave {tail:.1f} draws beyond the {measure_key('VaR', q)[4:]}% VaR; "
                f"VaR/ES at {measure_key('VaR', q)[4:]}% are unreliable (use at least {need} runs"
                + (")" if tail_draws is None else " or importance sampling)")
            )
    return out


def measure_key(name: str, level: float | None) -> str:
    """The summary key of a figure: ``EL``, ``VaR_99``, ``ES_99.9``.

    >>> measure_key("VaR", 0.999), measure_key("ES", 0.95), measure_key("EL", None)
    ('VaR_99.9', 'ES_95', 'EL')
    """
    if level is None or (isinstance(level, float) and math.isnan(level)):
        return name
    return f"{name}_{round(level * 100, 6):g}"


def normalised_weights(n: int, weights: np.ndarray | None) -> np.ndarray:
    """Run weights scaled to sum to ``n`` (all ones when ``None``)."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be n finite non-negative numbers with a positive sum")
    return w * (n / w.sum())


def _tail_mass(xs: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """For sorted losses ``xs``: the weight strictly above each value (ties counted once)."""
    cum = np.cumsum(ws)
    last = np.searchsorted(xs, xs, side="right") - 1
    return cum[-1] - cum[last]


def weighted_var(losses: np.ndarray, weights: np.ndarray | None, q: float) -> float:
    r"""The weighted VaR :math:`\inf\{x: \frac1N\sum_r \omega_r 1\{L_r > x\} \le 1 - q\}`.

    Without weights the order statistic :math:`L_{(\lceil Nq \rceil)}`.
    """
    x = np.asarray(losses, dtype=np.float64)
    w = normalised_weights(len(x), weights)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    return _var_sorted(xs, ws, _tail_mass(xs, ws), q)


def _var_sorted(xs: np.ndarray, ws: np.ndarray, above: np.ndarray, q: float) -> float:
    n = len(xs)
    ok = above <= n * (1.0 - q) + 1e-9 * n
    return float(xs[int(np.argmax(ok))]) if ok.any() else float(xs[-1])


def es_weights(losses: np.ndarray, weights: np.ndarray | None, q: float) -> tuple[np.ndarray, float]:
    r"""Run weights :math:`\theta_r` (summing to 1, :math:`\widehat{ES}_q = \sum_r \theta_r L_r`) and the VaR.

    >>> theta, var = es_weights(np.arange(1.0, 11.0), None, 0.75)
    >>> var, round(float(theta @ np.arange(1.0, 11.0)), 12), float(theta.sum())
    (8.0, 9.2, 1.0)
    """
    x = np.asarray(losses, dtype=np.float64)
    w = normalised_weights(len(x), weights)
    var = weighted_var(x, w, q)
    n = len(x)
    theta = np.where(x > var, w / (n * (1.0 - q)), 0.0)
    at = x == var
    rest = max(0.0, 1.0 - float(theta.sum()))
    theta[at] = rest * w[at] / w[at].sum() if w[at].sum() > 0 else rest / at.sum()
    return theta, var


def loss_measures(
    losses: np.ndarray,
    *,
    levels: Sequence[float] = (0.95, 0.99),
    warn: bool = True,
    weights: np.ndarray | None = None,
) -> pd.DataFrame:
    """EL, and VaR, ES and unexpected loss (UL) at each level, with Monte Carlo standard errors.

    Parameters
    ----------
    losses : (N,) array
        One loss per run, in run order.
    levels : sequence of float
        Confidence levels in (0, 1).
    warn : bool
        Emit :class:`StressPrecisionWarning` for levels with too few tail draws.
    weights : (N,) array, optional
        Likelihood ratios of the runs (importance sampling); ``None``: plain Monte Carlo.

    Returns
    -------
    DataFrame with columns ``measure`` (EL, VaR, ES, UL), ``level`` (NaN for EL),
    ``value``, ``se`` and ``tail_draws``.
    """
    x = np.asarray(losses, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise ValueError("no losses")
    w = normalised_weights(n, weights)
    dof = n * (n - 1) if n > 1 else math.nan

    def se_of(psi: np.ndarray) -> float:
        centre = float(w @ psi) / n
        return math.sqrt(float(np.sum(w * w * (psi - centre) ** 2)) / dof) if n > 1 else math.nan

    el = float(w @ x) / n
    el_se = se_of(x)
    rows: list[dict[str, float | str]] = [
        {"measure": "EL", "level": math.nan, "value": el, "se": el_se, "tail_draws": float(n)}
    ]
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    above = _tail_mass(xs, ws)
    tails = []
    for q in levels:
        var = _var_sorted(xs, ws, above, q)
        beyond = (x > var).astype(np.float64)
        p_se = math.sqrt(float(np.sum(w * w * (beyond - float(w @ beyond) / n) ** 2))) / n
        lo = _var_sorted(xs, ws, above, max(1e-12, q - _Z * p_se))
        hi = _var_sorted(xs, ws, above, min(1.0 - 1e-12, q + _Z * p_se))
        var_se = (hi - lo) / (2.0 * _Z)
        theta, _ = es_weights(x, w, q)
        es = float(theta @ x)
        es_se = se_of(var + np.maximum(x - var, 0.0) / (1.0 - q))
        tail = n * (1.0 - q) if weights is None else float(np.sum(x >= var))
        tails.append(tail)
        rows.append({"measure": "VaR", "level": q, "value": var, "se": var_se, "tail_draws": tail})
        rows.append({"measure": "ES", "level": q, "value": es, "se": es_se, "tail_draws": tail})
        rows.append({"measure": "UL", "level": q, "value": var - el, "se": math.hypot(var_se, el_se),
                     "tail_draws": tail})
    if warn:
        for msg in precision_warnings(n, levels, None if weights is None else tails):
            warnings.warn(msg, StressPrecisionWarning, stacklevel=2)
    return pd.DataFrame(rows)
