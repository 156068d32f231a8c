"""The monthly simulation: link turnover and defaults with contagion.

Each month ``t`` (vectorised over firms):

1. Links whose lifetime ended are gone; new links are born by preferential
   attachment among alive firms until active links number ``MEAN_DEGREE`` per
   alive firm (:mod:`ingest.generate.network`).
2. Each alive firm draws three competing monthly default events:

   .. math::

       p^{own}_{i,t} &= \\sigma\\big(\\beta_0 + \\beta_{lev}(\\ell_{i,t} - 0.55) + \\beta_{size(i)}
           + \\beta_{stage(i,t)} - \\beta_{\\Delta}(h_{i,t} - h_{i,t-6}) - \\beta_h h_{i,t} + u_i\\big)\\\\
       p^{sup}_{i,t} &= 1 - \\exp(-c\\,\\kappa_s S_{i,t}),\\qquad
       p^{gua}_{i,t} = 1 - \\exp(-c\\,\\kappa_g G_{i,t})

   where ``sigma`` is the logistic function, ``l`` leverage, ``h`` latent health
   (which also drives the signals), ``u`` a firm frailty, ``c`` the
   ``contagion_strength``, and the pressures

   .. math::

       S_{i,t} = \\sum_{j \\in D_{<t}} \\delta^{t - t_j - 1}\\, w_{ij},\\qquad
       w_{ij} = \\frac{v_{ij}}{\\sum_k v_{ik}} \\text{ (j a buyer of i)},\\quad
       \\frac{v_{ji}}{2 \\sum_k v_{ki}} \\text{ (j a supplier of i)}

       G_{i,t} = \\sum_{b \\in D_{<t}} \\delta^{t - t_b - 1} \\min\\big(1, a_{ib} / E_i\\big)

   sum over neighbours ``j`` (borrowers ``b`` that ``i`` guarantees, amount ``a``,
   guarantor equity ``E``) that defaulted before ``t``, with the link weights of the
   month they defaulted and a three-month half-life ``delta = 2^{-1/3}``.
   A firm defaults when any of the three fires; when several fire the cause is
   drawn in proportion to their probabilities (competing risks). A link-caused
   default records the neighbour with the largest current contribution (``via``).
3. Links of a firm that defaults end within two months of its default day.

``KAPPA_SUPPLY`` and ``KAPPA_GUARANTEE`` are calibrated so that at
``contagion_strength = 1`` between 30% and 50% of defaults come through links
(see ``docs/generator.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ingest.generate.firms import FirmTable
from ingest.generate.guarantees import GuaranteeTable
from ingest.generate.health import LEAD, stage_of
from ingest.generate.network import (
    LinkSampler,
    annual_values,
    attachment_weights,
    initial_links,
    link_lifetimes,
    new_unique_links,
)
from ingest.generate.timeline import DAYS_PER_MONTH, Calendar

__all__ = [
    "CAUSES",
    "DEFAULT_CONTAGION_STRENGTH",
    "KAPPA_GUARANTEE",
    "KAPPA_SUPPLY",
    "MEAN_DEGREE",
    "NATURAL_HALF_LIFE",
    "P_CAP",
    "Simulation",
    "simulate",
]

#: Default causes, in code order.
CAUSES: tuple[str, ...] = ("own", "supply", "guarantee")
#: Active supply links per alive firm.
MEAN_DEGREE = 4.5
#: Half-life (months) of a link absent defaults; defaults end links too, which brings
#: the observed half-life down to about 13 months.
NATURAL_HALF_LIFE = 16.0
#: Contagion scale of supply and guarantee pressure at strength 1.
KAPPA_SUPPLY = 0.16
#: A defaulted guarantee at or above the guarantor's equity (``G = 1``) gives a 30% chance
#: of default the next month and about 80% over the decay of the pressure. The former 4.0,
#: set for a guarantee network half as dense, saturated once guarantors back every loan
#: of the borrower: the guarantee share of defaults hardly moved between scales 1.5 and
#: 4 (0.13-0.16), which pushed the link share above 0.5. At 0.35 it is about 0.075.
KAPPA_GUARANTEE = 0.35
DEFAULT_CONTAGION_STRENGTH = 1.0
#: Highest monthly probability of a supply-caused default at strength <= 1.
P_CAP = 0.015
#: Monthly decay of contagion pressure (three-month half-life).
DECAY = 2.0 ** (-1.0 / 3.0)
# Own-hazard coefficients (log-odds per month).
B0 = -6.95
B_LEV = 3.0
B_SIZE = np.array([0.35, 0.0, -0.5, -1.0])
B_STAGE = np.array([0.4, -0.2, -0.3, 0.6])
B_TREND = 2.5
B_HEALTH = 1.0

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True, eq=False, kw_only=True)
class Simulation:
    """What the monthly simulation produced.

    Links are spells ``start_day <= d < end_day`` (day offsets); firms that never
    defaulted have ``default_month == -1``.
    """

    sup: np.ndarray  # int32
    buy: np.ndarray  # int32
    start_day: np.ndarray  # int32
    end_day: np.ndarray  # int32
    value: np.ndarray  # float64 annual value
    default_month: np.ndarray  # int32 per firm
    default_day: np.ndarray  # int32 per firm
    cause: np.ndarray  # int8 per firm (index into CAUSES), -1 if no default
    via: np.ndarray  # int32 per firm: the neighbour that carried a link default, else -1
    p_own: np.ndarray  # float32 (months, n)
    p_supply: np.ndarray
    p_guarantee: np.ndarray


class _Links:
    """Growable link arrays (amortised doubling; no Python object per link)."""

    def __init__(self, cap: int):
        self.n = 0
        self.sup = np.empty(cap, np.int32)
        self.buy = np.empty(cap, np.int32)
        self.start = np.empty(cap, np.int32)
        self.end = np.empty(cap, np.int32)
        self.value = np.empty(cap, np.float64)

    def add(
        self, *, sup: np.ndarray, buy: np.ndarray, start: np.ndarray, end: np.ndarray, value: np.ndarray
    ) -> None:
        k = len(sup)
        if self.n + k > len(self.sup):
            cap = max(2 * len(self.sup), self.n + k)
            for name in ("sup", "buy", "start", "end", "value"):
                old = getattr(self, name)
                new = np.empty(cap, old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        sl = slice(self.n, self.n + k)
        self.sup[sl], self.buy[sl], self.start[sl], self.end[sl], self.value[sl] = sup, buy, start, end, value
        self.n += k


def own_hazard(
    firms: FirmTable, health: np.ndarray, cal: Calendar, t: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Own monthly default probability at month ``t``, with leverage and stage.

    Returns ``(p_own, leverage, stage)`` for every firm (alive or not).
    """
    h = health[LEAD + t]
    trend6 = h - health[LEAD + t - 6]
    trend12 = h - health[LEAD + t - 12]
    age = (cal.day(t) - firms.founded_day) / 365.25
    stage = stage_of(age, trend12)
    lev = np.clip(firms.leverage0 - 0.15 * h, 0.05, 1.5)
    z = B0 + B_LEV * (lev - 0.55) + B_SIZE[firms.size] + B_STAGE[stage] - B_TREND * trend6 - B_HEALTH * h
    z = z + firms.frailty
    return 1.0 / (1.0 + np.exp(-z)), lev, stage


def simulate(
    rng: np.random.Generator,
    firms: FirmTable,
    health: np.ndarray,
    sampler: LinkSampler,
    guarantees: GuaranteeTable,
    cal: Calendar,
    *,
    contagion_strength: float = DEFAULT_CONTAGION_STRENGTH,
    progress: ProgressFn | None = None,
) -> Simulation:
    """Run the monthly simulation; see the module docstring.

    Parameters
    ----------
    rng : numpy.random.Generator
    firms : FirmTable
    health : numpy.ndarray
        From :func:`ingest.generate.health.simulate_health`.
    sampler : LinkSampler
    guarantees : GuaranteeTable
    cal : Calendar
    contagion_strength : float, default DEFAULT_CONTAGION_STRENGTH
        Multiplies both contagion channels; 0 switches contagion off.
    progress : callable, optional
        Called as ``progress("simulate", month + 1, months)``.

    Returns
    -------
    Simulation
    """
    n, months = firms.n, cal.months
    life_days = NATURAL_HALF_LIFE * DAYS_PER_MONTH
    equity = np.maximum(firms.assets0 * (1.0 - firms.leverage0), 0.05 * firms.assets0)
    # The network alive at the window start.
    incumbent = firms.founded_month <= 0
    sup, buy = initial_links(rng, sampler, firms, int(MEAN_DEGREE * incumbent.sum()))
    k = len(sup)
    age = link_lifetimes(rng, k, life_days)
    start = np.maximum(-age, np.maximum(firms.founded_day[sup], firms.founded_day[buy]))
    links = _Links(int(k * (1.3 + months * 0.06)) + 16)
    links.add(
        sup=sup,
        buy=buy,
        start=start,
        end=link_lifetimes(rng, k, life_days),
        value=annual_values(rng, firms.assets0, sup, buy),
    )

    default_month = np.full(n, -1, np.int32)
    default_day = np.full(n, -1, np.int32)
    cause = np.full(n, -1, np.int8)
    via = np.full(n, -1, np.int32)
    p_store = np.zeros((3, months, n), np.float32)
    press = np.zeros((2, n))  # supply, guarantee pressure
    rec_t: list[np.ndarray] = []  # contribution records: target, source, weight, month, channel
    rec_s: list[np.ndarray] = []
    rec_w: list[np.ndarray] = []
    rec_m: list[np.ndarray] = []
    rec_c: list[np.ndarray] = []
    g_firm = ~guarantees.is_person
    g_g = guarantees.guarantor[g_firm].astype(np.int64)
    g_b = guarantees.borrower[g_firm]
    g_amt, g_s, g_e = guarantees.amount[g_firm], guarantees.start_day[g_firm], guarantees.end_day[g_firm]
    strength = float(contagion_strength)

    for t in range(months):
        m0 = int(cal.day(t))
        mid = m0 + 14
        alive = (firms.founded_month <= t) & (default_month < 0)
        L = links.n
        act = (links.start[:L] <= mid) & (links.end[:L] > mid)
        a_sup, a_buy = links.sup[:L][act], links.buy[:L][act]
        births = int(MEAN_DEGREE * alive.sum()) - len(a_sup)
        if births > 0 and t > 0:
            kout = np.bincount(a_sup, minlength=n).astype(np.float64)
            kin = np.bincount(a_buy, minlength=n).astype(np.float64)
            seen = np.sort(a_sup.astype(np.int64) * n + a_buy)
            nsup, nbuy, _ = new_unique_links(
                rng,
                sampler,
                births,
                attachment_weights(firms.fitness, kout, alive),
                attachment_weights(firms.fitness, kin, alive),
                seen,
            )
            s_day = (m0 + rng.integers(0, 28, len(nsup))).astype(np.int32)
            links.add(
                sup=nsup,
                buy=nbuy,
                start=s_day,
                end=s_day + link_lifetimes(rng, len(nsup), life_days),
                value=annual_values(rng, firms.assets0, nsup, nbuy),
            )
            L = links.n
            act = np.concatenate([act, np.ones(len(nsup), bool)])

        # Competing risks.
        p_own, _, _ = own_hazard(firms, health, cal, t)
        # The cap keeps a hub's default from setting off a runaway cascade: they make the
        # share of link-caused defaults stable across seeds instead of near-critical.
        p_sup = np.minimum(1.0 - np.exp(-strength * KAPPA_SUPPLY * press[0]), P_CAP * max(strength, 1.0))
        p_gua = 1.0 - np.exp(-strength * KAPPA_GUARANTEE * press[1])
        p = np.stack([p_own, p_sup, p_gua]) * alive
        p_store[:, t] = p
        fired = rng.random((3, n)) < p
        hit = np.flatnonzero(fired.any(axis=0))
        if len(hit):
            w = (p[:, hit] * fired[:, hit]).cumsum(axis=0)
            u = rng.random(len(hit)) * w[-1]
            c = (u[None, :] >= w).sum(axis=0).astype(np.int8)
            default_month[hit] = t
            default_day[hit] = m0 + rng.integers(0, 28, len(hit))
            cause[hit] = c
            # Which neighbour carried a link default: the largest decayed contribution.
            linked = hit[c > 0]
            if len(linked) and rec_t:
                tt, ss, ww = np.concatenate(rec_t), np.concatenate(rec_s), np.concatenate(rec_w)
                mm, cc = np.concatenate(rec_m), np.concatenate(rec_c)
                chan = np.zeros(n, np.int8)
                chan[linked] = c[c > 0]
                sel = chan[tt] == cc
                tt, ss, score = tt[sel], ss[sel], ww[sel] * DECAY ** (t - mm[sel] - 1)
                o = np.lexsort((-score, tt))
                tt, ss = tt[o], ss[o]
                head = np.ones(len(tt), bool)
                head[1:] = tt[1:] != tt[:-1]
                via[tt[head]] = ss[head]

        # Contagion pressure from this month's defaults, felt from next month.
        new = np.zeros((2, n))
        if len(hit):
            is_d = np.zeros(n, bool)
            is_d[hit] = True
            idx = np.flatnonzero(act[:L] & (is_d[links.sup[:L]] | is_d[links.buy[:L]]))
            act_idx = np.flatnonzero(act[:L])
            sales = np.bincount(links.sup[act_idx], weights=links.value[act_idx], minlength=n)
            inputs = np.bincount(links.buy[act_idx], weights=links.value[act_idx], minlength=n)
            ls, lb, lv = links.sup[idx], links.buy[idx], links.value[idx]
            # Suppliers lose sales (and receivables) to a defaulted buyer; buyers lose inputs.
            t1 = is_d[lb] & ~is_d[ls]
            t2 = is_d[ls] & ~is_d[lb]
            tgt = np.concatenate([ls[t1], lb[t2]])
            src = np.concatenate([lb[t1], ls[t2]])
            wt = np.concatenate([lv[t1] / sales[ls[t1]], 0.5 * lv[t2] / inputs[lb[t2]]])
            gsel = np.flatnonzero(is_d[g_b] & (g_s <= mid) & (g_e > mid) & ~is_d[np.maximum(g_g, 0)])
            gt, gsrc = g_g[gsel], g_b[gsel].astype(np.int64)
            gw = np.minimum(1.0, g_amt[gsel] / equity[gt])
            new[0] = np.bincount(tgt, weights=wt, minlength=n)
            new[1] = np.bincount(gt, weights=gw, minlength=n)
            rec_t += [tgt.astype(np.int64), gt]
            rec_s += [src.astype(np.int64), gsrc]
            rec_w += [wt, gw]
            rec_m += [np.full(len(tgt), t, np.int32), np.full(len(gt), t, np.int32)]
            rec_c += [np.full(len(tgt), 1, np.int8), np.full(len(gt), 2, np.int8)]
            # A defaulted firm's links wind down within two months.
            dday = np.maximum(
                np.where(is_d[ls], default_day[ls], default_day[lb]) + rng.integers(0, 61, len(idx)),
                links.start[idx] + 1,
            )
            links.end[idx] = np.minimum(links.end[idx], dday)
        press = DECAY * press + new
        if progress is not None:
            progress("simulate", t + 1, months)

    L = links.n
    return Simulation(
        sup=links.sup[:L].copy(),
        buy=links.buy[:L].copy(),
        start_day=links.start[:L].copy(),
        end_day=links.end[:L].copy(),
        value=links.value[:L].copy(),
        default_month=default_month,
        default_day=default_day.astype(np.int32),
        cause=cause,
        via=via,
        p_own=p_store[0],
        p_supply=p_store[1],
        p_guarantee=p_store[2],
    )
