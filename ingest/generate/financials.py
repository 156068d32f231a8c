"""Quarterly financial statements, monthly platform signals, receivables and events.

All are driven by the latent health ``h`` (:mod:`ingest.generate.health`), so they
agree with each other and with the default process:

- assets ``A_t = A_0 exp(0.4 h_t)``, leverage ``l_t = l_0 - 0.15 h_t``,
  quarterly revenue ``A_t * turnover(tier) / 4 * exp(h_t)``;
- cash-flow signs follow the lifecycle stage (Dickinson 2011): start-up (-,-,+),
  growth (+,-,+), mature (+,-,-), decline (-,+,±), with 8% of statements off-pattern;
- signals scale with size and health, with seasonality and noise, and fall over
  the six months before a default (electricity and orders to about half) and
  further after it;
- events: ``default`` on the default day, ``overdue_90`` when a borrower's loans pass 90
  days, ``enforcement`` and ``bankruptcy`` for some defaulted firms later, and a few
  ``penalty`` events that are not defaults.

>>> ramp(np.array([-7, -6, -3, 0, 2]), np.array([True] * 5)).round(2).tolist()
[1.0, 1.0, 0.75, 0.5, 0.35]
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ingest.generate.firms import FirmTable
from ingest.generate.health import LEAD, stage_of
from ingest.generate.timeline import Calendar

__all__ = ["event_rows", "ramp", "receivable_rows", "signal_batches", "statement_rows"]

_TURNOVER = np.array([0.8, 1.0, 1.1, 2.0])
#: Sign of (operating, investing, financing) cash flow per stage; 0 = either.
_SIGNS = np.array([[-1, -1, 1], [1, -1, 1], [1, -1, -1], [-1, 1, 0]])
_KWH_PER_ASSET = np.array([0.004, 0.003, 0.002, 0.0004])  # kWh a month per yuan of assets
EVENT_TYPES: tuple[str, ...] = ("default", "overdue_90", "enforcement", "bankruptcy", "penalty")


def ramp(rel: np.ndarray, defaulted: np.ndarray) -> np.ndarray:
    """Activity multiplier at ``rel`` months from default: 1 until six months before,
    falling linearly to 0.5 at default, then by 0.075 a month to a floor of 0.2."""
    r = np.where(
        rel < -6, 1.0, np.where(rel <= 0, 1.0 - (rel + 6) / 12.0, np.maximum(0.5 - 0.075 * rel, 0.2))
    )
    return np.where(defaulted, r, 1.0)


def statement_rows(
    rng: np.random.Generator, firms: FirmTable, health: np.ndarray, default_month: np.ndarray, cal: Calendar
) -> dict[str, np.ndarray]:
    """Quarterly statements for the firms that report (half the micro firms, most others).

    A statement is published 20-120 days after the period end (later for the
    fourth quarter) and is kept only when published inside the window. A firm
    stops reporting the quarter after it defaults.
    """
    n, months = firms.n, cal.months
    reports = rng.random(n) < np.array([0.5, 0.8, 0.95, 1.0])[firms.size]
    qs = [q for q in range(2, months, 3)]
    out: dict[str, list[np.ndarray]] = {
        k: [] for k in ("firm", "period_end", "published", "ta", "tl", "rev", "cf")
    }
    end_day = int(cal.day(months))
    for qi, mq in enumerate(qs):
        pe = int(cal.day(mq + 1)) - 1
        dm = default_month
        ok = reports & (firms.founded_day < pe - 60) & ((dm < 0) | (dm >= mq - 2)) & (rng.random(n) > 0.04)
        i = np.flatnonzero(ok)
        lag = rng.integers(20, 60, len(i)) + (60 if qi % 4 == 3 else 0)
        pub = pe + lag
        keep = pub < end_day
        i, pub = i[keep], pub[keep]
        h = health[LEAD + mq, i]
        ta = firms.assets0[i] * np.exp(0.4 * h) * rng.lognormal(0, 0.03, len(i))
        lev = np.clip(firms.leverage0[i] - 0.15 * h + rng.normal(0, 0.02, len(i)), 0.05, 1.5)
        rev = ta * _TURNOVER[firms.tier[i]] / 4 * np.exp(h) * rng.lognormal(0, 0.1, len(i))
        age = (pe - firms.founded_day[i]) / 365.25
        stage = stage_of(age, h - health[LEAD + mq - 12, i])
        signs = _SIGNS[stage].astype(np.float64)
        signs[signs == 0] = rng.choice([-1.0, 1.0], int((signs == 0).sum()))
        flip = rng.random(signs.shape) < 0.08 / 3
        signs[flip] *= -1
        mag = np.stack([0.08 * rev, 0.015 * ta, 0.012 * ta], axis=1) * rng.lognormal(0, 0.4, (len(i), 3))
        out["firm"].append(i)
        out["period_end"].append(np.full(len(i), pe, np.int32))
        out["published"].append(pub.astype(np.int32))
        out["ta"].append(ta)
        out["tl"].append(ta * lev)
        out["rev"].append(rev)
        out["cf"].append(signs * mag)
    cat = {k: np.concatenate(v) if v else np.empty(0) for k, v in out.items()}
    ta, tl = np.round(cat["ta"], 2), np.round(cat["tl"], 2)
    cf = np.round(cat["cf"].reshape(-1, 3), 2)
    return {
        "firm": cat["firm"].astype(np.int64),
        "period_end": cat["period_end"].astype(np.int32),
        "published": cat["published"].astype(np.int32),
        "total_assets": ta,
        "total_liabilities": tl,
        "equity": np.round(ta - tl, 2),
        "revenue": np.round(cat["rev"], 2),
        "operating_cf": cf[:, 0],
        "investing_cf": cf[:, 1],
        "financing_cf": cf[:, 2],
    }


def signal_batches(
    rng: np.random.Generator, firms: FirmTable, health: np.ndarray, default_month: np.ndarray, cal: Calendar
) -> Iterator[dict[str, np.ndarray]]:
    """Monthly platform signals, one month per batch, for firms that exist and have not
    left (a defaulted firm's signals stop six months after its default)."""
    season = 1.0 + 0.08 * np.cos(2 * np.pi * (np.arange(cal.months) + cal.start.month - 2) / 12)
    season[(np.arange(cal.months) + cal.start.month - 1) % 12 == 1] *= 0.7  # Spring Festival month
    base_kwh = firms.assets0 * _KWH_PER_ASSET[firms.tier]
    base_orders = firms.assets0 * _TURNOVER[firms.tier] / 12
    dm = default_month
    for t in range(cal.months):
        rel = t - dm
        ok = (firms.founded_month <= t) & ((dm < 0) | (rel <= 6))
        i = np.flatnonzero(ok)
        h = health[LEAD + t, i]
        r = ramp(rel[i], dm[i] >= 0)
        k = len(i)
        orders = base_orders[i] * np.exp(h) * season[t] * r * rng.lognormal(0, 0.12, k)
        yield {
            "firm": i.astype(np.int64),
            "month": np.full(k, t, np.int32),
            "electricity_kwh": np.round(
                base_kwh[i] * np.exp(0.8 * h) * season[t] * r * rng.lognormal(0, 0.08, k), 1
            ),
            "equipment_utilization": np.round(
                np.clip((0.72 + 0.12 * h + rng.normal(0, 0.05, k)) * np.sqrt(r), 0.0, 1.0), 4
            ),
            "orders": np.round(orders, 2),
            "invoices": np.round(orders * rng.lognormal(-0.02, 0.08, k), 2),
        }


def receivable_rows(
    rng: np.random.Generator,
    sup: np.ndarray,
    buy: np.ndarray,
    start_day: np.ndarray,
    end_day: np.ndarray,
    value: np.ndarray,
    default_month: np.ndarray,
    cal: Calendar,
) -> dict[str, np.ndarray]:
    """Trade credit at each year end (and the window end): for 40% of the active links,
    what the buyer owes the supplier. Receivable days (about 60) lengthen when the
    buyer defaults within six months."""
    outs: dict[str, list[np.ndarray]] = {"link": [], "as_of": [], "amount": []}
    for m in sorted({*range(11, cal.months, 12), cal.months - 1}):
        d = int(cal.day(m + 1)) - 1
        i = np.flatnonzero((start_day <= d) & (end_day > d))
        i = i[rng.random(len(i)) < 0.4]
        bdm = default_month[buy[i]]
        days = rng.gamma(4.0, 15.0, len(i)) * np.where((bdm >= m) & (bdm <= m + 6), 1.8, 1.0)
        outs["link"].append(i)
        outs["as_of"].append(np.full(len(i), d, np.int32))
        outs["amount"].append(np.round(value[i] * days / 365.0, 2))
    return {k: np.concatenate(v) for k, v in outs.items()}


def event_rows(
    rng: np.random.Generator,
    default_day: np.ndarray,
    borrower_has_loan: np.ndarray,
    cal: Calendar,
) -> dict[str, np.ndarray]:
    """Events per firm: ``firm``, ``day`` and ``type`` (index into ``EVENT_TYPES``), in the window."""
    n = len(default_day)
    end = int(cal.day(cal.months))
    d = np.flatnonzero(default_day >= 0)
    dd = default_day[d]
    firm, day, typ = [d], [dd], [np.zeros(len(d), np.int8)]
    # Days overdue pass 90 at the first status row after the default month.
    b = d[borrower_has_loan[d]]
    nxt = cal.day(cal.month_of(default_day[b]) + 1)
    firm.append(b)
    day.append(nxt)
    typ.append(np.ones(len(b), np.int8))
    for code, share, lo, hi in ((2, 0.4, 30, 180), (3, 0.3, 90, 540)):
        s = d[rng.random(len(d)) < share]
        firm.append(s)
        day.append(default_day[s] + rng.integers(lo, hi, len(s)))
        typ.append(np.full(len(s), code, np.int8))
    p = np.flatnonzero(rng.random(n) < 0.01)
    firm.append(p)
    day.append(rng.integers(0, end, len(p)))
    typ.append(np.full(len(p), 4, np.int8))
    f, dy, ty = np.concatenate(firm), np.concatenate(day).astype(np.int32), np.concatenate(typ)
    keep = dy < end
    f, dy, ty = f[keep], dy[keep], ty[keep]
    o = np.lexsort((ty, f, dy))
    return {"firm": f[o].astype(np.int64), "day": dy[o], "type": ty[o]}
