"""``chainrisk score``: PDs, tiers and suggested classes of the book and the prospects, from
the graph (written back as a ``risk`` run) or from a dataset folder."""

from __future__ import annotations

import json
import math
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from chainrisk.app.commands.train import parse_day

__all__ = ["register", "summary", "summary_table"]


def summary(frame: pd.DataFrame) -> dict[str, Any]:
    """Counts and mean PDs per segment, tiers, suggested classes and PD changes."""

    def finite(x: float) -> float | None:
        return None if math.isnan(x) else float(x)

    out: dict[str, Any] = {"firms": len(frame), "segments": {}}
    for seg in ("book", "prospect"):
        part = frame[frame["segment"] == seg]
        out["segments"][seg] = {
            "firms": len(part),
            "mean_pd": finite(part["pd"].mean()) if len(part) else None,
            "tiers": {str(k): int(v) for k, v in part["tier"].value_counts().sort_index().items()},
            "suggested_class": {str(k): int(v) for k, v in part["suggested_class"].value_counts().items()},
        }
    change = frame["pd_change"].dropna()
    out["pd_change"] = {
        "firms": len(change),
        "mean": finite(change.mean()) if len(change) else None,
        "up_10pp": int((change >= 0.10).sum()),
    }
    return out


def summary_table(frame: pd.DataFrame, version: str) -> Table:
    """Firms per segment and tier, with the segment's mean PD."""
    t = Table(title=f"{version}: {len(frame):,} firms scored")
    t.add_column("segment", no_wrap=True)
    t.add_column("firms")
    t.add_column("mean PD")
    for tier in range(1, 7):
        t.add_column(f"tier {tier}")
    for seg, part in frame.groupby("segment", sort=True):
        counts = part["tier"].value_counts()
        t.add_row(
            str(seg),
            f"{len(part):,}",
            f"{part['pd'].mean():.4f}",
            *[f"{int(counts.get(k, 0)):,}" for k in range(1, 7)],
        )
    return t


def register(app: typer.Typer) -> None:
    """Mount the ``score`` command on ``app``."""

    @app.command("score")
    def score_cmd(
        as_of: Annotated[str, typer.Option("--as-of", help="Scoring date YYYY-MM-DD.")],
        model: Annotated[
            Path | None, typer.Option("--model", help="Saved model (default: CHAINRISK_MODEL_DIR).")
        ] = None,
        dataset: Annotated[
            Path | None, typer.Option("--dataset", help="Score a dataset folder instead of the graph.")
        ] = None,
        out: Annotated[
            Path | None, typer.Option("--out", help="Write the scores to this Parquet file.")
        ] = None,
        previous: Annotated[
            Path | None, typer.Option("--previous", help="Earlier scores (Parquet) for pd_change.")
        ] = None,
        write_back: Annotated[
            bool | None,
            typer.Option(
                "--write-back/--no-write-back",
                help="Publish a risk run to Neo4j (default: on when scoring the graph).",
            ),
        ] = None,
        bank_lender: Annotated[
            list[str] | None, typer.Option("--bank-lender", help="A lender id of the bank (repeatable).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary on stdout.")] = False,
    ) -> None:
        """Score every firm of the bank's book and every live platform prospect as of --as-of.

        From the graph by default (and written back as a risk run, pd_change against the current
        one); with --dataset from files, without a server (pd_change against --previous).

        Example: chainrisk score --dataset out/platform --as-of 2024-12-31 --out scores.parquet
        """
        from chainrisk.settings import get_settings
        from gnn.model_store import load_model
        from gnn.scoring import previous_from_graph, publish_scores, read_previous, score

        day = parse_day(as_of)
        settings = get_settings()
        lenders = bank_lender if bank_lender is not None else settings.bank_lenders
        publish = dataset is None if write_back is None else write_back
        err = Console(stderr=True)
        with ExitStack() as stack:
            status = stack.enter_context(err.status("loading the model"))
            trained = load_model(model or settings.model_dir)
            if day < trained.as_of:
                err.print(
                    f"[yellow]warning:[/] the model was trained as of {trained.as_of}, after {day}: "
                    "its PDs at that date are not out of time",
                    highlight=False,
                )
            runner = None
            if dataset is None or publish:
                from graph.runner import GraphRunner

                runner = stack.enter_context(GraphRunner.from_settings())
            if dataset is not None:
                from ingest.snapshot import build_snapshot

                status.update(f"building the snapshot of {dataset.name} as of {day}")
                snap = build_snapshot(dataset, as_of=day)
            else:
                from ingest.snapshot import read_snapshot

                status.update(f"reading the graph as of {day}")
                assert runner is not None
                snap = read_snapshot(runner, as_of=day)
            if previous is not None:
                prev = read_previous(previous)
            elif runner is not None:
                prev = previous_from_graph(runner)
            else:
                prev = None
            status.update(f"scoring with {trained.version}")
            from gnn.reasons import portfolio_reasons

            frame = score(
                trained,
                snap,
                reasons=portfolio_reasons,
                previous=prev,
                lenders=frozenset(lenders) or None,
            )
            if out is not None:
                out.parent.mkdir(parents=True, exist_ok=True)
                frame.to_parquet(out, index=False)
            run_id = None
            if publish:
                assert runner is not None
                status.update("writing the risk run to Neo4j")
                run_id = publish_scores(runner, frame, trained, as_of=day).run_id
        result = {
            "model_version": trained.version,
            "pd_type": trained.pd_type,
            "as_of": day.isoformat(),
            **summary(frame),
            "out": str(out) if out else None,
            "run_id": run_id,
        }
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False))
            return
        Console().print(summary_table(frame, trained.version))
        if out is not None:
            typer.echo(f"scores: {out}")
        if run_id is not None:
            typer.echo(f"written back to Neo4j as run {run_id}")
