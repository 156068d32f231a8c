"""Stress tests as jobs: ``POST /stress-runs`` queues one, ``GET /stress-runs[/{id}]`` polls.

A job takes a scenario's YAML *content* or the *name* of a shipped example
(``examples/scenarios/<name>.yaml``), never a path on the server: a name is looked up among the
examples, so nothing the client sends reaches the file system. The scenario is parsed when the
job is posted (a bad one is 422 at once, naming its line), then the job waits in a queue: one
worker thread runs one job at a time, in order, so two stress tests never compete for the
server's memory.

A job runs what ``chainrisk stress --from-neo4j`` runs: the snapshot read from the graph at the
job's ``as_of`` (given, else the scenario's, else the latest ingested), the PD calibration's
yearly history, the current risk run's PDs, ESRI as the systemic impact, then
:func:`contagion.stress.run_stress` and :func:`contagion.stress.write_outputs` into the job's own
folder under ``settings.stress_jobs_dir``; with ``write_back`` the results are published as a
``stress`` run.

Jobs survive a restart: each job's folder keeps its record, ``job.json`` (rewritten at every
change of status, written to a temporary file and renamed so a crash never leaves half a record),
and the posted scenario as ``scenario.yaml``. When the app starts, :class:`StressJobs` reads the
latest :data:`MAX_KEPT` records back; a job the record calls ``queued`` or ``running`` was cut
off by the stop (its thread died with the process), so it is marked ``failed`` with
:data:`INTERRUPTED` as its error and its record rewritten: it is never run again on its own.
Stopping the app cleanly fails the queued jobs at once (:meth:`StressJobs.close`); the running
one finishes if the process lives long enough, else the next start marks it interrupted. One API
process per jobs folder: a second one would mark the first one's running job interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import secrets
import threading
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field, model_validator
from starlette.responses import Response

from chainrisk.app.api.errors import ApiError, JsonAnswer
from chainrisk.app.api.security import EVERYONE, OPERATORS, Caller, api_state, require
from chainrisk.errors import ChainriskError, ScenarioError
from chainrisk.settings import REPO_ROOT, Settings

__all__ = ["EXAMPLES_DIR", "INTERRUPTED", "StressJob", "StressJobs", "example_scenarios", "router"]

log = logging.getLogger(__name__)

#: The shipped example scenarios a job may name.
EXAMPLES_DIR = REPO_ROOT / "examples" / "scenarios"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Finished jobs kept in memory and read back at a start (the oldest finished ones are dropped first).
MAX_KEPT = 200
#: The error of a job found ``queued`` or ``running`` when the app starts (``{status}``: which).
INTERRUPTED = ("interrupted: the API stopped while the job was {status}; its results are incomplete or "
               "missing. Post it again to rerun it.")
_STOPPED = "the API stopped before the job ran"
#: A job folder's name read back at a start (ids are ``start_stress_run``'s ``YYYYmmddTHHMMSS-hex``).
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Status = Literal["queued", "running", "done", "failed"]


def example_scenarios() -> dict[str, Path]:
    """The shipped example scenarios by name (file stem)."""
    if not EXAMPLES_DIR.is_dir():
        return {}
    return {p.stem: p for p in sorted(EXAMPLES_DIR.glob("*.yaml")) if _NAME.match(p.stem)}


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass
class StressJob:
    """One stress job: what was asked, by whom, its state and, once done, its summary."""

    id: str
    scenario: str
    source: Literal["example", "content"]
    text: str
    submitted_by: str
    runs: int | None
    seed: int | None
    as_of: date | None
    write_back: bool
    out_dir: Path
    status: Status = "queued"
    submitted: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    error: str | None = None
    summary: dict[str, Any] | None = None
    run_id: str | None = None

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        """JSON-ready; ``full`` adds the whole summary (the list shows the headline figures only)."""
        out: dict[str, Any] = {
            "id": self.id, "status": self.status, "scenario": self.scenario, "source": self.source,
            "submitted_by": self.submitted_by, "submitted": self.submitted, "started": self.started,
            "finished": self.finished, "runs": self.runs, "seed": self.seed,
            "as_of": self.as_of.isoformat() if self.as_of else None, "write_back": self.write_back,
            "error": self.error, "run_id": self.run_id,
        }
        if self.summary is not None:
            m = self.summary.get("measures", {})
            out["headline"] = {k: (m.get(k) or {}).get("value") for k in ("EL", "VaR_99", "ES_99")}
            out["outputs"] = self.out_dir.name
            if full:
                out["summary"] = self.summary
        return out

    @classmethod
    def from_record(cls, record: dict[str, Any], folder: Path) -> StressJob:
        """The job a ``job.json`` record (``to_dict(full=True)``) in ``folder`` describes; the
        scenario's text comes from ``scenario.yaml`` beside it (empty when missing)."""
        status = record["status"]
        if status not in ("queued", "running", "done", "failed"):
            raise ValueError(f"unknown status {status!r}")
        text_file = folder / "scenario.yaml"
        return cls(
            id=str(record["id"]), scenario=str(record["scenario"]),
            source="example" if record.get("source") == "example" else "content",
            text=text_file.read_text(encoding="utf-8") if text_file.is_file() else "",
            submitted_by=str(record["submitted_by"]), runs=record.get("runs"), seed=record.get("seed"),
            as_of=date.fromisoformat(record["as_of"]) if record.get("as_of") else None,
            write_back=bool(record.get("write_back", False)), out_dir=folder, status=status,
            submitted=str(record["submitted"]), started=record.get("started"),
            finished=record.get("finished"),
            error=record.get("error"), summary=record.get("summary"), run_id=record.get("run_id"),
        )


class StressJobs:
    """A queue of stress jobs and the one worker thread that runs them in turn."""

    def __init__(self, settings: Settings, runner: Callable[[], Any]):
        self.settings = settings
        self._runner = runner
        self._queue: queue.Queue[StressJob | None] = queue.Queue()
        self._jobs: dict[str, StressJob] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closing = threading.Event()
        self._restore(Path(settings.stress_jobs_dir))

    def _restore(self, root: Path) -> None:
        """Read the latest :data:`MAX_KEPT` job records under ``root`` back; mark the ones a stop
        cut off (``queued`` or ``running``) failed with :data:`INTERRUPTED`."""
        if not root.is_dir():
            return
        found: list[StressJob] = []
        for record_file in root.glob("*/job.json"):
            folder = record_file.parent
            if not _JOB_ID.match(folder.name):
                continue
            try:
                job = StressJob.from_record(json.loads(record_file.read_text(encoding="utf-8")), folder)
            except (OSError, ValueError, KeyError, TypeError) as exc:  # one bad record must not stop the API
                log.warning("stress job record %s not read back: %s", record_file, exc)
                continue
            if job.id != folder.name:
                log.warning("stress job record %s names another job (%s): not read back", record_file, job.id)
                continue
            found.append(job)
        found.sort(key=lambda j: (j.submitted, j.id))
        for job in found[-MAX_KEPT:]:
            if job.status in ("queued", "running"):
                job.error = INTERRUPTED.format(status=job.status)
                job.status, job.finished = "failed", _now()
                self._save(job)
                log.warning("stress job %s was cut off by a stop: marked failed", job.id)
            self._jobs[job.id] = job

    def submit(self, job: StressJob) -> StressJob:
        job.out_dir.mkdir(parents=True, exist_ok=True)
        (job.out_dir / "scenario.yaml").write_text(job.text, encoding="utf-8")
        self._save(job)  # on disk before anyone can see it queued
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="chainrisk-stress-jobs", daemon=True)
                self._worker.start()
            queued = replace(job)  # the caller's copy: the worker changes the job once it is put
        self._queue.put(job)
        return queued

    def get(self, job_id: str) -> StressJob | None:
        """A copy of the job as it stands: the worker changes a job (and saves its record) under
        the lock, so a copy taken under it never shows a status before its record is on disk, nor
        a status without its error or finish time (the job itself is changed in place)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else replace(job)

    def all(self) -> list[StressJob]:
        """Copies of every job kept (as :meth:`get`), the latest first."""
        with self._lock:
            return sorted((replace(j) for j in self._jobs.values()), key=lambda j: (j.submitted, j.id),
                          reverse=True)

    def close(self) -> None:
        """Let the worker stop after the job it runs; jobs still queued fail unstarted, at once (the
        process may end before the worker would reach them)."""
        self._closing.set()
        with self._lock:
            waiting = [j for j in self._jobs.values() if j.status == "queued"]
            for job in waiting:
                job.status, job.error, job.finished = "failed", _STOPPED, _now()
                self._save(job)
        self._queue.put(None)

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in ("done", "failed")]
        for j in sorted(finished, key=lambda j: j.submitted)[: max(0, len(self._jobs) - MAX_KEPT)]:
            del self._jobs[j.id]

    def _save(self, job: StressJob) -> None:
        """Write the job's record (the whole summary included, so a restart serves it as before)."""
        job.out_dir.mkdir(parents=True, exist_ok=True)
        tmp = job.out_dir / f".job.json.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(json.dumps(job.to_dict(full=True), indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, job.out_dir / "job.json")  # a reader or a crash never meets half a record

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:  # close() fails queued jobs under the same lock: a job starts or fails, once
                if job.status != "queued":
                    continue
                if self._closing.is_set():
                    job.status, job.error, job.finished = "failed", _STOPPED, _now()
                else:
                    job.status, job.started = "running", _now()
                # saved under the lock: whoever reads a status through get() finds it on disk too, so
                # a crash right after never leaves a record behind what the API already answered
                self._save(job)
            if job.status != "running":
                continue
            status: Status = "done"
            error: str | None = None
            work = replace(job)  # _run fills in the summary and run id: published with "done" below
            try:
                self._run(work)
            except ChainriskError as exc:
                status, error = "failed", f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a job's failure must not end the worker
                status, error = "failed", f"unexpected {type(exc).__name__}: {exc}"
                (job.out_dir / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
            with self._lock:
                job.summary, job.run_id = work.summary, work.run_id
                job.status, job.error, job.finished = status, error, _now()
                self._save(job)

    def _run(self, job: StressJob) -> None:
        from chainrisk.app.commands.stress import graph_inputs
        from contagion import snapshot_esri
        from contagion.stress import StressPrecisionWarning, parse_scenario, run_stress, write_outputs
        from queries.catalogue import resolve_as_of

        spec = parse_scenario(job.text, file=job.scenario)
        runner = self._runner()
        day = resolve_as_of(runner, job.as_of or spec.as_of)
        snap, history, risk = graph_inputs(runner, day, spec.default_probability.history_years)
        lenders = spec.bank_lenders if spec.bank_lenders is not None else self.settings.bank_lenders
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StressPrecisionWarning)  # kept in the summary's warnings
            result = run_stress(snap, spec, runs=job.runs, seed=job.seed, bank_lenders=lenders,
                                progress=False, scenario_file=job.scenario,
                                systemic_impact=snapshot_esri(snap).esri, risk_pds=risk, history=history)
        write_outputs(result, job.out_dir)
        job.summary = result.summary()
        if job.write_back:
            from graph.runs import publish

            run = publish(runner, kind="stress", family="stress", parameters=result.summary(),
                          as_of=snap.as_of, firm_rows=result.firm_rows(), edge_rows=result.edge_rows(top=200),
                          summary={"scenario": spec.name, "EL": result.measure("EL"), "runs": result.runs})
            job.run_id = run.run_id


# ----------------------------------------------------------------------------- routes
router = APIRouter(tags=["stress"])


class StressRequest(BaseModel):
    """A stress job: exactly one of ``scenario`` (YAML content) or ``example`` (a shipped name)."""

    scenario: str | None = Field(None, max_length=200_000, description="The scenario's YAML content "
                                 "(docs/scenarios.md).")
    example: str | None = Field(None, description="The name of a shipped example scenario "
                                "(GET /stress-runs lists them).")
    runs: int | None = Field(None, ge=1, le=1_000_000, description="Monte Carlo runs (default: the "
                             "scenario's).")
    seed: int | None = Field(None, ge=0, description="Seed (default: the scenario's).")
    as_of: date | None = Field(None, description="Snapshot date (default: the scenario's, else the "
                               "latest ingested as_of).")
    write_back: bool = Field(False, description="Publish the results to the graph as a stress run.")

    @model_validator(mode="after")
    def _one_source(self) -> StressRequest:
        if (self.scenario is None) == (self.example is None):
            raise ValueError("give exactly one of scenario (YAML content) or example (a shipped name)")
        return self


def _no_aliases(text: str, name: str) -> None:
    """Refuse YAML aliases: a few nested ones expand exponentially when the scenario is read (the
    "billion laughs"), and no scenario needs them."""
    import yaml

    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.AliasToken):
                line = token.start_mark.line + 1
                raise ScenarioError("YAML aliases (*name) are not accepted in a posted scenario", file=name,
                                    line=line)
    except yaml.YAMLError:
        return  # parse_scenario reports it, with its line


def _jobs(request: Request) -> StressJobs:
    jobs: StressJobs = api_state(request).jobs
    return jobs


@router.post("/stress-runs", status_code=202)
def start_stress_run(request: Request, caller: Annotated[Caller, Depends(require(*OPERATORS))],
                     body: Annotated[StressRequest, Body()]) -> Response:
    """Queue a stress test (operators only); 202 with the job, then poll ``GET /stress-runs/{id}``."""
    from contagion.stress import parse_scenario

    if body.example is not None:
        examples = example_scenarios()
        if body.example not in examples:
            raise ApiError(422, "UnknownScenario", f"no example scenario {body.example!r}; shipped: "
                           f"{', '.join(examples) or 'none'}")
        name, text, source = body.example, examples[body.example].read_text(encoding="utf-8"), "example"
    else:
        name, text, source = "posted scenario", str(body.scenario), "content"
    _no_aliases(text, name)
    spec = parse_scenario(text, file=name)  # ScenarioError (422, with the line) before anything queues
    jobs = _jobs(request)
    job_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    job = jobs.submit(StressJob(
        id=job_id, scenario=spec.name if source == "content" else name, source=source,  # type: ignore[arg-type]
        text=text, submitted_by=caller.audit_name, runs=body.runs, seed=body.seed, as_of=body.as_of,
        write_back=body.write_back, out_dir=Path(jobs.settings.stress_jobs_dir) / job_id))
    return JsonAnswer(job.to_dict(), status_code=202, headers={"Location": f"/stress-runs/{job.id}"})


@router.get("/stress-runs")
def list_stress_runs(request: Request, _: Annotated[Caller, Depends(require(*EVERYONE))]) -> Response:
    """The jobs kept (latest first) and the example scenarios a job may name."""
    return JsonAnswer({"jobs": [j.to_dict() for j in _jobs(request).all()],
                       "examples": sorted(example_scenarios())})


@router.get("/stress-runs/{job_id}")
def get_stress_run(request: Request, _: Annotated[Caller, Depends(require(*EVERYONE))],
                   job_id: str) -> Response:
    """One job: its status and, once done, the summary measures (EL, VaR, ES ...) of the run."""
    job = _jobs(request).get(job_id)
    if job is None:
        raise ApiError(404, "UnknownJob", f"no stress job {job_id!r}")
    return JsonAnswer(job.to_dict(full=True))
