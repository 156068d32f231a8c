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


def test_stress_uses_the_current_risk_run_and_refuses_a_stale_one(clean_graph: GraphRunner, tmp_path: Path
                                                                   ) -> None:
    import json
    from datetime import date

    from graph.runs import publish

    load_dataset(SAMPLE, runner=clean_graph, quarantine_dir=tmp_path / "q")
    uscc = [r["u"] for r in clean_graph.read("MATCH (f:Firm) RETURN f.uscc AS u ORDER BY u")]

    def risk_run(as_of: date) -> str:
        run = publish(clean_graph, kind="risk", family="risk", as_of=as_of,
                      parameters={"pd_type": "point_in_time", "model_version": "test-model-1"},
                      firm_rows=[{"uscc": u, "risk_pd": 0.02} for u in uscc])
        return run.run_id

    rid = risk_run(date(2024, 6, 15))
    out = tmp_path / "out"
    args = ["stress", str(SCENARIO), "--from-neo4j", "--as-of", "2024-06-30", "--runs", "100",
            "--seed", "3", "--out", str(out), "--no-esri"]
    assert main(args) == 0
    src = json.loads((out / "summary.json").read_text())["pd_source"]
    assert src["source"] == "risk_run" and src["run_id"] == rid and src["model_version"] == "test-model-1"
    assert src["as_of"] == "2024-06-15" and src["pd_type"] == "point_in_time"
    assert src["macro_shift_applied"] is False
    risk_run(date(2024, 1, 31))  # now current, and 151 days old
    assert main(args) != 0
