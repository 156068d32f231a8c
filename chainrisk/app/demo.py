"""The end-to-end demo: a synthetic platform, loaded into Neo4j, measured, stress-tested, written back.

Every step is the real library path a bank would run on its own data:

1. ``ingest.generate``     a synthetic platform dataset (deterministic under the seed);
2. ``ingest.load_dataset`` validation, quarantine and an idempotent load into Neo4j as a run;
3. ``ingest.snapshot``     the as-of snapshot read back from Neo4j;
4. ``graph.gds``           guarantee groups (WCC) and circles (SCC) with GDS;
5. ``contagion.esri``      each firm's systemic risk index on the supply network;
6. ``gnn.training``        the risk models trained out of time on the files, the best graph-aware
                           one saved, every firm scored with its reasons and written back as a ``risk`` run;
7. ``contagion.stress``    a Monte Carlo stress scenario with correlated defaults and contagion,
                           its PDs those of the risk run;
8. ``graph.runs.publish``  the stress results written back to the graph as one atomic run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chainrisk.settings import REPO_ROOT, get_settings

__all__ = ["DEMO_SCENARIO", "DemoResult", "run_demo"]

#: The scenario the demo runs: the biggest guarantors fail (works on any dataset).
DEMO_SCENARIO = REPO_ROOT / "examples" / "scenarios" / "hub_guarantor_failure.yaml"


@dataclass
class DemoResult:
    """What the demo did, step by step, with the figures a risk team looks at first."""

    dataset: str
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step
    figures: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str, ensure_ascii=False)


def run_demo(
    out_dir: Path,
    *,
    firms: int = 2_000,
    seed: int = 7,
    runs: int = 1_000,
    scenario: Path = DEMO_SCENARIO,
    runner: Any = None,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the whole path on a generated platform of ``firms`` firms; return what it measured."""
    import numpy as np

    from contagion import snapshot_esri
    from contagion.stress import load_scenario, run_stress, write_outputs
    from graph.gds import guarantee_structure
    from graph.runner import GraphRunner
    from graph.runs import publish
    from ingest import read_manifest
    from ingest.generate import generate
    from ingest.load import load_dataset
    from ingest.snapshot import read_snapshot

    out_dir = Path(out_dir)
    dataset = out_dir / "dataset"
    result = DemoResult(dataset=str(dataset))
    own_runner = runner is None
    runner = runner or GraphRunner.from_settings()

    def step(name: str, t0: float) -> None:
        result.steps[name] = round(time.monotonic() - t0, 2)

    try:
        t0 = time.monotonic()
        summary = generate(dataset, firms=firms, seed=seed)
        step("generate", t0)
        result.figures["generated"] = {
            k: getattr(summary, k) for k in ("firms", "supply_links", "guarantee_links", "loans", "defaults")
            if hasattr(summary, k)
        }
        say(f"1/8 generated {firms} firms into {dataset}")

        t0 = time.monotonic()
        report = load_dataset(dataset, runner=runner)
        step("ingest", t0)
        result.figures["ingest"] = report.totals() if hasattr(report, "totals") else str(report)
        say(f"2/8 ingested: {result.figures['ingest']}")

        as_of = read_manifest(dataset).as_of
        t0 = time.monotonic()
        snapshot = read_snapshot(runner, as_of=as_of)
        step("snapshot", t0)
        say(f"3/8 snapshot as of {as_of}: {snapshot.n} firms, {snapshot.supply.nnz} supply links, "
            f"{snapshot.guarantees.nnz} guarantee links")

        t0 = time.monotonic()
        structure = guarantee_structure(runner, as_of=as_of)
        step("gds_guarantee_structure", t0)
        circles = structure[structure["circle"] >= 0]
        result.figures["guarantee"] = {
            "groups_of_2_or_more": int((structure.groupby("group").size() >= 2).sum()),
            "largest_group": int(structure["group_size"].max()) if len(structure) else 0,
            "circles": int(circles["circle"].nunique()),
            "firms_in_circles": len(circles),
        }
        say(f"4/8 guarantee network (GDS WCC/SCC): {result.figures['guarantee']}")

        t0 = time.monotonic()
        systemic = snapshot_esri(snapshot).esri
        step("esri", t0)
        top = np.argsort(-systemic)[:5]
        result.figures["esri_top5"] = {
            str(snapshot.firms["uscc"].iat[i]): round(float(systemic[i]), 4) for i in top
        }
        say(f"5/8 ESRI computed for {snapshot.n} firms; top: {result.figures['esri_top5']}")

        t0 = time.monotonic()
        risk_pds = _risk_step(dataset, snapshot, runner, out_dir, as_of=as_of, seed=seed, result=result)
        step("risk_model", t0)
        say(f"6/8 risk model {result.figures['risk']['model_version']}: {result.figures['risk']}")

        t0 = time.monotonic()
        spec = load_scenario(scenario)
        lenders = spec.bank_lenders if spec.bank_lenders is not None else get_settings().bank_lenders
        stress = run_stress(snapshot, spec, runs=runs, seed=seed, systemic_impact=systemic, progress=False,
                            bank_lenders=lenders, scenario_file=str(scenario), risk_pds=risk_pds)
        paths = write_outputs(stress, out_dir / "stress")
        step("stress", t0)
        result.outputs = {k: str(v) for k, v in paths.items()}
        result.figures["stress"] = {
            "runs": stress.runs,
            "expected_loss": round(float(stress.measure("EL")), 2),
            "VaR99": round(float(stress.measure("VaR", 0.99)), 2),
            "ES99": round(float(stress.measure("ES", 0.99)), 2),
        }
        say(f"7/8 stress '{spec.name}': {result.figures['stress']}; report {paths.get('report')}")

        t0 = time.monotonic()
        run = publish(
            runner, kind="stress", family="stress", parameters=stress.summary(), as_of=as_of,
            firm_rows=stress.firm_rows(), edge_rows=stress.edge_rows(top=100),
            summary=result.figures["stress"],
        )
        step("write_back", t0)
        result.figures["write_back_run"] = run.run_id
        say(f"8/8 wrote stress results back to Neo4j as run {run.run_id}")
    finally:
        if own_runner:
            runner.close()
    (out_dir / "demo-summary.json").write_text(result.to_json(), encoding="utf-8")
    return result


def _risk_step(
    dataset: Path, snapshot: Any, runner: Any, out_dir: Path, *, as_of: Any, seed: int, result: DemoResult
) -> Any:
    """Train on the files as of ``as_of``, score the graph's snapshot, publish the risk run; its PDs."""
    import pandas as pd

    from contagion.stress.pd_source import RiskRunPDs
    from gnn.model_store import save_model
    from gnn.reasons import portfolio_reasons
    from gnn.scoring import publish_scores, score
    from gnn.training import train

    trained = train(dataset, as_of, seed=seed)
    save_model(trained, out_dir / "model")
    frame = score(trained, snapshot, reasons=portfolio_reasons)
    run = publish_scores(runner, frame, trained, as_of=as_of)
    book = frame[frame["segment"] == "book"]
    result.figures["risk"] = {
        "model_version": trained.version,
        "shipped": trained.name,
        "pd_type": trained.pd_type,
        "firms_scored": len(frame),
        "book_mean_pd": round(float(book["pd"].mean()), 4) if len(book) else None,
        "run_id": run.run_id,
    }
    result.outputs["model"] = str(out_dir / "model")
    pds = pd.Series(frame["pd"].to_numpy(), index=frame["uscc"].to_numpy(), dtype="float64")
    return RiskRunPDs(pd=pds, run_id=run.run_id, as_of=as_of, model_version=trained.version,
                      pd_type=trained.pd_type)
