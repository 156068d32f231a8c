"""Load validated table chunks into Neo4j with ``MERGE``, counting what changed.

:class:`TableLoader` takes one table's validated chunks one at a time (so memory
stays bounded by the chunk size, whatever the file size), turns each into
driver-ready rows (:func:`prepare_rows`), creates missing counterparties first
(external firms, persons, platforms: their ``nodes_created`` counter is the
report's *externals*), then runs the table's literal query from
:mod:`ingest.cypher_load` in batches of ``batch_size`` rows, one transaction each.
Before its first write it asks whether the table's label or relationship type is
empty (``GraphTable.count_query``, O(1)); if so this is a first load and the
``CREATE`` variant (``GraphTable.create_query``) replaces ``MERGE`` for the whole
table (why that is safe: :mod:`ingest.cypher_load`).
With ``pipeline=True`` the writes of a chunk run in one background thread while
the caller validates and prepares the next chunk (the server works on the other
core); at most one chunk is in flight, so memory stays bounded by two chunks.
In ``full`` mode it remembers a 64-bit hash of each link ``uid`` it saw and, at
the end, closes the open links of this source that the dataset no longer holds.
Before a relationship table's first ``MERGE`` (or closing), links written before
schema version 2 get their ``uid`` (:func:`fill_uids`).

The report types (:class:`TableReport`, :class:`IngestReport`) live here too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, LiteralString

import numpy as np
import pandas as pd

from graph.runner import GraphRunner, WriteCounters
from graph.schema import create_indexes, drop_indexes, secondary_indexes
from ingest.cypher_load import (
    ENSURE_FIRMS,
    ENSURE_PERSONS,
    ENSURE_PLATFORMS,
    GRAPH_TABLES,
    Endpoint,
    GraphTable,
)
from ingest.row_hash import date_strings, key_hashes, native_column, row_hashes
from ingest.tables import TABLES

__all__ = [
    "IngestReport",
    "LoadContext",
    "TableLoader",
    "TableReport",
    "fill_uids",
    "key_strings",
    "prepare_rows",
    "uid_strings",
]


# ------------------------------------------------------------------- reports
@dataclass
class TableReport:
    """What ingest did to one table.

    ``created`` is what the issue calls *loaded*: facts new to the graph.
    ``externals`` counts counterparties created as ``Firm {external: true}``.
    ``closed`` counts links a ``full`` load ended because the dataset dropped them.
    """

    table: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    externals: int = 0
    closed: int = 0
    #: Properties the table's writes set (0 when nothing changed).
    properties_set: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        """Rows that passed validation (created + updated + unchanged)."""
        return self.created + self.updated + self.unchanged


@dataclass
class IngestReport:
    """The outcome of one ingest: per-table counts plus the run's identity."""

    dataset: str
    source: str
    as_of: date
    mode: str
    run_id: str | None
    dry_run: bool = False
    bulk: bool = False
    quarantine_dir: str = ""
    tables: dict[str, TableReport] = field(default_factory=dict)
    seconds: float = 0.0

    def _sum(self, name: str) -> int:
        return int(sum(getattr(t, name) for t in self.tables.values()))

    @property
    def quarantined(self) -> int:
        """Rows quarantined over all tables."""
        return self._sum("quarantined")

    @property
    def changes(self) -> int:
        """Facts created, updated or closed, plus externals created (0: the graph did not change)."""
        return sum(self._sum(n) for n in ("created", "updated", "closed", "externals"))

    @property
    def properties_set(self) -> int:
        return self._sum("properties_set")

    def totals(self) -> dict[str, int]:
        """Sums over tables of each count."""
        names = ("read", "created", "updated", "unchanged", "quarantined", "externals", "closed")
        return {n: self._sum(n) for n in names}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (stored as the ingest run's summary)."""
        return {
            "dataset": self.dataset,
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "mode": self.mode,
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "bulk": self.bulk,
            "seconds": round(self.seconds, 3),
            "totals": self.totals(),
            "tables": {k: {**asdict(v), "seconds": round(v.seconds, 3)} for k, v in self.tables.items()},
        }


# ------------------------------------------------------------------ row shapes
def key_strings(df: pd.DataFrame, table: str, columns: Sequence[str]) -> list[str]:
    """``|``-joined identity keys: dates ``YYYY-MM-DD``, months ``YYYY-MM``, missing ``""``.

    >>> df = pd.DataFrame({"loan_id": ["L1"], "month": pd.to_datetime(["2024-06-01"])})
    >>> key_strings(df, "loan_status", ("loan_id", "month"))
    ['L1|2024-06']
    """
    spec = TABLES[table]
    parts: list[list[str]] = []
    for c in columns:
        kind = spec.column(c).kind
        s = df[c] if c in df.columns else pd.Series([None] * len(df), index=df.index)
        if kind in ("date", "month"):
            texts = [t or "" for t in date_strings(s, na="")]
            parts.append([t[:7] for t in texts] if kind == "month" else texts)
        else:
            parts.append(["" if v is None else str(v) for v in native_column(s)])
    if len(parts) == 1:
        return parts[0]
    return ["|".join(p) for p in zip(*parts, strict=True)]


def _ids(df: pd.DataFrame, ep: Endpoint | None) -> list[Any]:
    if ep is None or ep.column not in df.columns:
        return [None] * len(df)
    return native_column(df[ep.column])


def uid_strings(a: Sequence[Any], b: Sequence[Any], keys: Sequence[str]) -> list[str]:
    """Relationship ``uid``\\ s ``"<start id>|<end id>|<key>"`` (see :mod:`ingest.cypher_load`).

    >>> uid_strings(["A", "P1"], ["B", "B"], ["2023-01-01", "L1|2023-02-01"])
    ['A|B|2023-01-01', 'P1|B|L1|2023-02-01']
    """
    if not len(keys):
        return []
    sep = np.array("|", dtype=object)
    parts = (np.asarray(a, dtype=object).astype(str), np.asarray(b, dtype=object).astype(str),
             np.asarray(keys, dtype=object))
    out = parts[0] + sep + parts[1] + sep + parts[2]
    return [str(u) for u in out.tolist()]


def prepare_rows(df: pd.DataFrame, table: str, *, source: str) -> list[dict[str, Any]]:
    """Driver-ready flat rows for one chunk of ``table`` (shape: :mod:`ingest.cypher_load`).

    Each row holds ``k`` (identity key), ``h`` (row hash), ``a`` (start id), ``b`` (end id,
    tables with an end node), ``t`` (start node type, tables whose start is a Firm or a
    Person), ``u`` (relationship tables: the ``uid``) and one entry per stored column.

    >>> df = pd.DataFrame({"supplier_uscc": ["A"], "buyer_uscc": ["B"], "annual_value": [2.0],
    ...                    "start": pd.to_datetime(["2023-01-01"]), "end": pd.to_datetime([None])})
    >>> r = prepare_rows(df, "supply", source="p1")[0]
    >>> r["k"], r["u"], r["a"], r["b"], r["annual_value"], r["end"]
    ('2023-01-01', 'A|B|2023-01-01', 'A', 'B', 2.0, None)
    """
    gt = GRAPH_TABLES[table]
    n = len(df)
    names: list[str] = ["k", "h", "a"]
    cols: list[Sequence[Any]] = [
        key_strings(df, table, gt.key),
        row_hashes(df, TABLES[table].column_names, source=source),
        _ids(df, gt.start),
    ]
    if gt.end is not None:
        names.append("b")
        cols.append(_ids(df, gt.end))
    if gt.start is not None and gt.start.type_column:
        names.append("t")
        tc = gt.start.type_column
        cols.append(native_column(df[tc]) if tc in df.columns else [None] * n)
    if gt.is_relationship:
        names.append("u")
        cols.append(uid_strings(cols[2], cols[3], cols[0]))
    for c in gt.props:
        names.append(c)
        cols.append(native_column(df[c]) if c in df.columns else [None] * n)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*cols, strict=True)]


# -------------------------------------------------------------------- loading
def fill_uids(runner: GraphRunner, table: str, *, limit: int = 50_000) -> int:
    """Give the links of ``table`` written before schema version 2 their ``uid``; return how many.

    A load finds a link by ``uid`` only, so a link without one would be created
    again. This fills ``limit`` links a transaction until none lacks one, then
    records the type in the schema marker (``uids_complete``): every writer since
    schema 2 sets ``uid``, so later loads skip the scan (1.7 s at 1.2M links).
    """
    gt = GRAPH_TABLES[table]
    if gt.uid_fill is None:
        return 0
    done = runner.read(_UIDS_COMPLETE, {"type": gt.target})
    if done and done[0].get("done") is True:
        return 0
    filled = 0
    while True:
        c = runner.write(gt.uid_fill, {"limit": limit})
        n = int(c.returned[0]["n"]) if c.returned else 0
        filled += n
        if n < limit:
            runner.write(_MARK_UIDS_COMPLETE, {"type": gt.target})
            return filled


_UIDS_COMPLETE: LiteralString = (
    "OPTIONAL MATCH (m:ChainriskMeta {key: 'schema'}) "
    "RETURN $type IN coalesce(m.uids_complete, []) AS done"
)
_MARK_UIDS_COMPLETE: LiteralString = (
    "MATCH (m:ChainriskMeta {key: 'schema'}) "
    "WITH m, coalesce(m.uids_complete, []) AS have "
    "SET m.uids_complete = CASE WHEN $type IN have THEN have ELSE have + $type END"
)


@dataclass
class LoadContext:
    """Run-level values every query of one ingest shares."""

    runner: GraphRunner
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
    table : str
        A key of :data:`ingest.cypher_load.GRAPH_TABLES`.
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
        table: str,
        report: TableReport,
        *,
        on_rows: Callable[[int], None] | None = None,
        pipeline: bool = False,
    ):
        self.ctx = ctx
        self.table = table
        self.gt: GraphTable = GRAPH_TABLES[table]
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
        return self._query is not None and self._query is self.gt.create_query

    def _load_query(self) -> LiteralString:
        if self._query is None:
            rows = self.ctx.runner.read(self.gt.count_query)
            empty = bool(rows) and int(rows[0].get("n", 1)) == 0
            if not empty:
                self._fill_uids()
            else:
                # an empty label/type: its secondary indexes are built once, after the table
                # (populating an index from the store beats updating it row by row)
                self._deferred = secondary_indexes(self.gt.target)
                drop_indexes(self.ctx.runner, self._deferred)
            self._query = self.gt.create_query if empty else self.gt.query
        return self._query

    def _build_deferred_indexes(self) -> None:
        deferred, self._deferred = self._deferred, ()
        create_indexes(self.ctx.runner, deferred)

    def _fill_uids(self) -> None:
        """Before the first ``MERGE`` or closing: links without ``uid`` would not be found."""
        if not self._uids_filled and self.gt.uid_fill is not None:
            fill_uids(self.ctx.runner, self.table)
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
        for side, ep in (("a", self.gt.start), ("b", self.gt.end)):
            if ep is None or ep.kind == "loan":
                continue
            if ep.kind == "platform":
                self._ensure(ENSURE_PLATFORMS, {r[side] for r in rows if r[side] is not None}, "platform")
            elif ep.kind == "firm" and self.table != "firms":
                self.report.externals += self._ensure(
                    ENSURE_FIRMS, {r[side] for r in rows if r[side] is not None}, "firm"
                )
            elif ep.kind == "party":
                firms = {r[side] for r in rows if r[side] is not None and r["t"] != "person"}
                persons = {r[side] for r in rows if r[side] is not None and r["t"] == "person"}
                self.report.externals += self._ensure(ENSURE_FIRMS, firms, "firm")
                self._ensure(ENSURE_PERSONS, persons, "person")

    def load_chunk(self, good: pd.DataFrame) -> None:
        """Write the good rows of one validated chunk (all of its batches).

        Without ``pipeline`` the rows are written before this returns; with it, this
        waits for the previous chunk's writes (re-raising their error), then hands this
        chunk to the writer thread and returns.
        """
        if good.empty:
            return
        rows = prepare_rows(good, self.table, source=self.ctx.source)
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
        if self.table == "firms":
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
    runner: GraphRunner,
    query: LiteralString,
    params: Mapping[str, Any],
    seen: np.ndarray,
    *,
    chunk: int = 50_000,
) -> list[str]:
    """Element ids of links ``query`` streams whose ``uid`` hash is not in sorted ``seen``.

    The records are streamed and hashed ``chunk`` at a time, so memory holds the
    hashes and the (usually few) ids to close, never all open links at once.
    """

    def work(tx: Any) -> list[str]:
        out: list[str] = []
        buf: list[tuple[str, str]] = []

        def flush() -> None:
            if not buf:
                return
            ids, uids = zip(*buf, strict=True)
            h = key_hashes([[str(u) for u in uids]])
            gone = ~np.isin(h, seen, assume_unique=False)
            out.extend(i for i, g in zip(ids, gone.tolist(), strict=True) if g)
            buf.clear()

        for rec in tx.run(query, dict(params)):
            buf.append((rec["id"], rec["u"]))
            if len(buf) >= chunk:
                flush()
        flush()
        return out

    return runner.execute_read(work)

