"""The guarantee network: who guarantees whose loans.

Guarantees are drawn at the firm level as a mix of the structures banks meet in
guarantee groups (担保圈), then tied to the borrower's loans:

- mutual pairs (A guarantees B and B guarantees A),
- circles of 3 to 10 firms (A -> B -> ... -> A) and open chains of 3 to 10,
- hub guarantors: a few large firms each guaranteeing many borrowers in their province,
- persons: the borrower's controlling owner,
- scattered guarantees between firms of the same city.

Structures pick consecutive firms of a city-sorted pool of borrowers (micro and
small firms weighted up), so they concentrate by region; structures overlap,
which joins them into groups (half are pairs, 99% have under 35 firms; the
largest reach hundreds of firms at 20k firms and a few thousand at 100k). Each
firm-level pair covers every loan of the borrower (those starting after the
guarantor's founding), for an amount of 30-100% of the principal, from the
loan's start to its maturity.

>>> import numpy as np
>>> from datetime import date
>>> from ingest.generate.firms import make_firms
>>> from ingest.generate.loans import make_loans
>>> from ingest.generate.ownership import make_ownership
>>> from ingest.generate.timeline import Calendar
>>> rng = np.random.default_rng(0)
>>> f = make_firms(rng, 3000, start=date(2021, 1, 1), months=24)
>>> cal = Calendar(date(2021, 1, 1), 24)
>>> loans = make_loans(rng, f, cal)
>>> g = make_guarantees(rng, f, loans, make_ownership(rng, f).main_person)
>>> bool((g.amount <= loans.principal[g.loan]).all())
True

A person guarantor (always there, unlike a young firm) covers each of the borrower's loans:

>>> pb = g.borrower[g.is_person]
>>> bool((np.bincount(pb, minlength=f.n)[pb] == np.bincount(loans.borrower, minlength=f.n)[pb]).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.generate.firms import FirmTable
from ingest.generate.loans import LoanTable

__all__ = ["GuaranteeTable", "make_guarantees"]

#: Share of firm-level pairs by structure.
MIX = {"mutual": 0.22, "circle": 0.15, "chain": 0.13, "hub": 0.15, "person": 0.20, "local": 0.15}
#: Firm-level pairs (guarantor -> borrower, persons included) drawn per firm. After
#: duplicates that is about 0.24 firm-firm and 0.06 person pairs per firm, the firm pairs
#: among 19% of the firms, so the network stays sparse; tied to loans, about 0.5
#: guarantee rows per firm over 13 months and 1 over 60 months (the longer window holds
#: more of each borrower's loans).
PAIRS_PER_FIRM = 0.33
#: Probability that a pair covers each loan of the borrower after the first. In real
#: guarantee circles the guarantor backs every loan of the borrower: banks ask for the
#: guarantee at each renewal ("borrow new to repay old") or take a maximum-amount
#: guarantee over the credit line, so a guarantee relation lasts as long as the
#: borrowing. Density is therefore raised through ``PAIRS_PER_FIRM``, the number of
#: relations, not by covering a borrower's loans only in part; the rows per pair then
#: follow the loan count (about 1.7 over 13 months, 3.9 over 60).
LOAN_COVER = 1.0
#: Cap on a hub's Pareto(1.5) weight, so the largest hub guarantees a few hundred
#: borrowers at 100k firms rather than (for some seeds) over a thousand.
HUB_SHARE_CAP = 10.0
_POOL_WEIGHT = np.array([1.0, 1.5, 0.5, 0.2])


@dataclass(frozen=True, eq=False, kw_only=True)
class GuaranteeTable:
    """Guarantee contracts, one per (guarantor, loan)."""

    guarantor: np.ndarray  # int64: firm index, or person number when ``is_person``
    is_person: np.ndarray  # bool
    borrower: np.ndarray  # int32
    loan: np.ndarray  # int64 row of the LoanTable
    amount: np.ndarray  # float64
    start_day: np.ndarray  # int32
    end_day: np.ndarray  # int32

    @property
    def n(self) -> int:
        """Number of contracts."""
        return len(self.borrower)


def _lengths(rng: np.random.Generator, edges: int, lo: int, hi: int, closed: bool) -> np.ndarray:
    """Structure sizes in [lo, hi] (short ones most common) adding up to about ``edges``."""
    sizes = lo + np.minimum(rng.geometric(0.45, max(1, edges)) - 1, hi - lo)
    per = sizes if closed else sizes - 1
    return sizes[: int(np.searchsorted(np.cumsum(per), edges)) + 1]


def _structures(
    rng: np.random.Generator, pool: np.ndarray, sizes: np.ndarray, closed: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Edges of chains (or circles when ``closed``) over consecutive pool firms."""
    p = len(pool)
    starts = rng.integers(0, p, len(sizes))
    total = int(sizes.sum())
    owner = np.repeat(np.arange(len(sizes)), sizes)
    offset = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    members = pool[(starts[owner] + offset) % p]
    nxt = np.roll(members, -1)
    last = offset == sizes[owner] - 1
    if closed:
        head = np.cumsum(sizes) - sizes
        nxt = np.where(last, members[head[owner]], nxt)
        return members, nxt
    return members[~last], nxt[~last]


def make_guarantees(
    rng: np.random.Generator, firms: FirmTable, loans: LoanTable, main_person: np.ndarray
) -> GuaranteeTable:
    """Draw the guarantee network and tie it to loans; see the module docstring."""
    n = firms.n
    target = max(10, int(PAIRS_PER_FIRM * n))
    borrowers = np.unique(loans.borrower)
    w = _POOL_WEIGHT[firms.size[borrowers]]
    pool = rng.choice(borrowers, size=len(borrowers), replace=False, p=w / w.sum())
    pool = pool[: max(2, int(0.6 * len(pool)))]  # the guarantee-using part of borrowers
    pool = pool[np.argsort(firms.city[pool], kind="stable")]
    gs, bs = [], []
    # Mutual pairs.
    k = int(MIX["mutual"] * target / 2)
    a = rng.integers(0, len(pool), k)
    x, y = pool[a], pool[(a + 1 + rng.integers(0, 3, k)) % len(pool)]
    gs += [x, y]
    bs += [y, x]
    # Circles and chains.
    for kind, closed in (("circle", True), ("chain", False)):
        sizes = _lengths(rng, int(MIX[kind] * target), 3, 10, closed)
        g, b = _structures(rng, pool, sizes, closed)
        gs.append(g)
        bs.append(b)
    # Hubs: large firms (by fitness) guarantee many borrowers in their province.
    large = np.flatnonzero(firms.size >= 2)
    if len(large):
        n_hub = max(3, n // 2000)
        fw = firms.fitness[large]
        hubs = rng.choice(large, size=min(n_hub, len(large)), replace=False, p=fw / fw.sum())
        k_hub = int(MIX["hub"] * target)
        share = np.minimum(rng.pareto(1.5, len(hubs)) + 1.0, HUB_SHARE_CAP)
        counts = rng.multinomial(k_hub, share / share.sum())
        hub = np.repeat(hubs, counts)
        prov = firms.province[pool]
        lo = np.searchsorted(prov, firms.province[hub], "left")
        hi = np.searchsorted(prov, firms.province[hub], "right")
        has = hi > lo
        pick = lo + (rng.random(len(hub)) * (hi - lo)).astype(np.int64)
        gs.append(hub[has])
        bs.append(pool[np.minimum(pick, len(pool) - 1)][has])
    # Scattered local guarantees: a firm a few places away in city order.
    k = int(MIX["local"] * target)
    a = rng.integers(0, len(pool), k)
    gs.append(pool[(a + rng.integers(1, 20, k)) % len(pool)])
    bs.append(pool[a])
    g = np.concatenate(gs).astype(np.int64)
    b = np.concatenate(bs).astype(np.int64)
    ok = g != b
    key = np.unique(g[ok] * n + b[ok])
    g, b = key // n, key % n
    # Persons: the borrower's controlling owner.
    k = int(MIX["person"] * target)
    pb = pool[rng.integers(0, len(pool), k)]
    pb = np.unique(pb)
    g = np.concatenate([g, main_person[pb]])
    b = np.concatenate([b, pb])
    person = np.concatenate([np.zeros(len(key), bool), np.ones(len(pb), bool)])
    # Tie to loans: loans are sorted by borrower.
    lptr = np.searchsorted(loans.borrower, np.arange(n + 1))
    cnt = lptr[b + 1] - lptr[b]
    pair = np.repeat(np.arange(len(b)), cnt)
    loan = lptr[b][pair] + np.arange(len(pair)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    first = np.arange(len(pair)) == np.repeat(np.cumsum(cnt) - cnt, cnt)
    keep = first | (rng.random(len(pair)) < LOAN_COVER)
    # A firm cannot guarantee before it exists.
    keep &= person[pair] | (firms.founded_day[np.where(person[pair], 0, g[pair])] < loans.start_day[loan])
    pair, loan = pair[keep], loan[keep]
    amount = np.round(loans.principal[loan] * rng.uniform(0.3, 1.0, len(loan)), -3)
    return GuaranteeTable(
        guarantor=g[pair],
        is_person=person[pair],
        borrower=b[pair].astype(np.int32),
        loan=loan.astype(np.int64),
        amount=np.minimum(amount, loans.principal[loan]),
        start_day=loans.start_day[loan],
        end_day=loans.maturity_day[loan],
    )
