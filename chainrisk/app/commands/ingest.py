"""``chainrisk ingest``: validate a dataset folder and load it into Neo4j."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

__all__ = ["EXIT_QUARANTINED", "RichIngestProgress", "ingest", "register", "report_table"]

#: Exit code of ``--strict`` when rows were quarantined (the good rows are loaded).
EXIT_QUARANTINED = 1

console = Console()


class RichIngestProgress:
    """One rich progress bar per table (implements ``ingest.report.Progress``)."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, table: str, total: int | None) -> None:
        self._tasks[table] = self.progress.add_task(table, total=total)

    def advance(self, table: str, rows: int) -> None:
        self.progress.advance(self._tasks[table], rows)

    def finish(self, table: str) -> None:
        task = self._tasks[table]
        done = next(t.completed for t in self.progress.tasks if t.id == task)
        self.progress.update(task, total=done, completed=done)  # a row estimate becomes the true count


def report_table(report: object) -> Table:
    """The per-table report as a rich table (``report`` is an ``IngestReport``)."""
    from ingest.report import IngestReport

    assert isinstance(report, IngestReport)
    what = "dry run" if report.dry_run else ("bulk import" if report.bulk else f"run {report.run_id}")
    t = Table(title=f"ingest {report.dataset} ({report.mode}, as of {report.as_of}, {what})")
    cols = ("read", "created", "updated", "unchanged", "quarantined", "externals", "closed")
    t.add_column("table")
    for c in cols:
        t.add_column(c, justify="right")
    for name, tr in report.tables.items():
        t.add_row(name, *(f"{getattr(tr, c):,}" for c in cols))
    totals = report.totals()
    t.add_row("[bold]total", *(f"[bold]{totals[c]:,}" for c in cols))
    return t


def ingest(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder holding dataset.yaml and the table files.")],
    strict: Annotated[bool, typer.Option(help="Exit non-zero when any row was quarantined.")] = False,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Rows per write transaction.")
    ] = None,
    writers: Annotated[
        int | None,
        typer.Option("--writers", min=1, max=16,
                     help="Batches written at once (default 2, CHAINRISK_INGEST_WRITERS)."),
    ] = None,
    parallel: Annotated[
        bool | None,
        typer.Option("--parallel/--no-parallel",
                     help="Validate in a worker process (default: for datasets of 16 MiB or more)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing.")] = False,
    bulk: Annotated[
        bool,
        typer.Option(help="First load through neo4j-admin import (server stopped; replaces the database)."),
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Write into a database chainrisk did not create / overwrite it with --bulk.")
    ] = False,
    quarantine_dir: Annotated[
        Path | None, typer.Option("--quarantine-dir", help="Where <table>.quarantine.csv files go.")
    ] = None,
) -> None:
    """Validate a dataset folder and load it into Neo4j as one ingest run.

    Bad rows go to <dataset>/_quarantine/<table>.quarantine.csv; the good rows load.
    Loading the same dataset twice changes nothing.

    Example: chainrisk ingest data/sample --strict
    """
    from ingest.load import load_dataset
    from ingest.offline_import import bulk_load

    with Progress(
        TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bars:
        progress = RichIngestProgress(bars)
        if bulk:
            if dry_run:
                raise typer.BadParameter("--bulk and --dry-run exclude each other")
            report = bulk_load(dataset, force=force, quarantine_dir=quarantine_dir, progress=progress)
        else:
            report = load_dataset(
                dataset, strict=False, batch_size=batch_size, writers=writers, parallel=parallel,
                dry_run=dry_run, force=force, quarantine_dir=quarantine_dir, progress=progress,
            )
    console.print(report_table(report))
    for name, tr in report.tables.items():
        for w in tr.warnings[:5]:
            console.print(f"[yellow]warning[/] {name}: {w}", highlight=False)
    console.print(f"{report.changes:,} change(s) in {report.seconds:.1f} s", highlight=False)
    if report.quarantined:
        console.print(f"[yellow]{report.quarantined:,} row(s) quarantined[/] in {report.quarantine_dir}",
                      highlight=False)
        if strict:
            raise typer.Exit(EXIT_QUARANTINED)


def register(app: typer.Typer) -> None:
    """Mount ``chainrisk ingest`` on the top-level app."""
    app.command("ingest")(ingest)
