"""Chain walks in this process: the active supply and guarantee networks as arrays, the bank's
book per date, and an LRU of walked chains, all keyed by the graph's ingest state.

Why. Walked in the database one hop query per level (``queries.exposure``'s reference path), a
hub's three-hop chain (about 15,500 firms of 20,000) costs one round trip per level and batch,
Python work per returned row, and ``firm_exposure`` over every firm reached: seconds a request.
Here

- a **network** is the active links of one kind on one date, read once (``supply_network``,
  ``guarantee_links``) and held in compressed sparse rows both ways, so a walk is array work;
- the **book** is ``firm_exposure`` over the firms that can have a non-zero row (``book_firms``:
  a loan started by the date, or an active guarantee given), read once per date and bank; every
  other firm's row is zeros with no loan class, which is what ``firm_exposure`` answers for it;
- a walked **chain** is kept (LRU), so pages 2..n cost only their rows' details, and those
  details are kept per firm too (under the same state and the current risk and stress runs);
- the **details table** (``queries.details.DetailsTable``) holds every firm's details on the
  latest date, read in one stream at warm-up (or at the first page that needs it), so even a
  chain's first page, and the portfolio questions' thousands of firms (:func:`details_of`), look
  their details up in memory rather than in the database.

Freshness. Each call reads the ingest state (``ingest_state``: the latest committed ``as_of``,
the number of committed ingest runs and the greatest run id) in one small query, and every
cached object is keyed by it together with the server and database: once a new ingest commits,
the next call builds afresh and the old entries age out of the LRU. Per-firm details (PD, stress
results, the dates of the latest facts) are keyed by the current risk and stress runs as well.
A caller may accept a state up to ``max_age_s`` old (:meth:`ChainCache.state`; the HTTP API: one
second), so that a stream of requests costs one state query a second rather than one each.

The walk itself, and what every walk on a date shares: ``queries.networks``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import pandas as pd

from graph.protocol import QueryRunner
from queries.catalogue import CATALOGUE, run_for_firms, run_query
from queries.details import DetailsTable, firm_details
from queries.networks import WALKS, ChainIndex, Network
from queries.sections import chain_totals

__all__ = ["CHAIN_CACHE", "ChainCache", "IngestState", "details_of", "ingest_state", "warm_up"]

T = TypeVar("T")
#: ``warm_up`` works out the whole-chain totals of this share of the firms, those with the most
#: links (:meth:`ChainIndex.hubs`), so that their first page walks only as deep as its rows need.
HUB_SHARE = 0.02
#: ... and at most this many (about 15 s of one core at 100k firms; a larger graph's warm-up stays bounded).
HUB_MAX = 2000
#: ... at this many hops: ``chain_exposure``'s and the API's default.
HUB_HOPS = 3


@dataclass(frozen=True)
class IngestState:
    """What the graph's data is: the latest committed ingest ``as_of`` and a token that changes
    with every committed ingest (number of such runs, greatest run id)."""

    as_of: date | None
    token: tuple[int, str | None]
    #: The current risk and stress runs: per-firm details (PD, stress results) depend on them too.
    results: tuple[str | None, str | None] = (None, None)


def ingest_state(runner: QueryRunner) -> IngestState:
    """The graph's :class:`IngestState` (one small query)."""
    rows = runner.read(CATALOGUE["ingest_state"].text)
    row: dict[str, Any] = rows[0] if rows else {"as_of": None, "runs": 0, "latest": None}
    day = date.fromisoformat(str(row["as_of"])) if row["as_of"] else None
    latest = str(row["latest"]) if row["latest"] is not None else None
    results = (row.get("risk_run"), row.get("stress_run"))
    return IngestState(as_of=day, token=(int(row["runs"] or 0), latest), results=results)


def _supply(runner: QueryRunner, as_of: date) -> Network:
    f = run_query(runner, "supply_network", {"as_of": as_of})
    return Network(f["source"].tolist(), f["target"].tolist(), f["value"].tolist())


def _guarantee(runner: QueryRunner, as_of: date) -> Network:
    f = run_query(runner, "guarantee_links", {"as_of": as_of})
    return Network(f["guarantor"].tolist(), f["borrower"].tolist(), f["amount"].tolist(),
                   source_is_firm=(f["kind"] == "firm").tolist())


_LOADERS: dict[str, Callable[[QueryRunner, date], Network]] = {"supply": _supply, "guarantee": _guarantee}


class _Gate:
    """At most ``n`` threads inside at once, first come first served; re-entrant per thread."""

    def __init__(self, n: int):
        self._slots = threading.BoundedSemaphore(n)
        self._depth = threading.local()

    def __enter__(self) -> None:
        depth = getattr(self._depth, "n", 0)
        if depth == 0:
            self._slots.acquire()
        self._depth.n = depth + 1

    def __exit__(self, *exc: object) -> None:
        self._depth.n -= 1
        if self._depth.n == 0:
            self._slots.release()


class _Lru:
    """A thread-safe LRU; a value missing is built once even when several threads ask at once."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_build(self, key: Hashable, build: Callable[[], T]) -> T:
        hit: Any = self.get(key)
        if hit is not None:
            return hit
        with self._lock:
            gate = self._building.setdefault(key, threading.Lock())
        with gate:
            hit = self.get(key)
            if hit is None:
                hit = build()
                self.put(key, hit)
        with self._lock:
            self._building.pop(key, None)
        return hit

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class ChainCache:
    """Networks, books and walked chains of one process, keyed by server, database and ingest state.

    ``chains`` (LRU) holds whole chains (``queries.exposure.Chain``); ``dates`` bounds how many
    dates' networks and books are held at once.
    """

    def __init__(self, chains: int = 32, dates: int = 4, *, walks: int = 0,
                 clock: Callable[[], float] = time.monotonic):
        self.networks = _Lru(2 * dates)
        self.books = _Lru(dates)
        self.chains = _Lru(chains)
        self.indexes = _Lru(dates)
        self.firm_details = _Lru(dates)
        #: Every firm's details per (state, current runs, date): ``DetailsTable``, ~0.4 KB a firm.
        self.tables = _Lru(dates)
        #: The hubs' whole-chain totals and list sizes per (state, date, bank, hops): ``hub_chains``.
        self.hub_totals = _Lru(dates)
        #: ``firm_exposure`` rows of the firms outside the book, per (state, date, bank): ``outside_book``.
        self.outside = _Lru(dates)
        self.max_details = 200_000
        self._clock = clock
        self._states: dict[tuple[str, str], tuple[IngestState, float]] = {}
        self._states_lock = threading.Lock()
        self._refreshing = threading.Lock()
        #: Whole-graph answers computed from the networks (``queries.systemic``'s ESRI of every firm).
        self.derived = _Lru(2 * dates)
        self.limit_walks(walks)

    def limit_walks(self, walks: int = 0) -> None:
        """Let at most ``walks`` chain walks run at once (0: one per CPU core); the others wait,
        first come first served (:meth:`walking`).

        Why: a walk is CPU work (array passes, and Python under the interpreter lock). Eight
        concurrent first requests for hubs on two cores, all run side by side, each finish near
        the end of the batch; run two at a time, half of them are done in half that time, and the
        last no later than before. Kept chains never wait.
        """
        self.walks = walks if walks > 0 else (os.cpu_count() or 1)
        self._walk_gate = _Gate(self.walks)

    def walking(self) -> _Gate:
        """The gate a walk passes (``with cache.walking(): ...``): :meth:`limit_walks`. A thread
        already inside passes again freely (a first page's rendering holds it around its walk)."""
        return self._walk_gate

    def state(self, runner: QueryRunner, max_age_s: float = 0.0) -> IngestState:
        """The graph's :class:`IngestState`, read again once the one read last is ``max_age_s`` old.

        ``0`` (the library's default) reads it on every call. The API passes a second: under load
        the state query was a round trip per request, and a new ingest or run is then seen at
        most that much later, plus the one state query in flight (every key built from the state
        changes with it, as above).
        """
        where = self.server(runner)
        now = self._clock()
        if max_age_s > 0:
            with self._states_lock:
                held = self._states.get(where)
            if held is not None and now - held[1] < max_age_s:
                return held[0]
            # one caller reads it again; the others meanwhile answer with the state held (older by
            # that one query at most), rather than all sending the same query at once
            if held is not None and not self._refreshing.acquire(blocking=False):
                return held[0]
            try:
                return self._read_state(runner, where, now)
            finally:
                if held is not None:
                    self._refreshing.release()
        return self._read_state(runner, where, now)

    def _read_state(self, runner: QueryRunner, where: tuple[str, str], now: float) -> IngestState:
        fresh = ingest_state(runner)
        with self._states_lock:
            self._states[where] = (fresh, now)
        return fresh

    @staticmethod
    def server(runner: QueryRunner) -> tuple[str, str]:
        return (str(runner.settings.neo4j_uri), str(runner.database))

    def network(self, runner: QueryRunner, state: IngestState, kind: str, as_of: date) -> Network:
        key = (self.server(runner), state.token, kind, as_of)
        return self.networks.get_or_build(key, lambda: _LOADERS[kind](runner, as_of))

    def derived_value(self, runner: QueryRunner, state: IngestState, name: str, as_of: date,
                      build: Callable[[], T]) -> T:
        """``build()``, kept under (server, ingest state, current runs, ``name``, ``as_of``): an answer
        over the whole graph is computed once per ingest and date, like the networks it reads."""
        key = (self.server(runner), state.token, state.results, name, as_of)
        return self.derived.get_or_build(key, build)

    def chain_index(self, runner: QueryRunner, state: IngestState, as_of: date,
                    lenders: Sequence[str]) -> ChainIndex:
        """The :class:`ChainIndex` of ``as_of`` and ``lenders``: both networks and the book, indexed."""
        key = (self.server(runner), state.token, as_of, tuple(lenders))
        return self.indexes.get_or_build(key, lambda: ChainIndex.build(
            {kind: self.network(runner, state, kind, as_of) for kind in _LOADERS},
            self.book(runner, state, as_of, lenders)))

    def book(self, runner: QueryRunner, state: IngestState, as_of: date,
             lenders: Sequence[str]) -> pd.DataFrame:
        """``firm_exposure`` rows (indexed by USCC) of the firms that can have non-zero ones."""
        key = (self.server(runner), state.token, as_of, tuple(lenders))

        def build() -> pd.DataFrame:
            firms = sorted(run_query(runner, "book_firms", {"as_of": as_of})["uscc"].dropna().unique())
            return _exposure_rows(runner, firms, as_of, lenders)

        return self.books.get_or_build(key, build)

    def outside_book(self, runner: QueryRunner, state: IngestState, as_of: date,
                     lenders: Sequence[str]) -> pd.DataFrame:
        """``firm_exposure`` rows (indexed by USCC) of every firm of the details table outside the
        book: zeros and no loan class, but each firm's own equity. Read once (one batched pass; 1.5 s
        for 54k firms at 100k on a loaded machine) so that the first page of a firm with no loan
        sends no query for its own row either: under load that round trip was the slowest part of
        a small firm's first page."""
        key = (self.server(runner), state.token, as_of, tuple(lenders))

        def build() -> pd.DataFrame:
            book = self.book(runner, state, as_of, lenders)
            table = self.details_table(runner, state, as_of)
            return _exposure_rows(runner, sorted(set(table.index.tolist()) - set(book.index.tolist())), as_of,
                                  lenders)

        return self.outside.get_or_build(key, build)

    def held_outside(self, runner: QueryRunner, state: IngestState, as_of: date,
                     lenders: Sequence[str]) -> pd.DataFrame | None:
        """:meth:`outside_book` if read already (nothing is read)."""
        hit: pd.DataFrame | None = self.outside.get((self.server(runner), state.token, as_of, tuple(lenders)))
        return hit

    def details(self, runner: QueryRunner, state: IngestState, as_of: date, usccs: Sequence[str],
                fetch: Callable[[Sequence[str]], dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        """Per-firm details (``queries.exposure``'s page columns) of ``usccs``; only the firms not
        read yet under this state and date are fetched. Keyed by the ingest state and the current
        risk and stress runs, since the details show their results."""
        key = (self.server(runner), state.token, state.results, as_of)
        known: dict[str, dict[str, Any]] = self.firm_details.get_or_build(key, dict)
        missing = [u for u in usccs if u not in known]
        if missing:
            got = fetch(missing)
            if len(known) + len(got) > self.max_details:
                known.clear()  # bounded: a whole large graph's details are not held
            known.update(got)
        return {u: known[u] for u in usccs if u in known}

    def details_table(self, runner: QueryRunner, state: IngestState, as_of: date) -> DetailsTable:
        """Every firm's details at ``as_of`` (``DetailsTable``), read once per ingest state, current
        risk and stress runs and date: the same key as :meth:`details`."""
        key = (self.server(runner), state.token, state.results, as_of)
        return self.tables.get_or_build(key, lambda: DetailsTable.read(runner, as_of))

    def held_book(self, runner: QueryRunner, state: IngestState, as_of: date,
                  lenders: Sequence[str]) -> pd.DataFrame | None:
        """The book at ``as_of`` for ``lenders`` if one is held already (none is read)."""
        hit: pd.DataFrame | None = self.books.get((self.server(runner), state.token, as_of, tuple(lenders)))
        return hit

    def hub_chains(self, runner: QueryRunner, state: IngestState, as_of: date, lenders: Sequence[str],
                   hops: int = HUB_HOPS) -> dict[str, tuple[dict[str, Any], dict[str, int]]]:
        """USCC -> (the whole chain's ``chain_totals``, each list's size) of every hub
        (:data:`HUB_SHARE`, at most :data:`HUB_MAX`), all four lists within ``hops``: worked out
        once per ingest state, date and bank, hub by hub through the walk gate (:meth:`walking`),
        so requests meanwhile wait at most one hub's walk.

        Why: a hub's first page shows its first 100 rows and the totals of a chain of 30-70k
        parties at 100k firms; with the totals known, the page walks one or two levels rather
        than three (``queries.exposure``), the same rows and totals.
        """
        key = (self.server(runner), state.token, as_of, tuple(lenders), hops)

        def build() -> dict[str, tuple[dict[str, Any], dict[str, int]]]:
            index = self.chain_index(runner, state, as_of, lenders)
            out: dict[str, tuple[dict[str, Any], dict[str, int]]] = {}
            for firm in index.hubs(HUB_SHARE)[:HUB_MAX]:
                with self.walking():
                    lists = index.lists(firm, hops, list(WALKS))
                    out[firm] = (chain_totals(lists), {k: len(v) for k, v in lists.items()})
            return out

        return self.hub_totals.get_or_build(key, build)

    def held_hub_chains(self, runner: QueryRunner, state: IngestState, as_of: date, lenders: Sequence[str],
                        hops: int) -> dict[str, tuple[dict[str, Any], dict[str, int]]] | None:
        """:meth:`hub_chains` if worked out already (nothing is walked)."""
        hit: dict[str, tuple[dict[str, Any], dict[str, int]]] | None = self.hub_totals.get(
            (self.server(runner), state.token, as_of, tuple(lenders), hops))
        return hit

    def held_table(self, runner: QueryRunner, state: IngestState, as_of: date) -> DetailsTable | None:
        """The details table at ``as_of`` if one is held already (none is read)."""
        hit: DetailsTable | None = self.tables.get((self.server(runner), state.token, state.results, as_of))
        return hit

    def clear(self) -> None:
        """Forget everything (tests; a process that knows the graph was rewritten without an ingest)."""
        for lru in (self.networks, self.books, self.chains, self.firm_details, self.derived, self.tables,
                    self.indexes, self.hub_totals, self.outside):
            lru.clear()
        with self._states_lock:
            self._states.clear()


def _exposure_rows(runner: QueryRunner, firms: Sequence[str], as_of: date,
                   lenders: Sequence[str]) -> pd.DataFrame:
    """``firm_exposure`` rows of ``firms`` indexed by USCC."""
    frame = run_for_firms(runner, "firm_exposure", firms, {"as_of": as_of, "lenders": list(lenders)})
    frame = frame.set_index("uscc")
    # plain objects: pandas keeps the index's hash table, built at the first chain's lookup
    frame.index = pd.Index(frame.index.to_numpy(dtype=object), dtype=object, name="uscc")
    return frame


#: The process's cache, used by ``queries.exposure.chain`` unless told otherwise.
CHAIN_CACHE = ChainCache()


def warm_up(runner: QueryRunner, cache: ChainCache | None = None, *,
            lenders: Sequence[str] | None = None) -> IngestState:
    """Build what every chain on the latest date shares: both networks, the bank's book, every
    firm's details (the details table), the rows of the firms outside the book
    (:meth:`ChainCache.outside_book`) and the hubs' chain totals (:meth:`ChainCache.hub_chains`);
    then the first page of the largest hub.

    A server calls it once at start (a minute or more on 100k firms), so that its first chain
    request only walks. The keys are those ``queries.exposure`` uses for ``as_of`` left out
    (the latest ingest's date) and ``lenders`` (default ``settings.bank_lenders``).
    """
    cache = CHAIN_CACHE if cache is None else cache
    state = ingest_state(runner)
    day = state.as_of or date.today()
    for kind in _LOADERS:
        cache.network(runner, state, kind, day)
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    cache.chain_index(runner, state, day, bank)
    cache.details_table(runner, state, day)
    cache.outside_book(runner, state, day, bank)
    hubs = cache.hub_chains(runner, state, day, bank)
    if hubs:
        # one hub's first page: what a page does once per process (pandas' row lookup tables,
        # the kernels' dispatch: about 10 ms at 100k) is done here, not in an officer's request
        from queries.exposure import chain_exposure

        chain_exposure(runner, next(iter(hubs)), lenders=bank, cache=cache)
    return state


#: From this many firms on, :func:`details_of` reads the whole details table when none is held.
TABLE_FROM = 2000


def details_of(runner: QueryRunner, usccs: Sequence[str], as_of: date,
               cache: ChainCache | None = CHAIN_CACHE) -> dict[str, dict[str, Any]]:
    """``queries.details.firm_details(runner, usccs, as_of)``, looked up in ``cache``'s details
    table when one is held for the date (``warm_up`` reads the latest date's) or when ``usccs``
    are many (:data:`TABLE_FROM`: then the table is read, one stream, rather than the firms in
    batches); per-firm queries for a few firms otherwise, or with ``cache=None``. Same rows."""
    if cache is None or len(usccs) == 0:
        return firm_details(runner, usccs, as_of)
    state = cache.state(runner)
    table = cache.held_table(runner, state, as_of)
    if table is None and len(set(usccs)) >= TABLE_FROM:
        table = cache.details_table(runner, state, as_of)
    return table.rows(usccs) if table is not None else firm_details(runner, usccs, as_of)
