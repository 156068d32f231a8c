"""Runs: results become current atomically; a crashed run leaves the previous one current."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chainrisk.errors import GraphError
from graph.runner import GraphRunner
from graph.runs import commit_run, current_results, current_run, fail_run, start_run, write_firm_results

pytestmark = pytest.mark.neo4j


@pytest.fixture()
def firms(clean_graph: GraphRunner) -> GraphRunner:
    clean_graph.write("UNWIND ['F1', 'F2', 'F3'] AS u CREATE (:Firm {uscc: u})")
    return clean_graph


def _score(runner: GraphRunner, scores: dict[str, float], *, commit: bool) -> str:
    run = start_run(runner, kind="score", family="risk", parameters={"model": "t"})
    write_firm_results(runner, run, ({"uscc": u, "risk_score": s} for u, s in scores.items()), batch_size=2)
    if commit:
        commit_run(runner, run, summary={"n": len(scores)})
    return run.run_id


def test_commit_makes_results_current(firms: GraphRunner) -> None:
    assert current_run(firms, "risk") is None
    rid = _score(firms, {"F1": 0.1, "F2": 0.2, "F3": 0.3}, commit=True)
    assert current_run(firms, "risk")["run_id"] == rid  # type: ignore[index]
    assert [r["risk_score"] for r in current_results(firms, "risk")] == [0.1, 0.2, 0.3]


def test_interrupted_run_leaves_previous_current(firms: GraphRunner) -> None:
    first = _score(firms, {"F1": 0.1, "F2": 0.2, "F3": 0.3}, commit=True)
    # A second run writes some batches, then "crashes" before its final transaction.
    crashed = _score(firms, {"F1": 0.9, "F2": 0.9}, commit=False)
    assert current_run(firms, "risk")["run_id"] == first  # type: ignore[index]
    assert [r["risk_score"] for r in current_results(firms, "risk")] == [0.1, 0.2, 0.3]
    status = firms.read("MATCH (r:Run {run_id: $r}) RETURN r.status AS s", {"r": crashed})
    assert status == [{"s": "running"}]


def test_new_commit_supersedes_and_failed_run_is_marked(firms: GraphRunner) -> None:
    first = _score(firms, {"F1": 0.1}, commit=True)
    second = _score(firms, {"F1": 0.5}, commit=True)
    rows = firms.read("MATCH (r:Run) RETURN r.run_id AS id, r.status AS s ORDER BY r.started")
    assert {r["id"]: r["s"] for r in rows} == {first: "superseded", second: "committed"}
    run = start_run(firms, kind="score", family="risk", parameters={})
    fail_run(firms, run, "boom")
    assert current_run(firms, "risk")["run_id"] == second  # type: ignore[index]


def test_a_family_writes_only_its_own_properties(firms: GraphRunner) -> None:
    run = start_run(firms, kind="score", family="risk", parameters={})
    with pytest.raises(GraphError, match="stress_"):
        write_firm_results(firms, run, [{"uscc": "F1", "stress_default_prob": 0.3}])


def test_publish_marks_failed_run_and_keeps_previous(firms: GraphRunner) -> None:
    from graph.runs import publish

    first = publish(firms, kind="stress", family="stress", parameters={"s": 1}, as_of=None,
                    firm_rows=[{"uscc": "F1", "stress_default_prob": 0.1}],
                    edge_rows=[{"source": "F1", "target": "F2", "layer": "supply", "stress_flow": 0.5}])

    def broken() -> Iterator[dict[str, object]]:
        yield {"uscc": "F1", "stress_default_prob": 0.9}
        raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        publish(firms, kind="stress", family="stress", parameters={"s": 2}, as_of=None, firm_rows=broken(),
                batch_size=1)
    assert current_run(firms, "stress")["run_id"] == first.run_id  # type: ignore[index]
    assert current_results(firms, "stress") == [{"uscc": "F1", "stress_default_prob": 0.1}]
    failed = firms.read("MATCH (r:Run {status: 'failed'}) RETURN r.error AS e")
    assert failed and "worker died" in failed[0]["e"]
    flows = firms.read(
        "MATCH (:Firm {uscc: 'F1'})-[e:STRESS_FLOW]->(:Firm {uscc: 'F2'}) RETURN e.stress_flow AS f"
    )
    assert flows == [{"f": 0.5}]
