"""The production network: who supplies whom, and for how long.

Links are directed supplier -> buyer. A new link picks its (supplier tier, buyer
tier) pair from the mixing matrix :data:`TIER_MIX` (mostly one tier downstream,
some within a tier and a few backward, which is what closes cycles and grows the
strongly connected core), then its buyer by preferential attachment on in-degree,
then its scope (same city, same province, anywhere: :data:`SCOPE`) and its supplier
by preferential attachment on out-degree inside that scope:

.. math::

    P(\\text{buyer} = j) \\propto f_j\\,(k^{in}_j + 1)^{\\alpha},\\qquad
    P(\\text{supplier} = i \\mid \\text{cell}) \\propto f_i\\,(k^{out}_i + 1)^{\\alpha},
    \\qquad \\alpha = 1.08

where ``f`` is the firm's fitness (size class times Pareto noise). Sampling is
vectorised: firms are sorted once by (tier, province, city), so every cell is a
contiguous range of one cumulative-weight array, and a batch of ``k`` links costs
``O(n + k log n)``; weights are refreshed between batches (each month).

Lifetimes are exponential: a link alive at the start has age and residual life
both ``Exp(ln 2 / half_life)`` (the stationary law), and a new link lives
``Exp(ln 2 / half_life)`` from its start.

>>> import numpy as np
>>> from datetime import date
>>> from ingest.generate.firms import make_firms
>>> rng = np.random.default_rng(0)
>>> f = make_firms(rng, 2000, start=date(2021, 1, 1), months=12)
>>> s = build_sampler(f)
>>> sup, buy = sample_links(rng, s, 500, np.ones(f.n), np.ones(f.n))
>>> bool((sup != buy).all()) and len(sup) > 450
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.generate.firms import PROVINCES, FirmTable

__all__ = [
    "ALPHA",
    "SCOPE",
    "TIER_MIX",
    "LinkSampler",
    "annual_values",
    "build_sampler",
    "degree_offset",
    "initial_links",
    "link_lifetimes",
    "new_unique_links",
    "sample_links",
]

#: Exponent of preferential attachment (Hungarian VAT network: new links ~ k^1.08).
ALPHA = 1.08
#: Probability that a new link goes from supplier tier s (row) to buyer tier b (column).
TIER_MIX = np.array(
    [
        [0.02, 0.20, 0.07, 0.02],
        [0.005, 0.02, 0.24, 0.06],
        [0.005, 0.01, 0.02, 0.22],
        [0.01, 0.01, 0.01, 0.05],
    ]
)
TIER_MIX = TIER_MIX / TIER_MIX.sum()
#: Probability that the supplier is looked for in the buyer's city, province, or anywhere.
SCOPE = np.array([0.55, 0.25, 0.20])
#: Degree offset of attachment: a firm without partners can still be chosen.
K0 = 1.0
#: Degree beyond which attachment stops growing (capacity; see :func:`attachment_weights`).
K_CAP = 150.0


@dataclass(frozen=True, eq=False, kw_only=True)
class LinkSampler:
    """Firms sorted by (tier, province, city) with the ranges of every cell."""

    order: np.ndarray  # sorted position -> firm
    tier: np.ndarray
    province: np.ndarray
    city: np.ndarray
    tier_lo: np.ndarray  # (4,)
    tier_hi: np.ndarray
    prov_lo: np.ndarray  # (4, n_prov)
    prov_hi: np.ndarray
    city_lo: np.ndarray  # (4, n_city)
    city_hi: np.ndarray


def build_sampler(firms: FirmTable) -> LinkSampler:
    """Sort firms into cells once; see the module docstring."""
    n_city = int(firms.city.max()) + 1
    n_prov = len(PROVINCES)
    tier = firms.tier.astype(np.int64)
    prov = firms.province.astype(np.int64)
    city = firms.city.astype(np.int64)
    # Cities are numbered province by province, so sorting on (tier, city) also groups provinces.
    key = tier * n_city + city
    order = np.argsort(key, kind="stable")
    skey = key[order]
    grid = np.arange(4 * n_city)
    city_lo = np.searchsorted(skey, grid, "left").reshape(4, n_city)
    city_hi = np.searchsorted(skey, grid, "right").reshape(4, n_city)
    first_city = np.zeros(n_prov, dtype=np.int64)
    last_city = np.zeros(n_prov, dtype=np.int64)
    prov_of_city = np.zeros(n_city, dtype=np.int64)
    prov_of_city[city] = prov
    for p in range(n_prov):
        cs = np.flatnonzero(prov_of_city == p)
        first_city[p] = cs.min() if len(cs) else 0
        last_city[p] = cs.max() if len(cs) else -1
    prov_lo = np.where(last_city >= first_city, city_lo[:, first_city], 0)
    prov_hi = np.where(last_city >= first_city, city_hi[:, np.maximum(last_city, 0)], 0)
    tier_lo = np.searchsorted(skey, np.arange(4) * n_city, "left")
    tier_hi = np.searchsorted(skey, (np.arange(4) + 1) * n_city, "left")
    return LinkSampler(
        order=order,
        tier=tier,
        province=prov,
        city=city,
        tier_lo=tier_lo,
        tier_hi=tier_hi,
        prov_lo=prov_lo,
        prov_hi=prov_hi,
        city_lo=city_lo,
        city_hi=city_hi,
    )


def _draw(rng: np.random.Generator, c0: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sorted positions drawn in ``[lo, hi)`` proportionally to weight (c0: cumulative, leading 0)."""
    u = c0[lo] + rng.random(len(lo)) * (c0[hi] - c0[lo])
    idx = np.searchsorted(c0, u, "right") - 1
    return np.clip(idx, lo, np.maximum(hi - 1, lo))


def sample_links(
    rng: np.random.Generator, s: LinkSampler, k: int, w_out: np.ndarray, w_in: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draw up to ``k`` new supplier -> buyer links.

    Parameters
    ----------
    rng : numpy.random.Generator
    s : LinkSampler
    k : int
        Links to draw; self-loops and draws from empty cells are dropped, so
        slightly fewer may come back.
    w_out, w_in : numpy.ndarray
        Attachment weight of each firm as supplier and as buyer (0 = cannot link).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Supplier and buyer firm indices (``int32``).
    """
    c0_out = np.concatenate([[0.0], np.cumsum(w_out[s.order])])
    c0_in = np.concatenate([[0.0], np.cumsum(w_in[s.order])])
    pair = rng.choice(16, k, p=TIER_MIX.ravel())
    st, bt = pair // 4, pair % 4
    bpos = _draw(rng, c0_in, s.tier_lo[bt], s.tier_hi[bt])
    ok = c0_in[s.tier_hi[bt]] > c0_in[s.tier_lo[bt]]
    buyer = s.order[bpos]
    scope = rng.choice(3, k, p=SCOPE)
    bc, bp = s.city[buyer], s.province[buyer]
    lo = np.where(scope == 0, s.city_lo[st, bc], np.where(scope == 1, s.prov_lo[st, bp], s.tier_lo[st]))
    hi = np.where(scope == 0, s.city_hi[st, bc], np.where(scope == 1, s.prov_hi[st, bp], s.tier_hi[st]))
    # An empty cell widens to the province, then to the whole tier.
    for wide_lo, wide_hi in ((s.prov_lo[st, bp], s.prov_hi[st, bp]), (s.tier_lo[st], s.tier_hi[st])):
        empty = c0_out[hi] <= c0_out[lo]
        lo = np.where(empty, wide_lo, lo)
        hi = np.where(empty, wide_hi, hi)
    ok &= c0_out[hi] > c0_out[lo]
    supplier = s.order[_draw(rng, c0_out, lo, hi)]
    ok &= supplier != buyer
    return supplier[ok].astype(np.int32), buyer[ok].astype(np.int32)


def degree_offset(n: int) -> float:
    """The attachment offset ``K0 * (n / 20000) ** 0.25`` (clipped to [K0, 3]).

    Attachment concentrates slowly as networks grow, which shrinks the share of
    firms with both suppliers and buyers, and with it the strongly connected core;
    this finite-size correction keeps the core near a quarter of firms from 20k to 1M.

    >>> degree_offset(20000)
    1.0
    """
    return float(np.clip(K0 * (n / 20000) ** 0.25, K0, 3.0))


def attachment_weights(fitness: np.ndarray, degree: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """``fitness * (min(degree, K_CAP) + k0) ** ALPHA`` for alive firms, 0 otherwise.

    ``k0`` is :func:`degree_offset`. The cap keeps superlinear attachment from
    condensing most links on one firm (with ``ALPHA > 1`` and no turnover a single
    hub would eventually take a finite share of all links).
    """
    k0 = degree_offset(len(fitness))
    return np.where(alive, fitness * (np.minimum(degree, K_CAP) + k0) ** ALPHA, 0.0)


def new_unique_links(
    rng: np.random.Generator,
    s: LinkSampler,
    k: int,
    w_out: np.ndarray,
    w_in: np.ndarray,
    seen: np.ndarray,
    *,
    tries: int = 6,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`sample_links`, but without pairs in ``seen`` (sorted keys ``sup * n + buy``).

    Duplicates are redrawn up to ``tries`` times. Returns suppliers, buyers and the
    updated sorted key set.
    """
    n = len(w_out)
    sups, buys = [], []
    for _ in range(tries):
        if k <= 0:
            break
        sup, buy = sample_links(rng, s, k, w_out, w_in)
        key = sup.astype(np.int64) * n + buy
        # Sort-based unique (numpy's hash-based np.unique is slow on int64 keys).
        srt = np.argsort(key, kind="stable")
        skey = key[srt]
        head = np.ones(len(skey), dtype=bool)
        head[1:] = skey[1:] != skey[:-1]
        skey, first = skey[head], srt[head]
        pos = np.searchsorted(seen, skey)
        new = (pos >= len(seen)) | (seen[np.minimum(pos, len(seen) - 1)] != skey) if len(seen) else head[head]
        seen = np.insert(seen, pos[new], skey[new])
        first = np.sort(first[new])  # keep the draw order: results must not depend on key order
        sups.append(sup[first])
        buys.append(buy[first])
        k -= len(first)
    if not sups:
        return np.empty(0, np.int32), np.empty(0, np.int32), seen
    return np.concatenate(sups), np.concatenate(buys), seen


def initial_links(
    rng: np.random.Generator, s: LinkSampler, firms: FirmTable, target: int, *, batches: int = 25
) -> tuple[np.ndarray, np.ndarray]:
    """The network alive at the window start, grown in batches as firms arrive by age.

    Older firms join earlier batches, so they accumulate links as in a growing
    preferential-attachment network; weights are refreshed after each batch.
    Pairs already linked are dropped, so the result has slightly fewer than ``target``.
    """
    n = firms.n
    incumbent = firms.founded_month <= 0
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(firms.founded_day, kind="stable")] = np.arange(n)
    n0 = int(incumbent.sum())
    kin = np.zeros(n)
    kout = np.zeros(n)
    sups, buys = [], []
    seen = np.empty(0, dtype=np.int64)
    for b in range(batches):
        present = incumbent & (rank < max(2, int(n0 * (0.2 + 0.8 * (b + 1) / batches))))
        sup, buy, seen = new_unique_links(
            rng,
            s,
            target // batches,
            attachment_weights(firms.fitness, kout, present),
            attachment_weights(firms.fitness, kin, present),
            seen,
        )
        kout += np.bincount(sup, minlength=n)
        kin += np.bincount(buy, minlength=n)
        sups.append(sup)
        buys.append(buy)
    return np.concatenate(sups), np.concatenate(buys)


def link_lifetimes(rng: np.random.Generator, k: int, half_life_days: float) -> np.ndarray:
    """Exponential lifetimes in days (at least one day)."""
    return np.maximum(1, rng.exponential(half_life_days / np.log(2), k)).astype(np.int32)


def annual_values(
    rng: np.random.Generator, assets: np.ndarray, sup: np.ndarray, buy: np.ndarray
) -> np.ndarray:
    """Yearly value of each link (yuan): scales with both firms' size, lognormal noise.

    Capped at 60% of the supplier's assets so a micro firm cannot sell a fortune.
    """
    v = 0.15 * np.sqrt(assets[sup] * assets[buy]) * rng.lognormal(0.0, 0.8, len(sup))
    return np.round(np.minimum(v, 0.6 * assets[sup]), 2)
