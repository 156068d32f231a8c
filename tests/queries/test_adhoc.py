"""Analysts' Cypher: every layer tested with an attack that it, and it alone, must stop."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest
import yaml

from chainrisk.errors import QueryFailed, UnsafeQuery
from graph.protocol import QueryPlan
from graph.runner import GraphRunner
from graph.server import write_config
from queries.adhoc import check_plan, check_text, run_cypher
from tests.queries._graph import U


@pytest.mark.parametrize("query", [
    "", "   ", "EXPLAIN MATCH (n) RETURN n", "profile MATCH (n) RETURN n",
    "/* hi */ PROFILE MATCH (n) RETURN n",
    "LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l",
    "load  csv with headers from 'http://169.254.169.254/latest' AS l RETURN l",
    "RETURN 1 // " + "x" * 20_000,
])
def test_text_layer_refuses(query: str) -> None:
    with pytest.raises(UnsafeQuery) as err:
        check_text(query)
    assert err.value.layer == "text"


@pytest.mark.parametrize(("plan", "layer"), [
    (QueryPlan("rw", ()), "plan"),
    (QueryPlan("s", ()), "plan"),
    (QueryPlan("r", (("LoadCSV", "l"),)), "operator"),
    (QueryPlan("r", (("TerminateTransactions", "transactions(x)"),)), "operator"),
    (QueryPlan("r", (("ProcedureCall", "gds.graph.drop($p, false) :: (graphName :: STRING)"),)), "procedure"),
    (QueryPlan("r", (("EagerAggregation", "gds.graph.project($a, a, b) AS g"),)), "function"),
    (QueryPlan("r", (("Projection", "apoc.text.join($x, $y) AS s"),)), "function"),
])
def test_plan_layers_refuse(plan: QueryPlan, layer: str) -> None:
    with pytest.raises(UnsafeQuery) as err:
        check_plan(plan)
    assert err.value.layer == layer


def test_plan_layers_let_reads_through() -> None:
    check_plan(QueryPlan("r", (
        ("ProcedureCall", "db.labels() :: (label :: STRING)"),
        ("Projection", "date.truncate($m, d) AS m, gds.util.asNode(n) AS x, f.name AS y"),
    )))


_ATTACKS = [
    # (query, layer): each planned by the live server, refused before it runs
    ("MATCH (f:Firm) SET f.name = 'pwned' RETURN f", "plan"),
    ("MATCH (f:Firm) DETACH DELETE f", "plan"),
    ("CREATE (:Firm {uscc: 'X'})", "plan"),
    ("CREATE INDEX evil IF NOT EXISTS FOR (n:Firm) ON (n.name)", "plan"),
    ("CALL gds.graph.drop('chainrisk-supplies-x', false) YIELD graphName RETURN graphName", "procedure"),
    ("CALL gds.graph.list() YIELD graphName RETURN graphName", "procedure"),
    ("CALL dbms.listConfig() YIELD name RETURN name", "plan"),
    ("MATCH (a:Firm)-[r:SUPPLIES]->(b:Firm) WITH gds.graph.project('evil', a, b) AS g RETURN g.graphName",
     "function"),
    ("LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l", "text"),
    ("TERMINATE TRANSACTION 'neo4j-transaction-1'", "operator"),
    ("SHOW TRANSACTIONS", "operator"),
    ("CALL { MATCH (f:Firm) RETURN f } IN TRANSACTIONS RETURN count(*) AS n", "operator"),
]


@pytest.mark.parametrize(("query", "layer"), _ATTACKS)
def test_every_attack_is_refused_and_logged(platform: GraphRunner, tmp_path: Path, query: str,
                                            layer: str) -> None:
    log = tmp_path / "audit.jsonl"
    with pytest.raises(UnsafeQuery) as err:
        run_cypher(platform, query, user="mallory", log_path=log)
    assert err.value.layer == layer
    entry = json.loads(log.read_text().splitlines()[-1])
    assert (entry["user"], entry["outcome"], entry["layer"]) == ("mallory", "refused", layer)
    assert entry["query"] == query
    assert platform.read("MATCH (f:Firm {name: 'pwned'}) RETURN count(f) AS n")[0]["n"] == 0
    assert platform.read("MATCH (f:Firm) RETURN count(f) AS n")[0]["n"] == len(U)


def test_a_read_runs_capped_and_logged_with_the_os_user(platform: GraphRunner, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    frame = run_cypher(platform, "MATCH (f:Firm) WHERE f.uscc STARTS WITH $p RETURN f.uscc AS uscc, f "
                       "ORDER BY uscc", {"p": "9135"}, max_rows=5, log_path=log)
    assert list(frame.columns) == ["uscc", "f"] and len(frame) == 5 and frame.attrs["truncated"] is True
    assert frame.loc[0, "f"]["uscc"] == frame.loc[0, "uscc"]  # nodes come back as property maps
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["outcome"] == "ran" and entry["rows"] == 5 and entry["truncated"] is True
    assert entry["user"] == frame.attrs["user"] and entry["parameters"] == ["p"]
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    whole = run_cypher(platform, "MATCH (f:Firm) RETURN count(f) AS n", log_path=log)
    assert whole.loc[0, "n"] == len(U) and whole.attrs["truncated"] is False


def test_server_errors_are_logged_as_failures(platform: GraphRunner, tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    with pytest.raises(QueryFailed):
        run_cypher(platform, "MATCH (f:Firm RETURN f", log_path=log)
    assert json.loads(log.read_text().splitlines()[-1])["outcome"] == "failed"


def test_local_server_turns_off_file_urls_for_load_csv(tmp_path: Path) -> None:
    from chainrisk.settings import Settings

    conf = write_config(Settings(_env_file=None, server_home=tmp_path / "home"))
    assert "dbms.security.allow_csv_import_from_file_urls=false" in conf.read_text().splitlines()


def test_a_query_past_its_timeout_is_ended_by_the_server_and_logged(platform: GraphRunner,
                                                                    tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    # a billion rows is minutes of work: the server ends it at the transaction's timeout instead
    with pytest.raises(QueryFailed, match="timeout"):
        run_cypher(platform, "UNWIND range(1, $n) AS x WITH x WHERE x % 7 = 3 RETURN count(x) AS n",
                   {"n": 10**9}, timeout_s=0.5, log_path=log)
    entry = json.loads(log.read_text().splitlines()[-1])
    assert entry["outcome"] == "failed" and "timeout" in entry["error"]


def test_the_running_server_caps_transaction_memory_and_refuses_file_urls(platform: GraphRunner) -> None:
    # read with the runner itself: analysts' layers refuse dbms.* procedures
    got = {r["name"]: r["value"] for r in platform.read(
        "CALL dbms.listConfig() YIELD name, value WHERE name IN $names RETURN name, value",
        {"names": ["db.memory.transaction.max", "dbms.security.allow_csv_import_from_file_urls"]})}
    cap = re.match(r"[0-9.]+", got["db.memory.transaction.max"])
    assert cap is not None and float(cap.group()) > 0  # 0 would be no cap at all
    assert got["dbms.security.allow_csv_import_from_file_urls"] == "false"


def test_the_docker_server_refuses_file_urls_and_caps_memory_too() -> None:
    compose = yaml.safe_load((Path(__file__).parents[2] / "docker-compose.yml").read_text())
    env = compose["services"]["neo4j"]["environment"]
    assert env["NEO4J_dbms_security_allow__csv__import__from__file__urls"] == "false"
    assert env["NEO4J_db_memory_transaction_max"] not in ("0", "0B")
