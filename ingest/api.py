"""``load_dataset``: validate a dataset folder and load it into Neo4j as one ingest run.

The steps, in order:

1. read the manifest (``ingest.manifest``); start from a fresh quarantine folder;
2. check the database is chainrisk's and apply the schema (``graph.schema.ensure_schema``);
3. record a ``(:Run {kind: 'ingest'})`` (``graph.runs.start_run``);
4. for each table in ``ingest.tables.LOAD_ORDER``: validate it chunk by chunk
   (``ingest.validate.validate_table``; for a large dataset the tables after ``firms``
   in a worker process meanwhile, :mod:`ingest.validate_worker`), append each chunk's bad rows to
   ``<quarantine_dir>/<table>.quarantine.csv`` (``ingest.quarantine``) and hand its good rows
   to :class:`ingest.loader.TableLoader`, which writes them in a background thread while
   the next chunk is validated (at most one chunk in flight); a table whose label or
   relationship type is empty is written with ``CREATE`` instead of ``MERGE``;
   in ``full`` mode, close the links the dataset dropped;
5. commit the run with the report as its summary, or mark it failed and re-raise.

With ``dry_run`` only steps 1 and 4's validation and quarantine files happen: no
connection is opened and nothing is written to the graph.

Example (needs a running server)::

    from ingest.api import load_dataset
    report = load_dataset("data/sample", strict=True)
    report.totals()["quarantined"]   # 0
"""

from __future__ import annotations

import contextlib
import gzip
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd

from chainrisk.errors import DataError
from graph.runner import GraphRunner
from graph.runs import commit_run, fail_run, start_run
from graph.schema import ensure_schema
from ingest.loader import IngestReport, LoadContext, TableLoader, TableReport
from ingest.manifest import Manifest, read_manifest
from ingest.quarantine import QuarantineWriter
from ingest.reader import find_table_file
from ingest.tables import LOAD_ORDER, TABLES
from ingest.validate import ValidatedChunk
from ingest.validate_worker import ValidatedTables, worth_a_worker

__all__ = [
    "DEFAULT_CHUNKSIZE",
    "IngestProgress",
    "StrictModeError",
    "estimate_rows",
    "load_dataset",
]

#: Rows validated (and held in memory) at a time; bounds memory whatever the file size.
DEFAULT_CHUNKSIZE = 100_000


class StrictModeError(DataError):
    """``strict`` was asked for and rows were quarantined; the good rows are loaded.

    ``report`` is the full :class:`~ingest.loader.IngestReport`.
    """

    def __init__(self, report: IngestReport):
        super().__init__(
            f"{report.quarantined} row(s) quarantined (see {report.quarantine_dir}); "
            "the other rows were loaded"
        )
        self.report = report


class IngestProgress(Protocol):
    """What :func:`load_dataset` tells a progress display (the CLI's rich bars)."""

    def start(self, table: str, total: int | None) -> None:
        """A table begins; ``total`` is an estimate of its rows, or ``None``."""

    def advance(self, table: str, rows: int) -> None:
        """``rows`` more rows of ``table`` were validated (and written)."""

    def finish(self, table: str) -> None:
        """The table is done."""


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
    return 0 if q.empty else int(q[["file", "row"]].drop_duplicates().shape[0])


def _validate_into(
    chunks: Iterable[ValidatedChunk],
    table: str,
    report: TableReport,
    quarantine: QuarantineWriter,
    loader: TableLoader | None,
    progress: IngestProgress | None,
) -> None:
    """Consume one table's chunks: count, quarantine, load (when ``loader``), advance progress."""
    for chunk in chunks:
        bad = _quarantined_rows(chunk.quarantine)
        report.read += len(chunk.good) + bad
        report.quarantined += bad
        report.warnings.extend(chunk.warnings)
        quarantine.write(table, chunk.quarantine)
        if loader is not None:
            loader.load_chunk(chunk.good)
        if progress is not None:
            progress.advance(table, len(chunk.good) + bad)


def _run_parameters(path: Path, manifest: Manifest, *, batch_size: int, strict: bool) -> dict[str, object]:
    return {
        "dataset": str(path),
        "source": manifest.source,
        "as_of": manifest.as_of.isoformat(),
        "mode": manifest.mode,
        "currency": manifest.currency,
        "unit": manifest.unit,
        "batch_size": batch_size,
        "strict": strict,
    }


def load_dataset(
    path: str | Path,
    *,
    runner: GraphRunner | None = None,
    strict: bool = False,
    batch_size: int | None = None,
    writers: int | None = None,
    dry_run: bool = False,
    force: bool = False,
    quarantine_dir: str | Path | None = None,
    progress: IngestProgress | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    parallel: bool | None = None,
) -> IngestReport:
    """Validate the dataset folder ``path`` and load its good rows into Neo4j as one ingest run.

    Parameters
    ----------
    path : str or Path
        A dataset folder with a ``dataset.yaml`` manifest.
    runner : GraphRunner, optional
        Where to write; by default one is opened from settings (and closed after).
    strict : bool
        Raise :class:`StrictModeError` (after loading the good rows) when any row was quarantined.
    batch_size : int, optional
        Rows per write transaction (default: ``settings.batch_size``).
    writers : int, optional
        Batches written at once, each in its own transaction (default:
        ``settings.ingest_writers``, 2); 1 writes them one after another.
    dry_run : bool
        Validate and report, write quarantine files, touch no database.
    force : bool
        Write even into a non-empty database chainrisk did not create.
    quarantine_dir : str or Path, optional
        Where ``<table>.quarantine.csv`` files go (default ``<path>/_quarantine``).
    progress : IngestProgress, optional
        Told about each table's start, rows and end.
    chunksize : int
        Rows validated and held in memory at a time.
    parallel : bool, optional
        Validate the tables after ``firms`` in a worker process while this one loads
        (:class:`ingest.validate_worker.ValidatedTables`); by default when the dataset's
        files hold at least 16 MiB and two CPUs are available. A script that loads a
        large dataset then needs the ``if __name__ == "__main__":`` guard (``spawn``).

    Returns
    -------
    IngestReport
        Per table: rows read, created, updated, unchanged, quarantined, externals, closed.

    Raises
    ------
    DatasetError
        The folder, manifest or a required table cannot be read.
    UnsafeDatabase
        The database is not chainrisk's and ``force`` is not given.
    StrictModeError
        ``strict`` and rows were quarantined (the run is committed nonetheless).
    GraphError
        The server failed; the run is marked failed.
    """
    t0 = time.monotonic()
    path = Path(path)
    manifest = read_manifest(path)
    qdir = Path(quarantine_dir) if quarantine_dir is not None else path / "_quarantine"
    quarantine = QuarantineWriter(qdir)
    for table in TABLES:  # every run starts fresh: no file of an earlier run survives
        quarantine.path(table).unlink(missing_ok=True)
    report = IngestReport(
        dataset=str(path),
        source=manifest.source,
        as_of=manifest.as_of,
        mode=manifest.mode,
        run_id=None,
        dry_run=dry_run,
        quarantine_dir=str(qdir),
    )
    tables = [t for t in LOAD_ORDER
              if not (TABLES[t].optional and find_table_file(path, t, manifest) is None)]
    if parallel is None:
        parallel = worth_a_worker(path, manifest, tables)
    validated = ValidatedTables(path, manifest, tables, chunksize, worker=parallel)
    own = runner is None and not dry_run
    try:
        if own:
            runner = GraphRunner.from_settings()
        if dry_run or runner is None:
            for table in tables:
                _one_table(path, manifest, table, report, quarantine, None, progress, validated)
        else:
            size = batch_size or runner.settings.batch_size
            ensure_schema(runner, force=force)
            run = start_run(
                runner,
                kind="ingest",
                as_of=manifest.as_of,
                parameters=_run_parameters(path, manifest, batch_size=size, strict=strict),
            )
            report.run_id = run.run_id
            ctx = LoadContext(
                runner, run.run_id, manifest.source, manifest.as_of, manifest.mode, datetime.now(UTC), size,
                writers=writers or runner.settings.ingest_writers,
            )
            try:
                for table in tables:
                    _one_table(path, manifest, table, report, quarantine, ctx, progress, validated)
                report.seconds = time.monotonic() - t0
                commit_run(runner, run, summary=report.to_dict())
            except BaseException as exc:
                # the server may be what failed: the original error matters more than this one
                with contextlib.suppress(Exception):
                    fail_run(runner, run, f"{type(exc).__name__}: {exc}")
                raise
    finally:
        validated.close()
        if own and runner is not None:
            runner.close()
    report.seconds = time.monotonic() - t0
    if strict and report.quarantined:
        raise StrictModeError(report)
    return report


def _one_table(
    path: Path,
    manifest: Manifest,
    table: str,
    report: IngestReport,
    quarantine: QuarantineWriter,
    ctx: LoadContext | None,
    progress: IngestProgress | None,
    validated: ValidatedTables,
) -> None:
    t = time.monotonic()
    file = find_table_file(path, table, manifest)
    if file is None and TABLES[table].optional:
        return
    tr = report.tables.setdefault(table, TableReport(table))
    # pipelined: the server writes chunk i while this thread validates and prepares chunk i + 1
    loader = TableLoader(ctx, table, tr, pipeline=True) if ctx is not None else None
    if progress is not None:
        progress.start(table, estimate_rows(file))
    try:
        _validate_into(validated.chunks(table), table, tr, quarantine, loader, progress)
    except BaseException:
        if loader is not None:
            loader.abort()
        raise
    if loader is not None:
        if tr.quarantined:
            loader.disable_closing(f"{tr.quarantined} row(s) of {table} were quarantined")
        loader.finish()
    if progress is not None:
        progress.finish(table)
    tr.seconds = time.monotonic() - t
