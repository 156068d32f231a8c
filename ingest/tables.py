"""The tables of a dataset folder: their columns, kinds, keys and load order.

Each table is one file (CSV, Parquet or JSON Lines; see ``ingest.reader``)
with one row per fact. Column kinds:

========  =====================================================================
kind      accepted values -> normalised value in validated frames
========  =====================================================================
str       any text, surrounding white space stripped -> ``str`` (``None`` missing)
uscc      18-character unified social credit code, any case -> upper-case ``str``
id        a firm's USCC or a person's pseudonymous id, decided by a type column
date      ``2024-06-30``, ``2024/6/30``, ``20240630``, ``2024年6月30日`` -> ``datetime64[ns]``
month     ``2024-06``, ``202406``, ``2024年6月`` or any date -> first day of the month
money     number, thousands separators allowed -> ``float64`` in yuan (x manifest unit)
float     number; ``85%`` -> 0.85 where the column allows percentages -> ``float64``
int       whole number -> ``Int64``
enum      one of the column's values or an alias of one -> canonical English value
bool      true/false, yes/no, 1/0, 是/否 -> ``bool``
========  =====================================================================

Each table also says where its rows go in the graph (:class:`NodeMap` or
:class:`RelMap`): this declaration is the ONE table -> graph map. The Bolt load
queries, the closing and uid-fill queries, the bulk importer's CSV headers and the
read-back queries of a snapshot are all generated from it (``ingest.cypher``,
``ingest.admin_import``, ``ingest.snapshot.from_graph``). Stored properties are not
listed: a node stores every column, a relationship every column but its two
endpoint ids, so adding a column to a table is the one edit that adds a property.

>>> TABLES["supply"].key
('supplier_uscc', 'buyer_uscc', 'start')
>>> TABLES["supply"].graph.type, TABLES["supply"].stored
('SUPPLIES', ('annual_value', 'start', 'end'))
>>> LOAD_ORDER[0]
'firms'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

__all__ = [
    "CLASSIFICATIONS",
    "CONTRACT",
    "ENDPOINT_NODES",
    "EVENT_TYPES",
    "LOAD_ORDER",
    "PROVENANCE",
    "TABLES",
    "Column",
    "ColumnKind",
    "Contract",
    "Endpoint",
    "EndpointKind",
    "NodeMap",
    "RelMap",
    "TableSpec",
]

ColumnKind = Literal["str", "uscc", "id", "date", "month", "money", "float", "int", "enum", "bool"]

#: The five categories, from best to worst (order matters: it is the severity rank).
CLASSIFICATIONS: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")

#: Event types (lower case). ``default`` and ``bankruptcy`` count as defaults (``ingest.default_definition``).
EVENT_TYPES: tuple[str, ...] = (
    "default",
    "bankruptcy",
    "overdue",
    "overdue_90",
    "lawsuit",
    "enforcement",
    "dishonest_debtor",
    "penalty",
    "equity_freeze",
    "restructuring",
    "management_change",
    "other",
)

SIZE_CLASSES: tuple[str, ...] = ("micro", "small", "medium", "large")
PARTY_TYPES: tuple[str, ...] = ("firm", "person")


@dataclass(frozen=True, kw_only=True)
class Column:
    """One column of a table.

    Attributes
    ----------
    name : str
        Canonical (English, snake_case) name.
    kind : ColumnKind
        How values are parsed and normalised (see the module docstring).
    required : bool
        The column must be present in the file and every row must have a value.
    values : tuple of str
        Canonical values of an ``enum`` column.
    min, max : float or None
        Inclusive range of ``money``/``float``/``int`` values (money: before the unit factor).
    percent : bool
        ``float`` only: accept ``85%`` as 0.85.
    default : str or None
        Value used when an optional column is absent or a value is missing.
    type_column : str or None
        ``id`` only: the enum column saying whether the id is a ``firm`` (USCC) or a ``person``.
    """

    name: str = field(kw_only=False)
    kind: ColumnKind = field(kw_only=False)
    required: bool = False
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    percent: bool = False
    default: str | None = None
    type_column: str | None = None


EndpointKind = Literal["firm", "person", "platform", "loan", "party"]

#: The node each endpoint kind names: (label, its key property). ``party`` is a Firm or a
#: Person, decided per row by the endpoint's ``type_column``.
ENDPOINT_NODES: Mapping[str, tuple[str, str]] = MappingProxyType({
    "firm": ("Firm", "uscc"),
    "person": ("Person", "person_id"),
    "platform": ("Platform", "platform_id"),
    "loan": ("Loan", "loan_id"),
})

#: Provenance properties every writer sets (Bolt and bulk alike). ``fact_node``: a node
#: of a node table; ``fact_link``: a relationship of a relationship table (its time is
#: its run's); ``structural``: a node's link to its parent (``REPORTED`` ...);
#: ``endpoint``: a node created only because a row names it (external firm, person, platform).
PROVENANCE: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "fact_node": ("row_hash", "source", "ingest_run", "ingested_at"),
    "fact_link": ("row_hash", "source", "ingest_run"),
    "structural": ("source", "ingest_run"),
    "endpoint": ("source", "ingest_run", "ingested_at"),
})


@dataclass(frozen=True, kw_only=True)
class Endpoint:
    """A column naming a node that a row links to.

    ``kind`` says which node (:data:`ENDPOINT_NODES`): ``firm`` (a USCC column; a
    firm not in ``firms`` is created as an external counterparty), ``platform``,
    ``loan`` (never created: a status of an unknown loan is stored without its link),
    or ``party`` (a Firm or a Person, by the row's ``type_column``).
    """

    column: str
    kind: EndpointKind
    type_column: str | None = None


@dataclass(frozen=True, kw_only=True)
class NodeMap:
    r"""Rows of a table become nodes.

    Attributes
    ----------
    label : str
        The node label.
    id_property : str
        The uniquely constrained property the load ``MERGE``\ s on: a column of the
        table (``uscc``, ``loan_id``), or ``key``, the key columns joined with ``|``
        (dates ``YYYY-MM-DD``, months ``YYYY-MM``).
    parent : Endpoint
        The node the fact hangs off, through ``link``.
    link : str
        Relationship type between the parent and the node.
    outgoing : bool
        ``True``: ``(node)-[link]->(parent)`` (a firm ``ON_PLATFORM``); ``False``:
        ``(parent)-[link]->(node)`` (a firm ``REPORTED`` its statement).
    fixed : tuple of (str, bool)
        Constant properties of every node the table writes (a firm from ``firms`` is
        ``external: false``); the read-back keeps only nodes that have them.
    """

    label: str
    id_property: str
    parent: Endpoint
    link: str
    outgoing: bool = False
    fixed: tuple[tuple[str, bool], ...] = ()


@dataclass(frozen=True, kw_only=True)
class RelMap:
    """Rows of a table become relationships ``(start)-[type]->(end)``.

    Each link is identified by ``uid = "<start id>|<end id>|<key>"``, the ``key``
    being the ``key`` columns joined with ``|`` (missing parts ``""``); ``uid`` is
    unique per type (``graph.schema``). ``closable`` links are ended (``end``, never
    deleted) by a ``full`` load that no longer holds them.
    """

    type: str
    start: Endpoint
    end: Endpoint
    key: tuple[str, ...]
    closable: bool = False


@dataclass(frozen=True, kw_only=True)
class TableSpec:
    """The contract of one table.

    Attributes
    ----------
    name : str
        Table name; also the file stem looked for (``supply.csv`` ...).
    columns : tuple of Column
    key : tuple of str
        Columns that identify a fact; rows sharing a key are duplicates (see
        ``ingest.validate`` for the rule: first occurrence wins).
    graph : NodeMap or RelMap
        Where the table's rows go in the graph.
    known_from : str or None
        The date column from which a row can be known (published, started, observed);
        ``None``: always known. Reads as of a date pre-filter on it in the database.
    optional : bool
        The table may be absent from a dataset.
    self_loop : tuple of str
        Two columns that must differ (supplier vs buyer ...); empty when none.
    order : tuple of str
        Two date columns ``(earlier, later)``: a row whose later is before its earlier is rejected.
    """

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    graph: NodeMap | RelMap
    known_from: str | None = None
    optional: bool = True
    self_loop: tuple[str, ...] = ()
    order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = self.column_names
        for c in names:
            if not _IDENT.fullmatch(c) or c in _RESERVED:
                raise ValueError(f"table {self.name!r}: column {c!r} cannot be a graph property name")
        g = self.graph
        ends = (g.parent,) if isinstance(g, NodeMap) else (g.start, g.end)
        used = [e.column for e in ends] + [e.type_column for e in ends if e.type_column]
        used += list(g.key) if isinstance(g, RelMap) else []
        used += [self.known_from] if self.known_from else []
        if isinstance(g, NodeMap) and g.id_property != "key":
            used.append(g.id_property)
        missing = [c for c in used if c not in names]
        if missing:
            raise ValueError(f"table {self.name!r}: the graph map names unknown column(s) {missing}")
        labels = [g.label, g.link] if isinstance(g, NodeMap) else [g.type]
        labels += [p for p, _ in g.fixed] if isinstance(g, NodeMap) else []
        for name in labels:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ValueError(f"table {self.name!r}: {name!r} cannot be a label, type or property")

    @property
    def column_names(self) -> tuple[str, ...]:
        """Canonical column names, in contract order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name`` (``KeyError`` if none)."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def is_relationship(self) -> bool:
        return isinstance(self.graph, RelMap)

    @property
    def stored(self) -> tuple[str, ...]:
        """Columns stored as properties (besides the node's id property): a node stores
        every column, a relationship every column but its endpoint ids."""
        g = self.graph
        if isinstance(g, RelMap):
            return tuple(c for c in self.column_names if c not in (g.start.column, g.end.column))
        return tuple(c for c in self.column_names if c != g.id_property)

    @property
    def identity(self) -> tuple[str, ...]:
        """Columns whose ``|``-joined text is the fact's identity key (``row.k``): a node's
        id (its id column, or the table key for ``key``), a relationship's ``key``."""
        g = self.graph
        if isinstance(g, RelMap):
            return g.key
        return self.key if g.id_property == "key" else (g.id_property,)

    @property
    def target(self) -> str:
        """The label (node tables) or relationship type (relationship tables) written."""
        g = self.graph
        return g.type if isinstance(g, RelMap) else g.label


#: Names a row map uses for its own fields (``ingest.cypher``): never a column.
_RESERVED = frozenset({"k", "h", "a", "b", "t", "u"})
_IDENT = re.compile(r"[a-z_][a-z0-9_]*")


_NONNEG = 0.0

TABLES: dict[str, TableSpec] = {
    "firms": TableSpec(
        name="firms",
        columns=(
            Column("uscc", "uscc", required=True),
            Column("name", "str", required=True),
            Column("industry", "str"),  # GB/T 4754 code, e.g. "C3311"
            Column("sector", "str"),  # section letter; derived from industry when absent
            Column("region", "str"),  # 6-digit administrative division code
            Column("size_class", "enum", values=SIZE_CLASSES),
            Column("founded", "date"),
            Column("employees", "int", min=_NONNEG),
            Column("registered_capital", "money", min=_NONNEG),
            Column("platform", "str"),  # defaults to the manifest's source
        ),
        key=("uscc",),
        graph=NodeMap(label="Firm", id_property="uscc", parent=Endpoint(column="platform", kind="platform"),
                      link="ON_PLATFORM", outgoing=True, fixed=(("external", False),)),
        optional=False,
    ),
    "financials": TableSpec(
        name="financials",
        columns=(
            Column("uscc", "uscc", required=True),
            Column("period_end", "date", required=True),
            Column("published", "date", required=True),
            Column("total_assets", "money", min=_NONNEG),
            Column("total_liabilities", "money", min=_NONNEG),
            Column("equity", "money"),  # may be negative
            Column("revenue", "money", min=_NONNEG),
            Column("operating_cf", "money"),
            Column("investing_cf", "money"),
            Column("financing_cf", "money"),
        ),
        key=("uscc", "period_end"),
        graph=NodeMap(label="Financials", id_property="key", parent=Endpoint(column="uscc", kind="firm"),
                      link="REPORTED"),
        known_from="published",
        order=("period_end", "published"),
    ),
    "supply": TableSpec(
        name="supply",
        columns=(
            Column("supplier_uscc", "uscc", required=True),
            Column("buyer_uscc", "uscc", required=True),
            Column("annual_value", "money", required=True, min=_NONNEG),
            Column("start", "date", required=True),
            Column("end", "date"),
        ),
        key=("supplier_uscc", "buyer_uscc", "start"),
        graph=RelMap(type="SUPPLIES", start=Endpoint(column="supplier_uscc", kind="firm"),
                     end=Endpoint(column="buyer_uscc", kind="firm"), key=("start",), closable=True),
        known_from="start",
        self_loop=("supplier_uscc", "buyer_uscc"),
        order=("start", "end"),
    ),
    "receivables": TableSpec(
        name="receivables",
        columns=(
            Column("creditor_uscc", "uscc", required=True),
            Column("debtor_uscc", "uscc", required=True),
            Column("as_of", "date", required=True),
            Column("amount", "money", required=True, min=_NONNEG),
            Column("days_outstanding", "float", min=_NONNEG),
        ),
        key=("creditor_uscc", "debtor_uscc", "as_of"),
        # debtor -> creditor: the debtor OWES the creditor
        graph=RelMap(type="OWES", start=Endpoint(column="debtor_uscc", kind="firm"),
                     end=Endpoint(column="creditor_uscc", kind="firm"), key=("as_of",)),
        known_from="as_of",
        self_loop=("creditor_uscc", "debtor_uscc"),
    ),
    "guarantees": TableSpec(
        name="guarantees",
        columns=(
            Column("guarantor_id", "id", required=True, type_column="guarantor_type"),
            Column("guarantor_type", "enum", values=PARTY_TYPES, default="firm"),
            Column("borrower_uscc", "uscc", required=True),
            Column("loan_id", "str"),
            Column("amount", "money", required=True, min=_NONNEG),
            Column("start", "date", required=True),
            Column("end", "date"),
        ),
        key=("guarantor_id", "borrower_uscc", "loan_id", "start"),
        graph=RelMap(type="GUARANTEES",
                     start=Endpoint(column="guarantor_id", kind="party", type_column="guarantor_type"),
                     end=Endpoint(column="borrower_uscc", kind="firm"), key=("loan_id", "start"),
                     closable=True),
        known_from="start",
        self_loop=("guarantor_id", "borrower_uscc"),
        order=("start", "end"),
    ),
    "loans": TableSpec(
        name="loans",
        columns=(
            Column("loan_id", "str", required=True),
            Column("borrower_uscc", "uscc", required=True),
            Column("lender", "str", required=True),
            Column("principal", "money", required=True, min=_NONNEG),
            Column("limit", "money", min=_NONNEG),
            Column("currency", "str"),  # defaults to the manifest's currency
            Column("start", "date", required=True),
            Column("maturity", "date"),
            Column("collateral_type", "str"),
            Column("collateral_value", "money", min=_NONNEG),
            Column("lgd", "float", min=0.0, max=1.0, percent=True),
        ),
        key=("loan_id",),
        graph=NodeMap(label="Loan", id_property="loan_id",
                      parent=Endpoint(column="borrower_uscc", kind="firm"), link="BORROWED"),
        known_from="start",
        order=("start", "maturity"),
    ),
    "loan_status": TableSpec(
        name="loan_status",
        columns=(
            Column("loan_id", "str", required=True),
            Column("month", "month", required=True),
            Column("outstanding", "money", required=True, min=_NONNEG),
            Column("days_overdue", "int", required=True, min=_NONNEG),
            Column("classification", "enum", required=True, values=CLASSIFICATIONS),
        ),
        key=("loan_id", "month"),
        graph=NodeMap(label="LoanStatus", id_property="key", parent=Endpoint(column="loan_id", kind="loan"),
                      link="HAS_STATUS"),
        known_from="month",
    ),
    "events": TableSpec(
        name="events",
        columns=(
            Column("uscc", "uscc", required=True),
            Column("date", "date", required=True),
            Column("type", "enum", required=True, values=EVENT_TYPES),
            Column("amount", "money", min=_NONNEG),
            Column("description", "str"),
        ),
        key=("uscc", "date", "type"),
        graph=NodeMap(label="Event", id_property="key", parent=Endpoint(column="uscc", kind="firm"),
                      link="HAS_EVENT"),
        known_from="date",
    ),
    "signals": TableSpec(
        name="signals",
        columns=(
            Column("uscc", "uscc", required=True),
            Column("month", "month", required=True),
            Column("electricity_kwh", "float", min=_NONNEG),
            Column("equipment_utilization", "float", min=0.0, max=1.0, percent=True),
            Column("orders", "money", min=_NONNEG),
            Column("invoices", "money", min=_NONNEG),
            Column("receivable_days", "float", min=_NONNEG),
        ),
        key=("uscc", "month"),
        graph=NodeMap(label="Signal", id_property="key", parent=Endpoint(column="uscc", kind="firm"),
                      link="HAS_SIGNAL"),
        known_from="month",
    ),
    "ownership": TableSpec(
        name="ownership",
        columns=(
            Column("owner_id", "id", required=True, type_column="owner_type"),
            Column("owner_type", "enum", values=PARTY_TYPES, default="firm"),
            Column("firm_uscc", "uscc", required=True),
            Column("share", "float", required=True, min=0.0, max=1.0, percent=True),
            Column("start", "date"),  # missing: held since before the data begin
            Column("end", "date"),
        ),
        key=("owner_id", "firm_uscc", "start"),
        graph=RelMap(type="OWNS", start=Endpoint(column="owner_id", kind="party", type_column="owner_type"),
                     end=Endpoint(column="firm_uscc", kind="firm"), key=("start",), closable=True),
        known_from="start",
        self_loop=("owner_id", "firm_uscc"),
        order=("start", "end"),
    ),
}

#: Firms first (every other table refers to them), loans before their statuses.
LOAD_ORDER: tuple[str, ...] = (
    "firms",
    "financials",
    "supply",
    "receivables",
    "loans",
    "loan_status",
    "guarantees",
    "ownership",
    "events",
    "signals",
)


@dataclass(frozen=True)
class Contract:
    """The tables of a dataset and their load order: what every sink reads and writes.

    Pipelines take a ``contract`` (default :data:`CONTRACT`) so that a test, or a bank
    extending the contract, can add a column in one place and see it validated,
    loaded, bulk-imported and read back.
    """

    tables: Mapping[str, TableSpec]
    load_order: tuple[str, ...]

    def __post_init__(self) -> None:
        if set(self.tables) != set(self.load_order) or len(set(self.load_order)) != len(self.load_order):
            raise ValueError("a contract's load order must name each of its tables once")

    def __getitem__(self, table: str) -> TableSpec:
        return self.tables[table]

    def with_table(self, spec: TableSpec) -> Contract:
        """This contract with ``spec`` replacing the table of the same name."""
        if spec.name not in self.tables:
            raise KeyError(spec.name)
        return Contract({**self.tables, spec.name: spec}, self.load_order)


#: The shipped contract (``docs/input-contract.md``).
CONTRACT = Contract(MappingProxyType(TABLES), LOAD_ORDER)
