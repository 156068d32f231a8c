"""The Cypher of an incremental load: one literal ``MERGE`` query per table.

How a batch is written
----------------------
Each table's query receives ``$rows``, a list of
``{k: identity key, h: row hash, p: {property: value}, a: start id, b: end id, t: 'firm'|'person'}``
(relationship tables add ``u``, the link's ``uid``, see below)
and the run-level parameters ``$source``, ``$run_id`` and ``$now``. It

1. ``MERGE``\\ s the node or relationship on its constrained key (nodes: the label's
   unique key; relationships: the ``uid`` property, see below);
2. keeps only rows whose stored ``row_hash`` differs from the row's (or that were
   closed by a ``full`` load and have come back), so an unchanged row costs one
   index lookup and **writes nothing**;
3. ``SET``\\ s the properties, ``row_hash``, ``source``, ``ingest_run`` and ``ingested_at``;
4. returns ``count(*) AS written``.

The counts of a table then follow without reading anything first:
``created`` is the query's ``nodes_created`` (node tables) or ``relationships_created``
(relationship tables) counter, ``updated = written - created`` and
``unchanged = rows - written``. This works because endpoints are created by a
separate, earlier statement (:data:`ENSURE_FIRMS` ...), whose ``nodes_created`` is
the number of external counterparties; the load query itself only ``MATCH``\\ es them.

Relationship identity
---------------------
Neo4j cannot ``MERGE`` on a null property, and several identity columns are
optional, so every fact relationship carries a ``key`` string that, with its two
endpoints, identifies it (``""`` stands for a missing part):

============  =================================  ======================
relationship  endpoints                          ``key``
============  =================================  ======================
SUPPLIES      supplier -> buyer                  ``start``
OWES          debtor -> creditor                 ``as_of``
GUARANTEES    guarantor (Firm|Person) -> borrower ``loan_id|start``
OWNS          owner (Firm|Person) -> firm        ``start``
============  =================================  ======================

Dates in keys are ``YYYY-MM-DD``; months in node keys are ``YYYY-MM``.

Each such relationship also carries ``uid = "<start id>|<end id>|<key>"`` (start id:
the USCC of a Firm or the ``person_id`` of a Person; end id: the USCC), e.g.
``"91350100M000100Y43|91110000600037341X|2023-01-01"``. USCCs hold no ``|`` (a
pseudonymous person id might: two links whose uids then coincide are refused by the
constraint, never merged into one). ``graph.schema`` makes
``uid`` unique per relationship type (schema version 2), so ``MERGE (a)-[r:T {uid:
row.u}]->(b)`` is an index seek (``DirectedRelationshipUniqueIndexSeek``) instead
of an expansion of every relationship of one endpoint; ``key`` stays as a property.
Links written before schema version 2 get their ``uid`` from ``uid_fill`` (the
same text, computed in Cypher) before a table's first ``MERGE`` or closing.

First loads: ``CREATE`` instead of ``MERGE``
--------------------------------------------
A ``MERGE`` still pays an index lookup and a lock per row (and, on node tables,
the link to its parent). When a table starts and its label (node tables) or relationship
type (relationship tables) holds **nothing at all** (``count_query``, answered
from Neo4j's count store in constant time), nothing can be matched, so the
loader runs ``create_query`` instead: same row shape, same properties, same
``written`` column, ``CREATE`` for the fact and its link to its parent. This is
safe because validation drops duplicate keys across all chunks of a table (its
``TableSpec.key`` covers the graph identity: endpoints plus ``key``), and node
labels have a uniqueness constraint besides. It assumes no other writer loads
the same label or type concurrently (one ingest at a time, as the CLI runs it).

Closing (``full`` mode)
-----------------------
``CLOSE_READ`` streams the ``uid`` of a relationship type's open links
(``end IS NULL``) from this source, without reading their endpoints; those the
dataset no longer contains get ``end = $as_of`` and ``closed_by = $run_id`` through ``CLOSE`` (by element id),
and are never deleted. A closed link that reappears is reopened by the load query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, LiteralString

from ingest.tables import TABLES

__all__ = [
    "CLOSABLE",
    "ENSURE_FIRMS",
    "ENSURE_PERSONS",
    "ENSURE_PLATFORMS",
    "GRAPH_TABLES",
    "GraphTable",
]

# ----------------------------------------------------------------- endpoints
#: External counterparties: a Firm created here holds only what is known (its USCC).
ENSURE_FIRMS: LiteralString = (
    "UNWIND $ids AS id "
    "MERGE (f:Firm {uscc: id}) "
    "ON CREATE SET f.external = true, f.source = $source, f.ingest_run = $run_id, f.ingested_at = $now"
)
ENSURE_PERSONS: LiteralString = (
    "UNWIND $ids AS id "
    "MERGE (p:Person {person_id: id}) "
    "ON CREATE SET p.source = $source, p.ingest_run = $run_id, p.ingested_at = $now"
)
ENSURE_PLATFORMS: LiteralString = (
    "UNWIND $ids AS id "
    "MERGE (p:Platform {platform_id: id}) "
    "ON CREATE SET p.source = $source, p.ingest_run = $run_id, p.ingested_at = $now"
)

# ------------------------------------------------------------------- node tables
_FIRMS: LiteralString = """
UNWIND $rows AS row
MERGE (n:Firm {uscc: row.k})
WITH n, row WHERE n.row_hash IS NULL OR n.row_hash <> row.h
SET n += row.p, n.external = false, n.row_hash = row.h,
    n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  OPTIONAL MATCH (n)-[old:ON_PLATFORM]->(p:Platform)
  WHERE p.platform_id <> coalesce(row.p.platform, '')
  DELETE old
}
CALL (n, row) {
  MATCH (p:Platform {platform_id: row.p.platform})
  MERGE (n)-[e:ON_PLATFORM]->(p)
  ON CREATE SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_FINANCIALS: LiteralString = """
UNWIND $rows AS row
MERGE (n:Financials {key: row.k})
WITH n, row WHERE n.row_hash IS NULL OR n.row_hash <> row.h
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (f:Firm {uscc: row.a})
  MERGE (f)-[e:REPORTED]->(n)
  ON CREATE SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_LOANS: LiteralString = """
UNWIND $rows AS row
MERGE (n:Loan {loan_id: row.k})
WITH n, row WHERE n.row_hash IS NULL OR n.row_hash <> row.h
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  OPTIONAL MATCH (old:Firm)-[ob:BORROWED]->(n) WHERE old.uscc <> row.a
  DELETE ob
}
CALL (n, row) {
  MATCH (f:Firm {uscc: row.a})
  MERGE (f)-[e:BORROWED]->(n)
  ON CREATE SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_LOAN_STATUS: LiteralString = """
UNWIND $rows AS row
MERGE (n:LoanStatus {key: row.k})
WITH n, row WHERE n.row_hash IS NULL OR n.row_hash <> row.h
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (l:Loan {loan_id: row.a})
  MERGE (l)-[e:HAS_STATUS]->(n)
  ON CREATE SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_EVENTS: LiteralString = """
UNWIND $rows AS row
MERGE (n:Event {key: row.k})
WITH n, row WHERE n.row_hash IS NULL OR n.row_hash <> row.h
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (f:Firm {uscc: row.a})
  MERGE (f)-[e:HAS_EVENT]->(n)
  ON CREATE SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_SIGNALS: LiteralString = """
UNWIND $rows AS row
MERGE (n:Signal {key: row.k})
WITH n, row WHERE n.row_hash IS NULL OR n.row_hash <> row.h
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (f:Firm {uscc: row.a})
  MERGE (f)-[e:HAS_SIGNAL]->(n)
  ON CREATE SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

# ----------------------------------------------------------- relationship tables
_SUPPLY: LiteralString = """
UNWIND $rows AS row
MATCH (a:Firm {uscc: row.a})
MATCH (b:Firm {uscc: row.b})
MERGE (a)-[r:SUPPLIES {uid: row.u}]->(b)
ON CREATE SET r.key = row.k
WITH r, row WHERE r.row_hash IS NULL OR r.row_hash <> row.h OR r.closed_by IS NOT NULL
SET r += row.p, r.row_hash = row.h, r.closed_by = null,
    r.source = $source, r.ingest_run = $run_id, r.ingested_at = $now
RETURN count(*) AS written
"""

_RECEIVABLES: LiteralString = """
UNWIND $rows AS row
MATCH (a:Firm {uscc: row.a})
MATCH (b:Firm {uscc: row.b})
MERGE (a)-[r:OWES {uid: row.u}]->(b)
ON CREATE SET r.key = row.k
WITH r, row WHERE r.row_hash IS NULL OR r.row_hash <> row.h
SET r += row.p, r.row_hash = row.h, r.source = $source, r.ingest_run = $run_id, r.ingested_at = $now
RETURN count(*) AS written
"""

_GUARANTEES: LiteralString = """
UNWIND $rows AS row
MATCH (b:Firm {uscc: row.b})
OPTIONAL MATCH (gf:Firm {uscc: row.a})
OPTIONAL MATCH (gp:Person {person_id: row.a})
WITH row, b, CASE row.t WHEN 'person' THEN gp ELSE gf END AS a
MERGE (a)-[r:GUARANTEES {uid: row.u}]->(b)
ON CREATE SET r.key = row.k
WITH r, row WHERE r.row_hash IS NULL OR r.row_hash <> row.h OR r.closed_by IS NOT NULL
SET r += row.p, r.row_hash = row.h, r.closed_by = null,
    r.source = $source, r.ingest_run = $run_id, r.ingested_at = $now
RETURN count(*) AS written
"""

_OWNERSHIP: LiteralString = """
UNWIND $rows AS row
MATCH (b:Firm {uscc: row.b})
OPTIONAL MATCH (of:Firm {uscc: row.a})
OPTIONAL MATCH (op:Person {person_id: row.a})
WITH row, b, CASE row.t WHEN 'person' THEN op ELSE of END AS a
MERGE (a)-[r:OWNS {uid: row.u}]->(b)
ON CREATE SET r.key = row.k
WITH r, row WHERE r.row_hash IS NULL OR r.row_hash <> row.h OR r.closed_by IS NOT NULL
SET r += row.p, r.row_hash = row.h, r.closed_by = null,
    r.source = $source, r.ingest_run = $run_id, r.ingested_at = $now
RETURN count(*) AS written
"""

# ------------------------------------------------- first-load (CREATE) variants
_FIRMS_CREATE: LiteralString = """
UNWIND $rows AS row
CREATE (n:Firm {uscc: row.k})
SET n += row.p, n.external = false, n.row_hash = row.h,
    n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (p:Platform {platform_id: row.p.platform})
  CREATE (n)-[e:ON_PLATFORM]->(p)
  SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_FINANCIALS_CREATE: LiteralString = """
UNWIND $rows AS row
CREATE (n:Financials {key: row.k})
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (f:Firm {uscc: row.a})
  CREATE (f)-[e:REPORTED]->(n)
  SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_LOANS_CREATE: LiteralString = """
UNWIND $rows AS row
CREATE (n:Loan {loan_id: row.k})
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (f:Firm {uscc: row.a})
  CREATE (f)-[e:BORROWED]->(n)
  SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_LOAN_STATUS_CREATE: LiteralString = """
UNWIND $rows AS row
CREATE (n:LoanStatus {key: row.k})
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (l:Loan {loan_id: row.a})
  CREATE (l)-[e:HAS_STATUS]->(n)
  SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_EVENTS_CREATE: LiteralString = """
UNWIND $rows AS row
CREATE (n:Event {key: row.k})
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (f:Firm {uscc: row.a})
  CREATE (f)-[e:HAS_EVENT]->(n)
  SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_SIGNALS_CREATE: LiteralString = """
UNWIND $rows AS row
CREATE (n:Signal {key: row.k})
SET n += row.p, n.row_hash = row.h, n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now
WITH n, row
CALL (n, row) {
  MATCH (f:Firm {uscc: row.a})
  CREATE (f)-[e:HAS_SIGNAL]->(n)
  SET e.source = $source, e.ingest_run = $run_id, e.ingested_at = $now
}
RETURN count(*) AS written
"""

_SUPPLY_CREATE: LiteralString = """
UNWIND $rows AS row
MATCH (a:Firm {uscc: row.a})
MATCH (b:Firm {uscc: row.b})
CREATE (a)-[r:SUPPLIES {uid: row.u, key: row.k}]->(b)
SET r += row.p, r.row_hash = row.h, r.source = $source, r.ingest_run = $run_id, r.ingested_at = $now
RETURN count(*) AS written
"""

_RECEIVABLES_CREATE: LiteralString = """
UNWIND $rows AS row
MATCH (a:Firm {uscc: row.a})
MATCH (b:Firm {uscc: row.b})
CREATE (a)-[r:OWES {uid: row.u, key: row.k}]->(b)
SET r += row.p, r.row_hash = row.h, r.source = $source, r.ingest_run = $run_id, r.ingested_at = $now
RETURN count(*) AS written
"""

_GUARANTEES_CREATE: LiteralString = """
UNWIND $rows AS row
MATCH (b:Firm {uscc: row.b})
OPTIONAL MATCH (gf:Firm {uscc: row.a})
OPTIONAL MATCH (gp:Person {person_id: row.a})
WITH row, b, CASE row.t WHEN 'person' THEN gp ELSE gf END AS a
CREATE (a)-[r:GUARANTEES {uid: row.u, key: row.k}]->(b)
SET r += row.p, r.row_hash = row.h, r.source = $source, r.ingest_run = $run_id, r.ingested_at = $now
RETURN count(*) AS written
"""

_OWNERSHIP_CREATE: LiteralString = """
UNWIND $rows AS row
MATCH (b:Firm {uscc: row.b})
OPTIONAL MATCH (of:Firm {uscc: row.a})
OPTIONAL MATCH (op:Person {person_id: row.a})
WITH row, b, CASE row.t WHEN 'person' THEN op ELSE of END AS a
CREATE (a)-[r:OWNS {uid: row.u, key: row.k}]->(b)
SET r += row.p, r.row_hash = row.h, r.source = $source, r.ingest_run = $run_id, r.ingested_at = $now
RETURN count(*) AS written
"""

# ------------------------------------------ emptiness checks (count store, O(1))
_COUNT_FIRM: LiteralString = "MATCH (n:Firm) RETURN count(n) AS n"
_COUNT_FINANCIALS: LiteralString = "MATCH (n:Financials) RETURN count(n) AS n"
_COUNT_LOAN: LiteralString = "MATCH (n:Loan) RETURN count(n) AS n"
_COUNT_LOAN_STATUS: LiteralString = "MATCH (n:LoanStatus) RETURN count(n) AS n"
_COUNT_EVENT: LiteralString = "MATCH (n:Event) RETURN count(n) AS n"
_COUNT_SIGNAL: LiteralString = "MATCH (n:Signal) RETURN count(n) AS n"
_COUNT_SUPPLIES: LiteralString = "MATCH ()-[r:SUPPLIES]->() RETURN count(r) AS n"
_COUNT_OWES: LiteralString = "MATCH ()-[r:OWES]->() RETURN count(r) AS n"
_COUNT_GUARANTEES: LiteralString = "MATCH ()-[r:GUARANTEES]->() RETURN count(r) AS n"
_COUNT_OWNS: LiteralString = "MATCH ()-[r:OWNS]->() RETURN count(r) AS n"

# ------------------------------------------------------------------- closing
_CLOSE_READ_SUPPLY: LiteralString = (
    "MATCH ()-[r:SUPPLIES]->() WHERE r.end IS NULL AND r.source = $source "
    "RETURN elementId(r) AS id, r.uid AS u"
)
_CLOSE_READ_GUARANTEES: LiteralString = (
    "MATCH ()-[r:GUARANTEES]->() WHERE r.end IS NULL AND r.source = $source "
    "RETURN elementId(r) AS id, r.uid AS u"
)
_CLOSE_READ_OWNERSHIP: LiteralString = (
    "MATCH ()-[r:OWNS]->() WHERE r.end IS NULL AND r.source = $source "
    "RETURN elementId(r) AS id, r.uid AS u"
)
_CLOSE_SUPPLY: LiteralString = (
    "UNWIND $ids AS id MATCH ()-[r:SUPPLIES]->() WHERE elementId(r) = id "
    "SET r.end = $as_of, r.closed_by = $run_id, r.ingest_run = $run_id, r.ingested_at = $now "
    "RETURN count(*) AS closed"
)
_CLOSE_GUARANTEES: LiteralString = (
    "UNWIND $ids AS id MATCH ()-[r:GUARANTEES]->() WHERE elementId(r) = id "
    "SET r.end = $as_of, r.closed_by = $run_id, r.ingest_run = $run_id, r.ingested_at = $now "
    "RETURN count(*) AS closed"
)
_CLOSE_OWNERSHIP: LiteralString = (
    "UNWIND $ids AS id MATCH ()-[r:OWNS]->() WHERE elementId(r) = id "
    "SET r.end = $as_of, r.closed_by = $run_id, r.ingest_run = $run_id, r.ingested_at = $now "
    "RETURN count(*) AS closed"
)

# ------------------------------------- uid backfill (links written before schema 2)
_UID_FILL_SUPPLY: LiteralString = (
    "MATCH (a:Firm)-[r:SUPPLIES]->(b:Firm) WHERE r.uid IS NULL WITH a, r, b LIMIT $limit "
    "SET r.uid = a.uscc + '|' + b.uscc + '|' + coalesce(r.key, '') RETURN count(*) AS n"
)
_UID_FILL_OWES: LiteralString = (
    "MATCH (a:Firm)-[r:OWES]->(b:Firm) WHERE r.uid IS NULL WITH a, r, b LIMIT $limit "
    "SET r.uid = a.uscc + '|' + b.uscc + '|' + coalesce(r.key, '') RETURN count(*) AS n"
)
_UID_FILL_GUARANTEES: LiteralString = (
    "MATCH (a)-[r:GUARANTEES]->(b:Firm) WHERE r.uid IS NULL WITH a, r, b LIMIT $limit "
    "SET r.uid = coalesce(a.uscc, a.person_id) + '|' + b.uscc + '|' + coalesce(r.key, '') "
    "RETURN count(*) AS n"
)
_UID_FILL_OWNS: LiteralString = (
    "MATCH (a)-[r:OWNS]->(b:Firm) WHERE r.uid IS NULL WITH a, r, b LIMIT $limit "
    "SET r.uid = coalesce(a.uscc, a.person_id) + '|' + b.uscc + '|' + coalesce(r.key, '') "
    "RETURN count(*) AS n"
)


@dataclass(frozen=True)
class Endpoint:
    """A column naming a node the row's query ``MATCH``\\ es: ``kind`` says which label.

    ``kind`` is ``firm`` (a USCC column), ``platform``, ``loan`` (never created: a
    status of an unknown loan is stored without its ``HAS_STATUS`` link), or
    ``party`` (a Firm or a Person, decided per row by ``type_column``).
    """

    column: str
    kind: Literal["firm", "platform", "loan", "party"]
    type_column: str | None = None


@dataclass(frozen=True)
class GraphTable:
    """How one validated table maps onto the graph.

    Attributes
    ----------
    table : str
        Table name (``ingest.tables.TABLES`` key).
    query : LiteralString
        The load query (see the module docstring for its row shape).
    created_counter : {"nodes_created", "relationships_created"}
        The query counter that counts created facts.
    key : tuple of str
        Columns joined with ``|`` into ``row.k`` (dates ISO, ``month`` columns ``YYYY-MM``).
    start, end : Endpoint or None
        Columns sent as ``row.a`` / ``row.b`` (and ``row.t`` from ``start.type_column``).
    props : tuple of str
        Columns stored as properties (``row.p``).
    count_query : LiteralString
        Counts the table's label or relationship type (count store): 0 means a first load.
    create_query : LiteralString
        The ``CREATE`` variant of ``query``, run when ``count_query`` answered 0.
    close_read, close : LiteralString or None
        Closing queries for ``full`` loads; ``None`` for facts that are never closed.
    uid_fill : LiteralString or None
        Relationship tables: sets the ``uid`` of up to ``$limit`` links that lack one
        (written before schema version 2) and returns their number as ``n``.
    """

    table: str
    query: LiteralString
    created_counter: Literal["nodes_created", "relationships_created"]
    key: tuple[str, ...]
    start: Endpoint | None
    end: Endpoint | None
    props: tuple[str, ...]
    count_query: LiteralString
    create_query: LiteralString
    close_read: LiteralString | None = None
    close: LiteralString | None = None
    uid_fill: LiteralString | None = None

    @property
    def is_relationship(self) -> bool:
        return self.created_counter == "relationships_created"


_F: Literal["firm"] = "firm"
GRAPH_TABLES: dict[str, GraphTable] = {
    "firms": GraphTable(
        "firms",
        _FIRMS,
        "nodes_created",
        ("uscc",),
        Endpoint("platform", "platform"),
        None,
        TABLES["firms"].column_names,
        _COUNT_FIRM,
        _FIRMS_CREATE,
    ),
    "financials": GraphTable(
        "financials",
        _FINANCIALS,
        "nodes_created",
        ("uscc", "period_end"),
        Endpoint("uscc", _F),
        None,
        TABLES["financials"].column_names,
        _COUNT_FINANCIALS,
        _FINANCIALS_CREATE,
    ),
    "supply": GraphTable(
        "supply",
        _SUPPLY,
        "relationships_created",
        ("start",),
        Endpoint("supplier_uscc", _F),
        Endpoint("buyer_uscc", _F),
        ("annual_value", "start", "end"),
        _COUNT_SUPPLIES,
        _SUPPLY_CREATE,
        _CLOSE_READ_SUPPLY,
        _CLOSE_SUPPLY,
        _UID_FILL_SUPPLY,
    ),
    "receivables": GraphTable(
        # debtor -> creditor: the debtor OWES the creditor
        "receivables",
        _RECEIVABLES,
        "relationships_created",
        ("as_of",),
        Endpoint("debtor_uscc", _F),
        Endpoint("creditor_uscc", _F),
        ("amount", "as_of", "days_outstanding"),
        _COUNT_OWES,
        _RECEIVABLES_CREATE,
        uid_fill=_UID_FILL_OWES,
    ),
    "loans": GraphTable(
        "loans",
        _LOANS,
        "nodes_created",
        ("loan_id",),
        Endpoint("borrower_uscc", _F),
        None,
        TABLES["loans"].column_names,
        _COUNT_LOAN,
        _LOANS_CREATE,
    ),
    "loan_status": GraphTable(
        "loan_status",
        _LOAN_STATUS,
        "nodes_created",
        ("loan_id", "month"),
        Endpoint("loan_id", "loan"),
        None,
        TABLES["loan_status"].column_names,
        _COUNT_LOAN_STATUS,
        _LOAN_STATUS_CREATE,
    ),
    "guarantees": GraphTable(
        "guarantees",
        _GUARANTEES,
        "relationships_created",
        ("loan_id", "start"),
        Endpoint("guarantor_id", "party", "guarantor_type"),
        Endpoint("borrower_uscc", _F),
        ("guarantor_type", "loan_id", "amount", "start", "end"),
        _COUNT_GUARANTEES,
        _GUARANTEES_CREATE,
        _CLOSE_READ_GUARANTEES,
        _CLOSE_GUARANTEES,
        _UID_FILL_GUARANTEES,
    ),
    "ownership": GraphTable(
        "ownership",
        _OWNERSHIP,
        "relationships_created",
        ("start",),
        Endpoint("owner_id", "party", "owner_type"),
        Endpoint("firm_uscc", _F),
        ("owner_type", "share", "start", "end"),
        _COUNT_OWNS,
        _OWNERSHIP_CREATE,
        _CLOSE_READ_OWNERSHIP,
        _CLOSE_OWNERSHIP,
        _UID_FILL_OWNS,
    ),
    "events": GraphTable(
        "events",
        _EVENTS,
        "nodes_created",
        ("uscc", "date", "type"),
        Endpoint("uscc", _F),
        None,
        TABLES["events"].column_names,
        _COUNT_EVENT,
        _EVENTS_CREATE,
    ),
    "signals": GraphTable(
        "signals",
        _SIGNALS,
        "nodes_created",
        ("uscc", "month"),
        Endpoint("uscc", _F),
        None,
        TABLES["signals"].column_names,
        _COUNT_SIGNAL,
        _SIGNALS_CREATE,
    ),
}

#: Tables whose links a ``full`` load closes when the dataset no longer has them.
CLOSABLE: tuple[str, ...] = tuple(t for t, g in GRAPH_TABLES.items() if g.close is not None)
