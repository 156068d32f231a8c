"""A :class:`~ingest.snapshot.Snapshot` from a dataset folder, without a server.

The folder is read through the one dataset stream (:class:`ingest.dataset.DatasetStream`):
every table is validated as a load would validate it, bad rows are skipped (and
written to a quarantine folder only when one is given), and the good rows go to
the shared assembly (:func:`ingest.snapshot.assemble.assemble_snapshot`).

Example::

    from ingest.snapshot import build_snapshot
    snap = build_snapshot("data/sample", as_of=date(2024, 6, 30))
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pandas as pd

from ingest.dataset import DEFAULT_CHUNKSIZE, DatasetStream
from ingest.manifest import read_manifest
from ingest.snapshot.assemble import assemble_snapshot
from ingest.snapshot.model import Snapshot
from ingest.tables import CONTRACT, Contract
from ingest.validate import empty_good

__all__ = ["build_snapshot", "read_dataset_tables"]

log = logging.getLogger(__name__)


def read_dataset_tables(
    dataset_dir: str | Path,
    *,
    chunksize: int = DEFAULT_CHUNKSIZE,
    quarantine_dir: str | Path | None = None,
    contract: Contract = CONTRACT,
) -> dict[str, pd.DataFrame]:
    """Validate every table of ``dataset_dir`` and return the good rows per table.

    Bad rows are skipped (written to ``quarantine_dir`` when given; nothing is written
    into the dataset folder otherwise); warnings are logged. Absent optional tables are
    omitted from the result; a table whose file holds no good row is an empty frame.
    """
    out: dict[str, pd.DataFrame] = {}
    with DatasetStream(dataset_dir, contract=contract, chunksize=chunksize, quarantine_dir=quarantine_dir,
                       write_quarantine=quarantine_dir is not None, parallel=False) as stream:
        for table in stream:
            parts = list(table)
            for w in table.report.warnings:
                log.warning("%s", w)
            out[table.name] = pd.concat(parts, ignore_index=True) if parts else empty_good(table.spec)
    return out


def build_snapshot(
    dataset_dir: str | Path,
    *,
    as_of: date | None = None,
    quarantine_dir: str | Path | None = None,
    contract: Contract = CONTRACT,
) -> Snapshot:
    """The snapshot of a dataset folder as of ``as_of`` (default: the manifest's).

    Parameters
    ----------
    dataset_dir : str or Path
    as_of : date, optional
    quarantine_dir : str or Path, optional
        Where to write the rows skipped as bad (see ``ingest.quarantine``).
    contract : Contract
        The tables (default: the shipped contract).

    Raises
    ------
    DatasetError
        The folder, manifest or a table cannot be read.
    """
    manifest = read_manifest(Path(dataset_dir))
    tables = read_dataset_tables(dataset_dir, quarantine_dir=quarantine_dir, contract=contract)
    return assemble_snapshot(tables, as_of=as_of or manifest.as_of, currency=manifest.currency)
