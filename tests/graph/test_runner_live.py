"""The graph seam against the live server: round trips, retries, errors."""

from __future__ import annotations

import threading
import time

import pytest

from chainrisk.errors import AuthenticationFailed, QueryFailed, ServerUnavailable
from chainrisk.settings import Settings
from graph.protocol import QueryRunner
from graph.runner import GraphRunner

pytestmark = pytest.mark.neo4j


def test_write_read_round_trip(clean_graph: GraphRunner) -> None:
    name = "恶意'}) DETACH DELETE n //"
    c = clean_graph.write("CREATE (f:Firm {uscc: $u, name: $n})", {"u": "91350100M000100Y43", "n": name})
    assert c.nodes_created == 1
    rows = clean_graph.read("MATCH (f:Firm {uscc: $u}) RETURN f.name AS name", {"u": "91350100M000100Y43"})
    assert rows == [{"name": name}]


def test_write_batches_counts_rows_and_batches(clean_graph: GraphRunner) -> None:
    rows = [{"uscc": f"X{i:05d}"} for i in range(2_500)]
    seen: list[int] = []
    c = clean_graph.write_batches(
        "UNWIND $rows AS row CREATE (:Firm {uscc: row.uscc})", rows, batch_size=1_000, on_batch=seen.append
    )
    assert (c.batches, c.rows, c.nodes_created) == (3, 2_500, 2_500)
    assert seen == [1_000, 1_000, 500]


def test_the_runner_is_a_query_runner(clean_graph: GraphRunner) -> None:
    assert isinstance(clean_graph, QueryRunner)


def test_read_frame_has_one_column_per_key(clean_graph: GraphRunner) -> None:
    clean_graph.write_batches("UNWIND $rows AS row CREATE (:Firm {uscc: row.u, n: row.n})",
                              [{"u": f"F{i}", "n": i} for i in range(5)])
    frame = clean_graph.read_frame(
        "MATCH (f:Firm) WHERE f.n >= $lo RETURN f.uscc AS uscc, f.n AS n ORDER BY n", {"lo": 2})
    assert list(frame.columns) == ["uscc", "n"]
    assert frame["uscc"].tolist() == ["F2", "F3", "F4"] and frame["n"].tolist() == [2, 3, 4]
    empty = clean_graph.read_frame("MATCH (f:Firm) WHERE f.n > 99 RETURN f.uscc AS uscc")
    assert empty.empty


def test_read_chunks_streams_every_record_once(clean_graph: GraphRunner) -> None:
    clean_graph.write_batches("UNWIND $rows AS row CREATE (:Firm {uscc: row.u, n: row.n})",
                              [{"u": f"F{i:03d}", "n": i} for i in range(250)])
    chunks = list(clean_graph.read_chunks("MATCH (f:Firm) RETURN f.n AS n ORDER BY n", chunk_size=100))
    assert [len(c) for c in chunks] == [100, 100, 50]
    assert [n for c in chunks for n in c["n"].tolist()] == list(range(250))
    assert list(clean_graph.read_chunks("MATCH (f:Firm) WHERE f.n < 0 RETURN f.n AS n")) == []
    with pytest.raises(QueryFailed):  # a read transaction: writes are refused, translated
        list(clean_graph.read_chunks("CREATE (:Firm {uscc: 'nope'}) RETURN 1 AS one"))
    with pytest.raises(ValueError):
        next(clean_graph.read_chunks("RETURN 1 AS one", chunk_size=0))


def test_read_transaction_refuses_writes(clean_graph: GraphRunner) -> None:
    with pytest.raises(QueryFailed):
        clean_graph.read("CREATE (:Firm {uscc: 'nope'})")
    assert clean_graph.read("MATCH (f:Firm {uscc: 'nope'}) RETURN count(f) AS n") == [{"n": 0}]


def test_syntax_error_is_translated(clean_graph: GraphRunner) -> None:
    with pytest.raises(QueryFailed) as info:
        clean_graph.read("MATCH (n RETURN n")
    assert info.value.code is not None and "Syntax" in info.value.code


def test_transient_deadlock_is_retried(clean_graph: GraphRunner) -> None:
    """A real deadlock: the server aborts one of two transactions, and the seam retries it.

    Which transaction the server picks as the victim is its choice; both run through
    ``GraphRunner.execute_write``, so either way exactly one of them must have run twice.
    """
    clean_graph.write("CREATE (:Firm {uscc: 'A', x: 0}), (:Firm {uscc: 'B', x: 0})")
    other = GraphRunner.from_settings(clean_graph.settings)
    b_locked = threading.Event()
    other_error: list[BaseException] = []

    rival_attempts = 0

    def rival() -> None:
        # Lock B, then (while we hold A) ask for A: a lock cycle.
        def work(tx: object) -> None:
            nonlocal rival_attempts
            rival_attempts += 1
            tx.run("MATCH (b:Firm {uscc: 'B'}) SET b.x = b.x + 10").consume()  # type: ignore[attr-defined]
            b_locked.set()
            if rival_attempts == 1:
                time.sleep(0.3)
            tx.run("MATCH (a:Firm {uscc: 'A'}) SET a.x = a.x + 10").consume()  # type: ignore[attr-defined]

        try:
            other.execute_write(work)
        except BaseException as exc:  # reported by the assertion below
            other_error.append(exc)

    attempts = 0

    def ours(tx: object) -> None:
        nonlocal attempts
        attempts += 1
        tx.run("MATCH (a:Firm {uscc: 'A'}) SET a.x = a.x + 1").consume()  # type: ignore[attr-defined]
        if attempts == 1:
            t.start()
            b_locked.wait(10)
            time.sleep(1.0)  # the rival now waits for A
        tx.run("MATCH (b:Firm {uscc: 'B'}) SET b.x = b.x + 1").consume()  # type: ignore[attr-defined]

    t = threading.Thread(target=rival)
    try:
        clean_graph.execute_write(ours)
        t.join(30)
    finally:
        other.close()
    assert not other_error
    assert attempts + rival_attempts == 3, "the deadlock victim should have been retried once"
    rows = clean_graph.read("MATCH (f:Firm) RETURN f.uscc AS u, f.x AS x ORDER BY u")
    assert rows == [{"u": "A", "x": 11}, {"u": "B", "x": 11}]


def test_wrong_password_gives_clear_error(graph_runner: GraphRunner) -> None:
    bad = graph_runner.settings.model_copy(update={"neo4j_password": "definitely-wrong"})
    from pydantic import SecretStr

    bad = graph_runner.settings.model_copy(update={"neo4j_password": SecretStr("definitely-wrong")})
    with pytest.raises(AuthenticationFailed) as info:
        GraphRunner.from_settings(bad)
    assert "NEO4J_PASSWORD" in str(info.value)
    assert "definitely-wrong" not in str(info.value)


def test_server_down_says_how_to_start() -> None:
    s = Settings(_env_file=None, NEO4J_URI="bolt://127.0.0.1:1")  # type: ignore[call-arg]
    with pytest.raises(ServerUnavailable) as info:
        GraphRunner.from_settings(s)
    assert "chainrisk db start" in str(info.value)
    assert "\n" not in str(info.value)
