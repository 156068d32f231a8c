r"""From a run's distress to default: partial equity losses raise the default probability.

DebtRank's distress :math:`h_i \in [0, 1]` is the share of firm i's equity lost.
Counting a firm as defaulted only at :math:`h_i = 1` makes partial distress free;
in the Merton (1974) model it is not: lost equity raises leverage and brings the
firm closer to its default point.

*Derivation.* Firm value :math:`V` (lognormal, volatility :math:`\sigma` over the
one-year horizon), debt :math:`B`, equity :math:`E = V - B`. The firm defaults
when :math:`V_1 < B`, i.e. when its standardised asset return :math:`X` (the
copula's latent variable, :mod:`contagion.stress.copula`) falls below
:math:`-DD`, with distance to default
:math:`DD = (\ln(V/B) + \mu - \sigma^2/2)/\sigma`, so :math:`PD = \Phi(-DD)` and the
copula's threshold is :math:`c = \Phi^{-1}(PD) = -DD`. Losing the share :math:`h`
of equity lowers :math:`V` by :math:`hE`. To first order in the cushion
:math:`E/B` and with the drift term small, :math:`DD \approx E/(B\sigma)`, so the
loss removes the share :math:`h` of the distance: :math:`DD' \approx (1-h)\,DD`.
With a sensitivity :math:`k` (``contagion.distress_sensitivity``; 1 is this
linearisation, 0 switches the mapping off) firm i defaults in run r when

.. math::

    X_{ir} < c_i\,(1 - k\,h_{ir}) \qquad\text{or}\qquad h_{ir} \ge h^{\text{def}},

the second rule being DebtRank's (``contagion.default_threshold``, 1 by default:
equity gone). The same draw :math:`X_{ir}` decides the firm's own default
(:math:`X < c`) and its contagion default, so the mapping is a default threshold on
distress drawn per run consistently with the copula,
:math:`h_{ir} \ge (1 - X_{ir}/c_i)/k`. Given its distress, a firm's conditional
PD is :math:`\Phi(c_i(1 - k h))` (:func:`conditional_pd`): at PD 1 % a firm that
lost 30 % of its equity has 5.2 %; at :math:`k h = 1` it is 50 % (a firm with no
equity left is as likely as not to fail within the year).

*Inside the propagation rounds.* Differential DebtRank (Bardoscia et al. 2015)
iterates :math:`h(t+1) = \min(1, h(t) + W \Delta h(t))`, :math:`\Delta h(t) = h(t) - h(t-1)`,
which is the monotone iteration :math:`h \leftarrow \min(1, s + W h)` from the shock
:math:`s`. The mapping is applied in the same rounds: with
:math:`\hat h_i = \min(1, h_i(t) + (W \Delta h(t))_i)`,

.. math::

    h_i(t+1) = \begin{cases} 1 & X_{ir} < c_i (1 - k \hat h_i) \ \text{or}\ \hat h_i \ge h^{\text{def}} \\
    \hat h_i & \text{otherwise,} \end{cases}

(and the same on the shock itself before the first round), so a firm that crosses its
threshold in a round passes the rest of a full default, :math:`1 - \hat h_i`, on in the
next round and is a defaulter from then on
(:class:`contagion.multilayer.DefaultRule`, :func:`contagion.stress.montecarlo.simulate_block`).
The map :math:`G(h) = \mathrm{snap}(\min(1, s + W h))` is monotone (the rule is monotone
in :math:`h` since :math:`c_i < 0 \le k`), so the rounds rise to its least fixed point.
The alternative, restarting (propagate to convergence, turn the firms the rule names into
shocks of 1, propagate again, until the rule names no new firm), reaches the same point:
each of its states lies below :math:`G`'s least fixed point and its last is a fixed point
of :math:`G`. Both stop at the tolerance, so the distress agrees within it and the
defaults agree except where a firm ends within the tolerance of its threshold. One
propagation with continuation replaces a loop of them (``bench/stress_engine.py --loop``).

*Booking.* The jump to 1 of a firm that crosses in a round is attributed to the layers
in proportion to the distress each carried to it, so its loss is contagion's in the
layer split (:func:`contagion.stress.segments.layer_split`); a firm that crosses on the
scenario's own distress, before any round, is a default without contagion (``direct``).

References
----------
.. [1] R. C. Merton, "On the pricing of corporate debt: the risk structure of
       interest rates", J. Finance 29(2):449-470 (1974).
.. [2] P. Barucca, M. Bardoscia, F. Caccioli, M. D'Errico, G. Visentin,
       G. Caldarelli, S. Battiston, "Network valuation in financial systems",
       Math. Finance 30(4):1181-1204 (2020) (Merton-consistent valuation of
       claims in DebtRank-type contagion).
.. [3] M. Bardoscia, S. Battiston, F. Caccioli, G. Caldarelli, "DebtRank: a microscopic
       foundation for shock propagation", PLoS ONE 10(6):e0130406 (2015).

>>> c = np.array([ndtri(0.01)])
>>> round(float(conditional_pd(np.array([0.01]), np.array([0.3]), 1.0)[0]), 4)
0.0517
>>> X = np.array([[-2.0, -2.0, -2.5]])   # three runs of one firm at PD 1 % (c = -2.326)
>>> h = np.array([[0.1, 0.2, 0.0]])
>>> distress_defaults(X, c, h, sensitivity=1.0, default_threshold=1.0).tolist()
[[False, True, True]]
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

__all__ = ["conditional_pd", "distress_defaults", "shifted_thresholds"]


def shifted_thresholds(thresholds: np.ndarray, distress: np.ndarray, sensitivity: float) -> np.ndarray:
    """:math:`c_i (1 - k h_{ir})`, n x k; ``-inf`` stays ``-inf`` (PD 0 never defaults this way)."""
    c = np.asarray(thresholds, dtype=np.float64).reshape(-1, 1)
    factor = 1.0 - sensitivity * np.asarray(distress, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(c), c * factor, c)


def distress_defaults(
    latent: np.ndarray,
    thresholds: np.ndarray,
    distress: np.ndarray,
    *,
    sensitivity: float,
    default_threshold: float,
) -> np.ndarray:
    """Default indicators (n x k bool) from the copula's draws and the final distress (module docstring)."""
    h = np.asarray(distress, dtype=np.float64)
    return (np.asarray(latent) < shifted_thresholds(thresholds, h, sensitivity)) | (h >= default_threshold)


def conditional_pd(pd_: np.ndarray, distress: np.ndarray, sensitivity: float) -> np.ndarray:
    """:math:`\\Phi(\\Phi^{-1}(PD)(1 - k h))`: the PD of a firm at distress ``h``."""
    p = np.clip(np.asarray(pd_, dtype=np.float64), 0.0, 1.0)
    return np.asarray(
        ndtr(shifted_thresholds(ndtri(p), np.asarray(distress).reshape(len(p), -1), sensitivity)).reshape(
            np.shape(distress)
        )
    )
