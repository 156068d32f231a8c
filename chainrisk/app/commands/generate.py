"""``chainrisk generate``: write a synthetic dataset folder with known ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest.generate import DEFAULT_CONTAGION_STRENGTH, GenerationSummary, generate

__all__ = ["register", "summary_table"]


def summary_table(s: GenerationSummary) -> Table:
    """The summary as a two-column rich table."""
    t = Table(title="generated dataset", show_header=False)
    for k, v in s.__dict__.items():
        t.add_row(k.replace("_", " "), str(v))
    return t


def register(app: typer.Typer) -> None:
    """Mount the ``generate`` command on ``app``."""

    @app.command("generate")
    def generate_cmd(
        out_dir: Annotated[Path, typer.Argument(help="Folder to write (dataset.yaml, tables, _truth/).")],
        firms: Annotated[int, typer.Option("--firms", min=100, help="Number of firms.")],
        seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")],
        months: Annotated[int, typer.Option("--months", min=13, help="Months simulated.")] = 60,
        contagion_strength: Annotated[
            float,
            typer.Option("--contagion-strength", min=0.0, help="Contagion scale; 0 turns it off."),
        ] = DEFAULT_CONTAGION_STRENGTH,
        fmt: Annotated[
            str, typer.Option("--format", help="Table format: parquet, csv or jsonl (firms is always CSV).")
        ] = "parquet",
    ) -> None:
        """Generate a synthetic supply-chain and guarantee-chain dataset with known defaults.

        The ground truth (who defaulted, why, through which neighbour; monthly hazards)
        goes to OUT_DIR/_truth/, which ingest ignores.

        Example: chainrisk generate data/synth --firms 100000 --seed 42
        """
        with Progress(
            TextColumn("{task.description:<20}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("starting", total=1.0)

            def progress(step: str, done: int, total: int) -> None:
                if step == "simulate":
                    bar.update(task, description=step, completed=0.1 + 0.6 * done / total)
                else:
                    bar.update(task, description=step)

            summary = generate(
                out_dir,
                firms=firms,
                seed=seed,
                months=months,
                contagion_strength=contagion_strength,
                fmt=fmt,
                progress=progress,
            )
            bar.update(task, completed=1.0)
        Console().print(summary_table(summary))
