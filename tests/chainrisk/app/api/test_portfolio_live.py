"""``GET /portfolio/...`` against the live server on the query tests' hand-worked platform: each answer is
the library's document (and the CLI's ``--json``), every role reads it, no key is 401, a bad parameter 422."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chainrisk.app.api import create_app
from chainrisk.app.api.errors import to_json
from chainrisk.settings import Settings
from graph.runner import GraphRunner
from queries.catalogue import frame_document
from queries.concentration import DIMENSIONS, concentration
from queries.connected import connected_clients
from queries.prospects import prospects
from queries.systemic import top_systemic
from queries.warning import early_warning
from tests.chainrisk.app.api.conftest import Api
from tests.queries._graph import AS_OF, BANK, NAME, U
from tests.queries.conftest import published

#: Each route, query-string values, and the library's document for the same parameters.
CASES: dict[str, tuple[dict[str, Any], Callable[[GraphRunner], Any]]] = {
    "connected": ({"tier1": 10_000, "net_capital": 12_000},
                  lambda r: connected_clients(r, tier1_capital=10_000, net_capital=12_000, lenders=BANK)
                  .to_dict()),
    "concentration": ({"by": "region,position,firm", "top_n": 2},
                      lambda r: concentration(r, by=["region", "position", "firm"], top_n=2, lenders=BANK)
                      .to_dict()),
    "systemic": ({"top": 3}, lambda r: frame_document(top_systemic(r, top=3, lenders=BANK))),
    "warning": ({"min_growth": 0.0},
                lambda r: frame_document(early_warning(r, min_growth=0.0, lenders=BANK))),
    "prospects": ({"hops": 2}, lambda r: frame_document(prospects(r, hops=2, lenders=BANK))),
}


def _same(answer: Any, library: Any) -> None:
    assert answer == json.loads(json.dumps(to_json(library)))


@pytest.mark.parametrize("route", list(CASES))
def test_each_route_answers_the_librarys_document_to_every_role(api: Api, platform: GraphRunner,
                                                                 route: str) -> None:
    params, library = CASES[route]
    expected = library(platform)
    for role in ("officer", "analyst", "operator"):
        resp = api.get(f"/portfolio/{route}", role, params=params)
        assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
        _same(resp.json(), expected)
    body = resp.json()
    # every answer states its date and the stale cut-off, and each firm its data's stale flags
    assert (body["as_of"], body["stale_before"]) == (AS_OF, "2023-12-30")
    firms = body["clients"] if route == "connected" else (
        body["dimensions"]["firm"] if route == "concentration" else body["rows"])
    assert firms and all("stale" in f and "statement_stale" in f for f in firms)


def test_the_answers_hold_the_hand_worked_figures(api: Api) -> None:
    # the same figures as tests/queries (test_connected, test_warning, test_systemic)
    con = api.get("/portfolio/connected", params={"tier1": 10_000}).json()
    assert [(g["id"], g["exposure"], g["large"], g["over_limit"]) for g in con["groups"]] == [
        ("K1", 1850.0, True, False), ("K2", 400.0, False, False)]
    assert con["net_capital"] is None and con["limits"]["group_limit"] == 0.2
    # 9,000 of tier-1: K1's 1850 is 20.6% > 20%; half the undrawn limits: F 800 + 350
    tight = api.get("/portfolio/connected", params={"tier1": 9_000}).json()
    assert tight["groups"][0]["over_limit"] is True and tight["clients"][0]["over_limit"] is True
    half = api.get("/portfolio/connected", params={"tier1": 10_000, "undrawn_factor": 0.5}).json()
    assert half["clients"][0]["exposure"] == 1150.0
    conc = api.get("/portfolio/concentration", params={"by": "region, lifecycle", "measure": "outstanding"})
    assert conc.status_code == 200
    assert [s["dimension"] for s in conc.json()["summary"]] == ["region", "lifecycle"]
    assert conc.json()["measure"] == "outstanding"
    warn = api.get("/portfolio/warning").json()
    assert [(NAME[r["uscc"]], r["falling"], r["rank"]) for r in warn["rows"]] == [("W1", ["electricity"], 1)]
    assert (warn["window"], warn["min_fall"], warn["min_growth"]) == (3, 0.1, 0.1)
    assert api.get("/portfolio/warning", params={"min_fall": 0.25}).json()["rows"] == []
    near = api.get("/portfolio/prospects").json()
    assert {NAME[r["uscc"]] for r in near["rows"]} == {"B2", "B3", "S2"} and near["hops"] == 1
    top = api.get("/portfolio/systemic", params={"top": 2}).json()
    assert top["method"] == "esri" and NAME[top["rows"][0]["uscc"]] == "F" and len(top["rows"]) == 2
    old = api.get("/portfolio/systemic", params={"top": 2, "as_of": "2023-06-30"}).json()
    assert old["as_of"] == "2023-06-30" and old["stale_before"] == "2022-12-30"


def test_systemic_takes_a_stress_run_and_refuses_stress_without_one(api: Api, platform: GraphRunner) -> None:
    refused = api.get("/portfolio/systemic", params={"method": "stress"})
    assert refused.status_code == 422 and refused.json()["error"] == "InvalidQueryParameter"
    assert "no current stress run" in refused.json()["detail"]
    rows = [{"uscc": U["S4"], "stress_systemic_impact": 0.3, "stress_default_prob": 0.2},
            {"uscc": U["B1"], "stress_systemic_impact": 0.1, "stress_default_prob": 0.05}]
    with published(platform, "stress", rows):
        for method in ("auto", "stress"):
            body = api.get("/portfolio/systemic", params={"method": method}).json()
            _same(body, frame_document(top_systemic(platform, method=method, lenders=BANK)))
            assert body["method"] == "stress" and body["run_as_of"] == AS_OF
            assert [(NAME[r["uscc"]], r["impact"], r["exposure"]) for r in body["rows"]] == [
                ("S4", 0.3, 100.0), ("B1", 0.1, 200.0)]
        assert api.get("/portfolio/systemic", params={"method": "esri", "top": 1}).json()["method"] == "esri"


@pytest.mark.parametrize("route", list(CASES))
def test_no_key_or_an_unknown_key_is_401(api: Api, route: str) -> None:
    for headers in ({}, {"X-API-Key": "cr_00000000_" + "A" * 43}):
        resp = api.client.get(f"/portfolio/{route}", params=CASES[route][0], headers=headers)
        assert resp.status_code == 401 and resp.json()["error"] == "KeyRefused"
        assert resp.headers["WWW-Authenticate"] == "X-API-Key"


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("connected", {}, "tier1"),
    ("connected", {"tier1": 0}, "tier1"),
    ("connected", {"tier1": "lots"}, "tier1"),
    ("connected", {"tier1": "inf"}, "tier1"),
    ("connected", {"tier1": 1e4, "net_capital": -1}, "net_capital"),
    ("connected", {"tier1": 1e4, "control_share": 1.5}, "control_share"),
    ("connected", {"tier1": 1e4, "undrawn_factor": "nan"}, "undrawn_factor"),
    ("connected", {"tier1": 1e4, "as_of": "June"}, "as_of"),
    ("concentration", {"by": "country"}, "by"),
    ("concentration", {"by": "region,,firm"}, "by"),
    ("concentration", {"measure": "count"}, "measure"),
    ("concentration", {"top_n": 0}, "top_n"),
    ("systemic", {"top": 0}, "top"),
    ("systemic", {"top": 1001}, "top"),
    ("systemic", {"method": "pagerank"}, "method"),
    ("warning", {"window": 13}, "window"),
    ("warning", {"min_fall": 1.5}, "min_fall"),
    ("warning", {"min_growth": -0.1}, "min_growth"),
    ("warning", {"as_of": "2024-02-30"}, "as_of"),
    ("prospects", {"hops": 3}, "hops"),
    ("prospects", {"top": "ten"}, "top"),
]


@pytest.mark.parametrize(("route", "params", "name"), BAD)
def test_a_bad_parameter_is_422_naming_it(api: Api, route: str, params: dict[str, Any], name: str) -> None:
    resp = api.get(f"/portfolio/{route}", params=params)
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "InvalidRequest" and f"query.{name}:" in body["detail"]


def test_the_cli_prints_the_same_documents(api: Api, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from chainrisk.app.cli import main
    from chainrisk.settings import get_settings

    monkeypatch.setenv("CHAINRISK_BANK_LENDERS", ",".join(BANK))
    monkeypatch.setenv("CHAINRISK_QUERY_LOG", str(tmp_path / "audit.jsonl"))
    get_settings.cache_clear()
    try:
        for route, argv in (("connected", ["--tier1", "10000", "--net-capital", "12000"]),
                            ("concentration", ["--by", "region,position,firm", "--top-n", "2"]),
                            ("systemic", ["--top", "3"]), ("warning", ["--min-growth", "0"]),
                            ("prospects", ["--hops", "2"])):
            assert main([route, *argv, "--json"]) == 0
            printed = json.loads(capsys.readouterr().out)
            assert api.get(f"/portfolio/{route}", params=CASES[route][0]).json() == printed, route
    finally:
        get_settings.cache_clear()


def test_the_openapi_document_lists_the_routes_and_their_parameters(tmp_path: Path) -> None:
    # no graph needed: the OpenAPI document is served without one
    app = create_app(Settings(_env_file=None, neo4j_uri="bolt://127.0.0.1:1",
                              auth_db=tmp_path / "auth.sqlite"))
    with TestClient(app) as client:
        spec = client.get("/openapi.json").json()
    expected = {
        "connected": {"tier1", "net_capital", "control_share", "undrawn_factor", "as_of"},
        "concentration": {"by", "measure", "top_n", "as_of"},
        "systemic": {"top", "method", "as_of"},
        "warning": {"window", "min_fall", "min_growth", "as_of"},
        "prospects": {"hops", "top", "as_of"},
    }
    listed = {p.removeprefix("/portfolio/") for p in spec["paths"] if p.startswith("/portfolio/")}
    assert listed == set(expected)
    for route, names in expected.items():
        op = spec["paths"][f"/portfolio/{route}"]["get"]
        assert op["tags"] == ["portfolio"] and op["security"] == [{"APIKeyHeader": []}]
        params = {p["name"]: p for p in op["parameters"]}
        assert set(params) == names and all(p["in"] == "query" for p in params.values())
    connected = {p["name"]: p for p in spec["paths"]["/portfolio/connected"]["get"]["parameters"]}
    assert connected["tier1"]["required"] is True and connected["tier1"]["schema"]["exclusiveMinimum"] == 0
    by = {p["name"]: p for p in spec["paths"]["/portfolio/concentration"]["get"]["parameters"]}["by"]
    assert by["schema"]["default"] == ",".join(DIMENSIONS)
