"""Read a :class:`~ingest.snapshot.Snapshot` back from Neo4j.

:func:`read_snapshot` reads every ingested table back as the normalised frame
``ingest.validate`` produced from the files (one literal query per table,
streamed), then hands the frames to ``ingest.snapshot_build.assemble_snapshot``:
the same function :func:`ingest.snapshot_build.build_snapshot` ends in, so a
dataset folder and the graph loaded from it give equal snapshots
(``content_hash`` and frames).

What the graph holds and the files do not is handled by that shared assembly:
links a ``full`` load closed carry ``end`` (the closing run's ``as_of``), so
they are inactive from then on; external counterparties are read as what they
are (firms only known from links), i.e. not as rows of ``firms``.

Example::

    from graph.snapshot_io import read_snapshot
    snap = read_snapshot(runner, as_of=date(2024, 6, 30))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any, LiteralString

import pandas as pd

from graph.runner import GraphRunner
from ingest.snapshot import Snapshot
from ingest.tables import TABLES

__all__ = ["READ_QUERIES", "read_snapshot", "read_table", "read_tables"]

#: One literal read per table; columns named as the table's canonical columns, dates as ISO text.
#: ``$as_of`` (or null for everything) pre-filters in the database what cannot be known by that
#: date; the shared assembly then applies the exact rules (e.g. a month is observed at its end).
READ_QUERIES: dict[str, LiteralString] = {
    "firms": (
        "MATCH (n:Firm) WHERE n.external = false "
        "RETURN n.uscc AS uscc, n.name AS name, n.industry AS industry, n.sector AS sector, "
        "n.region AS region, n.size_class AS size_class, toString(n.founded) AS founded, "
        "n.employees AS employees, n.registered_capital AS registered_capital, n.platform AS platform"
    ),
    "financials": (
        "MATCH (n:Financials) WHERE $as_of IS NULL OR n.published IS NULL OR n.published <= $as_of "
        "RETURN n.uscc AS uscc, toString(n.period_end) AS period_end, toString(n.published) AS published, "
        "n.total_assets AS total_assets, n.total_liabilities AS total_liabilities, n.equity AS equity, "
        "n.revenue AS revenue, n.operating_cf AS operating_cf, n.investing_cf AS investing_cf, "
        "n.financing_cf AS financing_cf"
    ),
    "supply": (
        "MATCH (a:Firm)-[r:SUPPLIES]->(b:Firm) WHERE $as_of IS NULL OR r.start IS NULL OR r.start <= $as_of "
        "RETURN a.uscc AS supplier_uscc, b.uscc AS buyer_uscc, r.annual_value AS annual_value, "
        "toString(r.start) AS start, toString(r.end) AS end"
    ),
    "receivables": (
        "MATCH (d:Firm)-[r:OWES]->(c:Firm) WHERE $as_of IS NULL OR r.as_of IS NULL OR r.as_of <= $as_of "
        "RETURN c.uscc AS creditor_uscc, d.uscc AS debtor_uscc, toString(r.as_of) AS as_of, "
        "r.amount AS amount, r.days_outstanding AS days_outstanding"
    ),
    "guarantees": (
        "MATCH (g)-[r:GUARANTEES]->(b:Firm) WHERE $as_of IS NULL OR r.start IS NULL OR r.start <= $as_of "
        "RETURN coalesce(g.uscc, g.person_id) AS guarantor_id, r.guarantor_type AS guarantor_type, "
        "b.uscc AS borrower_uscc, r.loan_id AS loan_id, r.amount AS amount, "
        "toString(r.start) AS start, toString(r.end) AS end"
    ),
    "loans": (
        "MATCH (n:Loan) WHERE $as_of IS NULL OR n.start IS NULL OR n.start <= $as_of "
        "RETURN n.loan_id AS loan_id, n.borrower_uscc AS borrower_uscc, n.lender AS lender, "
        "n.principal AS principal, n.limit AS limit, n.currency AS currency, toString(n.start) AS start, "
        "toString(n.maturity) AS maturity, n.collateral_type AS collateral_type, "
        "n.collateral_value AS collateral_value, n.lgd AS lgd"
    ),
    "loan_status": (
        "MATCH (n:LoanStatus) WHERE $as_of IS NULL OR n.month <= $as_of "
        "RETURN n.loan_id AS loan_id, toString(n.month) AS month, n.outstanding AS outstanding, "
        "n.days_overdue AS days_overdue, n.classification AS classification"
    ),
    "events": (
        "MATCH (n:Event) WHERE $as_of IS NULL OR n.date <= $as_of "
        "RETURN n.uscc AS uscc, toString(n.date) AS date, n.type AS type, n.amount AS amount, "
        "n.description AS description"
    ),
    "signals": (
        "MATCH (n:Signal) WHERE $as_of IS NULL OR n.month <= $as_of "
        "RETURN n.uscc AS uscc, toString(n.month) AS month, n.electricity_kwh AS electricity_kwh, "
        "n.equipment_utilization AS equipment_utilization, n.orders AS orders, n.invoices AS invoices, "
        "n.receivable_days AS receivable_days"
    ),
    "ownership": (
        "MATCH (o)-[r:OWNS]->(f:Firm) WHERE $as_of IS NULL OR r.start IS NULL OR r.start <= $as_of "
        "RETURN coalesce(o.uscc, o.person_id) AS owner_id, r.owner_type AS owner_type, "
        "f.uscc AS firm_uscc, r.share AS share, toString(r.start) AS start, toString(r.end) AS end"
    ),
}

_LATEST_INGEST: LiteralString = (
    "MATCH (r:Run {kind: 'ingest', status: 'committed'}) "
    "RETURN r.parameters AS parameters ORDER BY r.finished DESC LIMIT 1"
)


def _stream(runner: GraphRunner, query: LiteralString, params: Mapping[str, Any]) -> pd.DataFrame:
    """Run a read and build a frame from its records, without a dict per record."""

    def work(tx: Any) -> pd.DataFrame:
        result = tx.run(query, dict(params))
        keys = list(result.keys())
        rows = [tuple(rec.values()) for rec in result]
        return pd.DataFrame.from_records(rows, columns=keys)

    frame: pd.DataFrame = runner.execute_read(work)
    return frame


def read_table(runner: GraphRunner, table: str, *, as_of: date | None = None) -> pd.DataFrame:
    """One table read back from the graph, as ``ingest.validate`` normalises it, sorted by its key.

    With ``as_of``, rows that started, were published or observed after it stay in the database.
    """
    spec = TABLES[table]
    frame = _stream(runner, READ_QUERIES[table], {"as_of": as_of})
    for col in spec.columns:
        if col.kind in ("date", "month"):
            frame[col.name] = pd.to_datetime(frame[col.name], format="%Y-%m-%d").astype("datetime64[ns]")
        elif col.kind in ("money", "float"):
            frame[col.name] = pd.to_numeric(frame[col.name]).astype("float64")
        elif col.kind == "int":
            frame[col.name] = pd.array(frame[col.name].tolist(), dtype="Int64")
        else:
            frame[col.name] = frame[col.name].astype(object).where(frame[col.name].notna(), None)
    frame = frame.loc[:, list(spec.column_names)]
    # The files' order is not stored; the table key is a total order both routes share.
    return frame.sort_values(list(spec.key), kind="stable", na_position="first").reset_index(drop=True)


def read_tables(runner: GraphRunner, *, as_of: date | None = None) -> dict[str, pd.DataFrame]:
    """Every ingested table, read back from the graph (empty frames for tables never loaded)."""
    return {table: read_table(runner, table, as_of=as_of) for table in READ_QUERIES}


def ingested_currency(runner: GraphRunner, default: str = "CNY") -> str:
    """The currency the latest committed ingest declared (``default`` when none)."""
    rows = runner.read(_LATEST_INGEST)
    if not rows or not rows[0]["parameters"]:
        return default
    try:
        return str(json.loads(rows[0]["parameters"]).get("currency") or default)
    except (TypeError, ValueError):
        return default


def read_snapshot(runner: GraphRunner, *, as_of: date, currency: str | None = None) -> Snapshot:
    """Everything the graph knows as of ``as_of``, assembled exactly like a dataset folder.

    Parameters
    ----------
    runner : GraphRunner
    as_of : date
        Nothing published, started or observed after it is included.
    currency : str, optional
        Currency of money amounts; by default the one the latest committed ingest declared.

    Returns
    -------
    Snapshot
    """
    from ingest.snapshot_build import assemble_snapshot

    tables = read_tables(runner, as_of=as_of)
    return assemble_snapshot(tables, as_of=as_of, currency=currency or ingested_currency(runner))
