"""Back-testing scored PDs against the defaults that followed: per tier, and for the portfolio.

A scoring at ``t`` predicts, for each firm, the probability of a first default in
``(t, t + 12 months]`` (:mod:`gnn.labels`). Once data after ``t`` arrive, the
realised defaults of that window are counted with the project's one default
definition (:func:`gnn.labels.default_within`'s rule) and compared per tier
(:mod:`gnn.tiers`) with what the PDs expected.

**A window not yet over.** When the data end at ``now < t + 12 months``, only the
fraction ``f = (now - t) / (window end - t)`` of the window is observed. Each PD
is then scaled to that fraction under a constant monthly hazard,
``p_f = 1 - (1 - p)^f`` (within 3% of ``f p`` for PDs up to 10%), and the result says
``partial: true``. Defaults surface late (90 days overdue, seen at a month end), so
a young window undercounts: the figures of a partial window are indicative.

**Per tier**, with ``n`` firms, PDs ``p_i`` and ``k`` observed defaults:

- expected defaults ``E = sum p_i``, mean PD ``p_bar = E / n``, observed rate ``k / n``;
- an exact binomial test of ``k`` against ``Binomial(n, p_bar)`` (:func:`scipy.stats.binomtest`):
  the two-sided p-value and the one-sided *underestimated* p-value ``P(X >= k)``;
- a **traffic light** as the Basel Committee's back-testing framework (BCBS 1996,
  "Supervisory framework for the use of backtesting", Table 2) sets its zones, applied to
  PDs as Tasche (2003) and the Deutsche Bundesbank (2003) do: with the cumulative
  probability ``c = P(X <= k)`` under ``Binomial(n, p_bar)``, **green** when ``c < 95%``,
  **amber** when ``95% <= c < 99.99%``, **red** when ``c >= 99.99%``. For 250 trials at 1%
  this gives Basel's own table: green 0-4 exceptions, amber 5-9, red 10 or more. A tier
  with no more defaults than expected (``k <= n p_bar``) is green whatever its size: in a
  small tier of low PDs, ``P(X <= 0)`` alone can pass 95% (2 firms at 1.5%: 97%), and
  no default cannot show that PDs were too low.

The test treats defaults as independent; correlated defaults (a common shock, the
contagion this project models) make observed rates swing more than a binomial, so an
amber tier in a bad year is weaker evidence than its p-value says (Tasche 2003, sec. 3).

**Portfolio:** observed ``k`` against expected ``E`` over all tested firms, with the
Jeffreys 95% interval of the default rate, ``Beta(k + 1/2, n - k + 1/2)`` quantiles
(Brown, Cai & DasGupta 2001), and ``calibrated`` when the mean PD lies inside it.

References: BCBS (1996); D. Tasche, "A traffic lights approach to PD validation" (2003);
Deutsche Bundesbank Monthly Report, Sept. 2003, "Approaches to the validation of internal
rating systems"; L. Brown, T. Cai, A. DasGupta, Statistical Science 16 (2001).

>>> light(k=4, n=250, p=0.01), light(k=5, n=250, p=0.01), light(k=10, n=250, p=0.01)
('green', 'amber', 'red')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from gnn.labels import window_end
from gnn.tiers import TIER_NAMES

__all__ = [
    "AMBER_AT",
    "RED_AT",
    "Window",
    "backtest",
    "jeffreys_interval",
    "light",
    "observed_window",
    "scale_pd",
]

#: Cumulative probability ``P(X <= k)`` from which a tier is amber, and red (Basel's 95% and 99.99%).
AMBER_AT = 0.95
RED_AT = 0.9999


@dataclass(frozen=True)
class Window:
    """The label window of a scoring and how much of it the data cover."""

    start: date  # the scoring date t (excluded)
    end: date  # t + 12 months (included)
    observed_until: date  # min(end, the data's end)
    fraction: float  # observed share of the window, 0..1

    @property
    def partial(self) -> bool:
        return self.fraction < 1.0

    def as_dict(self) -> dict[str, Any]:
        d = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(self).items()}
        return {**d, "partial": self.partial}


def observed_window(as_of: date, data_end: date) -> Window:
    """The window ``(as_of, as_of + 12 months]`` cut at ``data_end``.

    >>> w = observed_window(date(2024, 12, 31), date(2025, 6, 30))
    >>> str(w.end), round(w.fraction, 3), w.partial
    ('2025-12-31', 0.496, True)
    """
    end = window_end(as_of)
    until = min(end, data_end)
    fraction = max(0.0, (until - as_of).days / (end - as_of).days)
    return Window(as_of, end, until, min(1.0, fraction))


def scale_pd(pd_: np.ndarray, fraction: float) -> np.ndarray:
    """12-month PDs scaled to ``fraction`` of the year under a constant hazard: ``1 - (1 - p)^f``.

    >>> scale_pd(np.array([0.19]), 0.5).round(4).tolist()  # 1 - 0.81 ** 0.5
    [0.1]
    """
    p = np.clip(np.asarray(pd_, dtype="float64"), 0.0, 1.0)
    return 1.0 - (1.0 - p) ** fraction


def light(*, k: int, n: int, p: float) -> str:
    """The traffic light of ``k`` defaults among ``n`` firms of mean PD ``p`` (module docstring)."""
    if n == 0 or k <= n * p:  # no more defaults than expected: nothing underestimated
        return "green"
    c = float(stats.binom.cdf(k, n, p))
    return "red" if c >= RED_AT else "amber" if c >= AMBER_AT else "green"


def jeffreys_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Jeffreys interval of a binomial rate: ``Beta(k + 1/2, n - k + 1/2)`` quantiles,
    with the bound at 0 (1) when ``k = 0`` (``k = n``).

    >>> [round(v, 4) for v in jeffreys_interval(0, 100)]
    [0.0, 0.0247]
    """
    if n == 0:
        return (0.0, 1.0)
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k + 0.5, n - k + 0.5))
    hi = 1.0 if k == n else float(stats.beta.ppf(1 - a, k + 0.5, n - k + 0.5))
    return (lo, hi)


def _test(k: int, n: int, expected: float) -> dict[str, Any]:
    p_bar = expected / n if n else 0.0
    if n == 0:
        two, under = 1.0, 1.0
    elif p_bar <= 0.0:  # a PD of 0 cannot default: any default refutes it
        two = under = 1.0 if k == 0 else 0.0
    else:
        res = stats.binomtest(k, n, p_bar)
        two = float(res.pvalue)
        under = float(stats.binomtest(k, n, p_bar, alternative="greater").pvalue)
    return {
        "firms": n,
        "mean_pd": p_bar,
        "expected_defaults": expected,
        "observed_defaults": k,
        "observed_rate": k / n if n else float("nan"),
        "p_two_sided": two,
        "p_underestimated": under,
        "light": light(k=k, n=n, p=p_bar),
    }


def backtest(scores: pd.DataFrame, first_default: pd.Series, window: Window) -> dict[str, Any]:
    """Per-tier and portfolio back-test of a scoring.

    Parameters
    ----------
    scores : DataFrame
        Columns ``uscc``, ``pd`` (12-month PD), ``tier`` (1..6): the firms to test.
    first_default : Series
        First default date per USCC (:func:`ingest.default_definition.default_dates`), over data
        that reach at least ``window.observed_until``.
    window : Window
        The scoring's window (:func:`observed_window`).

    Returns
    -------
    dict
        ``window``, ``excluded_in_default`` (scored firms already in default at ``t``: not new
        defaults, left out), ``tiers`` (one row per tier present, see the module docstring) and
        ``portfolio`` (the same figures for all, plus ``rate_ci95`` and ``calibrated``).
    """
    t = pd.Timestamp(window.start)
    until = pd.Timestamp(window.observed_until)
    first = first_default.reindex(scores["uscc"].to_numpy())
    before = (first <= t).to_numpy()
    hit = ((first > t) & (first <= until)).to_numpy()
    kept = scores.loc[~before].assign(
        _p=scale_pd(scores.loc[~before, "pd"].to_numpy(), window.fraction), _hit=hit[~before]
    )
    tiers = []
    for _, g in kept.groupby("tier", sort=True):
        tier = int(g["tier"].iloc[0])
        row = _test(int(g["_hit"].sum()), len(g), float(g["_p"].sum()))
        tiers.append({"tier": tier, "name": TIER_NAMES.get(tier, str(tier)), **row})
    k, n = int(kept["_hit"].sum()), len(kept)
    portfolio = _test(k, n, float(kept["_p"].sum()))
    lo, hi = jeffreys_interval(k, n)
    portfolio["rate_ci95"] = [lo, hi]
    portfolio["calibrated"] = bool(n and lo <= portfolio["mean_pd"] <= hi)
    return {
        "window": window.as_dict(),
        "excluded_in_default": int(before.sum()),
        "tiers": tiers,
        "portfolio": portfolio,
    }
