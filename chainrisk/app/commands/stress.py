"""``chainrisk stress``: run a YAML stress scenario on a dataset folder or the Neo4j graph.

A thin layer over :func:`contagion.stress.run_stress` and
:func:`contagion.stress.write_outputs`; the snapshot builders are imported lazily.
"""

from __future__ import annotations

import importlib
import json
import warnings
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from chainrisk.errors import ConfigError

__all__ = ["graph_inputs", "register", "stress"]


def _risk_pds(runner: Any) -> Any:
    """The current ``risk`` run's PDs as :class:`contagion.stress.pd_source.RiskRunPDs`, or ``None``."""
    import pandas as pd

    from contagion.stress.pd_source import RiskRunPDs
    from graph.runs import current_results, current_run

    run = current_run(runner, "risk")
    if run is None:
        return None
    try:
        params = json.loads(run.get("parameters") or "{}")
    except ValueError:
        params = {}
    rows = current_results(runner, "risk")
    pds = pd.Series({r["uscc"]: r["risk_pd"] for r in rows if r.get("risk_pd") is not None}, dtype=float)
    if pds.empty:
        return None
    as_of = run["as_of"]
    as_of = as_of.to_native() if hasattr(as_of, "to_native") else as_of
    return RiskRunPDs(pd=pds, run_id=str(run["run_id"]), as_of=date.fromisoformat(str(as_of)[:10]),
                      model_version=params.get("model_version") or run.get("code_version"),
                      pd_type=params.get("pd_type"))


def graph_inputs(runner: Any, as_of: date, years: int) -> tuple[Any, list[Any], Any]:
    """From the graph behind ``runner``: the snapshot at ``as_of``, yearly past snapshots for the PD
    calibration (``years`` back) and the current risk run's PDs (the ``--from-neo4j`` path; the
    HTTP API's stress jobs take it too)."""
    ingest = importlib.import_module("ingest")  # lazily: the builder pulls in the readers
    calibration = importlib.import_module("contagion.stress.pd_calibration")
    from_graph = importlib.import_module("ingest.snapshot.from_graph")
    tables = from_graph.read_graph_tables(runner, as_of=as_of)
    currency = from_graph.ingested_currency(runner)
    risk = _risk_pds(runner)
    snap = ingest.assemble_snapshot(tables, as_of=as_of, currency=currency)
    history = [ingest.assemble_snapshot(tables, as_of=t, currency=currency)
               for t in calibration.cohort_dates(snap.as_of, years)]
    return snap, history, risk


def _inputs(dataset: Path | None, from_neo4j: bool, as_of: date | None, years: int
            ) -> tuple[Any, list[Any], Any]:
    """The snapshot, yearly past snapshots for the PD calibration, and the current risk run's PDs."""
    if (dataset is None) == (not from_neo4j):
        raise ConfigError("give exactly one of --dataset DIR or --from-neo4j")
    if dataset is None:
        runner_mod = importlib.import_module("graph.runner")
        with runner_mod.GraphRunner.from_settings() as runner:
            return graph_inputs(runner, as_of or date.today(), years)
    ingest = importlib.import_module("ingest")  # lazily: the builder pulls in the readers
    snapshot_mod = importlib.import_module("ingest.snapshot")
    calibration = importlib.import_module("contagion.stress.pd_calibration")
    manifest = ingest.read_manifest(dataset)
    tables = snapshot_mod.read_dataset_tables(dataset)
    day, currency = as_of or manifest.as_of, manifest.currency
    snap = ingest.assemble_snapshot(tables, as_of=day, currency=currency)
    history = [ingest.assemble_snapshot(tables, as_of=t, currency=currency)
               for t in calibration.cohort_dates(snap.as_of, years)]
    return snap, history, None


def stress(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML (see docs/scenarios.md).")],
    runs: Annotated[int | None, typer.Option("--runs", min=1, help="Monte Carlo runs (overrides the file).")]
    = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed (overrides the file).")] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786.")
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option("--dataset", help="Dataset folder to build the snapshot from.")
    ] = None,
    from_neo4j: Annotated[bool, typer.Option("--from-neo4j", help="Read the snapshot from Neo4j.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Snapshot date YYYY-MM-DD (default: the scenario's, else today)."),
    ] = None,
    bank_lender: Annotated[
        list[str] | None, typer.Option("--bank-lender", help="A lender id of the bank (repeatable).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("out/stress"),
    block_size: Annotated[int, typer.Option("--block-size", min=1, help="Runs per contagion call.")] = 250,
    with_esri: Annotated[
        bool, typer.Option("--esri/--no-esri", help="Compute each firm's ESRI as its systemic impact.")
    ] = True,
    write_back: Annotated[
        bool, typer.Option("--write-back", help="Write the results to Neo4j as a stress run.")
    ] = False,
) -> None:
    """Run a Monte Carlo stress scenario and write tables, a JSON summary and an HTML report.

    Example: chainrisk stress examples/scenarios/regional_downturn.yaml --dataset data/sample --runs 2000
    """
    from chainrisk.settings import get_settings
    from contagion.stress import StressPrecisionWarning, load_scenario, run_stress, write_outputs

    spec = load_scenario(scenario)
    lenders = bank_lender or spec.bank_lenders  # the options, else the scenario's, else the settings'
    if lenders is None:
        lenders = get_settings().bank_lenders
    day = spec.as_of
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError as exc:
            raise ConfigError(f"--as-of {as_of!r} is not a date YYYY-MM-DD") from exc
    snap, history, risk = _inputs(dataset, from_neo4j, day, spec.default_probability.history_years)
    systemic = None
    if with_esri:
        from contagion import snapshot_esri

        systemic = snapshot_esri(snap).esri
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)  # shown below from result.warnings
        result = run_stress(snap, spec, runs=runs, seed=seed, scheduler=scheduler,
                            bank_lenders=lenders, progress=True, block_size=block_size,
                            scenario_file=str(scenario), systemic_impact=systemic, risk_pds=risk,
                            history=history)
    paths = write_outputs(result, out)
    for w in result.warnings:
        typer.secho(f"warning: {w}", fg=typer.colors.YELLOW, err=True)
    el = result.measure("EL")
    typer.echo(
        f"{spec.name}: {result.runs} runs, EL {el:,.2f} ± {result.measure('EL', column='se'):,.2f}, "
        f"VaR99 {result.measure('VaR', 0.99):,.2f}, ES99 {result.measure('ES', 0.99):,.2f}"
    )
    src = result.details.get("pd_source", {})
    typer.echo(f"PDs: {src.get('source')}" + (f" (risk run {src['run_id']}, as of {src['as_of']})"
                                               if src.get("source") == "risk_run" else ""))
    typer.echo(f"report: {paths['report']}")
    if write_back:
        from graph.runner import GraphRunner
        from graph.runs import publish

        with GraphRunner.from_settings() as runner:
            run = publish(
                runner, kind="stress", family="stress", parameters=result.summary(), as_of=snap.as_of,
                firm_rows=result.firm_rows(), edge_rows=result.edge_rows(top=200),
                summary={"scenario": spec.name, "EL": el, "runs": result.runs},
            )
        typer.echo(f"written back to Neo4j as run {run.run_id}")


def register(app: typer.Typer) -> None:
    """Add ``stress`` to the ``chainrisk`` app."""
    app.command("stress")(stress)
