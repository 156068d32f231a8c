"""A :class:`~ingest.snapshot.Snapshot` read back from Neo4j.

:func:`read_graph_tables` reads every table back as the normalised frame
``ingest.validate`` produces from the files, with one generated read query per
table (``TableCypher.read``, from the contract's table -> graph map: columns
named as the table's, dates as ISO text, ``$as_of`` pre-filtering in the database
what cannot be known by then), through the seam's ``read_frame``. The frames go
to the shared assembly (:func:`ingest.snapshot.assemble.assemble_snapshot`), the
same function a dataset folder ends in, so a folder and the graph loaded from it
give equal snapshots (``content_hash`` and frames).

What the graph holds and the files do not is handled by that shared assembly:
links a ``full`` load closed carry ``end`` (the closing run's ``as_of``), so
they are inactive from then on; external counterparties are read as what they
are (firms only known from links), i.e. not as rows of ``firms``.

Example::

    from ingest.snapshot import read_snapshot
    snap = read_snapshot(runner, as_of=date(2024, 6, 30))
"""

from __future__ import annotations

import json
from datetime import date
from typing import LiteralString

import pandas as pd

from graph.protocol import QueryRunner
from ingest.cypher import table_cypher
from ingest.snapshot.assemble import assemble_snapshot
from ingest.snapshot.model import Snapshot
from ingest.tables import CONTRACT, Contract, TableSpec

__all__ = ["ingested_currency", "read_graph_table", "read_graph_tables", "read_snapshot"]

_LATEST_INGEST: LiteralString = (
    "MATCH (r:Run {kind: 'ingest', status: 'committed'}) "
    "RETURN r.parameters AS parameters ORDER BY r.finished DESC LIMIT 1"
)


def read_graph_table(runner: QueryRunner, spec: TableSpec, *, as_of: date | None = None) -> pd.DataFrame:
    """One table read back from the graph, as ``ingest.validate`` normalises it, sorted by its key.

    With ``as_of``, rows that started, were published or observed after it stay in the database.
    """
    frame = runner.read_frame(table_cypher(spec).read, {"as_of": as_of})
    for col in spec.columns:
        if col.name not in frame.columns:  # an empty result has no columns
            frame[col.name] = pd.Series(dtype=object)
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


def read_graph_tables(
    runner: QueryRunner, *, as_of: date | None = None, contract: Contract = CONTRACT
) -> dict[str, pd.DataFrame]:
    """Every table of ``contract``, read back from the graph (empty frames for tables never loaded)."""
    return {t: read_graph_table(runner, contract[t], as_of=as_of) for t in contract.load_order}


def ingested_currency(runner: QueryRunner, default: str = "CNY") -> str:
    """The currency the latest committed ingest declared (``default`` when none)."""
    rows = runner.read(_LATEST_INGEST)
    if not rows or not rows[0]["parameters"]:
        return default
    try:
        return str(json.loads(rows[0]["parameters"]).get("currency") or default)
    except (TypeError, ValueError):
        return default


def read_snapshot(
    runner: QueryRunner, *, as_of: date, currency: str | None = None, contract: Contract = CONTRACT
) -> Snapshot:
    """Everything the graph knows as of ``as_of``, assembled exactly like a dataset folder.

    Parameters
    ----------
    runner : QueryRunner
    as_of : date
        Nothing published, started or observed after it is included.
    currency : str, optional
        Currency of money amounts; by default the one the latest committed ingest declared.
    contract : Contract
        The tables (default: the shipped contract).

    Returns
    -------
    Snapshot
    """
    tables = read_graph_tables(runner, as_of=as_of, contract=contract)
    return assemble_snapshot(tables, as_of=as_of, currency=currency or ingested_currency(runner))
