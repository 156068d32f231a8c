"""A fake :class:`graph.protocol.QueryRunner` for the ingest logic, answering by operation.

Every query the ingest code sends is one the code generated or declared: a table's
load, create, count, close_read, close or uid_fill (``ingest.cypher.table_cypher``), an
endpoint ``MERGE`` (``ingest.cypher.ensure_query``), or the schema marker's uid
bookkeeping and the index statements a first load uses (``graph.schema``).
The fake looks the exact text up in that catalogue
to know which operation it is asked for, and answers from its own small state; a
query outside the catalogue fails the test. Nothing matches on fragments of text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Literal, LiteralString

import pandas as pd

from chainrisk.settings import Settings
from graph.protocol import QueryRunner, WriteCounters
from graph.schema import AWAIT_INDEXES, INDEXES, MARK_UIDS_COMPLETE, UIDS_COMPLETE, drop_index_query
from ingest.cypher import ensure_query, table_cypher
from ingest.tables import TABLES, TableSpec

__all__ = ["FakeGraph", "operations"]


def operations(specs: Iterable[TableSpec] = TABLES.values()) -> dict[str, tuple[str, str]]:
    """Query text -> (operation, table or endpoint kind) for every query ingest may send."""
    ops: dict[str, tuple[str, str]] = {}
    for spec in specs:
        q = table_cypher(spec)
        for op in ("load", "create", "count", "close_read", "close", "uid_fill"):
            text = getattr(q, op)
            if text is not None:
                ops[text] = (op, spec.name)
    kinds: tuple[Literal["firm", "person", "platform"], ...] = ("firm", "person", "platform")
    for kind in kinds:
        ops[ensure_query(kind)] = ("ensure", kind)
    ops[UIDS_COMPLETE] = ("uids_complete", "")
    ops[MARK_UIDS_COMPLETE] = ("mark_uids_complete", "")
    for name, statement in INDEXES:
        ops[statement] = ("create_index", name)
        ops[drop_index_query(name)] = ("drop_index", name)
    ops[AWAIT_INDEXES] = ("await_indexes", "")
    return ops


class FakeGraph:
    """Records each operation; a load "writes" the rows whose key is in ``changed`` and creates ``new`` ones.

    Parameters
    ----------
    new, changed : set of str
        Identity keys (``row.k``) the load query creates, or updates.
    open_links : list of dict
        What ``close_read`` streams: ``{"id": element id, "u": uid}``.
    empty : bool
        What ``count`` answers: the label or type holds nothing (a first load).
    externals : set of str
        Firm ids an endpoint ``MERGE`` creates (counterparties not yet in the graph).
    uid_gaps : int
        Links still without ``uid``: each ``uid_fill`` fills up to ``$limit`` of them.
    """

    def __init__(self, *, new: Iterable[str] = (), changed: Iterable[str] = (),
                 open_links: list[dict[str, Any]] | None = None, empty: bool = False,
                 externals: Iterable[str] = (), uid_gaps: int = 0):
        self.settings = Settings()
        self.database = "neo4j"
        self.new, self.changed, self.externals = set(new), set(changed), set(externals)
        self.open_links = open_links or []
        self.empty = empty
        self.uid_gaps = uid_gaps
        self.complete: set[str] = set()
        self.ops = operations()
        #: (operation, table or kind, parameters) of every call, in order.
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        #: Called with (operation, table, parameters) before each answer: a test may raise from it.
        self.hook: Callable[[str, str, dict[str, Any]], None] | None = None

    def _op(self, query: str, params: Mapping[str, Any] | None) -> tuple[str, str, dict[str, Any]]:
        if query not in self.ops:
            raise AssertionError(f"a query outside the generated catalogue: {query[:120]!r}")
        op, table = self.ops[query]
        p = dict(params or {})
        self.calls.append((op, table, p))
        if self.hook is not None:
            self.hook(op, table, p)
        return op, table, p

    def operations_called(self, op: str) -> list[tuple[str, dict[str, Any]]]:
        """(table, parameters) of each call of ``op``."""
        return [(t, p) for o, t, p in self.calls if o == op]

    # ------------------------------------------------------------------ protocol
    def read(self, query: LiteralString, params: Mapping[str, Any] | None = None, *,
             timeout: float | None = None, database: str | None = None) -> list[dict[str, Any]]:
        op, _, p = self._op(query, params)
        if op == "count":
            return [{"n": 0 if self.empty else 1}]
        if op == "uids_complete":
            return [{"done": p["type"] in self.complete}]
        if op == "await_indexes":
            return []
        raise AssertionError(f"{op} is not a read")

    def read_frame(self, query: LiteralString, params: Mapping[str, Any] | None = None, *,
                   timeout: float | None = None) -> pd.DataFrame:
        raise AssertionError("the loader reads no frames")

    def read_chunks(self, query: LiteralString, params: Mapping[str, Any] | None = None, *,
                    chunk_size: int = 50_000, timeout: float | None = None) -> Iterator[pd.DataFrame]:
        op, _, _ = self._op(query, params)
        assert op == "close_read", op
        links = self.open_links
        for i in range(0, len(links), chunk_size):
            yield pd.DataFrame(links[i : i + chunk_size], columns=["id", "u"])

    def write(self, query: LiteralString, params: Mapping[str, Any] | None = None, *,
              timeout: float | None = None, database: str | None = None) -> WriteCounters:
        op, table, p = self._op(query, params)
        if op == "ensure":
            created = sum(1 for i in p["ids"] if i in self.externals) if table == "firm" else 0
            return WriteCounters(nodes_created=created)
        if op in ("load", "create"):
            rows = p["rows"]
            created = sum(r["k"] in self.new for r in rows) if op == "load" else len(rows)
            written = sum(r["k"] in self.new | self.changed for r in rows) if op == "load" else len(rows)
            rel = TABLES[table].is_relationship
            return WriteCounters(relationships_created=created if rel else 0,
                                 nodes_created=0 if rel else created, properties_set=written,
                                 returned=[{"written": written}])
        if op == "close":
            return WriteCounters(properties_set=len(p["ids"]), returned=[{"closed": len(p["ids"])}])
        if op == "uid_fill":
            n = min(self.uid_gaps, p["limit"])
            self.uid_gaps -= n
            return WriteCounters(returned=[{"n": n}])
        if op == "mark_uids_complete":
            self.complete.add(p["type"])
            return WriteCounters()
        if op in ("create_index", "drop_index"):
            return WriteCounters()
        raise AssertionError(f"{op} is not a write")

    def write_batches(self, query: LiteralString, rows: Iterable[Mapping[str, Any]], *,
                      batch_size: int | None = None, params: Mapping[str, Any] | None = None,
                      timeout: float | None = None, on_batch: Callable[[int], None] | None = None
                      ) -> WriteCounters:
        raise AssertionError("the loader does not use write_batches")


def _is_a_query_runner(fake: FakeGraph) -> QueryRunner:
    # mypy checks that the fake implements the protocol, with no ignore here
    return fake
