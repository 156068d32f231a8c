"""The graph's schema: its vocabulary, constraints and indexes, and the chainrisk marker.

:class:`Label` and :class:`RelType` are the graph's vocabulary. Labels and types in
Cypher come from here or from the ingest contract's table -> graph map
(``ingest.tables``), which a test checks uses only these; property names come from
the contract; nothing comes from user input, so every query is a literal string.
:func:`apply_schema` creates what is missing and is idempotent (``IF NOT EXISTS``).
The ``(:ChainriskMeta {key: 'schema'})`` marker (:func:`schema_marker`) says the
database is chainrisk's, which schema version it has, and which relationship types
have every ``uid`` filled (:func:`uids_complete`).

Data model (see ``docs/data-model.md`` for the reasoning)::

    (:Firm {uscc})-[:SUPPLIES {uid, start, end, annual_value, ...}]->(:Firm)
    (:Firm|Person)-[:GUARANTEES {uid, loan_id, amount, start, end}]->(:Firm)  guarantor -> borrower
    (:Firm)-[:BORROWED]->(:Loan {loan_id})-[:HAS_STATUS]->(:LoanStatus {key, month, ...})
    (:Firm)-[:OWES {uid, amount, as_of}]->(:Firm)  debtor -> creditor (trade credit)
    (:Person|Firm)-[:OWNS {uid, share, start, end}]->(:Firm)
    (:Firm)-[:ON_PLATFORM]->(:Platform {platform_id})
    (:Firm)-[:REPORTED]->(:Financials {key, period_end, published, ...})
    (:Firm)-[:HAS_SIGNAL]->(:Signal {key, month, ...})
    (:Firm)-[:HAS_EVENT]->(:Event {key, date, type})
    (:Run {run_id, kind, status, ...})
    (:Firm)-[:HAS_RESULT]->(:Result {key, run_id, family, ...})             written-back scores, per run
    (:Current {family})-[:POINTS_TO]->(:Run)                                which run of a family is current

Every ingested node and relationship carries ``source`` and ``ingest_run`` (fact nodes also ``ingested_at``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, LiteralString, cast

from chainrisk.errors import UnsafeDatabase

if TYPE_CHECKING:
    from graph.protocol import QueryRunner

__all__ = [
    "AWAIT_INDEXES",
    "CONSTRAINTS",
    "INDEXES",
    "MARK_UIDS_COMPLETE",
    "SCHEMA_VERSION",
    "UIDS_COMPLETE",
    "Label",
    "RelType",
    "apply_schema",
    "create_indexes",
    "drop_index_query",
    "drop_indexes",
    "ensure_schema",
    "mark_uids_complete",
    "schema_marker",
    "schema_status",
    "secondary_indexes",
    "uids_complete",
]


class Label(StrEnum):
    FIRM = "Firm"
    LOAN = "Loan"
    LOAN_STATUS = "LoanStatus"
    PERSON = "Person"
    PLATFORM = "Platform"
    FINANCIALS = "Financials"
    SIGNAL = "Signal"
    EVENT = "Event"
    RUN = "Run"
    RESULT = "Result"
    CURRENT = "Current"
    META = "ChainriskMeta"


class RelType(StrEnum):
    SUPPLIES = "SUPPLIES"
    GUARANTEES = "GUARANTEES"
    BORROWED = "BORROWED"
    HAS_STATUS = "HAS_STATUS"
    OWES = "OWES"
    OWNS = "OWNS"
    ON_PLATFORM = "ON_PLATFORM"
    REPORTED = "REPORTED"
    HAS_SIGNAL = "HAS_SIGNAL"
    HAS_EVENT = "HAS_EVENT"
    HAS_RESULT = "HAS_RESULT"
    POINTS_TO = "POINTS_TO"
    STRESS_FLOW = "STRESS_FLOW"


#: Uniqueness constraints: (name, Cypher). Keys of every MERGE are constrained (fact relationships: ``uid``).
CONSTRAINTS: tuple[tuple[str, LiteralString], ...] = (
    ("firm_uscc", "CREATE CONSTRAINT firm_uscc IF NOT EXISTS FOR (n:Firm) REQUIRE n.uscc IS UNIQUE"),
    ("loan_id", "CREATE CONSTRAINT loan_id IF NOT EXISTS FOR (n:Loan) REQUIRE n.loan_id IS UNIQUE"),
    ("loan_status_key",
     "CREATE CONSTRAINT loan_status_key IF NOT EXISTS FOR (n:LoanStatus) REQUIRE n.key IS UNIQUE"),
    ("person_id", "CREATE CONSTRAINT person_id IF NOT EXISTS FOR (n:Person) REQUIRE n.person_id IS UNIQUE"),
    ("platform_id",
     "CREATE CONSTRAINT platform_id IF NOT EXISTS FOR (n:Platform) REQUIRE n.platform_id IS UNIQUE"),
    ("financials_key",
     "CREATE CONSTRAINT financials_key IF NOT EXISTS FOR (n:Financials) REQUIRE n.key IS UNIQUE"),
    ("signal_key", "CREATE CONSTRAINT signal_key IF NOT EXISTS FOR (n:Signal) REQUIRE n.key IS UNIQUE"),
    ("event_key", "CREATE CONSTRAINT event_key IF NOT EXISTS FOR (n:Event) REQUIRE n.key IS UNIQUE"),
    ("run_id", "CREATE CONSTRAINT run_id IF NOT EXISTS FOR (n:Run) REQUIRE n.run_id IS UNIQUE"),
    ("result_key", "CREATE CONSTRAINT result_key IF NOT EXISTS FOR (n:Result) REQUIRE n.key IS UNIQUE"),
    ("current_family",
     "CREATE CONSTRAINT current_family IF NOT EXISTS FOR (n:Current) REQUIRE n.family IS UNIQUE"),
    ("meta_key", "CREATE CONSTRAINT meta_key IF NOT EXISTS FOR (n:ChainriskMeta) REQUIRE n.key IS UNIQUE"),
    # fact relationships: uid = "<start id>|<end id>|<key>" (ingest.cypher); loads seek it
    ("supplies_uid",
     "CREATE CONSTRAINT supplies_uid IF NOT EXISTS FOR ()-[r:SUPPLIES]-() REQUIRE r.uid IS UNIQUE"),
    ("guarantees_uid",
     "CREATE CONSTRAINT guarantees_uid IF NOT EXISTS FOR ()-[r:GUARANTEES]-() REQUIRE r.uid IS UNIQUE"),
    ("owns_uid", "CREATE CONSTRAINT owns_uid IF NOT EXISTS FOR ()-[r:OWNS]-() REQUIRE r.uid IS UNIQUE"),
    ("owes_uid", "CREATE CONSTRAINT owes_uid IF NOT EXISTS FOR ()-[r:OWES]-() REQUIRE r.uid IS UNIQUE"),
)

#: Secondary indexes for the analysts' usual filters.
INDEXES: tuple[tuple[str, LiteralString], ...] = (
    ("firm_region", "CREATE INDEX firm_region IF NOT EXISTS FOR (n:Firm) ON (n.region)"),
    ("firm_industry", "CREATE INDEX firm_industry IF NOT EXISTS FOR (n:Firm) ON (n.industry)"),
    ("loan_lender", "CREATE INDEX loan_lender IF NOT EXISTS FOR (n:Loan) ON (n.lender)"),
    ("event_type_date", "CREATE INDEX event_type_date IF NOT EXISTS FOR (n:Event) ON (n.type, n.date)"),
    ("run_kind", "CREATE INDEX run_kind IF NOT EXISTS FOR (n:Run) ON (n.kind, n.status)"),
    ("result_run", "CREATE INDEX result_run IF NOT EXISTS FOR (n:Result) ON (n.run_id)"),
    ("guarantees_loan",
     "CREATE INDEX guarantees_loan IF NOT EXISTS FOR ()-[r:GUARANTEES]-() ON (r.loan_id)"),
    ("supplies_start", "CREATE INDEX supplies_start IF NOT EXISTS FOR ()-[r:SUPPLIES]-() ON (r.start)"),
    ("stress_flow_run",
     "CREATE INDEX stress_flow_run IF NOT EXISTS FOR ()-[r:STRESS_FLOW]-() ON (r.run_id)"),
)


def apply_schema(runner: QueryRunner) -> int:
    """Create every constraint and index that is missing; return how many were created.

    Safe to call any number of times: a second call creates nothing.
    """
    before = _existing_names(runner)
    for _, statement in (*CONSTRAINTS, *INDEXES):
        runner.write(statement)
    marker = schema_marker(datetime.now().astimezone())
    runner.write(
        "MERGE (m:ChainriskMeta {key: $key}) "
        "ON CREATE SET m.created_at = $created_at, m.created_by = $created_by "
        "SET m.schema_version = $schema_version",
        marker,
    )
    after = _existing_names(runner)
    return len(after - before)


#: Bumped whenever CONSTRAINTS or INDEXES change.
SCHEMA_VERSION = 2


def _existing_names(runner: QueryRunner) -> set[str]:
    names = {r["name"] for r in runner.read("SHOW CONSTRAINTS YIELD name RETURN name")}
    names |= {r["name"] for r in runner.read("SHOW INDEXES YIELD name RETURN name")}
    return names


def secondary_indexes(target: str) -> tuple[tuple[str, LiteralString], ...]:
    """The :data:`INDEXES` on the label or relationship type ``target`` (constraints excluded).

    >>> [name for name, _ in secondary_indexes("SUPPLIES")]
    ['supplies_start']
    >>> [name for name, _ in secondary_indexes("Firm")]
    ['firm_region', 'firm_industry']
    """
    return tuple((n, q) for n, q in INDEXES if f"(n:{target})" in q or f"[r:{target}]" in q)


#: Waits until every index is online (``$t`` seconds at most).
AWAIT_INDEXES: LiteralString = "CALL db.awaitIndexes($t)"


def drop_index_query(name: str) -> LiteralString:
    """``DROP INDEX <name> IF EXISTS`` for one of :data:`INDEXES` (any other name is refused).

    >>> drop_index_query("supplies_start")
    'DROP INDEX supplies_start IF EXISTS'
    """
    if name not in {n for n, _ in INDEXES}:
        raise ValueError(f"{name!r} is not one of chainrisk's indexes")
    # the name comes from INDEXES above, never from input
    return cast(LiteralString, f"DROP INDEX {name} IF EXISTS")


def drop_indexes(runner: QueryRunner, indexes: tuple[tuple[str, LiteralString], ...]) -> None:
    """Drop ``indexes`` (pairs from :data:`INDEXES`) if they exist.

    For bulk writes into an empty label or type: maintaining a secondary index row by
    row costs more than populating it once afterwards (:func:`create_indexes`). A load
    that dies in between leaves them missing until the next :func:`apply_schema`,
    which every writing command runs first.
    """
    for name, _ in indexes:
        runner.write(drop_index_query(name))


def create_indexes(runner: QueryRunner, indexes: tuple[tuple[str, LiteralString], ...],
                   *, timeout_s: int = 600) -> None:
    """Create ``indexes`` (pairs from :data:`INDEXES`) and wait until they are online."""
    for _, statement in indexes:
        runner.write(statement)
    if indexes:
        runner.read(AWAIT_INDEXES, {"t": timeout_s})


def schema_status(runner: QueryRunner) -> dict[str, bool]:
    """For each expected constraint and index name, whether it exists."""
    existing = _existing_names(runner)
    return {name: name in existing for name, _ in (*CONSTRAINTS, *INDEXES)}


def ensure_schema(runner: QueryRunner, *, force: bool = False) -> int:
    """Check the database is chainrisk's to write, then apply the schema.

    Every command that writes calls this first. A database that holds nodes but
    no chainrisk marker was not created by chainrisk: writing into it could mix a
    bank's own graph with ours, so it is refused unless ``force`` is given.

    Raises:
        UnsafeDatabase: the database is not empty and has no chainrisk marker.
    """
    rows = runner.read(
        "OPTIONAL MATCH (m:ChainriskMeta {key: 'schema'}) "
        "RETURN m IS NOT NULL AS ours, EXISTS { MATCH (n) WHERE NOT n:ChainriskMeta } AS nonempty"
    )
    ours, nonempty = bool(rows[0]["ours"]), bool(rows[0]["nonempty"])
    if nonempty and not ours and not force:
        raise UnsafeDatabase(
            f"database {runner.database!r} is not empty and was not created by chainrisk; "
            "refusing to write (pass --force to write anyway)"
        )
    return apply_schema(runner)


def schema_marker(created_at: datetime) -> dict[str, Any]:
    """The properties of the ``(:ChainriskMeta {key: 'schema'})`` node, as every writer creates it
    (:func:`apply_schema` over Bolt, the offline import as a CSV row).

    >>> m = schema_marker(datetime(2024, 1, 1))
    >>> m["key"], m["created_by"], m["schema_version"] == SCHEMA_VERSION
    ('schema', 'chainrisk', True)
    """
    return {"key": "schema", "created_at": created_at, "created_by": "chainrisk",
            "schema_version": SCHEMA_VERSION}


#: Reads whether ``$type`` is recorded as having every ``uid`` (answers ``done``).
UIDS_COMPLETE: LiteralString = (
    "OPTIONAL MATCH (m:ChainriskMeta {key: 'schema'}) "
    "RETURN $type IN coalesce(m.uids_complete, []) AS done"
)
#: Records ``$type`` as having every ``uid``.
MARK_UIDS_COMPLETE: LiteralString = (
    "MATCH (m:ChainriskMeta {key: 'schema'}) "
    "WITH m, coalesce(m.uids_complete, []) AS have "
    "SET m.uids_complete = CASE WHEN $type IN have THEN have ELSE have + $type END"
)


def uids_complete(runner: QueryRunner, rel_type: str) -> bool:
    """Whether every ``rel_type`` link is known to carry a ``uid`` (see :func:`mark_uids_complete`)."""
    rows = runner.read(UIDS_COMPLETE, {"type": rel_type})
    return bool(rows) and rows[0].get("done") is True


def mark_uids_complete(runner: QueryRunner, rel_type: str) -> None:
    """Record in the schema marker that every ``rel_type`` link has its ``uid``: later loads skip the scan."""
    runner.write(MARK_UIDS_COMPLETE, {"type": rel_type})
