"""Load one table's validated chunks into Neo4j, counting what changed.

:class:`TableLoader` takes one table's validated chunks one at a time (so memory
stays bounded by the chunk size, whatever the file size), turns each into
driver-ready rows (:func:`ingest.rows.prepare_rows`), creates missing
counterparties first (external firms, persons, platforms: their ``nodes_created``
counter is the report's *externals*), then runs the table's generated load query
(:func:`ingest.cypher.table_cypher`) in batches of ``batch_size`` rows, one
transaction each. Before its first write it asks whether the table's label or
relationship type is empty (``TableCypher.count``, O(1)); if so this is a first
load and the ``CREATE`` variant replaces the incremental query for the whole table
(why that is safe: :mod:`ingest.cypher`).
With ``pipeline=True`` the writes of a chunk run in one background thread while
the caller validates and prepares the next chunk (the server works on the other
core); at most one chunk is in flight, so memory stays bounded by two chunks.
In ``full`` mode it remembers a 64-bit hash of each link ``uid`` it saw and, at
the end, closes the open links of this source that the dataset no longer holds.
Before a relationship table's first ``MERGE`` (or closing), links written before
schema version 2 get their ``uid`` (:func:`fill_uids`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, LiteralString

import numpy as np
import pandas as pd

from graph.protocol import QueryRunner, WriteCounters
from graph.schema import create_indexes, drop_indexes, mark_uids_complete, secondary_indexes, uids_complete
from ingest.cypher import TableCypher, ensure_query, table_cypher
from ingest.report import TableReport
from ingest.rows import key_hashes, prepare_rows
from ingest.tables import ENDPOINT_NODES, Endpoint, NodeMap, RelMap, TableSpec

__all__ = ["LoadContext", "TableLoader", "fill_uids"]


# -------------------------------------------------------------------- loading
def fill_uids(runner: QueryRunner, spec: TableSpec, *, limit: int = 50_000) -> int:
    """Give the links of ``spec`` written before schema version 2 their ``uid``; return how many.

    A load finds a link by ``uid`` only, so a link without one would be created
    again. This fills ``limit`` links a transaction until none lacks one, then
    records the type in the schema marker (``graph.schema.mark_uids_complete``): every
    writer since schema 2 sets ``uid``, so later loads skip the scan (1.7 s at 1.2M links).
    """
    q = table_cypher(spec)
    if q.uid_fill is None or uids_complete(runner, q.target):
        return 0
    filled = 0
    while True:
        c = runner.write(q.uid_fill, {"limit": limit})
        n = int(c.returned[0]["n"]) if c.returned else 0
        filled += n
        if n < limit:
            mark_uids_complete(runner, q.target)
            return filled


@dataclass(kw_only=True)
class LoadContext:
    """Run-level values every query of one ingest shares."""

    runner: QueryRunner
    run_id: str
    source: str
    as_of: date
    mode: str
    now: datetime
    batch_size: int
    #: Batches of one table written at once, each in its own transaction and session.
    writers: int = 1
    #: Ids known to exist in the graph in this run, by kind (``firm``, ``person``,
    #: ``platform``): their endpoints are not ``MERGE``\\ d again by later batches.
    known: dict[str, set[str]] = field(default_factory=dict)

    def known_ids(self, kind: str) -> set[str]:
        return self.known.setdefault(kind, set())

    @property
    def params(self) -> dict[str, Any]:
        return {"source": self.source, "run_id": self.run_id, "now": self.now}


def _slices(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class TableLoader:
    """Load one table chunk by chunk; call :meth:`finish` after the last chunk.

    Parameters
    ----------
    ctx : LoadContext
    spec : TableSpec
        The table's contract (its graph map says what is written).
    report : TableReport
        Updated in place (``read`` and ``quarantined`` are the caller's to fill).
    on_rows : callable, optional
        Called with the number of rows of each written batch (progress bars; from the
        writer thread when ``pipeline``).
    pipeline : bool
        Write each chunk in a background thread while the caller prepares the next one;
        :meth:`load_chunk` then returns before the chunk is written, and :meth:`finish`
        (or :meth:`abort`) waits for it. Counts are complete only after :meth:`finish`.
    """

    def __init__(
        self,
        ctx: LoadContext,
        spec: TableSpec,
        report: TableReport,
        *,
        on_rows: Callable[[int], None] | None = None,
        pipeline: bool = False,
    ):
        self.ctx = ctx
        self.spec = spec
        self.table = table = spec.name
        self.gt: TableCypher = table_cypher(spec)
        self.report = report
        self.on_rows = on_rows
        self._seen: list[np.ndarray] = []
        #: Closing is skipped when a row of this table could not be read: it may be the "missing" link.
        self.close_enabled = ctx.mode == "full" and self.gt.close is not None
        #: The load query, chosen before the first write (``MERGE``, or ``CREATE`` into an empty label/type).
        self._query: LiteralString | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=f"load-{table}") if pipeline else None
        self._pending: Future[None] | None = None
        self._uids_filled = False
        # batches of one chunk written concurrently (ctx.writers > 1); counts under a lock
        self._writers: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        #: Secondary indexes dropped for a first load, rebuilt by finish() (or abort()).
        self._deferred: tuple[tuple[str, LiteralString], ...] = ()

    @property
    def first_load(self) -> bool:
        """Whether the table is written with ``CREATE`` (its label or type was empty).

        Decided before the first write; ``False`` until then.
        """
        return self._query is not None and self._query is self.gt.create

    def _load_query(self) -> LiteralString:
        if self._query is None:
            rows = self.ctx.runner.read(self.gt.count)
            empty = bool(rows) and int(rows[0].get("n", 1)) == 0
            if not empty:
                self._fill_uids()
            else:
                # an empty label/type: its secondary indexes are built once, after the table
                # (populating an index from the store beats updating it row by row)
                self._deferred = secondary_indexes(self.gt.target)
                drop_indexes(self.ctx.runner, self._deferred)
            self._query = self.gt.create if empty else self.gt.load
        return self._query

    def _build_deferred_indexes(self) -> None:
        deferred, self._deferred = self._deferred, ()
        create_indexes(self.ctx.runner, deferred)

    def _fill_uids(self) -> None:
        """Before the first ``MERGE`` or closing: links without ``uid`` would not be found."""
        if not self._uids_filled and self.gt.uid_fill is not None:
            fill_uids(self.ctx.runner, self.spec)
            self._uids_filled = True

    def _write(self, query: LiteralString, params: Mapping[str, Any]) -> WriteCounters:
        c = self.ctx.runner.write(query, {**self.ctx.params, **params})
        with self._lock:
            self.report.properties_set += c.properties_set
        return c

    def _ensure(self, query: LiteralString, ids: set[str], kind: str) -> int:
        """``MERGE`` the ids of ``kind`` not yet known in this run; return how many were created."""
        known = self.ctx.known_ids(kind)
        new = sorted(ids - known)
        created = 0
        for part in _slices(new, self.ctx.batch_size):
            created += self._write(query, {"ids": list(part)}).nodes_created
            known.update(part)
        return created

    def _ensure_endpoints(self, rows: Sequence[Mapping[str, Any]]) -> None:
        g = self.spec.graph
        sides: tuple[tuple[str, Endpoint], ...] = (
            (("a", g.start), ("b", g.end)) if isinstance(g, RelMap) else (("a", g.parent),))
        for side, ep in sides:
            if ep.kind == "loan":
                continue
            if ep.kind == "platform":
                self._ensure(ensure_query("platform"), {r[side] for r in rows if r[side] is not None},
                             "platform")
            elif ep.kind == "firm":
                self.report.externals += self._ensure(
                    ensure_query("firm"), {r[side] for r in rows if r[side] is not None}, "firm"
                )
            elif ep.kind == "person":
                self._ensure(ensure_query("person"), {r[side] for r in rows if r[side] is not None}, "person")
            else:  # party: a Firm or a Person, by the row's type
                firms = {r[side] for r in rows if r[side] is not None and r["t"] != "person"}
                persons = {r[side] for r in rows if r[side] is not None and r["t"] == "person"}
                self.report.externals += self._ensure(ensure_query("firm"), firms, "firm")
                self._ensure(ensure_query("person"), persons, "person")

    def load_chunk(self, good: pd.DataFrame) -> None:
        """Write the good rows of one validated chunk (all of its batches).

        Without ``pipeline`` the rows are written before this returns; with it, this
        waits for the previous chunk's writes (re-raising their error), then hands this
        chunk to the writer thread and returns.
        """
        if good.empty:
            return
        rows = prepare_rows(good, self.spec, source=self.ctx.source)
        if self.close_enabled:
            self._seen.append(key_hashes([[r["u"] for r in rows]]))
        if self._pool is None:
            self._write_rows(rows)
            return
        self._wait()
        self._pending = self._pool.submit(self._write_rows, rows)

    def _wait(self) -> None:
        """Wait for the chunk in flight, if any; re-raise its error."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def abort(self) -> None:
        """Stop after the chunk in flight (its error, if any, is dropped: the caller's matters more)."""
        try:
            self._wait()
        except Exception:  # the caller is already raising its own error
            pass
        finally:
            self._shutdown()
        # the server may be what failed; the next run's schema check rebuilds them then
        with contextlib.suppress(Exception):
            self._build_deferred_indexes()

    def _shutdown(self) -> None:
        for pool in (self._pool, self._writers):
            if pool is not None:
                pool.shutdown(wait=True)
        self._pool = self._writers = None

    def _write_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Endpoints first (one pass over the chunk), then the batches, ``ctx.writers`` at a time.

        Why concurrent batches: on a small server the commit of one batch (log force,
        index updates) leaves a core idle that the next batch can use; two writers
        measured 1.4x one on 2 cores. Deadlocks between batches touching the same hub
        firms are transient errors that the runner retries; duplicate keys cannot race
        because validation dropped them. Counts are summed under a lock.
        """
        query = self._load_query()
        self._ensure_endpoints(rows)
        batches = list(_slices(rows, self.ctx.batch_size))
        if self.ctx.writers > 1 and len(batches) > 1:
            if self._writers is None:
                self._writers = ThreadPoolExecutor(self.ctx.writers, thread_name_prefix=f"write-{self.table}")
            futures = [self._writers.submit(self._write_batch, query, b) for b in batches]
            errors = [f.exception() for f in futures]  # waits for every batch before raising
            first = next((e for e in errors if e is not None), None)
            if first is not None:
                raise first
        else:
            for batch in batches:
                self._write_batch(query, batch)
        g = self.spec.graph
        if isinstance(g, NodeMap) and (g.label, g.id_property) == ENDPOINT_NODES["firm"]:
            # the firms themselves: later tables need not MERGE them as endpoints
            self.ctx.known_ids("firm").update(r["k"] for r in rows)

    def _write_batch(self, query: LiteralString, batch: Sequence[dict[str, Any]]) -> None:
        c = self._write(query, {"rows": list(batch)})
        written = int(c.returned[0]["written"]) if c.returned else 0
        created = int(getattr(c, self.gt.created_counter))
        with self._lock:
            self.report.created += created
            self.report.updated += written - created
            self.report.unchanged += len(batch) - written
        if self.on_rows is not None:
            self.on_rows(len(batch))

    def disable_closing(self, why: str) -> None:
        """Do not close links of this table at :meth:`finish` (and say why in the report)."""
        if self.close_enabled:
            self.report.warnings.append(f"links not closed: {why}")
        self.close_enabled = False

    def finish(self) -> None:
        """Wait for the writes in flight; in ``full`` mode, close open links the dataset dropped."""
        try:
            self._wait()
        finally:
            self._shutdown()
        self._build_deferred_indexes()
        if not self.close_enabled or self.gt.close_read is None or self.gt.close is None:
            return
        if self.first_load:
            # the type held nothing before this table: every link in it is one the dataset holds
            self._seen = []
            return
        seen = np.unique(np.concatenate(self._seen)) if self._seen else np.empty(0, dtype=np.uint64)
        self._seen = []
        self._fill_uids()
        to_close = _missing_links(self.ctx.runner, self.gt.close_read, {"source": self.ctx.source}, seen)
        for part in _slices(to_close, self.ctx.batch_size):
            c = self._write(self.gt.close, {"ids": list(part), "as_of": self.ctx.as_of})
            self.report.closed += int(c.returned[0]["closed"]) if c.returned else 0


def _missing_links(
    runner: QueryRunner,
    query: LiteralString,
    params: Mapping[str, Any],
    seen: np.ndarray,
    *,
    chunk: int = 50_000,
) -> list[str]:
    """Element ids of links ``query`` streams whose ``uid`` hash is not in ``seen``.

    The records are streamed and hashed ``chunk`` at a time, so memory holds the
    hashes and the (usually few) ids to close, never all open links at once.
    """
    out: list[str] = []
    for frame in runner.read_chunks(query, params, chunk_size=chunk):
        h = key_hashes([[str(u) for u in frame["u"].tolist()]])
        gone = ~np.isin(h, seen, assume_unique=False)
        out.extend(frame["id"].to_numpy()[gone].tolist())
    return out
