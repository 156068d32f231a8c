"""``chainrisk exposure | circles | query | cypher`` against the live server on the query tests' platform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chainrisk.app.cli import main
from chainrisk.settings import get_settings
from graph.runner import GraphRunner
from tests.queries._graph import NAME, U
from tests.queries.conftest import platform  # noqa: F401  (the fixture)


@pytest.fixture()
def bank(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("CHAINRISK_BANK_LENDERS", "bank-a")
    monkeypatch.setenv("CHAINRISK_QUERY_LOG", str(tmp_path / "audit.jsonl"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)  # exactly one document, or this fails


def test_exposure_json_holds_the_whole_chain(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["exposure", U["F"], "--hops", "3", "--json"])
    keys = {"firm", "as_of", "hops", "upstream", "downstream", "guarantors", "guaranteed", "totals"}
    assert keys <= set(doc)
    assert (doc["firm"], doc["as_of"], doc["hops"]) == (U["F"], "2024-06-30", 3)
    assert [(NAME[r["uscc"]], r["distance"]) for r in doc["upstream"]] == [
        ("S1", 1), ("S2", 1), ("S4", 2), ("S3", 2), ("S7", 3)]
    assert doc["totals"]["chain"]["outstanding"] == 800.0 and doc["firm_details"]["exposure"] == 1500.0
    assert doc["upstream"][0]["stale"] is True and doc["upstream"][0]["statement_published"] == "2023-04-30"


def test_exposure_refuses_six_hops_in_one_line(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["exposure", U["F"], "--hops", "6"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "hops" in err and "\n" not in err


def test_circles_json(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["circles", "--json"])
    types = {"complex", "star", "cross", "joint", "cycle", "chain", "mutual"}
    assert {g["type"] for g in doc["groups"]} == types
    joint = next(c for c in doc["circles"] if c["type"] == "joint")
    assert {"id", "type", "members", "cycles"} <= set(joint) and joint["cycles_total"] == 5
    assert sorted(NAME[m] for m in joint["members"]) == ["J1", "J2", "J3"]
    assert doc["stale_before"] == "2023-12-30" and doc["firms"][U["B1"]]["loan_status_stale"] is True
    # the table says how many members' data are stale, per group
    assert main(["circles"]) == 0
    out = capsys.readouterr().out
    assert "with data from before 2023-12-30" in out and "stale" in out


def test_named_query_csv_and_json(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "classification_mismatch", "--param", "as_of=2024-06-30", "--csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("uscc,loan_id") and len(lines) == 2 and ",LS4," in lines[1]
    doc = _json(capsys, ["query", "firm_search", "-p", "q=Firm M", "--json"])
    assert [r[1] for r in doc["rows"]] == ["Firm M1", "Firm M2"] and doc["columns"][0] == "uscc"
    assert main(["query", "firm_search", "-p", "bogus=1"]) == 1


def test_cypher_reads_and_refuses(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["cypher", "MATCH (f:Firm) WHERE f.name = $n RETURN f.uscc AS uscc", "-p", "n=Firm F",
                         "--json"])
    assert doc == {"truncated": False, "columns": ["uscc"], "rows": [[U["F"]]]}
    assert main(["cypher", "MATCH (f:Firm) DETACH DELETE f"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "read" in err and "\n" not in err
    log = get_settings().query_log.read_text().splitlines()
    assert [json.loads(x)["outcome"] for x in log] == ["ran", "refused"]


def test_paths_json_and_refusals(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["paths", U["G2"], U["B1"], "--json"])
    # G2 -> G1 -> F -> B1 along guarantees; no supply path either way
    assert [NAME[n["id"]] for n in doc["guarantee"]["paths"][0]["nodes"]] == ["G2", "G1", "F", "B1"]
    assert doc["supply"]["downstream"]["length"] is None and doc["as_of"] == "2024-06-30"
    assert doc["firms"][U["F"]]["exposure"] == 1500.0
    assert main(["paths", U["F"], U["B1"], "--hops", "6"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "hops" in err and "\n" not in err
    assert main(["paths", U["F"][:-1] + ("0" if U["F"][-1] != "0" else "1"), U["B1"]]) == 1
    assert "expected" in capsys.readouterr().err


def test_portfolio_commands_print_one_json_document(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json(capsys, ["connected", "--tier1", "10000", "--json"])
    # the group of F (control by P3, F's guarantee group): 1850 of bank-a exposure
    assert doc["groups"][0]["exposure"] == 1850.0 and doc["limits"]["group_limit"] == 0.2
    conc = _json(capsys, ["concentration", "--by", "region", "--json"])
    assert conc["summary"][0]["dimension"] == "region" and conc["total"] == 2850.0
    warn = _json(capsys, ["warning", "--json"])
    assert [NAME[r["uscc"]] for r in warn["rows"]] == ["W1"] and warn["window"] == 3
    pro = _json(capsys, ["prospects", "--json"])
    assert [NAME[r["uscc"]] for r in pro["rows"]] == ["B2", "B3", "S2"]
    sysm = _json(capsys, ["systemic", "--top", "2", "--json"])
    assert sysm["method"] == "esri" and NAME[sysm["rows"][0]["uscc"]] == "F"
    assert main(["prospects", "--csv"]) == 0 and capsys.readouterr().out.startswith("uscc,rank")


def test_exposure_json_joins_every_page_and_reads_as_of_a_date(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import queries.exposure

    # pages of 2 rows: the 5 upstream firms span 3 pages, and the document still holds them all, in order
    monkeypatch.setattr(queries.exposure, "MAX_PAGE_SIZE", 2)
    doc = _json(capsys, ["exposure", U["F"], "--hops", "3", "--json"])
    assert [NAME[r["uscc"]] for r in doc["upstream"]] == ["S1", "S2", "S4", "S3", "S7"]
    assert [NAME[r["uscc"]] for r in doc["downstream"]] == ["B1", "B2", "B3"]
    # on 2023-06-30 S2's link had not started and S5's had not ended (tests/queries/test_exposure.py)
    then = _json(capsys, ["exposure", U["F"], "--hops", "1", "--as-of", "2023-06-30", "--json"])
    assert then["as_of"] == "2023-06-30"
    assert [(NAME[r["uscc"]], r["trade_value"]) for r in then["upstream"]] == [("S1", 600.0), ("S5", 250.0)]


def test_exposure_table_states_the_date_and_what_is_stale(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # rich's width: no column cut short
    assert main(["exposure", U["F"], "--hops", "1"]) == 0
    out = capsys.readouterr().out
    assert "as of 2024-06-30" in out and "data before 2023-12-30 is stale" in out
    # S1's statement (2023-04-30) and B1's loan status (2023-10) are over 6 months old at that date
    s1 = next(line for line in out.splitlines() if U["S1"] in line)
    b1 = next(line for line in out.splitlines() if U["B1"] in line)
    assert "statement" in s1 and "loan_status" in b1


def test_cypher_csv(platform: GraphRunner, bank: None,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cypher", "MATCH (f:Firm) WHERE f.name STARTS WITH $p RETURN f.name AS name, f.uscc AS uscc "
                 "ORDER BY name", "-p", "p=Firm M", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["name,uscc", f"Firm M1,{U['M1']}", f"Firm M2,{U['M2']}"]
