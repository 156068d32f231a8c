"""Loader against the live server: counts, idempotence, updates, closing, externals, quarantine."""

from __future__ import annotations

from pathlib import Path
from typing import LiteralString

import pandas as pd
import pytest

from graph.runner import GraphRunner
from graph.schema import schema_status
from ingest.load import StrictModeError, load_dataset
from tests.ingest._tiny import (
    INJECTION,
    SUPPLY_ROWS,
    TINY_ROWS,
    A,
    B,
    C,
    D,
    P,
    X,
    write_dataset,
)

pytestmark = pytest.mark.neo4j


def _count(runner: GraphRunner, query: LiteralString) -> int:
    return int(runner.read(query)[0]["n"])


def test_load_creates_every_fact(clean_graph: GraphRunner, tmp_path: Path) -> None:
    report = load_dataset(write_dataset(tmp_path / "ds"), runner=clean_graph)
    assert {t: r.created for t, r in report.tables.items()} == TINY_ROWS
    assert report.tables["supply"].externals == 1 and report.totals()["externals"] == 1
    g = clean_graph
    assert _count(g, "MATCH (f:Firm) RETURN count(f) AS n") == 5
    assert _count(g, "MATCH (:Firm)-[r:SUPPLIES]->(:Firm) RETURN count(r) AS n") == 4
    assert _count(g, "MATCH (:Person {person_id: 'person-0001'})-[r:GUARANTEES]->(:Firm) "
                     "RETURN count(r) AS n") == 1
    assert _count(g, "MATCH (:Loan)-[:HAS_STATUS]->(s:LoanStatus) RETURN count(s) AS n") == 6
    assert _count(g, "MATCH (:Firm)-[:ON_PLATFORM]->(:Platform {platform_id: 'test-platform'}) "
                     "RETURN count(*) AS n") == 4
    # provenance on every node and relationship written by the run
    assert _count(g, "MATCH (n) WHERE NOT n:Run AND NOT n:ChainriskMeta AND n.ingest_run IS NULL "
                     "RETURN count(n) AS n") == 0
    assert _count(g, "MATCH ()-[r]->() WHERE r.ingest_run IS NULL OR r.source IS NULL "
                     "RETURN count(r) AS n") == 0
    # secondary indexes skipped during the first load (CREATE path) are online again
    assert all(schema_status(g).values())
    online = g.read("SHOW INDEXES YIELD name, state WHERE name IN ['supplies_start', 'firm_region'] "
                    "RETURN collect(state) AS s")
    assert online == [{"s": ["ONLINE", "ONLINE"]}]
    run = g.read("MATCH (r:Run {run_id: $id}) RETURN r.status AS status, r.kind AS kind",
                 {"id": report.run_id})
    assert run == [{"status": "committed", "kind": "ingest"}]


def test_external_counterparty_holds_only_what_is_known(clean_graph: GraphRunner, tmp_path: Path) -> None:
    load_dataset(write_dataset(tmp_path / "ds"), runner=clean_graph)
    (x,) = clean_graph.read("MATCH (f:Firm {uscc: $u}) RETURN properties(f) AS p", {"u": X})
    assert x["p"]["external"] is True and "name" not in x["p"] and "row_hash" not in x["p"]
    assert clean_graph.read("MATCH (f:Firm {uscc: $u}) RETURN f.external AS e", {"u": A}) == [{"e": False}]
    # a later firms row for it turns it into a platform firm: an update, not a new node
    ds = write_dataset(tmp_path / "ds2", mode="delta",
                       extra_firm_rows=[f"{X},Xeno Buyer,F5179,350100,small,2012-01-01,10,100000"])
    report = load_dataset(ds, runner=clean_graph)
    assert (report.tables["firms"].created, report.tables["firms"].updated) == (0, 1)
    assert clean_graph.read("MATCH (f:Firm {uscc: $u}) RETURN f.external AS e, f.name AS name",
                            {"u": X}) == [{"e": False, "name": "Xeno Buyer"}]


def test_injection_text_is_stored_verbatim(clean_graph: GraphRunner, tmp_path: Path) -> None:
    load_dataset(write_dataset(tmp_path / "ds"), runner=clean_graph)
    assert clean_graph.read("MATCH (f:Firm {uscc: $u}) RETURN f.name AS name", {"u": A}) == [
        {"name": INJECTION}
    ]
    assert _count(clean_graph, "MATCH (f:Firm) RETURN count(f) AS n") == 5


def test_second_load_writes_nothing(clean_graph: GraphRunner, tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds")
    load_dataset(ds, runner=clean_graph)
    again = load_dataset(ds, runner=clean_graph)
    assert again.changes == 0 and again.properties_set == 0
    assert {t: r.unchanged for t, r in again.tables.items()} == TINY_ROWS
    assert again.totals()["created"] == again.totals()["updated"] == 0


def test_changed_row_updates_and_records_its_run(clean_graph: GraphRunner, tmp_path: Path) -> None:
    first = load_dataset(write_dataset(tmp_path / "ds"), runner=clean_graph)
    second = load_dataset(write_dataset(tmp_path / "ds", firm_c_name="Gamma Parts Ltd"), runner=clean_graph)
    assert (second.tables["firms"].updated, second.tables["firms"].unchanged) == (1, 3)
    assert second.changes == 1
    rows = clean_graph.read("MATCH (f:Firm) WHERE f.uscc IN [$a, $c] RETURN f.uscc AS u, f.name AS name, "
                            "f.ingest_run AS run ORDER BY u", {"a": A, "c": C})
    by = {r["u"]: r for r in rows}
    assert by[C]["name"] == "Gamma Parts Ltd" and by[C]["run"] == second.run_id
    assert by[A]["run"] == first.run_id  # untouched rows keep the run that wrote them


def test_changed_link_is_updated_in_place_by_uid(clean_graph: GraphRunner, tmp_path: Path) -> None:
    load_dataset(write_dataset(tmp_path / "ds"), runner=clean_graph)
    q: LiteralString = ("MATCH (a:Firm {uscc: $a})-[r:SUPPLIES]->(b:Firm {uscc: $b}) "
                        "RETURN elementId(r) AS id, r.uid AS uid, r.key AS key, r.annual_value AS v")
    (before,) = clean_graph.read(q, {"a": A, "b": B})
    assert before["uid"] == f"{A}|{B}|2022-01-01" and before["key"] is None  # the key is the uid's end
    rows = [f"{A},{B},1300000,2022-01-01,", *SUPPLY_ROWS[1:]]
    second = load_dataset(write_dataset(tmp_path / "ds", supply_rows=rows), runner=clean_graph)
    assert (second.tables["supply"].created, second.tables["supply"].updated) == (0, 1)
    (after,) = clean_graph.read(q, {"a": A, "b": B})
    assert after["id"] == before["id"] and after["v"] == 1300000.0
    assert _count(clean_graph, "MATCH ()-[r:SUPPLIES]->() RETURN count(r) AS n") == len(SUPPLY_ROWS)
    n_uids = "MATCH ()-[r:SUPPLIES]->() RETURN count(DISTINCT r.uid) AS n"
    assert _count(clean_graph, n_uids) == len(SUPPLY_ROWS)


def test_links_written_before_uids_get_one_and_are_not_duplicated(
    clean_graph: GraphRunner, tmp_path: Path
) -> None:
    ds = write_dataset(tmp_path / "ds")
    load_dataset(ds, runner=clean_graph)
    # a schema-1 graph: links stored their key, and no uid
    clean_graph.write("MATCH ()-[r:SUPPLIES|GUARANTEES|OWNS|OWES]->() WITH r, split(r.uid, '|') AS p "
                      "SET r.key = substring(r.uid, size(p[0]) + size(p[1]) + 2) REMOVE r.uid")
    again = load_dataset(ds, runner=clean_graph)
    assert again.changes == 0
    assert _count(clean_graph, "MATCH ()-[r:SUPPLIES|GUARANTEES|OWNS|OWES]->() RETURN count(r) AS n") == 10
    uids = clean_graph.read("MATCH (:Person)-[r:GUARANTEES]->(b) RETURN r.uid AS u, b.uscc AS b")
    assert uids == [{"u": f"{P}|{D}|L3|2023-09-01", "b": D}]


def test_full_load_closes_a_removed_link_and_delta_does_not(clean_graph: GraphRunner, tmp_path: Path) -> None:
    load_dataset(write_dataset(tmp_path / "ds"), runner=clean_graph)
    dropped = SUPPLY_ROWS[1:]  # A->B is gone
    delta = load_dataset(write_dataset(tmp_path / "d", mode="delta", supply_rows=dropped), runner=clean_graph)
    assert delta.tables["supply"].closed == 0
    full = load_dataset(write_dataset(tmp_path / "f", as_of="2024-07-31", supply_rows=dropped),
                        runner=clean_graph)
    assert full.tables["supply"].closed == 1 and full.tables["guarantees"].closed == 0
    link = clean_graph.read(
        "MATCH (:Firm {uscc: $a})-[r:SUPPLIES]->(:Firm {uscc: $b}) "
        "RETURN toString(r.end) AS end, r.closed_by AS by", {"a": A, "b": B})
    assert link == [{"end": "2024-07-31", "by": full.run_id}]  # ended, not deleted
    # loading the same full dataset again closes nothing more and writes nothing
    assert load_dataset(write_dataset(tmp_path / "f", as_of="2024-07-31", supply_rows=dropped),
                        runner=clean_graph).changes == 0
    # the link comes back: reopened
    back = load_dataset(write_dataset(tmp_path / "b", as_of="2024-08-31"), runner=clean_graph)
    assert back.tables["supply"].updated == 1
    assert clean_graph.read(
        "MATCH (:Firm {uscc: $a})-[r:SUPPLIES]->(:Firm {uscc: $b}) RETURN r.end AS end, r.closed_by AS by",
        {"a": A, "b": B}) == [{"end": None, "by": None}]


def test_bad_row_is_quarantined_and_good_rows_load(clean_graph: GraphRunner, tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", supply_rows=[*SUPPLY_ROWS, f"{A},{D},-5,2022-01-01,"])
    qdir = tmp_path / "q"
    with pytest.raises(StrictModeError) as info:
        load_dataset(ds, runner=clean_graph, quarantine_dir=qdir, strict=True)
    report = info.value.report
    assert report.tables["supply"].created == 4 and report.tables["supply"].quarantined == 1
    q = pd.read_csv(qdir / "supply.quarantine.csv", encoding="utf-8-sig")
    assert q[["file", "row", "field"]].values.tolist() == [["supply.csv", 6, "annual_value"]]
    assert q.loc[0, "reason"]
    assert _count(clean_graph, "MATCH (:Firm)-[r:SUPPLIES]->(:Firm) RETURN count(r) AS n") == 4
    # the strict run still committed the good rows
    assert clean_graph.read("MATCH (r:Run {run_id: $id}) RETURN r.status AS s", {"id": report.run_id}) == [
        {"s": "committed"}
    ]


def test_person_guarantor_and_owner(clean_graph: GraphRunner, tmp_path: Path) -> None:
    load_dataset(write_dataset(tmp_path / "ds"), runner=clean_graph)
    rows = clean_graph.read(
        "MATCH (p:Person {person_id: $p})-[r]->(f:Firm) RETURN type(r) AS t, f.uscc AS u ORDER BY t",
        {"p": P})
    assert rows == [{"t": "GUARANTEES", "u": D}, {"t": "OWNS", "u": A}]
