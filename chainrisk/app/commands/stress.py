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
    capital: Annotated[
        float | None,
        typer.Option("--capital", min=0.0, help="The bank's tier-1 capital (overrides "
                     "concentration.tier1_capital): large-exposure limits, --reverse-loss N%."),
    ] = None,
    sweep: Annotated[
        list[str] | None, typer.Option("--sweep", help="KEY=LOW:HIGH:COUNT or KEY=V1,V2 (repeatable), e.g. "
                                       "copula.rho_global=0.05:0.25:5: re-run per value, tornado chart.")
    ] = None,
    sweep_measure: Annotated[
        str, typer.Option("--sweep-measure", help="Figure of the tornado chart: EL, VaR_99, ES_99, VaR_99.9, "
                          "ES_99.9.")
    ] = "ES_99",
    reverse_loss: Annotated[
        str | None, typer.Option("--reverse-loss", help="Reverse stress test: a loss amount, or N% of the "
                                 "tier-1 capital; reports the factors and firms of the runs beyond it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")]
    = False,
    max_kept_gib: Annotated[
        float, typer.Option("--max-kept-gib", min=0.0, help="Bound on the per-run firm losses kept for the "
                            "Euler contributions and --reverse-loss, GiB (0: no bound); the run stops "
                            "with an error before passing it.")
    ] = 4.0,
    baseline_runs: Annotated[
        int | None, typer.Option("--baseline-runs", min=0, help="Runs of the calm-year baseline behind "
                                 "contagion.EL_over_baseline (the same runs without the scenario's shocks "
                                 "and shifts); default a quarter of --runs, 0: none.")
    ] = None,
) -> None:
    """Run a Monte Carlo stress scenario and write tables, a JSON summary and an HTML report.

    Example: chainrisk stress examples/scenarios/regional_downturn.yaml --dataset data/sample --runs 2000

    Sweep: chainrisk stress SCENARIO --dataset DIR --sweep copula.rho_global=0.05:0.25:5 --reverse-loss 10%
    """
    from chainrisk.app.render import emit_json
    from chainrisk.settings import get_settings
    from contagion.stress import StressPrecisionWarning, load_scenario, run_stress, write_outputs
    from contagion.stress.reverse import reverse_stress
    from contagion.stress.sweep import SWEEP_FIGURES, run_sweep, tornado

    spec = load_scenario(scenario)
    if capital is not None:
        spec = spec.model_copy(update={"concentration": spec.concentration.model_copy(
            update={"tier1_capital": capital})})
    sweeps = _sweeps(sweep or [])
    if sweep_measure not in SWEEP_FIGURES:
        raise ConfigError(f"--sweep-measure must be one of {', '.join(SWEEP_FIGURES)}, got {sweep_measure!r}")
    threshold = _threshold(reverse_loss, spec.concentration.tier1_capital)
    max_kept = int(max_kept_gib * 2**30) if max_kept_gib > 0 else None
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
                            bank_lenders=lenders, progress=not as_json, block_size=block_size,
                            scenario_file=str(scenario), systemic_impact=systemic, risk_pds=risk,
                            history=history, keep_runs_above=threshold, max_kept_bytes=max_kept,
                            baseline_runs=baseline_runs)
        if threshold is not None:
            result.details["reverse_stress"] = reverse_stress(result, threshold)
        if sweeps:
            def again(variant: Any) -> Any:
                return run_stress(snap, variant, runs=runs, seed=seed, scheduler=scheduler,
                                  bank_lenders=lenders, progress=False, block_size=block_size,
                                  scenario_file=str(scenario),
                                  risk_pds=risk, history=history, max_kept_bytes=max_kept,
                                  baseline_runs=0)  # the sweep compares the scenario's own figures

            table = run_sweep(again, spec, sweeps)
            base = result.summary()["measures"][sweep_measure]["value"]
            result.details["sweep"] = {"measure": sweep_measure, "base": base,
                                       "table": table.to_dict("records"),
                                       "tornado": tornado(table, base, sweep_measure).to_dict("records")}
    paths = write_outputs(result, out)
    for w in result.warnings:
        typer.secho(f"warning: {w}", fg=typer.colors.YELLOW, err=True)
    el = result.measure("EL")
    if as_json:
        emit_json({**result.summary(), "outputs": {k: str(v) for k, v in paths.items()}})
        if write_back:
            _write_back(result, snap.as_of, spec.name, el, quiet=True)
        return
    typer.echo(
        f"{spec.name}: {result.runs} runs, EL {el:,.2f} ± {result.measure('EL', column='se'):,.2f}, "
        f"VaR99 {result.measure('VaR', 0.99):,.2f}, ES99 {result.measure('ES', 0.99):,.2f}"
    )
    calm = result.details.get("contagion", {}).get("baseline")
    if calm:
        over = calm["EL_over_baseline"]
        typer.echo(f"EL = PDs' expectation {calm['EL_no_contagion']['value']:,.2f} + calm-year contagion "
                   f"{calm['contagion_in_calm_year']:,.2f} + the scenario's {over['value']:,.2f} ± "
                   f"{over['se']:,.2f} (calm year: {calm['runs']} runs)")
    src = result.details.get("pd_source", {})
    typer.echo(f"PDs: {src.get('source')}" + (f" (risk run {src['run_id']}, as of {src['as_of']})"
                                               if src.get("source") == "risk_run" else ""))
    typer.echo(f"ES99.9 {result.measure('ES', 0.999):,.2f} ± {result.measure('ES', 0.999, column='se'):,.2f}"
               + (" (importance sampling)" if result.details.get("sampling", {}).get("importance") else ""))
    if threshold is not None:
        rev = result.details["reverse_stress"]
        typer.echo(f"reverse stress: P(loss > {threshold:,.2f}) = {rev['probability']:.4%} "
                   f"± {rev['probability_se']:.4%} ({rev['runs_beyond']} runs)")
    if sweeps:
        typer.echo(f"sweep: {paths['sweep']}, tornado chart: {paths['tornado']}")
    typer.echo(f"report: {paths['report']}")
    if write_back:
        _write_back(result, snap.as_of, spec.name, el, quiet=False)


def _write_back(result: Any, as_of: date, name: str, el: float, *, quiet: bool) -> None:
    from graph.runner import GraphRunner
    from graph.runs import publish

    with GraphRunner.from_settings() as runner:
        run = publish(
            runner, kind="stress", family="stress", parameters=result.summary(), as_of=as_of,
            firm_rows=result.firm_rows(), edge_rows=result.edge_rows(top=200),
            summary={"scenario": name, "EL": el, "runs": result.runs},
        )
    typer.echo(f"written back to Neo4j as run {run.run_id}", err=quiet)


def _sweeps(specs: list[str]) -> list[tuple[str, list[float]]]:
    from contagion.stress.sweep import parse_sweep

    return [parse_sweep(x) for x in specs]


def _threshold(text: str | None, capital: float | None) -> float | None:
    """``--reverse-loss``: an amount, or ``N%`` of the tier-1 capital."""
    if text is None:
        return None
    t = text.strip()
    try:
        if t.endswith("%"):
            if not capital:
                raise ConfigError("--reverse-loss N% needs the bank's capital (--capital or "
                                  "concentration.tier1_capital)")
            return float(t[:-1]) / 100.0 * capital
        return float(t)
    except ValueError:
        raise ConfigError(f"--reverse-loss {text!r} is neither an amount nor a percentage like 25%") from None


def register(app: typer.Typer) -> None:
    """Add ``stress`` to the ``chainrisk`` app."""
    app.command("stress")(stress)
