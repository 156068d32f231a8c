"""Stress jobs through the API on the live platform: queued, run from the graph, polled to done; a
scenario is content or a shipped name, never a path on the server."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from chainrisk.app.api.jobs import example_scenarios
from tests.chainrisk.app.api.conftest import Api
from tests.queries._graph import AS_OF, U

pytestmark = pytest.mark.neo4j

TINY = "name: tiny\ndescription: a small shock, few runs\nruns: 10\nseed: 3\nmacro:\n  global: -1.0\n"


def _wait(api: Api, job_id: str, timeout_s: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(f"/stress-runs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout_s} s")


def test_a_job_runs_from_the_graph_and_reports_its_measures(api: Api) -> None:
    resp = api.post("/stress-runs", "operator", {"scenario": TINY, "runs": 12, "seed": 5})
    assert resp.status_code == 202
    job = resp.json()
    assert resp.headers["Location"] == f"/stress-runs/{job['id']}"
    assert (job["status"], job["scenario"], job["source"]) == ("queued", "tiny", "content")
    assert job["submitted_by"].startswith("api:operator-test (")
    listed = api.get("/stress-runs").json()
    assert job["id"] in [j["id"] for j in listed["jobs"]]
    assert listed["examples"] == sorted(example_scenarios()) and "regional_downturn" in listed["examples"]
    done = _wait(api, job["id"])
    assert done["status"] == "done", done["error"]
    summary = done["summary"]
    assert (summary["scenario"], summary["runs"], summary["seed"], summary["as_of"]) == ("tiny", 12, 5, AS_OF)
    assert summary["firms"] == len(U)
    assert done["headline"]["EL"] == summary["measures"]["EL"]["value"] >= 0
    folder = api.settings.stress_jobs_dir / job["id"]
    assert json.loads((folder / "summary.json").read_text())["measures"] == summary["measures"]
    assert json.loads((folder / "job.json").read_text())["status"] == "done"
    assert (folder / "report.html").is_file()


def test_a_scenario_is_content_or_a_shipped_name_never_a_path(api: Api) -> None:
    for body in ({"example": "../../examples/scenarios/regional_downturn"},
                 {"example": "/etc/passwd"}, {"example": "no_such_scenario"}):
        resp = api.post("/stress-runs", "operator", body)
        assert resp.status_code == 422 and resp.json()["error"] == "UnknownScenario", body
    bad = api.post("/stress-runs", "operator", {"scenario": "name: broken\nruns: -1\n"})
    assert bad.status_code == 422 and bad.json()["error"] == "ScenarioError" and ":2:" in bad.json()["detail"]
    laughs = "name: lol\na: &a [x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b]\n"
    resp = api.post("/stress-runs", "operator", {"scenario": laughs})
    refused = resp.json()
    assert resp.status_code == 422 and refused["error"] == "ScenarioError"
    assert "aliases" in refused["detail"] and ":3:" in refused["detail"]
    both = api.post("/stress-runs", "operator", {"scenario": TINY, "example": "regional_downturn"})
    assert both.status_code == 422 and "exactly one" in both.json()["detail"]
    assert api.post("/stress-runs", "analyst", {"scenario": TINY}).status_code == 403
    assert api.get("/stress-runs/no-such-job").status_code == 404
