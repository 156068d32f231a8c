"""The Cypher of a load: a ``MERGE`` and a first-load ``CREATE`` query per table.

How a batch is written
----------------------
Each table's query receives ``$rows``, a list of flat maps
``{k: identity key, h: row hash, a: start id, b: end id, t: 'firm'|'person', <column>: value, ...}``
(one entry per stored contract column; relationship tables add ``u``, the link's
``uid``, see below) and the run-level parameters ``$source``, ``$run_id`` and
``$now``. It

1. ``MERGE``\\ s the node or relationship on its constrained key (nodes: the label's
   unique key; relationships: the ``uid`` property, see below);
2. keeps only rows whose stored ``row_hash`` differs from the row's (or that were
   closed by a ``full`` load and have come back), so an unchanged row costs one
   index lookup and **writes nothing**;
3. ``SET``\\ s each contract column by name (a missing value removes the property),
   ``row_hash``, ``source`` and ``ingest_run`` (fact nodes also ``ingested_at``);
4. returns ``count(*) AS written``.

The queries are assembled at import from the table contract (``ingest.tables``):
property names come only from it and are checked to be identifiers; values are
only ``row`` fields and ``$parameters``. Properties are named one by one rather
than copied from a nested map (``SET r += row.p``): measured on a 2-core machine,
that and the flat row take a ``CREATE`` of supply links from 17k to 22k rels/s.

Provenance: a fact node carries ``row_hash``, ``source``, ``ingest_run`` and
``ingested_at``; a fact relationship ``row_hash``, ``source`` and ``ingest_run``
(the time is its run's: ``(:Run {run_id: r.ingest_run}).started``); a structural
link (``REPORTED``, ``HAS_SIGNAL``, ``ON_PLATFORM`` ...) ``source`` and ``ingest_run``.
Every stored property costs write time on the busiest tables, hence no copies.

The counts of a table then follow without reading anything first:
``created`` is the query's ``nodes_created`` (node tables) or ``relationships_created``
(relationship tables) counter, ``updated = written - created`` and
``unchanged = rows - written``. This works because endpoints are created by a
separate, earlier statement (:data:`ENSURE_FIRMS` ...), whose ``nodes_created`` is
the number of external counterparties; the load query itself only ``MATCH``\\ es them.

Relationship identity
---------------------
Neo4j cannot ``MERGE`` on a null property, and several identity columns are
optional, so every fact relationship is identified by its two endpoints and a
``key`` string (``""`` stands for a missing part):

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
of an expansion of every relationship of one endpoint. The ``key`` is not stored
apart (it is the end of the ``uid``, and its parts are properties). Links written
before schema version 2 (which stored ``key``) get their ``uid`` from ``uid_fill``
(the same text, computed in Cypher) before a table's first ``MERGE`` or closing.

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

import re
from dataclasses import dataclass
from typing import Literal, LiteralString, cast

from ingest.tables import TABLES

__all__ = [
    "CLOSABLE",
    "ENSURE_FIRMS",
    "ENSURE_PERSONS",
    "ENSURE_PLATFORMS",
    "GRAPH_TABLES",
    "ROW_FIELDS",
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

# ---------------------------------------------------------- query assembly
# The load queries are assembled once, at import, from the table contract
# (``ingest.tables.TABLES``): property names come only from there and are checked to
# be plain identifiers, and every value is a ``row`` field or a ``$parameter``. So the
# text is as fixed as a literal; ``_literal`` only tells the type checker so.
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")
#: Row fields the loader sets besides the contract columns (see the module docstring).
ROW_FIELDS: frozenset[str] = frozenset({"k", "h", "a", "b", "t", "u"})


def _literal(text: str) -> LiteralString:
    return cast(LiteralString, text)


def _checked(columns: tuple[str, ...]) -> tuple[str, ...]:
    for c in columns:
        if not _IDENT.fullmatch(c) or c in ROW_FIELDS:
            raise ValueError(f"column {c!r} cannot be a stored property")
    return columns


def _set(var: str, columns: tuple[str, ...]) -> str:
    """``n.`c` = row.`c`, ...``: a missing value (null) removes the property."""
    return ", ".join(f"{var}.`{c}` = row.`{c}`" for c in _checked(columns))


def _inline(columns: tuple[str, ...]) -> str:
    """``, `c`: row.`c`, ...`` inside a ``CREATE`` pattern (a null value is not stored)."""
    return "".join(f", `{c}`: row.`{c}`" for c in _checked(columns))


#: Provenance of a fact node, and of a fact relationship (its run holds the time).
_NODE_PROV = "row_hash: row.h, source: $source, ingest_run: $run_id, ingested_at: $now"
_REL_PROV = "row_hash: row.h, source: $source, ingest_run: $run_id"
#: Structural links (a firm's statement, a loan's status, ...) carry only who wrote them.
_LINK_PROV = "source: $source, ingest_run: $run_id"


@dataclass(frozen=True)
class _NodeShape:
    label: str
    id_prop: str
    props: tuple[str, ...]
    parent: tuple[str, str, str] | None  # (relationship type, parent label, parent key)


def _node_queries(shape: _NodeShape) -> tuple[LiteralString, LiteralString]:
    """The ``MERGE`` and the first-load ``CREATE`` query of a node table."""
    lab, idp = shape.label, shape.id_prop
    stored = tuple(c for c in shape.props if c != idp)
    extra = ", n.external = false" if lab == "Firm" else ""
    merge = (
        "UNWIND $rows AS row\n"
        f"MERGE (n:{lab} {{{idp}: row.k}})\n"
        "WITH n, row WHERE n.row_hash IS NULL OR n.row_hash <> row.h\n"
        f"SET {_set('n', stored)}{extra}, n.row_hash = row.h,\n"
        "    n.source = $source, n.ingest_run = $run_id, n.ingested_at = $now\n"
        "WITH n, row\n"
    )
    create = (
        "UNWIND $rows AS row\n"
        f"CREATE (n:{lab} {{{idp}: row.k{_inline(stored)}"
        f"{', external: false' if lab == 'Firm' else ''}, {_NODE_PROV}}})\n"
        "WITH n, row\n"
    )
    if lab == "Firm":
        # a firm's platform can change: the old link goes, the new one is merged
        merge += (
            "CALL (n, row) {\n"
            "  OPTIONAL MATCH (n)-[old:ON_PLATFORM]->(p:Platform)\n"
            "  WHERE p.platform_id <> coalesce(row.`platform`, '')\n"
            "  DELETE old\n"
            "}\n"
            "CALL (n, row) {\n"
            "  MATCH (p:Platform {platform_id: row.`platform`})\n"
            "  MERGE (n)-[e:ON_PLATFORM]->(p)\n"
            "  ON CREATE SET e.source = $source, e.ingest_run = $run_id\n"
            "}\n"
        )
        create += (
            "CALL (n, row) {\n"
            "  MATCH (p:Platform {platform_id: row.`platform`})\n"
            f"  CREATE (n)-[:ON_PLATFORM {{{_LINK_PROV}}}]->(p)\n"
            "}\n"
        )
    elif shape.parent is not None:
        rel, plab, pkey = shape.parent
        if lab == "Loan":
            # a corrected borrower moves the loan: the old BORROWED link goes
            merge += (
                "CALL (n, row) {\n"
                "  OPTIONAL MATCH (old:Firm)-[ob:BORROWED]->(n) WHERE old.uscc <> row.a\n"
                "  DELETE ob\n"
                "}\n"
            )
        merge += (
            "CALL (n, row) {\n"
            f"  MATCH (f:{plab} {{{pkey}: row.a}})\n"
            f"  MERGE (f)-[e:{rel}]->(n)\n"
            "  ON CREATE SET e.source = $source, e.ingest_run = $run_id\n"
            "}\n"
        )
        create += (
            "CALL (n, row) {\n"
            f"  MATCH (f:{plab} {{{pkey}: row.a}})\n"
            f"  CREATE (f)-[:{rel} {{{_LINK_PROV}}}]->(n)\n"
            "}\n"
        )
    tail = "RETURN count(*) AS written\n"
    return _literal(merge + tail), _literal(create + tail)


#: How the start node of a relationship row is found: a Firm, or a Firm or Person by ``row.t``.
_FIRM_START = "MATCH (a:Firm {uscc: row.a})\nMATCH (b:Firm {uscc: row.b})\n"
_PARTY_START = (
    "MATCH (b:Firm {uscc: row.b})\n"
    "OPTIONAL MATCH (af:Firm {uscc: row.a})\n"
    "OPTIONAL MATCH (ap:Person {person_id: row.a})\n"
    "WITH row, b, CASE row.t WHEN 'person' THEN ap ELSE af END AS a\n"
)


def _rel_queries(
    rel: str, props: tuple[str, ...], *, party: bool, closable: bool
) -> tuple[LiteralString, LiteralString]:
    """The incremental and the first-load ``CREATE`` query of a relationship table.

    The incremental query finds a link by its ``uid`` alone (a unique index seek),
    creates it when absent and updates it when its hash differs. It does not use
    ``MERGE (a)-[r]->(b)``: that locks both endpoints before it looks, so two batches
    writing links of the same hub firm deadlock and are retried whole (measured: 3
    retries in 10 batches of new supply links at 100k firms). Without ``MERGE`` the
    uniqueness constraint on ``uid`` is what keeps a link from being created twice: a
    concurrent writer of the same link fails instead of duplicating it, and one
    ingest's batches never share a ``uid`` (validation drops duplicate keys).
    """
    match = _PARTY_START if party else _FIRM_START
    reopen = " OR r.closed_by IS NOT NULL" if closable else ""
    create_link = f"CREATE (a)-[:{rel} {{uid: row.u{_inline(props)}, {_REL_PROV}}}]->(b)\n"
    indented = "".join(f"  {line}\n" for line in (match + create_link).splitlines())
    merge = (
        "UNWIND $rows AS row\n"
        f"OPTIONAL MATCH ()-[r:{rel} {{uid: row.u}}]->()\n"
        "CALL (row, r) {\n"
        "  WITH row, r WHERE r IS NULL\n"
        f"{indented}"
        "}\n"
        f"WITH row, r WHERE r IS NULL OR r.row_hash <> row.h{reopen}\n"
        "CALL (row, r) {\n"
        "  WITH r WHERE r IS NOT NULL\n"
        f"  SET {_set('r', props)}, r.row_hash = row.h,{' r.closed_by = null,' if closable else ''}\n"
        "      r.source = $source, r.ingest_run = $run_id\n"
        "}\n"
        "RETURN count(*) AS written\n"
    )
    create = "UNWIND $rows AS row\n" + match + create_link + "RETURN count(*) AS written\n"
    return _literal(merge), _literal(create)


_NODE_SHAPES: dict[str, _NodeShape] = {
    "firms": _NodeShape("Firm", "uscc", TABLES["firms"].column_names, None),
    "financials": _NodeShape("Financials", "key", TABLES["financials"].column_names,
                             ("REPORTED", "Firm", "uscc")),
    "loans": _NodeShape("Loan", "loan_id", TABLES["loans"].column_names, ("BORROWED", "Firm", "uscc")),
    "loan_status": _NodeShape("LoanStatus", "key", TABLES["loan_status"].column_names,
                              ("HAS_STATUS", "Loan", "loan_id")),
    "events": _NodeShape("Event", "key", TABLES["events"].column_names, ("HAS_EVENT", "Firm", "uscc")),
    "signals": _NodeShape("Signal", "key", TABLES["signals"].column_names, ("HAS_SIGNAL", "Firm", "uscc")),
}
_FIRMS, _FIRMS_CREATE = _node_queries(_NODE_SHAPES["firms"])
_FINANCIALS, _FINANCIALS_CREATE = _node_queries(_NODE_SHAPES["financials"])
_LOANS, _LOANS_CREATE = _node_queries(_NODE_SHAPES["loans"])
_LOAN_STATUS, _LOAN_STATUS_CREATE = _node_queries(_NODE_SHAPES["loan_status"])
_EVENTS, _EVENTS_CREATE = _node_queries(_NODE_SHAPES["events"])
_SIGNALS, _SIGNALS_CREATE = _node_queries(_NODE_SHAPES["signals"])

_SUPPLY_PROPS = ("annual_value", "start", "end")
_RECEIVABLES_PROPS = ("amount", "as_of", "days_outstanding")
_GUARANTEES_PROPS = ("guarantor_type", "loan_id", "amount", "start", "end")
_OWNERSHIP_PROPS = ("owner_type", "share", "start", "end")
_SUPPLY, _SUPPLY_CREATE = _rel_queries("SUPPLIES", _SUPPLY_PROPS, party=False, closable=True)
_RECEIVABLES, _RECEIVABLES_CREATE = _rel_queries("OWES", _RECEIVABLES_PROPS, party=False, closable=False)
_GUARANTEES, _GUARANTEES_CREATE = _rel_queries("GUARANTEES", _GUARANTEES_PROPS, party=True, closable=True)
_OWNERSHIP, _OWNERSHIP_CREATE = _rel_queries("OWNS", _OWNERSHIP_PROPS, party=True, closable=True)

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
    "SET r.end = $as_of, r.closed_by = $run_id, r.ingest_run = $run_id "
    "RETURN count(*) AS closed"
)
_CLOSE_GUARANTEES: LiteralString = (
    "UNWIND $ids AS id MATCH ()-[r:GUARANTEES]->() WHERE elementId(r) = id "
    "SET r.end = $as_of, r.closed_by = $run_id, r.ingest_run = $run_id "
    "RETURN count(*) AS closed"
)
_CLOSE_OWNERSHIP: LiteralString = (
    "UNWIND $ids AS id MATCH ()-[r:OWNS]->() WHERE elementId(r) = id "
    "SET r.end = $as_of, r.closed_by = $run_id, r.ingest_run = $run_id "
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
    target : str
        The label or relationship type written (its secondary indexes are built after a first load).
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
    #: The label (node tables) or relationship type (relationship tables) the table writes.
    target: str = ""

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
        target="Firm",
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
        target="Financials",
    ),
    "supply": GraphTable(
        "supply",
        _SUPPLY,
        "relationships_created",
        ("start",),
        Endpoint("supplier_uscc", _F),
        Endpoint("buyer_uscc", _F),
        _SUPPLY_PROPS,
        _COUNT_SUPPLIES,
        _SUPPLY_CREATE,
        _CLOSE_READ_SUPPLY,
        _CLOSE_SUPPLY,
        _UID_FILL_SUPPLY,
        target="SUPPLIES",
    ),
    "receivables": GraphTable(
        # debtor -> creditor: the debtor OWES the creditor
        "receivables",
        _RECEIVABLES,
        "relationships_created",
        ("as_of",),
        Endpoint("debtor_uscc", _F),
        Endpoint("creditor_uscc", _F),
        _RECEIVABLES_PROPS,
        _COUNT_OWES,
        _RECEIVABLES_CREATE,
        uid_fill=_UID_FILL_OWES,
        target="OWES",
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
        target="Loan",
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
        target="LoanStatus",
    ),
    "guarantees": GraphTable(
        "guarantees",
        _GUARANTEES,
        "relationships_created",
        ("loan_id", "start"),
        Endpoint("guarantor_id", "party", "guarantor_type"),
        Endpoint("borrower_uscc", _F),
        _GUARANTEES_PROPS,
        _COUNT_GUARANTEES,
        _GUARANTEES_CREATE,
        _CLOSE_READ_GUARANTEES,
        _CLOSE_GUARANTEES,
        _UID_FILL_GUARANTEES,
        target="GUARANTEES",
    ),
    "ownership": GraphTable(
        "ownership",
        _OWNERSHIP,
        "relationships_created",
        ("start",),
        Endpoint("owner_id", "party", "owner_type"),
        Endpoint("firm_uscc", _F),
        _OWNERSHIP_PROPS,
        _COUNT_OWNS,
        _OWNERSHIP_CREATE,
        _CLOSE_READ_OWNERSHIP,
        _CLOSE_OWNERSHIP,
        _UID_FILL_OWNS,
        target="OWNS",
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
        target="Event",
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
        target="Signal",
    ),
}

#: Tables whose links a ``full`` load closes when the dataset no longer has them.
CLOSABLE: tuple[str, ...] = tuple(t for t, g in GRAPH_TABLES.items() if g.close is not None)
