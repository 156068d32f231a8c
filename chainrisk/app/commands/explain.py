"""``chainrisk explain``: one firm's full explanation by the saved risk model (features, chain, reasons)."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from chainrisk.app.commands.train import parse_day

__all__ = ["register"]


def _table(result: dict[str, Any]) -> Table:
    t = Table(title=f"{result.get('uscc')}: PD {result.get('pd', float('nan')):.4f}")
    t.add_column("feature")
    t.add_column("contribution (log-odds)")
    t.add_column("reads")
    for f in result.get("features", [])[:15]:
        t.add_row(str(f["feature"]), f"{f['contribution']:+.3f}", str(f["text"]))
    return t


def _links_table(attribution: dict[str, Any]) -> Table:
    t = Table(title=f"links by GNN attribution ({attribution.get('explains')})")
    for col in ("relation", "counterparty", "amount", "attribution (log-odds)"):
        t.add_column(col)
    for link in attribution.get("links", [])[:15]:
        amount = link.get("amount")
        t.add_row(
            str(link["relation"]),
            str(link["counterparty"]),
            "" if amount is None else f"{amount:,.0f}",
            f"{link['attribution']:+.3f}",
        )
    return t


def register(app: typer.Typer) -> None:
    """Mount the ``explain`` command on ``app``."""

    @app.command("explain")
    def explain_cmd(
        uscc: Annotated[str, typer.Argument(help="The firm's unified social credit code.")],
        as_of: Annotated[str, typer.Option("--as-of", help="Date of the picture, YYYY-MM-DD.")],
        model: Annotated[
            Path | None, typer.Option("--model", help="Saved model (default: CHAINRISK_MODEL_DIR).")
        ] = None,
        dataset: Annotated[
            Path | None, typer.Option("--dataset", help="Read a dataset folder instead of the graph.")
        ] = None,
        hops: Annotated[int, typer.Option("--hops", min=1, max=3, help="Chain depth shown.")] = 2,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")] = False,
    ) -> None:
        """Explain one firm's PD: every feature's contribution, its reasons and the chain that carried risk.

        With a GNN-based model (B3, or B4 over the GNN's read-outs) it adds the GNN's attributions
        on the firm's k-hop subgraph (PyG's Captum explainer): each link's share of the log-odds.

        Example: chainrisk explain 91350100M000100Y43 --dataset out/platform --as-of 2024-12-31 --json
        """
        import pandas as pd

        from chainrisk.settings import get_settings
        from gnn.explain import explain
        from gnn.model_store import load_model
        from gnn.scoring import scoring_cut

        day = parse_day(as_of)
        settings = get_settings()
        err = Console(stderr=True)
        with ExitStack() as stack:
            status = stack.enter_context(err.status("loading the model"))
            trained = load_model(model or settings.model_dir)
            if dataset is not None:
                from ingest.snapshot import build_snapshot

                status.update(f"building the snapshot of {dataset.name} as of {day}")
                snap = build_snapshot(dataset, as_of=day)
            else:
                from graph.runner import GraphRunner
                from ingest.snapshot import read_snapshot

                runner = stack.enter_context(GraphRunner.from_settings())
                status.update(f"reading the graph as of {day}")
                snap = read_snapshot(runner, as_of=day)
            cut, _ = scoring_cut(snap, lenders=frozenset(settings.bank_lenders) or None)
            status.update(f"explaining {uscc}")
            # the model's own PDs of every firm, so risky counterparties are named as in scoring
            pds = pd.Series(trained.predict_pd(cut), index=cut.uscc, dtype="float64")
            result = explain(trained.model, cut, uscc, hops=hops, counterparty_pd=pds)
        result = {"model_version": trained.version, "as_of": day.isoformat(), **result}
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False, default=str))
            return
        console = Console()
        console.print(_table(result))
        if result.get("gnn_attribution"):
            console.print(_links_table(result["gnn_attribution"]))
        for r in result.get("reasons", []):
            console.print(f"- {r if isinstance(r, str) else r.get('text', r)}")
