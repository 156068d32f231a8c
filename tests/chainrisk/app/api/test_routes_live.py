"""The read routes against the live server on the query tests' hand-worked platform: each answer is
the library's, errors are 422 / 404, and the credentials are not reachable through analysts' Cypher."""

from __future__ import annotations

import gc
import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from chainrisk.app.api.errors import to_json
from graph.runner import GraphRunner
from ingest.uscc import check_character, make
from queries import chain_exposure, guarantee_circles, run_cypher, run_query
from queries.catalogue import CATALOGUE
from tests.chainrisk.app.api.conftest import Api
from tests.queries._graph import AS_OF, BANK, NAME, U

pytestmark = pytest.mark.neo4j


def _same(answer: Any, library: Any) -> None:
    assert answer == json.loads(json.dumps(to_json(library)))


def test_search_by_uscc_prefix_and_name(api: Api, platform: GraphRunner) -> None:
    body = api.get("/firms", params={"q": U["F"][:12].lower()}).json()
    found = run_query(platform, "firm_search", {"q": U["F"][:12].lower(), "limit": 50})
    # the library's rows, each with its data dates (below) added
    _same([{k: f[k] for k in found.columns} for f in body["firms"]], found.to_dict(orient="records"))
    assert U["F"] in [f["uscc"] for f in body["firms"]]
    # the answer states its date, and each firm's latest statement, signal and loan status with stale flags
    assert (body["as_of"], body["stale_before"]) == (AS_OF, "2023-12-30")
    by = {f["uscc"]: f for f in api.get("/firms", params={"q": "firm s1"}).json()["firms"]}
    assert (by[U["S1"]]["statement_published"], by[U["S1"]]["statement_stale"], by[U["S1"]]["stale"]) == (
        "2023-04-30", True, True)
    assert by[U["S1"]]["signal_month"] is None and by[U["S1"]]["signal_stale"] is None  # none known
    named = api.get("/firms", params={"q": "firm m"}).json()
    assert sorted(NAME[f["uscc"]] for f in named["firms"]) == ["M1", "M2"] and named["truncated"] is False
    cut = api.get("/firms", params={"q": "firm m", "limit": 1}).json()
    assert [f["uscc"] for f in cut["firms"]] == [named["firms"][0]["uscc"]] and cut["truncated"] is True
    assert api.get("/firms", params={"q": ""}).status_code == 422


def test_firm_card_states_as_of_dates_and_staleness(api: Api) -> None:
    card = api.get(f"/firms/{U['F'].lower()}").json()
    assert (card["uscc"], card["name"], card["as_of"]) == (U["F"], "Firm F", AS_OF)
    assert card["stale_before"] == "2023-12-30" and card["risk"] is None and card["stress"] is None
    assert card["data"] == {"statement_published": "2024-04-30", "statement_period": "2023-12-31",
                            "statement_stale": False, "signal_month": "2024-06-01", "signal_stale": False,
                            "loan_status_month": "2024-06-01", "loan_status_stale": False, "stale": False}
    e = card["exposure"]
    assert (e["outstanding"], e["undrawn"], e["exposure"], e["worst_class"]) == (800, 700, 1500, "normal")
    s1 = api.get(f"/firms/{U['S1']}").json()["data"]
    assert s1["statement_stale"] is True and s1["signal_stale"] is None and s1["stale"] is True
    b1 = api.get(f"/firms/{U['B1']}", params={"as_of": "2024-03-31"}).json()
    assert b1["as_of"] == "2024-03-31" and b1["data"]["loan_status_stale"] is False


def test_firm_card_shows_the_current_risk_run(api: Api, platform: GraphRunner) -> None:
    from graph.runs import publish

    row = {"uscc": U["F"], "risk_pd": 0.031, "risk_tier": 5, "risk_reasons": ["worst loan 0 days overdue",
           "supplier S1 special mention"], "risk_suggested_class": "normal", "risk_pd_change": 0.004,
           "risk_segment": "book", "risk_model_version": "m-1"}
    run = publish(platform, kind="risk-score", family="risk", as_of=date(2024, 6, 30),
                  parameters={"model_version": "m-1"}, firm_rows=[row])
    risk = api.get(f"/firms/{U['F']}").json()["risk"]
    assert risk == {"pd": 0.031, "tier": 5, "reasons": row["risk_reasons"], "suggested_class": "normal",
                    "pd_change": 0.004, "segment": "book", "model_version": "m-1", "run_id": run.run_id,
                    "as_of": AS_OF}
    assert api.get(f"/firms/{U['S1']}").json()["risk"] is None  # not scored in that run


def test_malformed_uscc_is_422_naming_the_check_character_and_unknown_is_404(api: Api) -> None:
    good = U["F"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    for url in (f"/firms/{wrong}", f"/firms/{wrong}/exposure"):
        resp = api.get(url)
        assert resp.status_code == 422
        body = resp.json()
        assert body["error"] == "InvalidUSCC" and body["expected_check"] == check_character(good[:17])
        assert f"expected {good[17]!r}" in body["detail"]
    short = api.get("/firms/9135").json()
    assert short["error"] == "InvalidUSCC" and "18" in short["detail"]
    absent = make("91110000M99999999")
    for url in (f"/firms/{absent}", f"/firms/{absent}/exposure"):
        resp = api.get(url)
        assert resp.status_code == 404 and resp.json()["error"] == "UnknownFirm"
        assert absent in resp.json()["detail"]


def test_exposure_pages_are_the_librarys(api: Api, platform: GraphRunner) -> None:
    for params in ({"hops": 3, "page": 1, "page_size": 2},
                   {"hops": 2, "page": 2, "page_size": 2, "direction": "upstream", "as_of": "2023-06-30"}):
        body = api.get(f"/firms/{U['F']}/exposure", params=params).json()
        lib = chain_exposure(platform, U["F"], lenders=BANK, **params)  # type: ignore[arg-type]
        _same(body, lib.to_dict())
        assert body["counts"]["upstream"] > 0 and body["as_of"] == params.get("as_of", AS_OF)
    for bad in ({"hops": 6}, {"hops": 0}, {"direction": "sideways"}, {"page_size": 1001}):
        resp = api.get(f"/firms/{U['F']}/exposure", params=bad)
        assert resp.status_code == 422 and resp.json()["error"] in ("InvalidQueryParameter", "InvalidRequest")
        if "hops" in bad:
            assert "hops must be a whole number from 1 to 5" in resp.json()["detail"]


def test_paths_are_the_librarys(api: Api, platform: GraphRunner) -> None:
    from queries.paths import paths_between

    body = api.get(f"/firms/{U['S4']}/paths", params={"to": U["B2"]}).json()
    _same(body, paths_between(platform, U["S4"], U["B2"], lenders=BANK))
    assert body["supply"]["downstream"]["length"] is not None
    only = api.get(f"/firms/{U['S4']}/paths", params={"to": U["B2"], "relations": "guarantee"}).json()
    assert only["relations"] == ["guarantee"] and "supply" not in only and "guarantee" in only
    _same(only, paths_between(platform, U["S4"], U["B2"], relations=("guarantee",), lenders=BANK))
    bad = api.get(f"/firms/{U['S4']}/paths", params={"to": U["B2"][:-1] + "0"})
    assert bad.status_code == 422


def test_circles_are_the_librarys(api: Api, platform: GraphRunner) -> None:
    body = api.get("/circles").json()
    _same(body, guarantee_circles(platform, lenders=BANK).to_dict())
    assert body["as_of"] == AS_OF and {c["type"] for c in body["circles"]} >= {"mutual", "joint", "cycle"}
    mine = api.get("/circles", params={"firm": U["M1"]}).json()
    assert mine["firm"] == U["M1"] and [g["id"] for g in mine["groups"]] == [
        g["id"] for g in body["groups"] if U["M1"] in g["members"]]
    assert [(c["type"], sorted(NAME[u] for u in c["members"])) for c in mine["circles"]] == [
        ("mutual", ["M1", "M2"])]
    # every member shown comes with how old its data is; filtered to the firm's group, only its members
    members = {m for g in body["groups"] for m in g["members"]}
    assert set(body["firms"]) == members and body["stale_before"] == "2023-12-30"
    assert body["firms"][U["F"]]["statement_published"] == "2024-04-30"
    assert body["firms"][U["F"]]["statement_stale"] is False and body["firms"][U["B1"]]["loan_status_stale"]
    assert set(mine["firms"]) == {m for g in mine["groups"] for m in g["members"]}
    assert api.get("/circles", params={"firm": "9135"}).status_code == 422


def test_named_queries(api: Api, platform: GraphRunner) -> None:
    listed = api.get("/queries").json()["queries"]
    assert [q["name"] for q in listed] == list(CATALOGUE)
    body = api.get("/queries/classification_mismatch").json()
    lib = run_query(platform, "classification_mismatch", {})
    assert (body["query"], body["as_of"], body["truncated"]) == ("classification_mismatch", AS_OF, False)
    assert body["columns"] == list(lib.columns)
    _same(body["rows"], [list(r) for r in lib.itertuples(index=False)])
    assert [NAME[r[0]] for r in body["rows"]] == ["S4"]
    usccs = api.get("/queries/firm_exposure", params=[("usccs", U["F"]), ("usccs", U["S1"]),
                                                      ("lenders", "bank-a")]).json()
    assert sorted(NAME[r[0]] for r in usccs["rows"]) == ["F", "S1"]
    for params, status in (({"as_of": "June"}, 422), ({"nope": 1}, 422)):
        resp = api.get("/queries/classification_mismatch", params=params)
        assert resp.status_code == status and resp.json()["error"] == "InvalidQueryParameter"
    assert api.get("/queries/no_such_query").status_code == 404


def test_cypher_answers_the_librarys_and_logs_the_key(api: Api, platform: GraphRunner,
                                                      tmp_path: Path) -> None:
    text = "MATCH (f:Firm) WHERE f.uscc IN $u RETURN f.uscc AS uscc, f.name AS name ORDER BY uscc"
    body = api.cypher(text, u=[U["F"], U["S1"]]).json()
    lib = run_cypher(platform, text, {"u": [U["F"], U["S1"]]}, log_path=tmp_path / "log.jsonl")
    assert body == {"columns": ["uscc", "name"], "rows": [list(r) for r in lib.itertuples(index=False)],
                    "truncated": False}
    key_id = api.keys["analyst"].split("_")[1]
    last = json.loads(api.settings.query_log.read_text().splitlines()[-1])
    assert last["user"] == f"api:analyst-test ({key_id})" and last["outcome"] == "ran"
    write = api.cypher("CREATE (n:Firm {uscc: 'x'}) RETURN n")
    assert write.status_code == 422 and write.json()["layer"] == "plan"
    broken = api.cypher("MATCH (f:Firm RETURN f")
    assert broken.status_code == 400 and broken.json()["error"] == "QueryFailed"
    outcomes = [json.loads(line)["outcome"] for line in api.settings.query_log.read_text().splitlines()]
    assert outcomes[-2:] == ["refused", "failed"]


def test_credentials_are_not_in_the_graph(api: Api) -> None:
    everything = [api.cypher("MATCH (n) RETURN labels(n) AS l, properties(n) AS p").json(),
                  api.cypher("MATCH ()-[r]->() RETURN type(r) AS t, properties(r) AS p").json(),
                  api.cypher("CALL db.propertyKeys() YIELD propertyKey RETURN propertyKey").json()]
    assert all(not doc.get("truncated") and doc["rows"] for doc in everything)
    text = json.dumps(everything)
    for key in api.keys.values():
        key_id = key.split("_")[1]
        assert key not in text and hashlib.sha256(key.encode()).hexdigest() not in text
        assert key_id not in text
    assert "api_keys" not in text and "analyst-test" not in text
    refused = api.cypher(f"LOAD CSV FROM 'file://{api.settings.auth_db}' AS l RETURN l")
    assert refused.status_code == 422 and refused.json()["layer"] == "text"


def test_warm_up_builds_the_chain_cache_in_the_background(platform: GraphRunner, tmp_path: Path) -> None:
    import time

    from fastapi.testclient import TestClient

    from chainrisk.app.api import create_app
    from chainrisk.app.auth.keys import create_key
    from chainrisk.settings import Settings
    from queries.chaincache import CHAIN_CACHE

    s = Settings(auth_db=tmp_path / "auth.sqlite", bank_lenders=BANK, api_warm_up=True)  # type: ignore[call-arg]
    key = create_key(s.auth_db, "officer").key
    CHAIN_CACHE.clear()
    with TestClient(create_app(s)) as client:
        warm = client.get("/health").json()["chain_cache"]
        for _ in range(600):  # bounded wait for the thread, not a timing assertion
            if warm["state"] != "running":
                break
            time.sleep(0.1)
            warm = client.get("/health").json()["chain_cache"]
        assert warm["state"] == "done" and warm["as_of"] == AS_OF
        # what start-up built is out of the collector's sight (full collections stalled requests)
        assert gc.get_freeze_count() > 0
        gc.unfreeze()  # the rest of the test session collects as usual
        # both networks and the bank's book are built; the first request only walks its chain
        assert (len(CHAIN_CACHE.networks), len(CHAIN_CACHE.books)) == (2, 1)
        body = client.get(f"/firms/{U['F']}/exposure", headers={"X-API-Key": key}).json()
        assert (len(CHAIN_CACHE.networks), len(CHAIN_CACHE.books)) == (2, 1)
    _same(body, chain_exposure(platform, U["F"], lenders=BANK, cache=None).to_dict())
    # off unless the settings turn it on (chainrisk serve does)
    with TestClient(create_app(Settings(auth_db=tmp_path / "auth.sqlite"))) as client:  # type: ignore[call-arg]
        assert client.get("/health").json()["chain_cache"] == {"state": "off"}


def test_users_sessions_and_the_query_log_are_not_in_the_graph(api: Api) -> None:
    import sqlite3
    import stat

    from chainrisk.app.web.sessions import create_session, load_secret, secret_path
    from chainrisk.app.web.users import add_user

    db = api.settings.auth_db
    add_user(db, "carol-credit", "a long password 2", n=2**4)  # cheap scrypt: only the text counts
    session = create_session(db, "carol-credit")
    marker = api.cypher("MATCH (f:Firm) WHERE f.name = $n RETURN f.uscc AS audit_marker_4711", n="none")
    assert marker.status_code == 200 and "audit_marker_4711" in api.settings.query_log.read_text()
    with sqlite3.connect(db) as conn:
        (password_hash,) = conn.execute("SELECT password_hash FROM web_users WHERE name = ?",
                                        ("carol-credit",)).fetchone()
    everything = json.dumps([api.cypher("MATCH (n) RETURN labels(n) AS l, properties(n) AS p").json(),
                             api.cypher("MATCH ()-[r]->() RETURN type(r) AS t, properties(r) AS p").json(),
                             api.cypher("CALL db.labels() YIELD label RETURN label").json()])
    for secret in ("carol-credit", password_hash, session.sid, session.csrf, "audit_marker_4711",
                   "web_users", "web_sessions"):
        assert secret not in everything
    load_secret(db)  # the session secret, made on first use
    for path in (db, secret_path(db), api.settings.query_log):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
