"""``chainrisk monitor``: back-test, stability and watchlist of the risk scores, with one verdict.

A thin layer over :func:`gnn.monitor.monitor`; the scorings and the history come from
files (``--scores``, ``--previous``, ``--dataset``) or from the graph (``--from-neo4j``).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from chainrisk.app.render import clean
from chainrisk.errors import ConfigError

__all__ = ["register", "render"]


_COLOUR = {
    "green": "green",
    "amber": "yellow",
    "red": "red",
    "stable": "green",
    "watch": "yellow",
    "shifted": "red",
}


def _tag(word: str) -> str:
    return f"[{_COLOUR.get(word, 'white')}]{word}[/]"


def render(result: dict[str, Any], console: Console, *, top: int = 20) -> None:
    """Print a :func:`gnn.monitor.monitor` result as rich tables."""
    cur = result["current"]
    console.print(
        f"[bold]verdict: {result['verdict']}[/]"
        + (f" ({'; '.join(result['verdict_reasons'])})" if result["verdict_reasons"] else "")
    )
    console.print(
        f"current scoring {cur['source']} as of {cur['as_of']} ({cur['firms']:,} firms), "
        f"segment {result['segment']}, data to {result['data_end'] or '-'}"
    )
    for note in result["notes"]:
        console.print(f"note: {note}")
    bt = result["backtest"]
    if bt:
        w = bt["window"]
        t = Table(
            title=f"back-test of the {bt['scoring']} scoring as of {bt['scored_as_of']}: defaults in "
            f"({w['start']}, {w['observed_until']}]" + (" (partial window)" if w["partial"] else "")
        )
        for col in (
            "tier",
            "firms",
            "mean PD",
            "expected",
            "observed",
            "rate",
            "p two-sided",
            "p underestimated",
            "light",
        ):
            t.add_column(col)
        rows = [*bt["tiers"], {**bt["portfolio"], "tier": "all", "name": ""}]
        for r in rows:
            t.add_row(
                f"{r['tier']} {r['name']}".strip(),
                f"{r['firms']:,}",
                f"{r['mean_pd']:.2%}",
                f"{r['expected_defaults']:.1f}",
                str(r["observed_defaults"]),
                f"{r['observed_rate']:.2%}" if r["firms"] else "-",
                f"{r['p_two_sided']:.3f}",
                f"{r['p_underestimated']:.3f}",
                _tag(r["light"]),
            )
        console.print(t)
        p = bt["portfolio"]
        console.print(
            f"portfolio: observed rate 95% interval (Jeffreys) {p['rate_ci95'][0]:.2%}-"
            f"{p['rate_ci95'][1]:.2%}, mean PD {p['mean_pd']:.2%}: "
            + ("calibrated" if p["calibrated"] else "[red]not calibrated[/]")
        )
    stab = result["stability"]
    psis = ([stab["score"]] if stab["score"] else []) + list(stab["features"] or [])[:top]
    if psis:
        span = f" {stab['reference_as_of']} -> {stab['current_as_of']}" if stab.get("reference_as_of") else ""
        t = Table(title=f"population stability{span} (PD: previous -> current scoring)")
        for col in ("", "PSI", "verdict", "n ref", "n cur", "missing ref", "missing cur"):
            t.add_column(col)
        for r in psis:
            t.add_row(
                r["feature"],
                f"{r['psi']:.3f}",
                _tag(r["verdict"]) + (" (few)" if r["small_sample"] else ""),
                f"{r['n_reference']:,}",
                f"{r['n_current']:,}",
                f"{r['missing_reference']:.0%}",
                f"{r['missing_current']:.0%}",
            )
        console.print(t)
    wl = result["watchlist"]
    if wl is not None:
        t = Table(title=f"watchlist: {len(wl):,} firms whose tier worsened (reasons marked * are new)")
        for col in ("uscc", "tier", "PD", "reasons"):
            t.add_column(col)
        for r in wl[:top]:
            reasons = "; ".join(("* " if x["new"] else "") + x["text"] for x in r["reasons"])
            t.add_row(
                r["uscc"],
                f"{r['tier_previous']} -> {r['tier_current']}",
                f"{r['pd_previous']:.2%} -> {r['pd_current']:.2%}",
                reasons,
            )
        console.print(t)


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option} {text!r} is not a date YYYY-MM-DD") from exc


def monitor_cmd(
    scores: Annotated[
        Path | None, typer.Option("--scores", help="Current scores (Parquet from `chainrisk score --out`).")
    ] = None,
    previous: Annotated[
        Path | None, typer.Option("--previous", help="Previous scores (Parquet), for PSI and the watchlist.")
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="Dataset folder: realised defaults and feature PSI.")
    ] = None,
    from_neo4j: Annotated[
        bool, typer.Option("--from-neo4j", help="The current and previous risk runs and the data from Neo4j.")
    ] = False,
    segment: Annotated[str, typer.Option("--segment", help="book, prospect or all.")] = "book",
    reference_as_of: Annotated[
        str | None,
        typer.Option(
            "--reference-as-of",
            help="Feature PSI reference date (default: the "
            "previous scoring's, else a year before the current one).",
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows of the feature and watchlist tables.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")] = False,
) -> None:
    """Back-test scored PDs by tier, measure score and feature stability, list firms whose tier worsened.

    Verdict: investigate (a PSI > 0.25), recalibrate (a red tier, two amber, or the portfolio
    outside its interval), watch, or calibrated and stable.

    Example: chainrisk monitor --scores scores.parquet --previous scores-prev.parquet --dataset data/synth
    """
    from gnn.monitor import monitor
    from gnn.scorings import dataset_history, graph_history, graph_scorings, read_scoring

    if (scores is None) == (not from_neo4j):
        raise ConfigError("give exactly one of --scores FILE or --from-neo4j")
    if from_neo4j and (previous is not None or dataset is not None):
        raise ConfigError("--previous and --dataset go with --scores; --from-neo4j reads both from the graph")
    ref = _date(reference_as_of, "--reference-as-of")
    err = Console(stderr=True)
    with err.status("reading") as status:
        if scores is not None:
            current = read_scoring(scores)
            prev = read_scoring(previous) if previous is not None else None
            history = dataset_history(dataset) if dataset is not None else None
        else:
            from graph.runner import GraphRunner

            with GraphRunner.from_settings() as runner:
                current, prev = graph_scorings(runner)
                status.update("reading the graph's tables")
                history = graph_history(runner)
        result = monitor(
            current,
            prev,
            history,
            segment=segment,
            reference_as_of=ref,
            progress=lambda msg: status.update(msg),
        )
    if as_json:
        typer.echo(json.dumps(clean(result), ensure_ascii=False, default=str))
        return
    render(result, Console(), top=top)


def register(app: typer.Typer) -> None:
    """Add ``monitor`` to the ``chainrisk`` app."""
    app.command("monitor")(monitor_cmd)
