r"""Asset correlation: the Basel IRB reference and the value implied by a default-rate series.

**Basel IRB** (BCBS 2006 ¶272-273, CRE31.5-31.9): a corporate exposure of
probability of default :math:`p` has the asset correlation

.. math::

    R(p) = 0.12\,w + 0.24\,(1 - w), \qquad w = \frac{1 - e^{-50p}}{1 - e^{-50}},

between 0.12 (high PD) and 0.24 (low PD); for SMEs (annual turnover :math:`S`
between 5 and 50 million EUR) it is lowered by :math:`0.04\,(1 - (S - 5)/45)`,
i.e. by up to 0.04 at 5 million EUR. At :math:`p = 1\%` a small SME has
:math:`R \approx 0.153`, at 2 % 0.124, at 5 % 0.090 (:func:`irb_correlation`).

**Implied by the platform's own history** (:func:`implied_asset_correlation`):
under Vasicek's one-factor model the yearly default rate :math:`DR_t` of a cohort
of :math:`n_t` firms is, given the factor, binomial with probability
:math:`p(Z)`, :math:`E[p(Z)] = p` and :math:`E[p(Z)^2] = \Phi_2(c, c; \rho)`,
:math:`c = \Phi^{-1}(p)`. The method of moments takes :math:`\hat p` the mean of
the :math:`DR_t`, removes the binomial noise of finite cohorts,

.. math::

    \hat m_2 = \frac{1}{T}\sum_t \frac{DR_t^2 - DR_t / n_t}{1 - 1/n_t},

and solves :math:`\Phi_2(c, c; \rho) = \hat m_2` for :math:`\rho` (0 when
:math:`\hat m_2 \le \hat p^2`), with
:math:`\Phi_2(h, h; \rho) = \Phi(h) - 2\,T\bigl(h, \sqrt{(1-\rho)/(1+\rho)}\bigr)`
(Owen's T). With a handful of years the estimate is very noisy (Gordy &
Heitfield 2002 find small-sample bias downward); it is shown beside the
loadings for a validator to compare, never used to set them.

:func:`yearly_default_rates` builds the series from a snapshot: cohorts at
``as_of`` minus 1, 2, ... years, each the firms founded by then (unknown
founding counts as founded), not external and not yet in default; a cohort
member defaults within the year when its first default date falls in the next
12 months. Cohorts start no earlier than the first loan's start (the platform's
lending history; before it defaults are not observable), and leading cohorts
without a single default are dropped: a platform's loan-status history often
starts later than its loans, and years before it would read as zero default rates.

>>> round(irb_correlation(0.01), 4), round(irb_correlation(0.01, turnover_m_eur=5.0), 4)
(0.1928, 0.1528)
>>> round(implied_asset_correlation([0.01, 0.03, 0.005, 0.02], [1000, 1000, 1000, 1000]), 3)
0.042

References
----------
.. [1] O. Vasicek, "The distribution of loan portfolio value", Risk 15(12) (2002).
.. [2] M. Gordy, E. Heitfield, "Estimating default correlations from short panels of
       credit rating performance data", Federal Reserve Board working paper (2002).
.. [3] Basel Committee on Banking Supervision, "International convergence of capital
       measurement and capital standards" (2006), ¶272-273.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri, owens_t

__all__ = ["bivariate_normal_diagonal", "implied_asset_correlation", "irb_correlation",
           "yearly_default_rates"]


def irb_correlation(pd_: float, *, turnover_m_eur: float | None = None) -> float:
    """The Basel IRB corporate asset correlation, with the SME adjustment when a turnover is given."""
    w = (1.0 - math.exp(-50.0 * pd_)) / (1.0 - math.exp(-50.0))
    r = 0.12 * w + 0.24 * (1.0 - w)
    if turnover_m_eur is not None and turnover_m_eur < 50.0:
        s = min(max(turnover_m_eur, 5.0), 50.0)
        r -= 0.04 * (1.0 - (s - 5.0) / 45.0)
    return r


def bivariate_normal_diagonal(h: float, rho: float) -> float:
    r""":math:`\Phi_2(h, h; \rho)`, the probability that two standard normals of correlation rho are below h.

    >>> round(bivariate_normal_diagonal(0.0, 0.0), 6), round(bivariate_normal_diagonal(-1.0, 1.0), 4)
    (0.25, 0.1587)
    """
    if rho >= 1.0:
        return float(ndtr(h))
    return float(ndtr(h) - 2.0 * owens_t(h, math.sqrt((1.0 - rho) / (1.0 + rho))))


def implied_asset_correlation(rates: Sequence[float] | np.ndarray | pd.Series,
                              sizes: Sequence[float] | np.ndarray | pd.Series) -> float | None:
    """The one-factor asset correlation implied by yearly default rates (method of moments).

    Returns ``None`` with fewer than three years or no default at all.
    """
    dr = np.asarray(rates, dtype=np.float64)
    n = np.asarray(sizes, dtype=np.float64)
    ok = np.isfinite(dr) & (n > 1)
    dr, n = dr[ok], n[ok]
    if len(dr) < 3 or dr.sum() <= 0:
        return None
    p = float(dr.mean())
    m2 = float(np.mean((dr**2 - dr / n) / (1.0 - 1.0 / n)))
    if p >= 1.0:
        return None
    c = float(ndtri(p))
    if m2 <= p * p:
        return 0.0
    if m2 >= p:
        return 1.0
    return float(brentq(lambda r: bivariate_normal_diagonal(c, r) - m2, 0.0, 1.0 - 1e-12, xtol=1e-10))


def yearly_default_rates(firms: pd.DataFrame, loans: pd.DataFrame, as_of: date, *, years: int = 10
                         ) -> pd.DataFrame:
    """Yearly cohorts of a snapshot: ``cohort`` (start date), ``firms``, ``defaults``, ``rate``.

    See the module docstring for who is in a cohort; the newest cohort starts a year before ``as_of``.
    """
    cols = ["cohort", "firms", "defaults", "rate"]
    if "default_date" not in firms or len(firms) == 0:
        return pd.DataFrame(columns=cols)
    dd = pd.to_datetime(firms["default_date"], errors="coerce")
    founded = pd.to_datetime(firms["founded"], errors="coerce") if "founded" in firms else \
        pd.Series(pd.NaT, index=firms.index)
    inside = ~firms["external"].fillna(False).astype(bool) if "external" in firms else \
        pd.Series(True, index=firms.index)
    has_start = "start" in loans and len(loans) > 0
    first = pd.to_datetime(loans["start"], errors="coerce").min() if has_start else pd.NaT
    rows = []
    end = pd.Timestamp(as_of)
    for k in range(1, years + 1):
        t = end - pd.DateOffset(years=k)
        if pd.isna(first) or t < first:
            break
        nxt = t + pd.DateOffset(years=1)
        at_risk = inside & ~(founded > t) & ~(dd <= t)
        hit = at_risk & (dd > t) & (dd <= nxt)
        m, d = int(at_risk.sum()), int(hit.sum())
        if m:
            rows.append((t.date(), m, d, d / m))
    out = pd.DataFrame(rows, columns=cols).sort_values("cohort").reset_index(drop=True)
    with_default = np.flatnonzero(out["defaults"].to_numpy() > 0)
    return out.iloc[with_default[0] if len(with_default) else len(out):].reset_index(drop=True)
