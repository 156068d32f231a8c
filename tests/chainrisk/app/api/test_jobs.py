"""The stress-job queue: one job at a time, in order; a failed job does not stop the worker.

The job's work is replaced by a stand-in here (the live test runs the real engine).
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from chainrisk.app.api.jobs import StressJob, StressJobs, example_scenarios
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
