"""What the rest of chainrisk may ask of the database: the :class:`QueryRunner` protocol.

Every caller outside ``graph/`` types its database argument as :class:`QueryRunner`,
never as the driver-backed :class:`graph.runner.GraphRunner`. The protocol hands out
no driver objects (no sessions, transactions or records): queries are
``LiteralString``, values travel as parameters, and answers come back as plain
Python (dicts, :class:`WriteCounters`, pandas frames). A test fake implements these
few methods and is a ``QueryRunner`` for the type checker without ``type: ignore``.

Example (a fake that answers by operation)::

    class Fake:
        settings = Settings(_env_file=None)
        database = "neo4j"
        def read(self, query, params=None, *, timeout=None, database=None): ...
        ...

    def count_firms(runner: QueryRunner) -> int:
        return int(runner.read("MATCH (f:Firm) RETURN count(f) AS n")[0]["n"])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, LiteralString, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from chainrisk.settings import Settings

__all__ = ["AnalystRunner", "QueryPlan", "QueryRunner", "TextResult", "WriteCounters"]


@dataclass
class WriteCounters:
    """What a write changed, summed over its batches, and what it returned (last batch)."""

    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    batches: int = 0
    rows: int = 0
    returned: list[dict[str, Any]] = field(default_factory=list)

    def add(self, c: Any, rows: int = 0) -> None:
        """Add a driver ``SummaryCounters`` (or another :class:`WriteCounters`)."""
        self.nodes_created += c.nodes_created
        self.nodes_deleted += c.nodes_deleted
        self.relationships_created += c.relationships_created
        self.relationships_deleted += c.relationships_deleted
        self.properties_set += c.properties_set
        self.batches += 1
        self.rows += rows

    @property
    def changed(self) -> bool:
        return any(
            (self.nodes_created, self.nodes_deleted, self.relationships_created,
             self.relationships_deleted, self.properties_set)
        )


@runtime_checkable
class QueryRunner(Protocol):
    """Reads and writes against one database; implemented by :class:`graph.runner.GraphRunner`."""

    settings: Settings
    database: str

    def read(
        self,
        query: LiteralString,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        database: str | None = None,
    ) -> list[dict[str, Any]]:
        """Run ``query`` in a read transaction (retried on transient errors); records as dicts."""
        ...

    def read_frame(
        self, query: LiteralString, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> pd.DataFrame:
        """Run ``query`` in a read transaction; a frame with one column per returned key.

        Built from record values directly (no dict per record): the route for large reads.
        """
        ...

    def read_chunks(
        self,
        query: LiteralString,
        params: Mapping[str, Any] | None = None,
        *,
        chunk_size: int = 50_000,
        timeout: float | None = None,
    ) -> Iterator[pd.DataFrame]:
        """Stream ``query``'s records in frames of at most ``chunk_size`` rows.

        Memory holds one chunk, whatever the result size. The read runs in one
        explicit read transaction that is not retried: a transient error reaches the
        caller, who has already consumed earlier chunks.
        """
        ...

    def write(
        self,
        query: LiteralString,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        database: str | None = None,
    ) -> WriteCounters:
        """Run ``query`` in one write transaction; what it changed and returned."""
        ...

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
        """Run ``query`` (``UNWIND $rows AS row ...``) once per batch of ``rows``, a transaction each."""
        ...


@dataclass(frozen=True)
class QueryPlan:
    """What ``EXPLAIN`` says of a query, without running it.

    ``query_type`` is the server's: ``r`` read only, ``rw`` read and write, ``w`` write only,
    ``s`` schema or administration. ``operators`` lists every operator of the plan tree as
    ``(name, details)``, the name without its ``@database`` suffix (``ProcedureCall``,
    ``LoadCSV`` ...), the details as the server prints them (``gds.graph.drop($p) :: ...``).
    """

    query_type: str
    operators: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class TextResult:
    """Rows of a capped read: column names, rows as lists, and whether the cap cut them."""

    columns: list[str]
    rows: list[list[Any]]
    truncated: bool


@runtime_checkable
class AnalystRunner(QueryRunner, Protocol):
    """A :class:`QueryRunner` that also takes Cypher typed by a person, for ``queries.adhoc``.

    These two methods are the only ones whose text is a plain ``str`` rather than a
    ``LiteralString``: the text comes from an analyst, and ``queries.adhoc`` checks its plan
    before :meth:`read_text` runs it. Nothing else may call them.
    """

    def explain_text(self, query: str, params: Mapping[str, Any] | None = None) -> QueryPlan:
        """``EXPLAIN query`` in a read transaction: its type and operators; nothing runs."""
        ...

    def read_text(
        self,
        query: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float,
        max_rows: int,
        metadata: Mapping[str, Any] | None = None,
    ) -> TextResult:
        """Run ``query`` in a read transaction with a timeout; stop reading after ``max_rows``."""
        ...
