"""``chainrisk demo``: the end-to-end path on a synthetic platform (see :mod:`chainrisk.app.demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

__all__ = ["register"]


def demo(
    out: Annotated[Path, typer.Option(help="Output folder (dataset, stress report, summary).")] = Path(
        "out/demo"
    ),
    firms: Annotated[int, typer.Option(min=50, help="Firms on the synthetic platform.")] = 2_000,
    seed: Annotated[int, typer.Option(help="Seed of the generator and the stress test.")] = 7,
    runs: Annotated[int, typer.Option(min=10, help="Monte Carlo runs of the stress test.")] = 1_000,
    force: Annotated[bool, typer.Option(help="Write even into a database chainrisk did not create.")] = False,
) -> None:
    """Generate a platform, ingest it into Neo4j, run GDS, ESRI and a stress test, write results back.

    Example: chainrisk demo --firms 2000 --seed 7 --out out/demo
    """
    from chainrisk.app.demo import run_demo
    from graph.runner import GraphRunner
    from graph.schema import ensure_schema

    console = Console(soft_wrap=True)
    with GraphRunner.from_settings() as runner:
        ensure_schema(runner, force=force)
        result = run_demo(out, firms=firms, seed=seed, runs=runs, runner=runner,
                          say=lambda line: console.print(line, highlight=False))
    console.print(f"done: summary in {out / 'demo-summary.json'}; step times (s): {result.steps}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
