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

>>> TABLES["supply"].key
('supplier_uscc', 'buyer_uscc', 'start')
>>> LOAD_ORDER[0]
'firms'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CLASSIFICATIONS",
    "EVENT_TYPES",
    "LOAD_ORDER",
    "TABLES",
    "Column",
    "ColumnKind",
    "TableSpec",
]

ColumnKind = Literal["str", "uscc", "id", "date", "month", "money", "float", "int", "enum", "bool"]

#: The five categories, from best to worst (order matters: it is the severity rank).
CLASSIFICATIONS: tuple[str, ...] = ("normal", "special_mention", "substandard", "doubtful", "loss")

#: Event types (lower case). ``default`` and ``bankruptcy`` count as defaults (``ingest.defaults``).
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


@dataclass(frozen=True)
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

    name: str
    kind: ColumnKind
    required: bool = False
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    percent: bool = False
    default: str | None = None
    type_column: str | None = None


@dataclass(frozen=True)
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
    optional: bool = True
    self_loop: tuple[str, ...] = ()
    order: tuple[str, ...] = ()

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


_NONNEG = 0.0

TABLES: dict[str, TableSpec] = {
    "firms": TableSpec(
        "firms",
        (
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
        optional=False,
    ),
    "financials": TableSpec(
        "financials",
        (
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
        order=("period_end", "published"),
    ),
    "supply": TableSpec(
        "supply",
        (
            Column("supplier_uscc", "uscc", required=True),
            Column("buyer_uscc", "uscc", required=True),
            Column("annual_value", "money", required=True, min=_NONNEG),
            Column("start", "date", required=True),
            Column("end", "date"),
        ),
        key=("supplier_uscc", "buyer_uscc", "start"),
        self_loop=("supplier_uscc", "buyer_uscc"),
        order=("start", "end"),
    ),
    "receivables": TableSpec(
        "receivables",
        (
            Column("creditor_uscc", "uscc", required=True),
            Column("debtor_uscc", "uscc", required=True),
            Column("as_of", "date", required=True),
            Column("amount", "money", required=True, min=_NONNEG),
            Column("days_outstanding", "float", min=_NONNEG),
        ),
        key=("creditor_uscc", "debtor_uscc", "as_of"),
        self_loop=("creditor_uscc", "debtor_uscc"),
    ),
    "guarantees": TableSpec(
        "guarantees",
        (
            Column("guarantor_id", "id", required=True, type_column="guarantor_type"),
            Column("guarantor_type", "enum", values=PARTY_TYPES, default="firm"),
            Column("borrower_uscc", "uscc", required=True),
            Column("loan_id", "str"),
            Column("amount", "money", required=True, min=_NONNEG),
            Column("start", "date", required=True),
            Column("end", "date"),
        ),
        key=("guarantor_id", "borrower_uscc", "loan_id", "start"),
        self_loop=("guarantor_id", "borrower_uscc"),
        order=("start", "end"),
    ),
    "loans": TableSpec(
        "loans",
        (
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
        order=("start", "maturity"),
    ),
    "loan_status": TableSpec(
        "loan_status",
        (
            Column("loan_id", "str", required=True),
            Column("month", "month", required=True),
            Column("outstanding", "money", required=True, min=_NONNEG),
            Column("days_overdue", "int", required=True, min=_NONNEG),
            Column("classification", "enum", required=True, values=CLASSIFICATIONS),
        ),
        key=("loan_id", "month"),
    ),
    "events": TableSpec(
        "events",
        (
            Column("uscc", "uscc", required=True),
            Column("date", "date", required=True),
            Column("type", "enum", required=True, values=EVENT_TYPES),
            Column("amount", "money", min=_NONNEG),
            Column("description", "str"),
        ),
        key=("uscc", "date", "type"),
    ),
    "signals": TableSpec(
        "signals",
        (
            Column("uscc", "uscc", required=True),
            Column("month", "month", required=True),
            Column("electricity_kwh", "float", min=_NONNEG),
            Column("equipment_utilization", "float", min=0.0, max=1.0, percent=True),
            Column("orders", "money", min=_NONNEG),
            Column("invoices", "money", min=_NONNEG),
            Column("receivable_days", "float", min=_NONNEG),
        ),
        key=("uscc", "month"),
    ),
    "ownership": TableSpec(
        "ownership",
        (
            Column("owner_id", "id", required=True, type_column="owner_type"),
            Column("owner_type", "enum", values=PARTY_TYPES, default="firm"),
            Column("firm_uscc", "uscc", required=True),
            Column("share", "float", required=True, min=0.0, max=1.0, percent=True),
            Column("start", "date"),  # missing: held since before the data begin
            Column("end", "date"),
        ),
        key=("owner_id", "firm_uscc", "start"),
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
