"""Read, validate, load and snapshot chainrisk datasets.

A dataset is a folder with a manifest (``dataset.yaml``) and one file per
table; ``docs/input-contract.md`` is the contract. Modules, from the contract
outwards:

The contract
  - ``ingest.tables``        tables, columns, keys, load order, and the ONE table -> graph map
                             (:data:`TABLES`, :data:`CONTRACT`, :class:`NodeMap`, :class:`RelMap`)
  - ``ingest.manifest``      the manifest (:class:`Manifest`, :func:`read_manifest`)
  - ``ingest.aliases``       Chinese / English header aliases
  - ``ingest.uscc``          the USCC check, scalar and vectorised
  - ``ingest.default_definition`` the one default definition (:func:`default_dates`)
  - ``ingest.classification`` five-category floors and flags
  - ``ingest.lifecycle``     Dickinson lifecycle stages

Reading and validating
  - ``ingest.reader``        find and stream table files (:func:`iter_raw_chunks`)
  - ``ingest.parse``         column (value) parsers
  - ``ingest.validate``      per-table validation (:class:`TableValidator`, :func:`validate_table`)
  - ``ingest.validate_worker`` validation in a worker process
  - ``ingest.quarantine``    write rejected rows
  - ``ingest.dataset``       the one validated-dataset stream every sink consumes (:class:`DatasetStream`)
  - ``ingest.report``        the one report type and progress protocol
                             (:class:`IngestReport`, :class:`Progress`)

Sinks
  - ``ingest.rows``          canonical values, row hashes and driver-ready rows
  - ``ingest.cypher``        every table's Cypher, generated from the map (:func:`table_cypher`)
  - ``ingest.table_loader``  one table's chunks into Neo4j, in batches (:class:`TableLoader`)
  - ``ingest.load``          a dataset into Neo4j as one ingest run (:func:`load_dataset`)
  - ``ingest.offline_import`` a first load through ``neo4j-admin database import`` (:func:`bulk_load`)
  - ``ingest.offline_import_csv`` the importer's CSV files, column by column
  - ``ingest.snapshot``      what is known as of a date, from files or from the graph (:class:`Snapshot`)
  - ``ingest.generate``      the synthetic platform generator

Names are imported lazily so that ``import ingest.uscc`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ingest.dataset import DatasetStream
    from ingest.default_definition import default_dates
    from ingest.load import StrictModeError, load_dataset
    from ingest.manifest import Manifest, read_manifest
    from ingest.offline_import import bulk_load
    from ingest.reader import RawChunk, find_table_file, iter_raw_chunks
    from ingest.report import IngestReport, Progress, TableReport
    from ingest.snapshot import Snapshot, assemble_snapshot, build_snapshot, read_snapshot, supply_shares
    from ingest.tables import CONTRACT, LOAD_ORDER, TABLES, Column, Contract, TableSpec
    from ingest.validate import TableValidator, ValidatedChunk, validate_table

__all__ = [
    "CONTRACT",
    "LOAD_ORDER",
    "TABLES",
    "Column",
    "Contract",
    "DatasetStream",
    "IngestReport",
    "Manifest",
    "Progress",
    "RawChunk",
    "Snapshot",
    "StrictModeError",
    "TableReport",
    "TableSpec",
    "TableValidator",
    "ValidatedChunk",
    "assemble_snapshot",
    "build_snapshot",
    "bulk_load",
    "default_dates",
    "find_table_file",
    "iter_raw_chunks",
    "load_dataset",
    "read_manifest",
    "read_snapshot",
    "supply_shares",
    "validate_table",
]

_HOME: dict[str, str] = {
    "CONTRACT": "ingest.tables",
    "LOAD_ORDER": "ingest.tables",
    "TABLES": "ingest.tables",
    "Column": "ingest.tables",
    "Contract": "ingest.tables",
    "TableSpec": "ingest.tables",
    "DatasetStream": "ingest.dataset",
    "Manifest": "ingest.manifest",
    "read_manifest": "ingest.manifest",
    "RawChunk": "ingest.reader",
    "find_table_file": "ingest.reader",
    "iter_raw_chunks": "ingest.reader",
    "Snapshot": "ingest.snapshot",
    "assemble_snapshot": "ingest.snapshot",
    "build_snapshot": "ingest.snapshot",
    "read_snapshot": "ingest.snapshot",
    "supply_shares": "ingest.snapshot",
    "TableValidator": "ingest.validate",
    "ValidatedChunk": "ingest.validate",
    "validate_table": "ingest.validate",
    "default_dates": "ingest.default_definition",
    "load_dataset": "ingest.load",
    "StrictModeError": "ingest.load",
    "IngestReport": "ingest.report",
    "Progress": "ingest.report",
    "TableReport": "ingest.report",
    "bulk_load": "ingest.offline_import",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'ingest' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
