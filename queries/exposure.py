"""Chain exposure: what a credit officer sees around one borrower, as of a date.

:func:`chain_exposure` answers four lists around a focal firm ``F``, each within ``hops``
steps over links active on ``as_of`` (``queries.catalogue``'s rule):

- ``upstream``: suppliers, suppliers' suppliers ... (``(s)-[:SUPPLIES]->...->(F)``);
- ``downstream``: buyers, buyers' buyers ... (``(F)-[:SUPPLIES]->...->(b)``);
- ``guarantors``: who guarantees ``F``'s loans, who guarantees theirs ... (firms and persons);
- ``guaranteed``: whose loans ``F`` guarantees, whose loans they guarantee ...

Each firm appears once per list, at its shortest distance :math:`d(x)` (hops), with

- ``trade_value`` (supply) or ``amount`` (guarantees): the value of its active links with the
  firms one hop nearer (:math:`d - 1`), summed;
- ``share`` (supply only): the part of ``F``'s inputs (upstream) or sales (downstream) that runs
  through ``x`` along shortest routes. With :math:`w_{xy}` the annual value on ``x -> y`` and
  :math:`W_y` the total active input value of ``y`` (upstream; downstream: the total sales of
  the nearer firm),

  .. math:: share(F) = 1, \\qquad share(x) = \\sum_{y:\\, d(y) = d(x) - 1} \\frac{w_{xy}}{W_y}\\, share(y)

  so a direct supplier's share is its share of ``F``'s inputs, and a supplier two hops away that
  sells 50% of the inputs of a supplier holding 40% of ``F``'s has share 0.2.

and the bank's exposure to it (``firm_exposure``: outstanding balance, undrawn limits,
``exposure = outstanding + undrawn``, active guarantees it gave on the bank's loans; the bank
is ``settings.bank_lenders``, or every lender when none is set), its worst loan class, the
current risk run's ``risk_pd`` / ``risk_tier`` and stress run's results where present, and the
dates of its latest statement, signal and loan status, each flagged ``*_stale`` when older
than six months at ``as_of``.

Ordering and pages: each list is ordered by (distance, exposure descending, id) and cut into
pages of at most 1,000 rows; every page carries every list's total count and the totals of
the whole chain. ``hops`` is at most 5.

Why breadth-first by hop rather than one variable-length pattern: ``(F)<-[:SUPPLIES*1..3]-(s)``
enumerates every *path* (on a hub, the product of the degrees) and filters activity per path,
whereas one query per hop over the frontier (``UNWIND $frontier``) touches each active link
once and keeps the shortest distance in this process, so the work is linear in the links of
the chain. That is the reference path (``cache=None``); by default the same walk runs over
arrays held in this process, the bank's figures come from a book read once per date, and a
walked chain is kept for its later pages (``queries.chaincache``, same answers).

Example::

    page = chain_exposure(runner, "91350100M000100Y43", hops=3, page=1, page_size=100)
    page.upstream            # a DataFrame
    page.totals["chain"]     # {"firms": ..., "exposure": ...}
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, partial
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from chainrisk.errors import InvalidQueryParameter, UnknownFirm
from graph.protocol import QueryRunner
from queries.catalogue import CATALOGUE, FIRM_BATCH, jsonable, resolve_as_of, run_for_firms
from queries.catalogue import Param as _Param
from queries.chaincache import CHAIN_CACHE, ChainCache, IngestState
from queries.details import STALE_MONTHS, DetailsTable, firm_details, months_before
from queries.sections import BookArrays, Section, chain_totals

__all__ = [
    "MAX_HOPS",
    "MAX_PAGE_SIZE",
    "SECTIONS",
    "STALE_MONTHS",
    "Chain",
    "ChainExposure",
    "chain",
    "chain_exposure",
    "firm_details",
    "months_before",
    "rendered_page",
]

T = TypeVar("T")

MAX_HOPS = 5
MAX_PAGE_SIZE = 1000
#: The lists of an answer, with the hop query each is walked with.
SECTIONS: dict[str, str] = {
    "upstream": "supply_upstream_hop",
    "downstream": "supply_downstream_hop",
    "guarantors": "guarantor_hop",
    "guaranteed": "guaranteed_hop",
}
Direction = Literal["both", "upstream", "downstream"]
#: Rendered pages kept with each walked chain (:func:`rendered_page`), the oldest dropped first.
KEPT_RENDERINGS = 8
_RENDER_LOCK = threading.Lock()


def _batches(items: Sequence[str]) -> Iterator[list[str]]:
    # a hub's frontier is sent in pieces, like the fact queries
    for i in range(0, len(items), FIRM_BATCH):
        yield list(items[i : i + FIRM_BATCH])


def _walk(runner: QueryRunner, query_name: str, focal: str, hops: int, as_of: date) -> pd.DataFrame:
    """Breadth-first search from ``focal`` with one hop query per level; one row per party reached.

    A hop query returns every active link of each frontier firm, so the rows of one ``near``
    also sum to its total inputs (upstream) or sales (downstream): the share's denominator.
    """
    q = CATALOGUE[query_name]
    supply = query_name.startswith("supply_")
    seen: dict[str, dict[str, Any]] = {focal: {"distance": 0, "share": 1.0, "party": "firm"}}
    frontier = [focal]
    for hop in range(1, hops + 1):
        level: dict[str, dict[str, Any]] = {}
        for part in _batches(frontier):
            rows = runner.read_frame(q.text, {"frontier": part, "as_of": as_of}, timeout=q.timeout_s)
            if rows.empty:
                continue
            rows["value"] = pd.to_numeric(rows["value"]).fillna(0.0).astype(float)
            totals = rows.groupby("near")["value"].sum().to_dict() if supply else {}
            for near, far, kind, value in rows[["near", "far", "kind", "value"]].itertuples(index=False):
                if far is None or far in seen:
                    continue  # reached at a shorter distance (or the focal firm itself)
                node = level.setdefault(far, {"distance": hop, "value": 0.0, "share": 0.0, "party": kind})
                node["value"] += value
                total = totals.get(near, 0.0)
                if total > 0:
                    node["share"] += value / total * seen[near]["share"]
        seen.update(level)
        frontier = sorted(k for k, v in level.items() if v["party"] == "firm")
        if not frontier:
            break
    del seen[focal]
    rows_out = [{"id": k, **v} for k, v in seen.items()]
    return pd.DataFrame(rows_out, columns=["id", "distance", "value", "share", "party"])


@dataclass
class Chain:
    """The whole chain of one firm (every list, every member, exposures), before paging.

    Built by :func:`chain`; :meth:`page` adds names, dates and risk for one page. A hub's chain
    may hold only its lists' first rows (``sizes`` then gives the whole lists' sizes, and the
    totals are the whole chain's): built for a first page (:func:`rendered_page`), never
    returned by :func:`chain`.
    """

    firm: str
    name: str | None
    as_of: date
    hops: int
    direction: str
    lenders: list[str]
    #: every list in page order, as arrays (``queries.sections``)
    lists: dict[str, Section]
    firm_exposure: dict[str, Any]
    totals: dict[str, Any]
    #: the whole lists' sizes where ``lists`` hold only their first rows; None: whole lists
    sizes: dict[str, int] | None = None
    #: pages already rendered (:func:`rendered_page`), by (renderer, page, page size, current runs)
    rendered: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.sizes) if self.sizes is not None else {k: len(v) for k, v in self.lists.items()}

    @cached_property
    def sections(self) -> dict[str, pd.DataFrame]:
        """Every list as one frame (all rows, page order); a page builds only its own rows."""
        return {k: v.frame() for k, v in self.lists.items()}

    def kept_rendering(self, key: Hashable) -> Any | None:
        """The page kept under ``key`` (:meth:`rendering`), or None."""
        with _RENDER_LOCK:
            return self.rendered.get(key)

    def rendering(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``, kept under ``key`` with this chain (at most :data:`KEPT_RENDERINGS`)."""
        with _RENDER_LOCK:
            if key in self.rendered:
                hit: T = self.rendered[key]
                return hit
        out = build()  # outside the lock: two threads may both build a page, and keep one
        with _RENDER_LOCK:
            self.rendered[key] = out
            while len(self.rendered) > KEPT_RENDERINGS:
                del self.rendered[next(iter(self.rendered))]
        return out

    def page(self, runner: QueryRunner, page: int = 1, page_size: int = 100, *,
             details: Callable[[Sequence[str]], dict[str, dict[str, Any]]] | DetailsTable | None = None,
             ) -> ChainExposure:
        """Rows ``(page - 1) * page_size`` .. of every list, with their details (read by ``details``,
        default: ``firm_details`` for the page's firms; or looked up in a details table)."""
        if page < 1:
            raise InvalidQueryParameter(f"page must be 1 or more, got {page}")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidQueryParameter(f"page_size must lie in [1, {MAX_PAGE_SIZE}], got {page_size}")
        lo, hi = (page - 1) * page_size, page * page_size
        found: dict[str, dict[str, Any]] | DetailsTable
        if isinstance(details, DetailsTable):
            found, me = details, details.rows([self.firm]).get(self.firm, {})
        else:
            wanted = sorted({self.firm} | {u for v in self.lists.values()
                                            for u in v.ids[lo:hi][v.firm[lo:hi]]})
            found = details(wanted) if details is not None else firm_details(runner, wanted, self.as_of)
            me = found.get(self.firm, {})
        return ChainExposure(
            firm=self.firm, name=self.name, as_of=self.as_of, hops=self.hops, direction=self.direction,
            page=page, page_size=page_size, counts=self.counts, totals=self.totals,
            firm_details={**self.firm_exposure, **me},
            rows={k: v.records(lo, hi, found) for k, v in self.lists.items()},
            columns={k: v.columns for k, v in self.lists.items()},
        )

    def pages(self, runner: QueryRunner, page_size: int = MAX_PAGE_SIZE) -> Iterator[ChainExposure]:
        """Every page in turn (until every list is exhausted)."""
        n = max([0, *self.counts.values()])
        for p in range(1, max(1, -(-n // page_size)) + 1):
            yield self.page(runner, p, page_size)


@dataclass
class ChainExposure:
    """One page of a firm's chain exposure; every page carries the counts and whole-chain totals."""

    firm: str
    name: str | None
    as_of: date
    hops: int
    direction: str
    page: int
    page_size: int
    counts: dict[str, int]
    totals: dict[str, Any]
    firm_details: dict[str, Any]
    #: each list's rows on this page, JSON-ready (``queries.sections.Section.records``)
    rows: dict[str, list[dict[str, Any]]]
    #: each list's columns before the firms' details (the columns of an empty list's frame)
    columns: dict[str, list[str]]

    def frame(self, name: str) -> pd.DataFrame:
        """The rows of list ``name`` (``upstream`` ...) on this page as a frame."""
        rows = self.rows[name]
        return pd.DataFrame(rows, columns=list(rows[0]) if rows else self.columns[name])

    # the lists as frames, built from the page's rows when asked for (the Python API)
    upstream = property(partial(frame, name="upstream"), doc="The upstream rows of this page.")
    downstream = property(partial(frame, name="downstream"), doc="The downstream rows of this page.")
    guarantors = property(partial(frame, name="guarantors"), doc="The guarantors' rows of this page.")
    guaranteed = property(partial(frame, name="guaranteed"), doc="The guaranteed rows of this page.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"firm", "as_of", "hops", "upstream": [...], ..., "totals", "counts"}``."""
        return {
            "firm": self.firm, "name": self.name, "as_of": self.as_of.isoformat(), "hops": self.hops,
            "direction": self.direction, "page": self.page, "page_size": self.page_size,
            "stale_before": months_before(self.as_of, STALE_MONTHS).isoformat(),
            "firm_details": jsonable(self.firm_details), "counts": self.counts,
            **{k: self.rows[k] for k in SECTIONS}, "totals": self.totals,
        }


def _check(hops: int, direction: str) -> None:
    if not isinstance(hops, int) or isinstance(hops, bool) or not 1 <= hops <= MAX_HOPS:
        raise InvalidQueryParameter(f"hops must be a whole number from 1 to {MAX_HOPS}, got {hops!r}")
    if direction not in ("both", "upstream", "downstream"):
        raise InvalidQueryParameter(f"direction must be both, upstream or downstream, got {direction!r}")


def chain(runner: QueryRunner, firm: str, *, hops: int = 3, direction: Direction = "both",
          as_of: date | str | None = None, lenders: Sequence[str] | None = None,
          cache: ChainCache | None = CHAIN_CACHE) -> Chain:
    """The whole chain of ``firm`` within ``hops`` (at most 5), as of ``as_of``; see the module doc.

    ``lenders`` defaults to ``settings.bank_lenders`` (empty: every lender is the bank).
    ``cache`` (default: the process's :data:`queries.chaincache.CHAIN_CACHE`) walks in this
    process and keeps the chain for later pages; ``None`` takes the reference path, one hop
    query per level in the database and ``firm_exposure`` over every firm reached (same answers).
    The chain returned may be shared with other callers: read it, do not change it.

    Raises:
        InvalidQueryParameter: a malformed USCC, ``hops`` outside 1..5, an unknown direction.
        UnknownFirm: no firm with that USCC in the graph.
    """
    _check(hops, direction)
    uscc = _Param("firm", "uscc", "", required=True).coerce(firm)
    if cache is not None:
        return _cached_chain(runner, cache, uscc, hops, direction, as_of, lenders)
    day = resolve_as_of(runner, as_of)
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    name = _name(runner, uscc)
    wanted = _wanted(direction)
    walks = {s: _walk(runner, SECTIONS[s], uscc, hops, day) if s in wanted else _walk_empty()
             for s in SECTIONS}
    firms = sorted({uscc} | {i for w in walks.values() for i, p in zip(w["id"], w["party"], strict=True)
                             if p == "firm"})
    exp = run_for_firms(runner, "firm_exposure", firms, {"as_of": day, "lenders": bank}).set_index("uscc")
    book = BookArrays.from_frame(exp)
    every = pd.concat([w["id"] for w in walks.values()]).to_numpy(dtype=object)
    parties = pd.Index(every, dtype=object).unique()
    lists = {s: _from_walk(s, w, book, parties) for s, w in walks.items()}
    mine = jsonable(exp.loc[uscc].to_dict()) if uscc in exp.index else {}
    return Chain(firm=uscc, name=name, as_of=day, hops=hops, direction=direction,
                 lenders=bank, lists=lists, firm_exposure=mine, totals=chain_totals(lists))


def _name(runner: QueryRunner, uscc: str) -> str | None:
    found = runner.read("MATCH (f:Firm {uscc: $u}) RETURN f.name AS name", {"u": uscc})
    if not found:
        raise UnknownFirm(f"no firm with USCC {uscc} in the graph")
    name: str | None = found[0]["name"]
    return name


def _wanted(direction: str) -> list[str]:
    return [s for s in SECTIONS if direction == "both" or s == direction or s.startswith("guarant")]


def _cached_chain(runner: QueryRunner, cache: ChainCache, uscc: str, hops: int, direction: Direction,
                  as_of: date | str | None, lenders: Sequence[str] | None,
                  state: IngestState | None = None, rows: int | None = None,
                  plan: Plan | None = None) -> Chain:
    """:func:`chain` through ``cache``: the state query, then a kept chain, or a walk in this process.

    ``rows``: a page needs only each list's first ``rows`` rows. For a hub whose totals the cache
    worked out (``ChainCache.hub_chains``), whose whole chain is not kept and whose page ends
    before the last level, the chain returned holds each list walked only as deep as those rows
    need (:func:`first_levels`), with the whole chain's totals and sizes. ``plan``: :func:`_plan`'s
    answer for these arguments, when the caller worked it out already.
    """
    state = state or cache.state(runner)
    plan = plan or _plan(runner, cache, uscc, hops, direction, as_of, lenders, state, rows)
    day, bank, key, hub, depths = plan

    def build() -> Chain:
        table = cache.held_table(runner, state, day)
        known, name = table.name(uscc) if table is not None else (False, None)
        if not known:  # the name from the details table when it holds the firm: one round trip fewer
            name = _name(runner, uscc)
        wanted = _wanted(direction)
        index = cache.chain_index(runner, state, day, bank)  # built (or waited for) outside the gate
        with cache.walking():
            lists = index.lists(uscc, hops, wanted, depths)
            totals = hub[0] if hub is not None else chain_totals(lists)
        # the focal firm's own row in full (equity, balance with every lender ...): the book holds
        # firm_exposure's row, same query and parameters, for a firm with loans or guarantees; any
        # other firm's (its equity is not zero) comes from the rows warm-up read, or the database
        exp = cache.book(runner, state, day, bank)
        if uscc not in exp.index:
            outside = cache.held_outside(runner, state, day, bank)  # read at warm-up
            exp = outside if outside is not None and uscc in outside.index else run_for_firms(
                runner, "firm_exposure", [uscc], {"as_of": day, "lenders": bank}).set_index("uscc")
        mine = jsonable(exp.loc[uscc].to_dict()) if uscc in exp.index else {}
        return Chain(firm=uscc, name=name, as_of=day, hops=hops, direction=direction, lenders=bank,
                     lists=lists, firm_exposure=mine, totals=totals,
                     sizes=dict(hub[1]) if hub is not None else None)

    return cache.chains.get_or_build(key, build)


Plan = tuple[date, list[str], tuple[Any, ...], tuple[dict[str, Any], dict[str, int]] | None,
             dict[str, int] | None]


def _plan(runner: QueryRunner, cache: ChainCache, uscc: str, hops: int, direction: Direction,
          as_of: date | str | None, lenders: Sequence[str] | None, state: IngestState,
          rows: int | None) -> Plan:
    """(date, bank, the key the chain is kept under, the hub's totals and sizes, each list's depth):
    a hub's first rows (:func:`first_levels`) are kept apart from its whole chain, under their own
    key; hub and depths are None for a whole chain."""
    day = _Param("as_of", "date", "").coerce(as_of) if as_of is not None else (state.as_of or date.today())
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    key = (cache.server(runner), state.token, uscc, hops, direction, day, tuple(bank))
    if rows is None or direction != "both" or cache.chains.get(key) is not None:
        return day, bank, key, None, None
    hubs = cache.held_hub_chains(runner, state, day, bank, hops)
    hub = hubs.get(uscc) if hubs is not None else None
    depths = first_levels(hub[0], hops, rows) if hub is not None else None
    if hub is None or depths is None:  # not a hub, or every list whole: the whole chain, kept
        return day, bank, key, None, None
    return day, bank, (*key, "first rows", rows), hub, depths


def first_levels(totals: dict[str, Any], hops: int, rows: int) -> dict[str, int] | None:
    """Per list, how many hops deep its first ``rows`` rows reach, from the whole chain's counts
    by distance (``totals[list]["by_distance"]``); None when that is every list whole (the
    whole chain, walked and kept as such for later pages). A short list (a hub's few guarantors)
    is walked whole at little cost while a long one stops early.

    >>> t = {"upstream": {"by_distance": {"1": 40, "2": 900, "3": 30000}},
    ...      "guarantors": {"by_distance": {"1": 2, "3": 1}}, "downstream": {"by_distance": {}}}
    >>> first_levels(t, 3, 100), first_levels(t, 3, 1000)
    ({'upstream': 2, 'guarantors': 3, 'downstream': 1}, None)
    """
    depths: dict[str, int] = {}
    whole = True
    for name, t in totals.items():
        if name not in SECTIONS:
            continue  # the whole chain's totals
        counts = {int(d): int(n) for d, n in t["by_distance"].items()}
        deepest = max(counts, default=1)
        seen, depth = 0, 1
        for depth in range(1, hops + 1):
            seen += counts.get(depth, 0)
            if seen >= rows:
                break
        depths[name] = min(depth, deepest)  # no deeper than the list goes
        whole = whole and depths[name] >= deepest
    return None if whole else depths


def _walk_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["id", "distance", "value", "share", "party"])


def _from_walk(name: str, walk: pd.DataFrame, book: BookArrays, parties: pd.Index) -> Section:
    """The reference path's walk (a frame) as a list: the same rows, the same order."""
    ids = walk["id"].to_numpy(dtype=object)
    return Section.build(
        name, ids, firm=(walk["party"] == "firm").to_numpy(dtype=bool),
        distance=walk["distance"].to_numpy(dtype=np.int64), value=walk["value"].to_numpy(dtype=float),
        share=walk["share"].to_numpy(dtype=float), book_pos=book.positions(ids), book=book,
        # the ids as fixed-width text sort by code point, as the cached path's ranks do
        tie=ids.astype(str) if len(ids) else np.zeros(0, dtype=str),
        key=np.asarray(parties.get_indexer(pd.Index(ids, dtype=object)), dtype=np.int64))


def chain_exposure(runner: QueryRunner, firm: str, *, hops: int = 3, direction: Direction = "both",
                   as_of: date | str | None = None, page: int = 1, page_size: int = 100,
                   lenders: Sequence[str] | None = None,
                   cache: ChainCache | None = CHAIN_CACHE, max_state_age_s: float = 0.0) -> ChainExposure:
    """One page of ``firm``'s chain exposure (see the module docstring); ``page_size`` at most 1,000.

    The chain is walked once and kept (``cache``, see :func:`chain`): later pages read only their
    rows' details. ``max_state_age_s``: how old an ingest state read earlier may be and still be
    used (:meth:`queries.chaincache.ChainCache.state`; 0 reads it now).

    Raises:
        InvalidQueryParameter: a malformed USCC, ``hops`` outside 1..5, a bad page or page size.
        UnknownFirm: no firm with that USCC in the graph.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidQueryParameter(f"page_size must lie in [1, {MAX_PAGE_SIZE}], got {page_size}")
    if cache is None:
        whole = chain(runner, firm, hops=hops, direction=direction, as_of=as_of, lenders=lenders, cache=None)
        return whole.page(runner, page, page_size)
    whole, state = _kept(runner, cache, firm, hops, direction, as_of, lenders, max_state_age_s,
                         rows=page * page_size)
    return _cached_page(runner, cache, whole, state, page, page_size)


def rendered_page(runner: QueryRunner, firm: str, render: Callable[[ChainExposure], T], *, hops: int = 3,
                  direction: Direction = "both", as_of: date | str | None = None, page: int = 1,
                  page_size: int = 100, lenders: Sequence[str] | None = None,
                  cache: ChainCache = CHAIN_CACHE, max_state_age_s: float = 0.0) -> T:
    """``render(chain_exposure(...))``, kept with the walked chain: asked for again under the same
    ingest state and current risk and stress runs, a page is neither read nor rendered again.

    Why: the HTTP API answers a kept hub's first page many times; building its frames and JSON
    each time was most of a request's CPU. ``render`` is part of the key, so pass the same
    function object every time (a module-level function, not a fresh lambda).

    Raises:
        as :func:`chain_exposure`.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidQueryParameter(f"page_size must lie in [1, {MAX_PAGE_SIZE}], got {page_size}")
    uscc, state = _firm_state(runner, cache, firm, hops, direction, max_state_age_s)
    rows, done = page * page_size, (render, page, page_size, state.results)
    plan = _plan(runner, cache, uscc, hops, direction, as_of, lenders, state, rows)
    held = cache.chains.get(plan[2])
    hit = held.kept_rendering(done) if held is not None else None
    if hit is not None:
        return hit
    # a page not rendered yet is CPU work from the walk to the JSON: the walk gate (one per core at
    # a time, first come first served) holds around all of it, not only the walk, so that eight
    # first pages at once finish in turn rather than all late
    with cache.walking():
        whole = _cached_chain(runner, cache, uscc, hops, direction, as_of, lenders, state, rows, plan)
        return whole.rendering(done, lambda: render(_cached_page(runner, cache, whole, state, page,
                                                                 page_size)))


def _kept(runner: QueryRunner, cache: ChainCache, firm: str, hops: int, direction: Direction,
          as_of: date | str | None, lenders: Sequence[str] | None,
          max_state_age_s: float, rows: int | None = None) -> tuple[Chain, IngestState]:
    uscc, state = _firm_state(runner, cache, firm, hops, direction, max_state_age_s)
    return _cached_chain(runner, cache, uscc, hops, direction, as_of, lenders, state, rows), state


def _firm_state(runner: QueryRunner, cache: ChainCache, firm: str, hops: int, direction: Direction,
                max_state_age_s: float) -> tuple[str, IngestState]:
    """The arguments checked, the USCC validated, and the ingest state (at most that old)."""
    _check(hops, direction)
    return _Param("firm", "uscc", "", required=True).coerce(firm), cache.state(runner, max_state_age_s)


def _cached_page(runner: QueryRunner, cache: ChainCache, whole: Chain, state: IngestState, page: int,
                 page_size: int) -> ChainExposure:
    day = whole.as_of
    # the details table (read at warm-up) answers by lookup: a chain's first page then costs no query
    table = cache.held_table(runner, state, day)
    if table is not None:
        return whole.page(runner, page, page_size, details=table)
    return whole.page(runner, page, page_size, details=lambda usccs: cache.details(
        runner, state, day, usccs, lambda missing: firm_details(runner, missing, day)))
