"""Read, validate and snapshot chainrisk datasets.

A dataset is a folder with a manifest (``dataset.yaml``) and one file per
table; ``docs/input-contract.md`` is the contract. Modules:

- ``ingest.manifest``      the manifest (:class:`Manifest`, :func:`read_manifest`)
- ``ingest.tables``        table contracts (:data:`TABLES`, :data:`LOAD_ORDER`)
- ``ingest.aliases``       Chinese / English header aliases
- ``ingest.reader``        find and stream table files (:func:`iter_raw_chunks`)
- ``ingest.validate``      per-table validation (:class:`TableValidator`, :func:`validate_table`)
- ``ingest.validate_rows`` value parsers
- ``ingest.quarantine``    write rejected rows
- ``ingest.classification`` five-category floors and flags
- ``ingest.lifecycle``     Dickinson lifecycle stages
- ``ingest.defaults``      the one default definition (:func:`default_dates`)
- ``ingest.snapshot_build`` tables -> :class:`~ingest.snapshot.Snapshot`

Names are imported lazily so that ``import ingest.uscc`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ingest.api import IngestProgress, StrictModeError, load_dataset
    from ingest.bulk_import import bulk_load
    from ingest.defaults import default_dates
    from ingest.loader import IngestReport, TableReport
    from ingest.manifest import Manifest, read_manifest
    from ingest.reader import RawChunk, find_table_file, iter_raw_chunks
    from ingest.snapshot import Snapshot
    from ingest.snapshot_build import assemble_snapshot, build_snapshot, read_tables, supply_shares
    from ingest.tables import LOAD_ORDER, TABLES, Column, TableSpec
    from ingest.validate import TableValidator, ValidatedChunk, validate_table

__all__ = [
    "LOAD_ORDER",
    "TABLES",
    "Column",
    "IngestProgress",
    "IngestReport",
    "Manifest",
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
    "read_tables",
    "supply_shares",
    "validate_table",
]

_HOME: dict[str, str] = {
    "LOAD_ORDER": "ingest.tables",
    "TABLES": "ingest.tables",
    "Column": "ingest.tables",
    "TableSpec": "ingest.tables",
    "Manifest": "ingest.manifest",
    "read_manifest": "ingest.manifest",
    "RawChunk": "ingest.reader",
    "find_table_file": "ingest.reader",
    "iter_raw_chunks": "ingest.reader",
    "Snapshot": "ingest.snapshot",
    "TableValidator": "ingest.validate",
    "ValidatedChunk": "ingest.validate",
    "validate_table": "ingest.validate",
    "assemble_snapshot": "ingest.snapshot_build",
    "build_snapshot": "ingest.snapshot_build",
    "read_tables": "ingest.snapshot_build",
    "supply_shares": "ingest.snapshot_build",
    "default_dates": "ingest.defaults",
    "load_dataset": "ingest.api",
    "StrictModeError": "ingest.api",
    "IngestProgress": "ingest.api",
    "IngestReport": "ingest.loader",
    "TableReport": "ingest.loader",
    "bulk_load": "ingest.bulk_import",
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
