"""The one validated-dataset stream that every sink consumes.

A dataset folder is read the same way whatever happens to its rows next: the Bolt
load (:func:`ingest.load.load_dataset`), the offline import
(:func:`ingest.offline_import.write_import_csvs`) and the snapshot from files
(:func:`ingest.snapshot.from_files.read_dataset_tables`) all iterate a
:class:`DatasetStream`. It

1. reads the manifest and finds the contract's tables present, in load order (an
   absent optional table is skipped; an absent required one fails when reached);
2. starts every run from a fresh quarantine (when it writes one);
3. validates each table chunk by chunk, in a worker process for large datasets
   (:mod:`ingest.validate_worker`);
4. per chunk, counts rows read and quarantined into the one :class:`~ingest.report.IngestReport`,
   keeps the warnings, appends bad rows to ``<table>.quarantine.csv``, tells the
   :class:`~ingest.report.Progress`, and hands the sink the good rows;
5. times each table.

Example::

    with DatasetStream("data/sample") as stream:
        for table in stream:                 # TableStream, in load order
            for good in table:               # validated frames, bad rows already quarantined
                ...
            table.report.quarantined         # counted by the stream
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pandas as pd

from ingest.manifest import Manifest, read_manifest
from ingest.quarantine import QuarantineWriter
from ingest.reader import find_table_file
from ingest.report import IngestReport, Progress, TableReport
from ingest.tables import CONTRACT, Contract, TableSpec
from ingest.validate import ValidatedChunk
from ingest.validate_worker import ValidatedTables, worth_a_worker

__all__ = ["DEFAULT_CHUNKSIZE", "DatasetStream", "TableStream", "estimate_rows"]

#: Rows validated (and held in memory) at a time; bounds memory whatever the file size.
DEFAULT_CHUNKSIZE = 100_000


def estimate_rows(path: Path | None) -> int | None:
    """Rows in a table file, for a progress bar: exact for Parquet, lines for text files."""
    if path is None:
        return None
    name = path.name.lower()
    try:
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if name.endswith(".parquet.gz"):
            return None
        opener = gzip.open if name.endswith(".gz") else open
        lines = 0
        with opener(path, "rb") as f:
            while block := f.read(1 << 22):
                lines += block.count(b"\n")
        return max(lines - 1, 0) if ".csv" in name else lines
    except OSError:
        return None


def _quarantined_rows(q: pd.DataFrame) -> int:
    # one bad row can fail several fields: count rows, not records
    return 0 if q.empty else int(q[["file", "row"]].drop_duplicates().shape[0])


@dataclass
class TableStream:
    """One table of a :class:`DatasetStream`: iterate it for the good rows, chunk by chunk.

    ``report`` is filled as the chunks go by (``read``, ``quarantined``, ``warnings``;
    ``seconds`` when the stream moves on); the sink adds what it wrote.
    """

    spec: TableSpec
    file: Path | None
    report: TableReport
    _chunks: Iterator[ValidatedChunk] = field(repr=False)
    _quarantine: QuarantineWriter | None = field(repr=False)
    _progress: Progress | None = field(repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for chunk in self._chunks:
            bad = _quarantined_rows(chunk.quarantine)
            self.report.read += len(chunk.good) + bad
            self.report.quarantined += bad
            self.report.warnings.extend(chunk.warnings)
            if self._quarantine is not None:
                self._quarantine.write(self.name, chunk.quarantine)
            if not chunk.good.empty:
                yield chunk.good
            if self._progress is not None:
                self._progress.advance(self.name, len(chunk.good) + bad)


class DatasetStream:
    """The validated tables of a dataset folder, in load order (a context manager).

    Parameters
    ----------
    path : str or Path
        A dataset folder with a ``dataset.yaml`` manifest.
    contract : Contract
        The tables and their load order (default: the shipped :data:`~ingest.tables.CONTRACT`).
    quarantine_dir : str or Path or None
        Where bad rows go, one ``<table>.quarantine.csv`` each (default
        ``<path>/_quarantine``); the files of an earlier run are removed first.
    write_quarantine : bool
        ``False``: bad rows are only counted (a snapshot that must not write into the dataset).
    chunksize : int
        Rows validated and held in memory at a time.
    parallel : bool, optional
        Validate the tables after the first in a worker process; by default when the
        dataset holds at least 16 MiB and two CPUs are available
        (:func:`ingest.validate_worker.worth_a_worker`). A script streaming a large
        dataset then needs the ``if __name__ == "__main__":`` guard (``spawn``).
    progress : Progress, optional
    run_id, dry_run, bulk : report fields
    """

    def __init__(
        self,
        path: str | Path,
        *,
        contract: Contract = CONTRACT,
        quarantine_dir: str | Path | None = None,
        write_quarantine: bool = True,
        chunksize: int = DEFAULT_CHUNKSIZE,
        parallel: bool | None = None,
        progress: Progress | None = None,
        run_id: str | None = None,
        dry_run: bool = False,
        bulk: bool = False,
    ):
        self.path = Path(path)
        self.contract = contract
        self.manifest: Manifest = read_manifest(self.path)
        qdir = Path(quarantine_dir) if quarantine_dir is not None else self.path / "_quarantine"
        self.quarantine: QuarantineWriter | None = None
        if write_quarantine:
            self.quarantine = QuarantineWriter(qdir)
            for table in contract.load_order:  # every run starts fresh: no file of an earlier run survives
                self.quarantine.path(table).unlink(missing_ok=True)
        self.report = IngestReport(
            dataset=str(self.path), source=self.manifest.source, as_of=self.manifest.as_of,
            mode=self.manifest.mode, run_id=run_id, dry_run=dry_run, bulk=bulk,
            quarantine_dir=str(qdir) if write_quarantine else "",
        )
        self.progress = progress
        self._files = {t: find_table_file(self.path, t, self.manifest) for t in contract.load_order}
        #: The tables present (and every required one), in load order.
        self.tables: list[str] = [t for t in contract.load_order
                                  if not (contract[t].optional and self._files[t] is None)]
        if parallel is None:
            parallel = worth_a_worker(self.path, self.manifest, self.tables)
        self._validated = ValidatedTables(self.path, self.manifest, [contract[t] for t in self.tables],
                                          chunksize, worker=parallel)
        self._started = time.monotonic()

    def __iter__(self) -> Iterator[TableStream]:
        for table in self.tables:
            t0 = time.monotonic()
            report = self.report.tables.setdefault(table, TableReport(table))
            if self.progress is not None:
                self.progress.start(table, estimate_rows(self._files[table]))
            yield TableStream(self.contract[table], self._files[table], report,
                              self._validated.chunks(table), self.quarantine, self.progress)
            if self.progress is not None:
                self.progress.finish(table)
            report.seconds = time.monotonic() - t0
            self.report.seconds = time.monotonic() - self._started

    def close(self) -> None:
        """Stop the validation worker, if any (safe to call twice)."""
        self._validated.close()

    def __enter__(self) -> DatasetStream:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
