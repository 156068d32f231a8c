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

A tail figure at level :math:`q` rests on about :math:`N(1-q)` draws; with fewer
than :data:`MIN_TAIL_DRAWS` of them :func:`loss_measures` warns
(:class:`StressPrecisionWarning`) and says so in its ``warnings``.

References
----------
.. [1] C. Acerbi, D. Tasche, "On the coherence of expected shortfall", J. Banking
       & Finance 26(7):1487-1503 (2002).
.. [2] B. J. Manistre, G. H. Hancock, "Variance of the CTE estimator", North
       American Actuarial Journal 9(2):129-156 (2005).
.. [3] H. A. David, H. N. Nagaraja, *Order Statistics*, 3rd ed., Wiley (2003), sec. 7.1.

>>> m = loss_measures(np.arange(1, 2001, dtype=float), levels=(0.95,))
>>> m.loc[m.measure == "VaR", "value"].item(), m.loc[m.measure == "ES", "value"].item()
(1900.0, 1950.5)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["MIN_TAIL_DRAWS", "StressPrecisionWarning", "loss_measures", "precision_warnings"]

#: Fewest draws beyond the VaR for a tail figure worth reporting.
MIN_TAIL_DRAWS = 10

_Z = 1.959963984540054


class StressPrecisionWarning(UserWarning):
    """Too few Monte Carlo runs for a tail figure (VaR / ES) to be trusted."""


def _var_index(n: int, q: float) -> int:
    """0-based index of the order statistic :math:`L_{(\\lceil Nq \\rceil)}`."""
    return min(n - 1, max(0, math.ceil(n * q - 1e-12) - 1))


def precision_warnings(runs: int, levels: Sequence[float]) -> list[str]:
    """Messages for every level whose tail rests on fewer than :data:`MIN_TAIL_DRAWS` draws."""
    out = []
    for q in levels:
        tail = runs * (1.0 - q)
        if tail < MIN_TAIL_DRAWS:
            need = math.ceil(MIN_TAIL_DRAWS / (1.0 - q) - 1e-9)
            out.append(
                f"{runs} runs leave {tail:.1f} draws beyond the {q:.0%} VaR; "
                f"VaR/ES at {q:.0%} are unreliable (use at least {need} runs)"
            )
    return out


def loss_measures(
    losses: np.ndarray, *, levels: Sequence[float] = (0.95, 0.99), warn: bool = True
) -> pd.DataFrame:
    """EL, and VaR and ES at each level, with Monte Carlo standard errors.

    Parameters
    ----------
    losses : (N,) array
        One loss per run, in run order.
    levels : sequence of float
        Confidence levels in (0, 1).
    warn : bool
        Emit :class:`StressPrecisionWarning` for levels with too few tail draws.

    Returns
    -------
    DataFrame with columns ``measure`` (EL, VaR, ES), ``level`` (NaN for EL),
    ``value``, ``se`` and ``tail_draws``.
    """
    x = np.asarray(losses, dtype=np.float64)
    n = len(x)
    if n == 0:
        raise ValueError("no losses")
    if warn:
        for msg in precision_warnings(n, levels):
            warnings.warn(msg, StressPrecisionWarning, stacklevel=2)
    s = float(np.std(x, ddof=1)) if n > 1 else math.nan
    rows: list[dict[str, float | str]] = [
        {"measure": "EL", "level": math.nan, "value": float(np.mean(x)), "se": s / math.sqrt(n),
         "tail_draws": float(n)}
    ]
    order = np.sort(x, kind="stable")
    for q in levels:
        i = _var_index(n, q)
        var = float(order[i])
        half = _Z * math.sqrt(n * q * (1.0 - q))
        lo = order[min(n - 1, max(0, math.floor(n * q - half) - 1))]
        hi = order[min(n - 1, max(0, math.ceil(n * q + half) - 1))]
        var_se = float(hi - lo) / (2.0 * _Z)
        es = var + float(np.sum(np.maximum(x - var, 0.0))) / (n * (1.0 - q))
        tail = order[i:]
        s2 = float(np.var(tail, ddof=1)) if len(tail) > 1 else 0.0
        es_se = math.sqrt((s2 + q * (es - var) ** 2) / (n * (1.0 - q)))
        rows.append({"measure": "VaR", "level": q, "value": var, "se": var_se, "tail_draws": n * (1.0 - q)})
        rows.append({"measure": "ES", "level": q, "value": es, "se": es_se, "tail_draws": n * (1.0 - q)})
    return pd.DataFrame(rows)
