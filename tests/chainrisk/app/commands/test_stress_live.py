"""The stress CLI end to end on the live server: snapshot from Neo4j, results written back as a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainrisk.app.cli import main
from graph.runner import GraphRunner
from graph.runs import current_results, current_run
from ingest import load_dataset

pytestmark = pytest.mark.neo4j

SAMPLE = Path(__file__).resolve().parents[4] / "data" / "sample"
SCENARIO = Path(__file__).resolve().parents[4] / "examples" / "scenarios" / "hub_guarantor_failure.yaml"


def test_stress_from_neo4j_writes_back_one_current_run(clean_graph: GraphRunner, tmp_path: Path) -> None:
    load_dataset(SAMPLE, runner=clean_graph, quarantine_dir=tmp_path / "q")
    args = ["stress", str(SCENARIO), "--from-neo4j", "--as-of", "2024-06-30", "--runs", "200",
            "--seed", "3", "--out", str(tmp_path / "out"), "--write-back"]
    assert main(args) == 0
    run = current_run(clean_graph, "stress")
    assert run is not None and run["kind"] == "stress"
    rows = current_results(clean_graph, "stress")
    firms = clean_graph.read("MATCH (f:Firm) RETURN count(f) AS n")[0]["n"]
    assert len(rows) == firms
    for r in rows:
        assert 0.0 <= r["stress_default_prob"] <= 1.0
        assert set(r) >= {"uscc", "stress_default_prob", "stress_systemic_impact"}
    # Vulnerability is mean distress when not distressed at the start: undefined (absent) only
    # for firms distressed at the start of every run: the ten largest guarantors the scenario
    # shocks, and firms already in default on the snapshot date (PD 1).
    from datetime import date

    from ingest import build_snapshot

    already = int(build_snapshot(SAMPLE, as_of=date(2024, 6, 30)).firms["defaulted"].sum())
    assert sum("stress_vulnerability" not in r for r in rows) <= 10 + already
    flows = clean_graph.read(
        "MATCH ()-[e:STRESS_FLOW {run_id: $r}]->() RETURN count(e) AS n, min(e.stress_flow) AS lo",
        {"r": run["run_id"]},
    )
    assert flows[0]["n"] > 0 and flows[0]["lo"] > 0
    # A second run with the same seed reproduces the figures and supersedes the first.
    assert main(args) == 0
    again = {r["uscc"]: r["stress_default_prob"] for r in current_results(clean_graph, "stress")}
    assert again == {r["uscc"]: r["stress_default_prob"] for r in rows}
    assert current_run(clean_graph, "stress")["run_id"] != run["run_id"]  # type: ignore[index]
    # The lender's own classification is never touched by written-back results.
    touched = clean_graph.read(
        "MATCH (n) WHERE (n:LoanStatus OR n:Loan OR n:Firm) AND n.stress_default_prob IS NOT NULL "
        "RETURN count(n) AS n"
    )
    assert touched == [{"n": 0}]
