"""Runs: provenance for every job that writes, and atomic publication of results.

A job that writes results (scoring, stress test) is a ``(:Run)`` node. Its
per-firm results are written in batches as ``(:Result {run_id, family, ...})``
nodes hanging off each ``(:Firm)``, invisible to readers of *current* results
until :func:`commit_run` moves the family's ``(:Current)`` pointer to the run in
one small transaction. A reader therefore never sees half a run, and a job that
crashes before its commit leaves the previous run current.

Each producer owns one property family: ``risk`` results may only carry
``risk_*`` properties, ``stress`` results ``stress_*``; nothing else writes them.
Written-back results never touch ingested facts such as a lender's loan
classification.

Reading current results, the pattern the query library uses::

    MATCH (:Current {family: 'risk'})-[:POINTS_TO]->(run:Run)
    MATCH (f:Firm)-[:HAS_RESULT]->(r:Result {run_id: run.run_id})
    RETURN f.uscc, r.risk_score
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from chainrisk import __version__
from chainrisk.errors import GraphError
from graph.protocol import QueryRunner, WriteCounters

__all__ = [
    "FAMILIES",
    "Run",
    "commit_run",
    "current_results",
    "current_run",
    "fail_run",
    "family_runs",
    "latest_as_of",
    "parameters_hash",
    "publish",
    "run_properties",
    "run_results",
    "start_run",
    "write_edge_results",
    "write_firm_results",
]

#: Result families and the property prefix each owns.
FAMILIES: dict[str, str] = {"risk": "risk_", "stress": "stress_"}


@dataclass(frozen=True)
class Run:
    run_id: str
    kind: str
    family: str | None
    as_of: date | None
    parameters_hash: str


def parameters_hash(parameters: Mapping[str, Any]) -> str:
    """A stable SHA-256 of a parameter mapping (keys sorted, values JSON-encoded)."""
    blob = json.dumps(parameters, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def run_properties(
    *,
    run_id: str,
    kind: str,
    status: str,
    started: datetime,
    parameters: Mapping[str, Any],
    as_of: date | None = None,
    family: str | None = None,
    finished: datetime | None = None,
    summary: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The properties of a ``(:Run)`` node, as every writer creates it (:func:`start_run` over
    Bolt, the offline import as a CSV row); ``None`` values are not stored.

    >>> p = run_properties(run_id="r1", kind="ingest", status="running",
    ...                    started=datetime(2024, 1, 1), parameters={"a": 1})
    >>> p["parameters"], p["parameters_hash"] == parameters_hash({"a": 1}), p["summary"]
    ('{"a": 1}', True, None)
    """
    return {
        "run_id": run_id,
        "kind": kind,
        "family": family,
        "status": status,
        "started": started,
        "finished": finished,
        "as_of": as_of,
        "code_version": __version__,
        "parameters_hash": parameters_hash(parameters),
        "parameters": json.dumps(dict(parameters), sort_keys=True, default=str, ensure_ascii=False),
        "summary": None if summary is None else json.dumps(dict(summary), default=str, ensure_ascii=False),
    }


def start_run(
    runner: QueryRunner,
    *,
    kind: str,
    parameters: Mapping[str, Any],
    family: str | None = None,
    as_of: date | None = None,
    run_id: str | None = None,
) -> Run:
    """Record the start of a job as a ``(:Run {status: 'running'})`` node."""
    if family is not None and family not in FAMILIES:
        raise GraphError(f"unknown result family {family!r}; expected one of {sorted(FAMILIES)}")
    run = Run(
        run_id=run_id or f"{kind}-{datetime.now().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}",
        kind=kind,
        family=family,
        as_of=as_of,
        parameters_hash=parameters_hash(parameters),
    )
    props = run_properties(run_id=run.run_id, kind=kind, family=family, status="running",
                           started=datetime.now().astimezone(), as_of=as_of, parameters=parameters)
    stored = {k: v for k, v in props.items() if v is not None}
    runner.write("CREATE (r:Run) SET r = $props", {"props": stored})
    return run


def _check_family(run: Run, keys: Iterable[str]) -> None:
    if run.family is None:
        raise GraphError(f"run {run.run_id} has no result family; it cannot write results")
    prefix = FAMILIES[run.family]
    foreign = sorted(k for k in keys if not k.startswith(prefix))
    if foreign:
        raise GraphError(f"a {run.family!r} run may only write {prefix}* properties, not {foreign}")


def write_firm_results(
    runner: QueryRunner,
    run: Run,
    rows: Iterable[Mapping[str, Any]],
    *,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> WriteCounters:
    """Write one ``(:Result)`` per firm for ``run``; each row is ``{"uscc": ..., "<family>_*": ...}``.

    The results stay invisible to :func:`current_results` until :func:`commit_run`.
    Re-writing the same run overwrites its own results (idempotent).
    """

    def prepared() -> Iterable[dict[str, Any]]:
        for row in rows:
            props = {k: v for k, v in row.items() if k != "uscc"}
            _check_family(run, props)
            yield {"uscc": row["uscc"], "props": props}

    return runner.write_batches(
        "UNWIND $rows AS row "
        "MATCH (f:Firm {uscc: row.uscc}) "
        "MERGE (r:Result {key: $run_id + '|' + row.uscc}) "
        "SET r += row.props, r.run_id = $run_id, r.family = $family, r.as_of = $as_of, "
        "    r.model_version = $version, r.parameters_hash = $phash "
        "MERGE (f)-[:HAS_RESULT]->(r)",
        prepared(),
        batch_size=batch_size,
        params={
            "run_id": run.run_id,
            "family": run.family,
            "as_of": run.as_of,
            "version": __version__,
            "phash": run.parameters_hash,
        },
        on_batch=on_batch,
    )


def write_edge_results(
    runner: QueryRunner,
    run: Run,
    rows: Iterable[Mapping[str, Any]],
    *,
    batch_size: int | None = None,
) -> WriteCounters:
    """Write per-link results as ``(:Firm)-[:STRESS_FLOW {run_id, ...}]->(:Firm)``.

    Each row is ``{"source": uscc, "target": uscc, "layer": str, "<family>_*": ...}``. They are
    kept per run, like firm results, and read through the current run.
    """

    def prepared() -> Iterable[dict[str, Any]]:
        for row in rows:
            props = {k: v for k, v in row.items() if k not in ("source", "target", "layer")}
            _check_family(run, props)
            yield {"source": row["source"], "target": row["target"], "layer": row.get("layer", ""),
                   "props": props}

    return runner.write_batches(
        "UNWIND $rows AS row "
        "MATCH (a:Firm {uscc: row.source}) MATCH (b:Firm {uscc: row.target}) "
        "MERGE (a)-[e:STRESS_FLOW {run_id: $run_id, layer: row.layer}]->(b) "
        "SET e += row.props, e.as_of = $as_of",
        prepared(),
        batch_size=batch_size,
        params={"run_id": run.run_id, "as_of": run.as_of},
    )


def commit_run(runner: QueryRunner, run: Run, *, summary: Mapping[str, Any] | None = None) -> None:
    """Mark ``run`` committed and, for result families, make it current: one small transaction."""
    runner.write(
        "MATCH (r:Run {run_id: $run_id}) "
        "SET r.status = 'committed', r.finished = datetime(), r.summary = $summary "
        "WITH r WHERE r.family IS NOT NULL "
        "MERGE (c:Current {family: r.family}) "
        "WITH r, c "
        "OPTIONAL MATCH (c)-[old:POINTS_TO]->(prev:Run) "
        "SET prev.status = CASE WHEN prev IS NULL THEN NULL ELSE 'superseded' END "
        "DELETE old "
        "MERGE (c)-[:POINTS_TO]->(r)",
        {"run_id": run.run_id, "summary": json.dumps(dict(summary or {}), default=str, ensure_ascii=False)},
    )


def fail_run(runner: QueryRunner, run: Run, error: str) -> None:
    """Mark ``run`` failed; the family's current run stays what it was."""
    runner.write(
        "MATCH (r:Run {run_id: $run_id}) SET r.status = 'failed', r.finished = datetime(), r.error = $error",
        {"run_id": run.run_id, "error": error[:2000]},
    )


def current_run(runner: QueryRunner, family: str) -> dict[str, Any] | None:
    """The committed run that is current for ``family``, or ``None`` (``parameters`` as stored: JSON text)."""
    rows = runner.read(
        "MATCH (:Current {family: $family})-[:POINTS_TO]->(r:Run) "
        "RETURN r.run_id AS run_id, r.kind AS kind, r.as_of AS as_of, r.status AS status, "
        "r.parameters_hash AS parameters_hash, r.code_version AS code_version, r.parameters AS parameters",
        {"family": family},
    )
    return rows[0] if rows else None


def current_results(runner: QueryRunner, family: str) -> list[dict[str, Any]]:
    """Every firm's result in the current run of ``family`` as ``{"uscc": ..., **props}``."""
    rows = runner.read(
        "MATCH (:Current {family: $family})-[:POINTS_TO]->(run:Run) "
        "MATCH (f:Firm)-[:HAS_RESULT]->(r:Result {run_id: run.run_id}) "
        "RETURN f.uscc AS uscc, properties(r) AS props ORDER BY uscc",
        {"family": family},
    )
    prefix = FAMILIES[family]
    return [
        {"uscc": r["uscc"], **{k: v for k, v in r["props"].items() if k.startswith(prefix)}} for r in rows
    ]


def family_runs(runner: QueryRunner, family: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """The committed and superseded runs of ``family``, the latest commit first (the current one,
    then the one it superseded, ...); ``as_of`` and ``finished`` as ISO text."""
    return runner.read(
        "MATCH (r:Run {family: $family}) WHERE r.status IN ['committed', 'superseded'] "
        "RETURN r.run_id AS run_id, r.kind AS kind, r.status AS status, toString(r.as_of) AS as_of, "
        "toString(r.finished) AS finished, r.code_version AS code_version "
        "ORDER BY r.finished DESC, r.started DESC LIMIT $limit",
        {"family": family, "limit": limit},
    )


def run_results(runner: QueryRunner, run_id: str, family: str) -> list[dict[str, Any]]:
    """Every firm's result in one run (current or not) as ``{"uscc": ..., "model_version": ...,
    **props}``, the family's properties only."""
    rows = runner.read(
        "MATCH (f:Firm)-[:HAS_RESULT]->(r:Result {run_id: $run_id}) "
        "RETURN f.uscc AS uscc, r.model_version AS model_version, properties(r) AS props ORDER BY uscc",
        {"run_id": run_id},
    )
    prefix = FAMILIES[family]
    return [
        {
            "uscc": r["uscc"],
            "model_version": r["model_version"],
            **{k: v for k, v in r["props"].items() if k.startswith(prefix)},
        }
        for r in rows
    ]


def latest_as_of(runner: QueryRunner, kind: str) -> date | None:
    """The ``as_of`` of the latest committed run of ``kind`` (for ``ingest``: how far the loaded
    data reach), or ``None``."""
    rows = runner.read(
        "MATCH (r:Run {kind: $kind}) WHERE r.status IN ['committed', 'superseded'] AND r.as_of IS NOT NULL "
        "RETURN toString(max(r.as_of)) AS as_of",
        {"kind": kind},
    )
    return date.fromisoformat(rows[0]["as_of"]) if rows and rows[0]["as_of"] else None


def publish(
    runner: QueryRunner,
    *,
    kind: str,
    family: str,
    parameters: Mapping[str, Any],
    as_of: date | None,
    firm_rows: Iterable[Mapping[str, Any]],
    edge_rows: Iterable[Mapping[str, Any]] = (),
    summary: Mapping[str, Any] | None = None,
    batch_size: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Run:
    """Write a job's results as one run and make them current; on any failure mark the run failed.

    The whole life of a result-writing job in one call: ``start_run``, batches of firm and
    edge results, then ``commit_run`` (the small final transaction). If anything raises
    before the commit, the run is marked failed and the previous run stays current.
    """
    from graph.schema import ensure_schema

    ensure_schema(runner)
    run = start_run(runner, kind=kind, family=family, parameters=parameters, as_of=as_of)
    try:
        write_firm_results(runner, run, firm_rows, batch_size=batch_size, on_batch=on_batch)
        write_edge_results(runner, run, edge_rows, batch_size=batch_size)
        commit_run(runner, run, summary=summary)
    except BaseException as exc:
        fail_run(runner, run, f"{type(exc).__name__}: {exc}")
        raise
    return run
