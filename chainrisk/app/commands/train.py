"""``chainrisk train``: fit the risk models on what was known by a date and save the shipped one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from chainrisk.errors import ConfigError

__all__ = ["candidates_table", "parse_day", "register"]


def parse_day(text: str, option: str = "--as-of") -> date:
    """A ``YYYY-MM-DD`` option value, or a one-line :class:`ConfigError`."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option} {text!r} is not a date YYYY-MM-DD") from exc


def candidates_table(card: dict[str, Any]) -> Table:
    """Every candidate's validation figures, the shipped one marked."""
    sizes = card["sizes"]
    t = Table(
        title=f"validation cut {card['cuts']['validation']} ({sizes['validation_firms']:,} firms, "
        f"{sizes['validation_defaults']:,} defaults); training {', '.join(card['cuts']['train'])}"
    )
    for col in ("model", "graph-aware", "val AUC", "PR-AUC", "Brier", "ECE", "fit s"):
        t.add_column(col)

    def f(x: Any, digits: int = 3) -> str:
        return "n/a" if x is None or x != x else f"{x:.{digits}f}"

    for name, c in card["candidates"].items():
        v = c["validation"]
        t.add_row(
            f"{name}{' (shipped)' if name == card['shipped'] else ''}",
            "yes" if c["graph_aware"] else "no",
            f(v["auc"]),
            f(v["pr_auc"]),
            f(v["brier"], 4),
            f(v["ece"], 4),
            f(c["fit_seconds"], 1),
        )
    return t


def register(app: typer.Typer) -> None:
    """Mount the ``train`` command on ``app``."""

    @app.command("train")
    def train_cmd(
        as_of: Annotated[
            str, typer.Option("--as-of", help="Training date YYYY-MM-DD: nothing later is read.")
        ],
        dataset: Annotated[
            Path | None, typer.Argument(help="A dataset folder in the ingest contract (or --from-neo4j).")
        ] = None,
        from_neo4j: Annotated[bool, typer.Option("--from-neo4j", help="Read the tables from Neo4j.")] = False,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Model folder (default: CHAINRISK_MODEL_DIR, var/models/current)."),
        ] = None,
        seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of every candidate's fit.")] = 0,
        threads: Annotated[int, typer.Option("--threads", min=1, help="Threads of the tree models.")] = 2,
        models: Annotated[
            str | None, typer.Option("--models", help="Comma-separated candidates to fit (default: all).")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the model card as one JSON object.")
        ] = False,
    ) -> None:
        """Train the risk models on what DATASET (or the graph) knew by --as-of and save the shipped one.

        The validation cut is --as-of minus 12 months, the training cuts the years before; every
        label window ends by --as-of, and rows dated after it are dropped first. The shipped model
        is the graph-aware candidate with the lowest validation Brier score; the folder holds it with its
        feature schema, calibration and model card.

        Example: chainrisk train out/platform --as-of 2024-12-31 --out var/models/current --seed 7
        """
        from chainrisk.settings import get_settings
        from gnn.model_store import save_model

        day = parse_day(as_of)
        if (dataset is None) == (not from_neo4j):
            raise ConfigError("give exactly one of DATASET_DIR or --from-neo4j")
        names = [m.strip() for m in models.split(",") if m.strip()] if models else None
        target = out or get_settings().model_dir
        err = Console(stderr=True)
        kwargs: dict[str, Any] = {"seed": seed, "threads": threads, "candidates": names}
        with err.status("training") as status:
            kwargs["progress"] = lambda msg: status.update(msg)
            if dataset is not None:
                from gnn.training import train

                trained = train(dataset, day, **kwargs)
            else:
                from gnn.training import train_from_graph
                from graph.runner import GraphRunner

                with GraphRunner.from_settings() as runner:
                    trained = train_from_graph(runner, day, **kwargs)
            status.update(f"saving {trained.version}")
            path = save_model(trained, target)
        if as_json:
            card = json.loads((path / "model_card.json").read_text(encoding="utf-8"))
            typer.echo(json.dumps({**card, "path": str(path)}, ensure_ascii=False))
            return
        Console().print(candidates_table(trained.card))
        Console().print(f"shipped: {trained.card['selection']}", highlight=False)
        typer.echo(f"saved {trained.version} to {path}")
