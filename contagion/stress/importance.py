r"""Importance sampling of the copula's global factor, and the run weights it implies.

The tail of a credit portfolio's loss is reached mostly through bad draws of the
factor common to all firms (Glasserman & Li 2005). Plain Monte Carlo sees a 99.9 %
loss in one run of a thousand; here a share :math:`s` of the runs draws the global
factor from :math:`N(\mu, 1)` instead of :math:`N(0, 1)`, with :math:`\mu` the
factor value at which the loss reaches the target quantile of a large portfolio,
:math:`\mu = \Phi^{-1}(1 - q^*)` (the conditional loss :math:`E[L \mid Z_G = z]`
falls in :math:`z`, so its :math:`q^*` quantile sits at :math:`z = \Phi^{-1}(1-q^*)`;
for :math:`q^* = 0.999`, :math:`\mu \approx -3.09`). Whether a run is shifted is a
coin of probability :math:`s` from its own stream (``default_rng([seed, r, 1])``),
so the global factor of every run has the mixture density
:math:`(1-s)\,\varphi(z) + s\,\varphi(z-\mu)` and the likelihood ratio

.. math::

    w(z) = \frac{\varphi(z)}{(1-s)\,\varphi(z) + s\,\varphi(z - \mu)}
         = \frac{1}{(1 - s) + s\,e^{\mu z - \mu^2/2}}

has :math:`E[w] = 1` and :math:`E[w\,f(Z)] = E_{\text{plain}}[f(Z)]` for every
function of the run: the weights are unbiased. The mixture ("defensive" importance
sampling, Hesterberg 1995) keeps :math:`w \le 1/(1-s)`, so figures of the body of
the distribution (EL, per-firm means) lose at most that factor in variance while
the tail gains. Estimators (:mod:`contagion.stress.tail_stats`) use the weights
normalised to sum to the number of runs (the ratio estimator: consistent, bias
:math:`O(1/N)`, well below its standard error; a sure event keeps probability 1).

Only the global factor is tilted; sector, region and idiosyncratic terms are drawn
as without importance sampling, and a run's draws do not depend on its block or
worker, so sharded runs still equal local ones.

References
----------
.. [1] P. Glasserman, J. Li, "Importance sampling for portfolio credit risk",
       Management Science 51(11):1643-1656 (2005).
.. [2] T. Hesterberg, "Weighted average importance sampling and defensive mixture
       distributions", Technometrics 37(2):185-194 (1995).

>>> w = mixture_weights(np.array([-3.0, 0.0, 3.0]), shift=-3.0, share=0.5)
>>> [round(float(x), 4) for x in w]
[0.022, 1.978, 2.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

__all__ = ["ImportanceSampling", "global_draws", "importance_shift", "mixture_weights", "shifted_runs"]


@dataclass(frozen=True)
class ImportanceSampling:
    """The tilt of the global factor: a share ``share`` of runs drawn with mean ``shift``."""

    shift: float = 0.0
    share: float = 0.0

    @property
    def active(self) -> bool:
        return self.share > 0.0 and self.shift != 0.0


def importance_shift(level: float) -> float:
    r"""The mean of the tilted global factor for target level ``level``: :math:`\Phi^{-1}(1 - q^*)`.

    >>> round(importance_shift(0.999), 3)
    -3.09
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"the target level must lie in (0, 1), got {level}")
    return float(ndtri(1.0 - level))


def mixture_weights(z: np.ndarray, *, shift: float, share: float) -> np.ndarray:
    """Likelihood ratio of the plain over the mixture density at the drawn global factors ``z``."""
    z = np.asarray(z, dtype=np.float64)
    if share <= 0.0 or shift == 0.0:
        return np.ones_like(z)
    # 1 / ((1 - s) + s exp(mu z - mu^2 / 2)) in log space: exp(mu z) overflows for very adverse z
    log_den = np.logaddexp(math.log1p(-share), math.log(share) + shift * z - 0.5 * shift * shift)
    return np.exp(-log_den)


def shifted_runs(runs: Sequence[int] | range, seed: int, share: float) -> np.ndarray:
    """Which runs draw the tilted global factor: a coin per run from ``default_rng([seed, r, 1])``."""
    if share <= 0.0:
        return np.zeros(len(runs), dtype=bool)
    coins = [np.random.default_rng([int(seed), int(r), 1]).random() for r in runs]
    return np.array(coins, dtype=np.float64) < share


def global_draws(runs: Sequence[int] | range, seed: int, sampling: ImportanceSampling
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The global factor of each run (before any macro shift) and the run's weight.

    The factor is the first draw of the run's stream ``default_rng([seed, r])``, as in
    :func:`contagion.stress.copula.draw_factors`, plus ``shift`` on the tilted runs.
    """
    z = np.array([np.random.default_rng([int(seed), int(r)]).standard_normal() for r in runs],
                 dtype=np.float64)
    if sampling.active:
        z = z + sampling.shift * shifted_runs(runs, seed, sampling.share)
    return z, mixture_weights(z, shift=sampling.shift, share=sampling.share)
