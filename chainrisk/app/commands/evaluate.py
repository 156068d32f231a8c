"""``chainrisk evaluate``: the out-of-time protocol of the risk models on a dataset folder (no server)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register", "results_table"]


def _clean(v: Any) -> Any:
    """NaN has no JSON form: ``null``."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    return v


def results_table(result: dict[str, Any]) -> Table:
    """The models' test figures as a rich table."""
    t = Table(
        title=f"test cut {result['cuts']['test']} ({result['book']['test']:,} firms, "
        f"{result['book']['test_defaults']:,} defaults; means over {result['seeds']} seeds)"
    )
    for col in ("model", "AUC", "95% CI", "PR-AUC", "KS", "Brier", "ECE", "recall top 5%", "val AUC"):
        t.add_column(col)
    for name, m in result["models"].items():
        ci = m["auc_ci95"]
        t.add_row(
            f"{name}{' (shipped)' if name == result['shipped'] else ''}",
            f"{m['auc']:.3f}",
            f"{ci[0]:.3f}-{ci[1]:.3f}",
            f"{m['pr_auc']:.3f}",
            f"{m['ks']:.3f}",
            f"{m['brier']:.4f}",
            f"{m['ece']:.4f}",
            f"{m['recall_top5']:.3f}",
            f"{m['validation_auc']:.3f}",
        )
    return t


def register(app: typer.Typer) -> None:
    """Mount the ``evaluate`` command on ``app``."""

    @app.command("evaluate")
    def evaluate_cmd(
        dataset: Annotated[Path, typer.Argument(help="A dataset folder in the ingest contract.")],
        seeds: Annotated[int, typer.Option("--seeds", min=1, help="Seeds to average over.")] = 3,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")
        ] = False,
    ) -> None:
        """Train and score the risk models on yearly out-of-time cuts of DATASET and compare them.

        Cuts: test = the data's as_of minus 12 months, validation a year before, training the years
        before that; labels are first defaults in the 12 months after each cut, on the bank's book.

        Example: chainrisk evaluate data/synth --seeds 3 --json
        """
        from gnn.evaluate import evaluate

        err = Console(stderr=True)
        with err.status("evaluating") as status:
            result = evaluate(dataset, seeds=seeds, progress=lambda msg: status.update(msg))
        if as_json:
            typer.echo(json.dumps(_clean(result), ensure_ascii=False))
            return
        Console().print(results_table(result))
        pending = ", ".join(f"{k} ({v})" for k, v in result["pending"].items())
        Console().print(f"pending: {pending}")
