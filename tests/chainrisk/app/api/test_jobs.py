"""The stress-job queue: one job at a time, in order; a failed job does not stop the worker; jobs
come back after a restart, and the ones a stop cut off are marked failed.

The job's work is replaced by a stand-in here (the live test runs the real engine).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from pathlib import Path

import pytest

from chainrisk.app.api.jobs import INTERRUPTED, StressJob, StressJobs, example_scenarios
from chainrisk.errors import ScenarioError
from chainrisk.settings import Settings


def _job(tmp_path: Path, i: int) -> StressJob:
    return StressJob(id=f"job-{i}", scenario=f"s{i}", source="content", text="name: x\n", submitted_by="t",
                     runs=None, seed=None, as_of=None, write_back=False, out_dir=tmp_path / f"job-{i}")


def _wait(jobs: StressJobs, job_id: str) -> StressJob:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        job = jobs.get(job_id)
        if job is not None and job.status in ("done", "failed"):
            return job
        time.sleep(0.01)
    raise AssertionError(f"{job_id} did not finish")


def _running(jobs: StressJobs, job_id: str) -> None:
    deadline = time.monotonic() + 10
    while jobs.get(job_id).status != "running":  # type: ignore[union-attr]
        assert time.monotonic() < deadline, f"{job_id} never started"
        time.sleep(0.01)


def test_one_job_at_a_time_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    order: list[tuple[str, str]] = []
    others_running = []

    def fake_run(self: StressJobs, job: StressJob) -> None:
        others_running.append([j.id for j in self.all() if j.status == "running" and j.id != job.id])
        if job.id == "job-0":
            gate.wait(10)
        if job.id == "job-1":
            raise ScenarioError("no firm matches", file="s1", line=3)
        order.append((job.id, job.status))

    monkeypatch.setattr(StressJobs, "_run", fake_run)
    jobs = StressJobs(Settings(_env_file=None), runner=lambda: None)
    for i in range(3):
        jobs.submit(_job(tmp_path, i))
    _running(jobs, "job-0")
    assert [jobs.get(f"job-{i}").status for i in range(3)] == ["running", "queued", "queued"]  # type: ignore[union-attr]
    gate.set()
    done = [_wait(jobs, f"job-{i}") for i in range(3)]
    assert [j.status for j in done] == ["done", "failed", "done"]
    assert done[1].error == "ScenarioError: s1:3: no firm matches"
    assert order == [("job-0", "running"), ("job-2", "running")]
    assert others_running == [[], [], []]  # nobody else ran meanwhile
    for before, after in itertools.pairwise(done):
        assert after.started is not None and before.finished is not None and after.started >= before.finished
    assert [j.id for j in jobs.all()] == ["job-2", "job-1", "job-0"]
    assert (tmp_path / "job-1" / "job.json").is_file()
    jobs.close()


def test_answers_are_copies_the_worker_does_not_change_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # POST /stress-runs answers submit()'s job and a poll answers get()'s: each is the job as it
    # stood then, taken under the lock that the worker's change and record write share (a shared
    # object let a reader see a status the record on disk did not have yet)
    gate = threading.Event()
    monkeypatch.setattr(StressJobs, "_run", lambda self, job: gate.wait(10))
    jobs = StressJobs(Settings(_env_file=None, stress_jobs_dir=tmp_path), runner=lambda: None)
    posted = jobs.submit(_job(tmp_path, 0))
    _running(jobs, "job-0")
    running = jobs.get("job-0")
    gate.set()
    done = _wait(jobs, "job-0")
    assert running is not None
    assert (posted.status, running.status, done.status) == ("queued", "running", "done")
    assert (posted.started, running.finished) == (None, None) and done.finished is not None
    assert json.loads((tmp_path / "job-0" / "job.json").read_text()) == done.to_dict(full=True)
    jobs.close()


def test_shipped_examples_are_listed_by_name() -> None:
    examples = example_scenarios()
    assert "regional_downturn" in examples
    assert all(p.suffix == ".yaml" and p.stem == name for name, p in examples.items())


def test_closing_fails_the_queued_jobs_unstarted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    monkeypatch.setattr(StressJobs, "_run", lambda self, job: gate.wait(10))
    jobs = StressJobs(Settings(_env_file=None), runner=lambda: None)
    for i in range(2):
        jobs.submit(_job(tmp_path, i))
    _running(jobs, "job-0")
    jobs.close()
    gate.set()
    first, second = _wait(jobs, "job-0"), _wait(jobs, "job-1")
    assert (first.status, second.status) == ("done", "failed")
    assert second.started is None and second.error == "the API stopped before the job ran"


def _blocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gate: threading.Event) -> StressJobs:
    """Jobs in ``tmp_path`` whose work waits for ``gate``: job-0 running, job-1 queued."""
    monkeypatch.setattr(StressJobs, "_run", lambda self, job: gate.wait(10))
    jobs = StressJobs(Settings(_env_file=None, stress_jobs_dir=tmp_path), runner=lambda: None)
    for i in range(2):
        jobs.submit(_job(tmp_path, i))
    _running(jobs, "job-0")
    return jobs


def test_a_restart_marks_the_jobs_it_cut_off_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    before = _blocked(tmp_path, monkeypatch, gate)
    # the process dies here (no close()): the records still say running and queued
    assert json.loads((tmp_path / "job-0" / "job.json").read_text())["status"] == "running"
    after = StressJobs(Settings(_env_file=None, stress_jobs_dir=tmp_path), runner=lambda: None)
    first, second = after.get("job-0"), after.get("job-1")
    assert first is not None and second is not None
    assert (first.status, second.status) == ("failed", "failed")
    assert first.error == INTERRUPTED.format(status="running") and "was running" in first.error
    assert second.error == INTERRUPTED.format(status="queued") and second.started is None
    assert first.started is not None and first.finished is not None and first.finished >= first.started
    assert first.text == "name: x\n"  # the scenario read back from scenario.yaml
    on_disk = json.loads((tmp_path / "job-0" / "job.json").read_text())
    assert on_disk == first.to_dict(full=True)  # the record says so too: a third start reads the same
    third = StressJobs(Settings(_env_file=None, stress_jobs_dir=tmp_path), runner=lambda: None)
    assert [j.to_dict(full=True) for j in third.all()] == [j.to_dict(full=True) for j in after.all()]
    gate.set()
    before.close()


def test_finished_jobs_come_back_with_their_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = {"scenario": "s0", "runs": 10, "measures": {"EL": {"value": 12.5}, "VaR_99": {"value": 40.0}}}

    def fake_run(self: StressJobs, job: StressJob) -> None:
        job.summary = summary
        job.run_id = "stress-1"

    monkeypatch.setattr(StressJobs, "_run", fake_run)
    settings = Settings(_env_file=None, stress_jobs_dir=tmp_path)
    jobs = StressJobs(settings, runner=lambda: None)
    done = _wait(jobs, jobs.submit(_job(tmp_path, 0)).id)
    jobs.close()
    (tmp_path / "not-a-job").mkdir()
    (tmp_path / "not-a-job" / "job.json").write_text("{broken", encoding="utf-8")  # skipped, logged
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "job.json").write_text(json.dumps(done.to_dict(full=True)), encoding="utf-8")
    back = StressJobs(settings, runner=lambda: None).all()
    assert [j.id for j in back] == ["job-0"]  # the copy under another folder's name is not a job
    assert back[0].to_dict(full=True) == done.to_dict(full=True)
    assert back[0].to_dict()["headline"] == {"EL": 12.5, "VaR_99": 40.0, "ES_99": None}


def test_a_clean_stop_fails_the_queued_jobs_on_disk_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    jobs = _blocked(tmp_path, monkeypatch, gate)
    jobs.close()
    # written by close() itself, before the worker gets to it (the process may end first)
    record = json.loads((tmp_path / "job-1" / "job.json").read_text())
    assert (record["status"], record["error"], record["started"]) == (
        "failed", "the API stopped before the job ran", None)
    gate.set()
    assert _wait(jobs, "job-0").status == "done"


def test_the_api_serves_jobs_across_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from chainrisk.app.api import create_app
    from chainrisk.app.auth.keys import create_key

    gate = threading.Event()
    before = _blocked(tmp_path / "jobs", monkeypatch, gate)
    settings = Settings(_env_file=None, neo4j_uri="bolt://127.0.0.1:1",
                        auth_db=tmp_path / "auth.sqlite", stress_jobs_dir=tmp_path / "jobs")
    key = create_key(settings.auth_db, "officer", name="t").key
    with TestClient(create_app(settings)) as client:  # no graph needed to list jobs
        listed = client.get("/stress-runs", headers={"X-API-Key": key}).json()["jobs"]
        assert [(j["id"], j["status"]) for j in listed] == [("job-1", "failed"), ("job-0", "failed")]
        one = client.get("/stress-runs/job-0", headers={"X-API-Key": key})
        assert one.status_code == 200 and one.json()["error"] == INTERRUPTED.format(status="running")
    gate.set()
    before.close()
