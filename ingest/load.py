"""``load_dataset``: validate a dataset folder and load it into Neo4j as one ingest run.

The steps, in order:

1. stream the dataset (:class:`ingest.dataset.DatasetStream`: manifest, fresh
   quarantine, validation chunk by chunk, in a worker process for large datasets);
2. check the database is chainrisk's and apply the schema (``graph.schema.ensure_schema``);
3. record a ``(:Run {kind: 'ingest'})`` (``graph.runs.start_run``);
4. for each table, in load order, hand each chunk's good rows to
   :class:`ingest.table_loader.TableLoader`, which writes them in a background thread
   while the next chunk is validated (at most one chunk in flight); a table whose
   label or relationship type is empty is written with ``CREATE`` instead of
   ``MERGE``; in ``full`` mode, close the links the dataset dropped;
5. commit the run with the report as its summary, or mark it failed and re-raise.

With ``dry_run`` only step 1 happens: no connection is opened and nothing is
written to the graph.

Example (needs a running server)::

    from ingest.load import load_dataset
    report = load_dataset("data/sample", strict=True)
    report.totals()["quarantined"]   # 0
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

from chainrisk.errors import DataError
from graph.protocol import QueryRunner
from graph.runs import commit_run, fail_run, start_run
from graph.schema import ensure_schema
from ingest.dataset import DEFAULT_CHUNKSIZE, DatasetStream, TableStream
from ingest.manifest import Manifest
from ingest.report import IngestReport, Progress
from ingest.table_loader import LoadContext, TableLoader
from ingest.tables import CONTRACT, Contract

__all__ = ["DEFAULT_CHUNKSIZE", "StrictModeError", "load_dataset"]


class StrictModeError(DataError):
    """``strict`` was asked for and rows were quarantined; the good rows are loaded.

    ``report`` is the full :class:`~ingest.report.IngestReport`.
    """

    def __init__(self, report: IngestReport):
        super().__init__(
            f"{report.quarantined} row(s) quarantined (see {report.quarantine_dir}); "
            "the other rows were loaded"
        )
        self.report = report


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
    runner: QueryRunner | None = None,
    strict: bool = False,
    batch_size: int | None = None,
    writers: int | None = None,
    dry_run: bool = False,
    force: bool = False,
    quarantine_dir: str | Path | None = None,
    progress: Progress | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    parallel: bool | None = None,
    contract: Contract = CONTRACT,
) -> IngestReport:
    """Validate the dataset folder ``path`` and load its good rows into Neo4j as one ingest run.

    Parameters
    ----------
    path : str or Path
        A dataset folder with a ``dataset.yaml`` manifest.
    runner : QueryRunner, optional
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
    progress : Progress, optional
        Told about each table's start, rows and end.
    chunksize : int
        Rows validated and held in memory at a time.
    parallel : bool, optional
        Validate the tables after ``firms`` in a worker process while this one loads
        (see :class:`ingest.dataset.DatasetStream`); by default for datasets of 16 MiB
        or more on two CPUs or more. A script that loads a large dataset then needs the
        ``if __name__ == "__main__":`` guard (``spawn``).
    contract : Contract
        The tables and their graph map (default: the shipped contract).

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
    path = Path(path)
    with DatasetStream(path, contract=contract, quarantine_dir=quarantine_dir, chunksize=chunksize,
                       parallel=parallel, progress=progress, dry_run=dry_run) as stream:
        report = stream.report
        if dry_run:
            for table in stream:
                for _ in table:
                    pass
        elif runner is not None:
            _load(stream, runner, strict=strict, batch_size=batch_size, writers=writers, force=force)
        else:
            from graph.runner import GraphRunner

            with GraphRunner.from_settings() as own:
                _load(stream, own, strict=strict, batch_size=batch_size, writers=writers, force=force)
    if strict and report.quarantined:
        raise StrictModeError(report)
    return report


def _load(stream: DatasetStream, runner: QueryRunner, *, strict: bool, batch_size: int | None,
          writers: int | None, force: bool) -> None:
    manifest, report = stream.manifest, stream.report
    size = batch_size or runner.settings.batch_size
    ensure_schema(runner, force=force)
    run = start_run(runner, kind="ingest", as_of=manifest.as_of,
                    parameters=_run_parameters(stream.path, manifest, batch_size=size, strict=strict))
    report.run_id = run.run_id
    ctx = LoadContext(runner=runner, run_id=run.run_id, source=manifest.source, as_of=manifest.as_of,
                      mode=manifest.mode, now=datetime.now(UTC), batch_size=size,
                      writers=writers or runner.settings.ingest_writers)
    try:
        for table in stream:
            _load_table(table, ctx)
        commit_run(runner, run, summary=report.to_dict())
    except BaseException as exc:
        # the server may be what failed: the original error matters more than this one
        with contextlib.suppress(Exception):
            fail_run(runner, run, f"{type(exc).__name__}: {exc}")
        raise


def _load_table(table: TableStream, ctx: LoadContext) -> None:
    # pipelined: the server writes chunk i while this thread validates and prepares chunk i + 1
    loader = TableLoader(ctx, table.spec, table.report, pipeline=True)
    try:
        for good in table:
            loader.load_chunk(good)
    except BaseException:
        loader.abort()
        raise
    if table.report.quarantined:
        loader.disable_closing(f"{table.report.quarantined} row(s) of {table.name} were quarantined")
    loader.finish()
