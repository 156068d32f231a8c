"""The narrow seam between chainrisk and the Neo4j driver.

This module is the only one in chainrisk that imports the ``neo4j`` driver.
Queries are ``LiteralString`` so that a type checker rejects Cypher assembled at
run time; values travel only as parameters; every query carries a timeout and
metadata; driver errors become :mod:`chainrisk.errors` here, once.

Example::

    from graph.runner import GraphRunner
    with GraphRunner.from_settings() as g:
        g.read("MATCH (f:Firm {uscc: $u}) RETURN f.name AS name", {"u": "91350100M000100Y43"})
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any, LiteralString, TypeVar, cast

import neo4j
from neo4j import exceptions as neo4j_exc

from chainrisk.errors import (
    AuthenticationFailed,
    GraphError,
    QueryFailed,
    ServerUnavailable,
    TransientGraphError,
)
from chainrisk.settings import Settings, get_settings
from graph.protocol import AnalystRunner, QueryPlan, QueryRunner, TextResult, WriteCounters

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["GraphRunner", "QueryRunner", "WriteCounters", "translate_driver_error"]

T = TypeVar("T")

_START_HINT = "start the local server with `chainrisk db start`, or set NEO4J_URI"


def translate_driver_error(exc: Exception, *, uri: str = "") -> GraphError:
    """Map a driver exception onto the chainrisk error tree (the one boundary)."""
    if isinstance(exc, GraphError):
        return exc
    if isinstance(exc, neo4j_exc.AuthError):
        return AuthenticationFailed(
            f"Neo4j at {uri or 'the configured URI'} refused the user name or password "
            "(check NEO4J_USERNAME / NEO4J_PASSWORD)"
        )
    if isinstance(exc, neo4j_exc.ServiceUnavailable | neo4j_exc.SessionExpired | ConnectionError | OSError):
        return ServerUnavailable(f"no Neo4j server answers at {uri or 'the configured URI'}: {_START_HINT}")
    if isinstance(exc, neo4j_exc.TransientError):
        return TransientGraphError(f"Neo4j kept reporting a transient error: {exc.message or exc}")
    if isinstance(exc, neo4j_exc.Neo4jError):
        return QueryFailed(f"Neo4j rejected the query: {exc.message or exc}", code=exc.code)
    if isinstance(exc, neo4j_exc.DriverError):
        return GraphError(f"Neo4j driver error: {exc}")
    return GraphError(str(exc))


def _chunks(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


class GraphRunner:
    """Run reads, writes and batched writes against one database, with retries and timeouts.

    It implements :class:`graph.protocol.QueryRunner`, which is all that code outside
    ``graph/`` may use. Managed transactions retry transient errors (deadlocks, leader
    switches) for up to ``settings.max_retry_time_s`` seconds. ``execute_read`` and
    ``execute_write`` hand a driver transaction to a work function: they are for
    ``graph/`` itself and its tests, and not part of the protocol.
    """

    def __init__(self, driver: neo4j.Driver, *, settings: Settings):
        self._driver = driver
        self.settings = settings
        self.database = settings.neo4j_database

    # ---------------------------------------------------------------- lifecycle
    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, verify: bool = True) -> GraphRunner:
        """Open a driver from settings; with ``verify`` check now that the server answers."""
        s = settings or get_settings()
        try:
            driver = neo4j.GraphDatabase.driver(
                s.neo4j_uri,
                auth=(s.neo4j_username, s.neo4j_password.get_secret_value()),
                max_transaction_retry_time=s.max_retry_time_s,
                connection_acquisition_timeout=30.0,
                user_agent="chainrisk",
                notifications_min_severity="OFF",
            )
        except (neo4j_exc.Neo4jError, neo4j_exc.DriverError, ValueError) as exc:
            raise translate_driver_error(exc, uri=s.neo4j_uri) from exc
        runner = cls(driver, settings=s)
        if verify:
            try:
                driver.verify_connectivity()
                driver.verify_authentication()
            except Exception as exc:
                driver.close()
                raise translate_driver_error(exc, uri=s.neo4j_uri) from exc
        return runner

    def close(self) -> None:
        self._driver.close()

    def __enter__(self) -> GraphRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------- queries
    def _unit(self, timeout: float | None, **meta: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Timeout and metadata for a managed transaction (the driver's ``unit_of_work``)."""
        return neo4j.unit_of_work(
            timeout=timeout if timeout is not None else self.settings.query_timeout_s,
            metadata={"app": "chainrisk", **meta},
        )

    def _session(self, database: str | None = None) -> neo4j.Session:
        return self._driver.session(database=database or self.database)

    def execute_read(
        self, work: Callable[[neo4j.ManagedTransaction], T], *, database: str | None = None
    ) -> T:
        """Run ``work(tx)`` in a managed read transaction (retried on transient errors)."""
        try:
            with self._session(database) as session:
                return session.execute_read(work)
        except Exception as exc:
            raise translate_driver_error(exc, uri=self.settings.neo4j_uri) from exc

    def execute_write(
        self, work: Callable[[neo4j.ManagedTransaction], T], *, database: str | None = None
    ) -> T:
        """Run ``work(tx)`` in a managed write transaction (retried on transient errors)."""
        try:
            with self._session(database) as session:
                return session.execute_write(work)
        except Exception as exc:
            raise translate_driver_error(exc, uri=self.settings.neo4j_uri) from exc

    def read(
        self,
        query: LiteralString,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        database: str | None = None,
    ) -> list[dict[str, Any]]:
        """Run ``query`` in a read transaction and return its records as dicts.

        The server refuses writes inside a read transaction, which is what makes
        analysts' ad-hoc Cypher safe to run here.
        """
        @self._unit(timeout, kind="read")
        def work(tx: neo4j.ManagedTransaction) -> list[dict[str, Any]]:
            return [r.data() for r in tx.run(query, dict(params or {}))]

        return self.execute_read(work, database=database)

    def read_frame(
        self, query: LiteralString, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> pd.DataFrame:
        """Run ``query`` in a read transaction; a frame with one column per returned key.

        Records become tuples, never dicts, so a million-row read stays cheap. Retried
        whole on transient errors (a managed transaction).
        """
        import pandas as pd

        @self._unit(timeout, kind="read_frame")
        def work(tx: neo4j.ManagedTransaction) -> pd.DataFrame:
            result = tx.run(query, dict(params or {}))
            keys = list(result.keys())
            rows = [tuple(rec.values()) for rec in result]
            return pd.DataFrame.from_records(rows, columns=keys)

        frame: pd.DataFrame = self.execute_read(work)
        return frame

    def read_chunks(
        self,
        query: LiteralString,
        params: Mapping[str, Any] | None = None,
        *,
        chunk_size: int = 50_000,
        timeout: float | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Stream ``query``'s records in frames of at most ``chunk_size`` rows (one explicit
        read transaction, not retried: earlier chunks have been consumed by then)."""
        import pandas as pd

        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        try:
            read_session = self._driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS)
            with read_session as session:
                tx = session.begin_transaction(
                    timeout=timeout if timeout is not None else self.settings.query_timeout_s,
                    metadata={"app": "chainrisk", "kind": "read_chunks"},
                )
                try:
                    result = tx.run(query, dict(params or {}))
                    keys = list(result.keys())
                    buf: list[tuple[Any, ...]] = []
                    for rec in result:
                        buf.append(tuple(rec.values()))
                        if len(buf) >= chunk_size:
                            yield pd.DataFrame.from_records(buf, columns=keys)
                            buf = []
                    if buf:
                        yield pd.DataFrame.from_records(buf, columns=keys)
                finally:
                    tx.close()  # a read: nothing to commit
        except GeneratorExit:
            raise
        except Exception as exc:
            raise translate_driver_error(exc, uri=self.settings.neo4j_uri) from exc

    def write(
        self,
        query: LiteralString,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        database: str | None = None,
    ) -> WriteCounters:
        """Run ``query`` in one write transaction; return what it changed and returned."""
        counters = WriteCounters()

        @self._unit(timeout, kind="write")
        def work(tx: neo4j.ManagedTransaction) -> None:
            result = tx.run(query, dict(params or {}))
            records = [r.data() for r in result]
            counters.returned = records
            counters.add(result.consume().counters, rows=1)

        self.execute_write(work, database=database)
        return counters

    def write_batches(
        self,
        query: LiteralString,
        rows: Iterable[Mapping[str, Any]],
        *,
        batch_size: int | None = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> WriteCounters:
        """Run ``query`` once per batch of ``rows`` (bound to ``$rows``), one transaction a batch.

        ``query`` is expected to start with ``UNWIND $rows AS row``. Each batch is retried on
        its own on transient errors; ``on_batch(n_rows)`` is called after each, for progress.
        """
        size = batch_size or self.settings.batch_size
        total = WriteCounters()
        extra = dict(params or {})
        unit = self._unit(timeout, kind="batch")
        for chunk in _chunks(rows, size):

            def work(tx: neo4j.ManagedTransaction, chunk: list[Mapping[str, Any]] = chunk) -> Any:
                result = tx.run(query, {**extra, "rows": chunk})
                return result.consume().counters

            total.add(self.execute_write(unit(work)), rows=len(chunk))
            if on_batch is not None:
                on_batch(len(chunk))
        return total

    # ------------------------------------------------------------- analysts' text
    def explain_text(self, query: str, params: Mapping[str, Any] | None = None) -> QueryPlan:
        """``EXPLAIN`` a person's query in a read transaction: its type and every plan operator.

        Only ``queries.adhoc`` calls this (see :class:`graph.protocol.AnalystRunner`).
        """

        @self._unit(self.settings.query_timeout_s, kind="explain")
        def work(tx: neo4j.ManagedTransaction) -> QueryPlan:
            # the text is vetted by queries.adhoc, and EXPLAIN runs nothing
            summary = tx.run(cast(LiteralString, "EXPLAIN " + query), dict(params or {})).consume()
            ops: list[tuple[str, str]] = []
            stack = [summary.plan] if summary.plan else []
            while stack:
                node = stack.pop()
                name = str(node.get("operatorType", "")).split("@")[0]
                ops.append((name, str(node.get("args", {}).get("Details") or "")))
                stack.extend(reversed(node.get("children", [])))
            return QueryPlan(query_type=str(summary.query_type or ""), operators=tuple(ops))

        return self.execute_read(work)

    def read_text(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float,
        max_rows: int,
        metadata: Mapping[str, Any] | None = None,
    ) -> TextResult:
        """Run a person's vetted query in a read transaction; read at most ``max_rows`` rows.

        The server refuses any write in a read transaction, aborts it at ``timeout`` and at the
        per-transaction memory cap; rows past the cap are never read.
        """

        meta = {"app": "chainrisk", "kind": "analyst", **(metadata or {})}

        @neo4j.unit_of_work(timeout=timeout, metadata=meta)
        def work(tx: neo4j.ManagedTransaction) -> TextResult:
            result = tx.run(cast(LiteralString, query), dict(params or {}))
            keys = list(result.keys())
            rows: list[list[Any]] = []
            for rec in result:
                if len(rows) == max_rows:
                    return TextResult(columns=keys, rows=rows, truncated=True)
                # data(): nodes and relationships become dicts of their properties, no driver objects
                rows.append(list(rec.data().values()))
            return TextResult(columns=keys, rows=rows, truncated=False)

        return self.execute_read(work)

    def server_info(self) -> dict[str, Any]:
        """Neo4j's name, version and edition (``dbms.components``)."""
        rows = self.read(
            "CALL dbms.components() YIELD name, versions, edition "
            "RETURN name, versions[0] AS version, edition",
            database="system",
        )
        return rows[0] if rows else {}

    def wait_until_available(self, timeout_s: float = 60.0) -> None:
        """Block until the server answers, or raise :class:`ServerUnavailable`."""
        deadline = time.monotonic() + timeout_s
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                self._driver.verify_connectivity()
                return
            except Exception as exc:  # the server is still starting: try again
                last = exc
                time.sleep(0.5)
        raise translate_driver_error(last or TimeoutError(), uri=self.settings.neo4j_uri)


def _implements_protocol(runner: GraphRunner) -> QueryRunner:
    # mypy checks here, once, that GraphRunner is a QueryRunner
    return runner


def _implements_analyst_protocol(runner: GraphRunner) -> AnalystRunner:
    return runner
