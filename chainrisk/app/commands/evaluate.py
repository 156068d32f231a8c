"""``chainrisk evaluate``: the out-of-time protocol of the risk models on a dataset folder (no server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from chainrisk.app.render import clean

__all__ = ["register", "results_table"]


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
        full: Annotated[
            bool,
            typer.Option(
                "--full", help="Also the ablations of the graph and the earlier test vintages (slow)."
            ),
        ] = False,
        vintages: Annotated[
            bool, typer.Option("--vintages", help="Also every earlier test vintage the data allow.")
        ] = False,
        models: Annotated[
            str | None,
            typer.Option("--models", help="Comma-separated registry names to run (default: every model)."),
        ] = None,
        explain_edges: Annotated[
            bool,
            typer.Option(
                "--explain-edges",
                help="Also the GNN explainer's edge-mask AUC on the true contagion links "
                "(generated data; part of --full).",
            ),
        ] = False,
        ablations: Annotated[
            bool,
            typer.Option(
                "--ablations",
                help="Also the ablations of the graph (edges removed, shuffled, one relation dropped; "
                "part of --full).",
            ),
        ] = False,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="The HTML report (default report.html; with --json only when given)."),
        ] = None,
    ) -> None:
        """Train and score the risk models on yearly out-of-time cuts of DATASET and compare them.

        Cuts: test = the data's as_of minus 12 months, validation a year before, training the years
        before that; labels are first defaults in the 12 months after each cut, on the bank's book.
        Without --json it writes a self-contained HTML report (metrics with bootstrap intervals,
        ROC, calibration, tiers, slices, oracle where the data have one, ablations under --full, and
        with --full or --explain-edges the GNN explainer's edge-mask AUC against _truth/defaults).

        Example: chainrisk evaluate data/synth --seeds 3 --out report.html
        """
        from gnn.candidates import CANDIDATES
        from gnn.evaluate import evaluate
        from gnn.report import write_report

        names = [m.strip() for m in models.split(",") if m.strip()] if models else None
        unknown = [m for m in names or [] if m not in CANDIDATES]
        if unknown:
            raise typer.BadParameter(f"unknown models {unknown}; the registry has {sorted(CANDIDATES)}")

        err = Console(stderr=True)
        with err.status("evaluating") as status:
            result = evaluate(
                dataset,
                seeds=seeds,
                progress=lambda msg: status.update(msg),
                full=full,
                vintages=full or vintages,
                models=names,
                edge_attribution=True if full or explain_edges else None,
                ablations=True if full or ablations else None,
            )
        if out is not None or not as_json:
            path = write_report(result, out or Path("report.html"))
            err.print(f"report: {path}")
        if as_json:
            typer.echo(json.dumps(clean(result), ensure_ascii=False))
            return
        Console().print(results_table(result))
        for t in result["targets"]:
            Console().print(
                f"{'met' if t['met'] else 'NOT met'}: {t['text']} ({t['applies']}): {t['value']:.4f}"
            )
        if result.get("pending"):
            Console().print("pending: " + ", ".join(f"{k} ({v})" for k, v in result["pending"].items()))
