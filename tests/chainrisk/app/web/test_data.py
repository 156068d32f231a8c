"""What the page shows, against the live server on the hand-built platform (see conftest)."""

from __future__ import annotations

import csv
import io

import pytest

from chainrisk.app.web.data import exposure_csv, firm_card, guarantee_group, neighbourhood
from chainrisk.errors import InvalidQueryParameter, UnknownFirm
from ingest.uscc import make
from tests.chainrisk.app.web.conftest import AS_OF, EVIL, U

pytestmark = pytest.mark.neo4j


def _short(ids):
    inv = {v: k for k, v in U.items()}
    return {inv.get(i, i) for i in ids}


def test_card_states_risk_changes_and_dates(web_graph):
    card = firm_card(web_graph, U["F"])
    assert card["as_of"] == AS_OF and card["stale_before"] == "2023-12-30"
    assert card["risk"]["pd"] == 0.05 and card["risk"]["tier"] == 4 and card["risk"]["reasons"] == ["b", "c"]
    ch = card["changes"]
    assert (ch["pd_before"], ch["pd_now"], ch["tier_before"], ch["tier_now"]) == (0.02, 0.05, 3, 4)
    assert ch["pd_change"] == pytest.approx(0.03)
    assert ch["reasons_added"] == ["c"] and ch["reasons_dropped"] == ["a"]
    f = card["firm"]
    # F: statement published 2024-04-30, signal 2024-06, loan status 2024-06: all fresh
    assert f["statement_published"] == "2024-04-30" and f["stale"] is False
    assert card["defaulted"] is None


def test_card_flags_stale_and_default(web_graph):
    s1 = firm_card(web_graph, U["S1"])["firm"]
    assert s1["statement_stale"] is True and s1["loan_status_stale"] is False and s1["stale"] is True
    assert firm_card(web_graph, U["S3"])["defaulted"] == "2024-03-01"
    assert firm_card(web_graph, U["S3"])["changes"]["note"] == "not scored in both runs"


def test_unknown_and_malformed_firm(web_graph):
    with pytest.raises(UnknownFirm):
        firm_card(web_graph, make("91350100M99999999"))
    with pytest.raises(InvalidQueryParameter, match="check"):
        firm_card(web_graph, U["F"][:-1] + ("0" if U["F"][-1] != "0" else "1"))


def test_neighbourhood_one_hop(web_graph):
    g = neighbourhood(web_graph, U["F"], hops=1)
    # active at 2024-06-30: suppliers S1, S2 (S5 ended, S6 not yet), buyers B1, B2, guarantors G1 and P1;
    # F guarantees B1 (already there as a buyer)
    assert _short(n["id"] for n in g["nodes"]) == {"F", "S1", "S2", "B1", "B2", "G1", "person-P1"}
    kinds = {(_short([e["source"]]).pop(), _short([e["target"]]).pop(), e["type"]) for e in g["edges"]}
    assert kinds == {
        ("S1", "F", "SUPPLIES"),
        ("S2", "F", "SUPPLIES"),
        ("F", "B1", "SUPPLIES"),
        ("F", "B2", "SUPPLIES"),
        ("G1", "F", "GUARANTEES"),
        ("person-P1", "F", "GUARANTEES"),
        ("F", "B1", "GUARANTEES"),
    }
    by = {n["id"]: n for n in g["nodes"]}
    assert by[U["S1"]]["tier"] == 6 and by[U["F"]]["tier"] == 4 and by[U["B2"]]["label"] == EVIL
    assert not any(e["default_path"] for e in g["edges"])


def test_neighbourhood_two_hops_flags_the_path_to_default(web_graph):
    g = neighbourhood(web_graph, U["F"], hops=2, relations=["supply"])
    assert _short(n["id"] for n in g["nodes"]) == {"F", "S1", "S2", "B1", "B2", "S3", "S4", "B3"}
    by = {n["id"]: n for n in g["nodes"]}
    assert by[U["S3"]]["defaulted"] == "2024-03-01"
    path = {
        (_short([e["source"]]).pop(), _short([e["target"]]).pop()) for e in g["edges"] if e["default_path"]
    }
    assert path == {("S3", "S1"), ("S1", "F")}
    assert {k for k, n in by.items() if n["on_default_path"]} == {U["F"], U["S1"], U["S3"]}


def test_neighbourhood_draws_persons_and_expands_them(web_graph):
    # person P2 guarantees T1, T2 and T3 (40 each): from T1, P2 is one hop away and links T1 to
    # T2 and T3, two hops away (a person between two firms is a path of 2)
    one = neighbourhood(web_graph, U["T1"], hops=1)
    assert _short(n["id"] for n in one["nodes"]) == {"T1", "person-P2"}
    two = neighbourhood(web_graph, U["T1"], hops=2)
    by = {n["id"]: n for n in two["nodes"]}
    assert _short(by) == {"T1", "person-P2", "T2", "T3"}
    p2 = by["person-P2"]
    assert (p2["kind"], p2["distance"], p2["label"], p2["tier"]) == ("person", 1, "person person-P2", None)
    assert p2["statement_published"] is None and p2["stale"] is None  # a person has no firm data
    assert {by[U[t]]["distance"] for t in ("T2", "T3")} == {2} and by[U["T2"]]["kind"] == "firm"
    edges = {
        (_short([e["source"]]).pop(), _short([e["target"]]).pop(), e["type"], e["value"])
        for e in two["edges"]
    }
    assert edges == {("person-P2", t, "GUARANTEES", 40.0) for t in ("T1", "T2", "T3")}
    # guarantees off: no person, nothing else (T1 has no supply link)
    assert _short(
        n["id"] for n in neighbourhood(web_graph, U["T1"], hops=2, relations=["supply"])["nodes"]
    ) == {"T1"}
    # a person links only while the drawing has room: cap 1 shows one of T2, T3 and "+1 more"
    capped = neighbourhood(web_graph, U["T1"], hops=2, cap=1)
    assert len([n for n in capped["nodes"] if n["kind"] == "firm"]) == 2 and capped["truncated"] == 1


def test_neighbourhood_caps_hubs(web_graph):
    g = neighbourhood(web_graph, U["F"], hops=1, relations=["supply"], cap=2)
    # F has 4 active supply neighbours: the 2 largest (B1 700, S1 600) and "+2 more"
    ids = _short(n["id"] for n in g["nodes"] if n["kind"] != "more")
    more = [n for n in g["nodes"] if n["kind"] == "more"]
    assert ids == {"F", "B1", "S1"} and len(more) == 1 and more[0]["label"] == "+2 more"
    assert g["truncated"] == 2
    # 4 nodes: F, B1 (700), S1 (600) and F's "+2 more"; at hop 2 no room, so B1's new neighbours
    # (B3, B2) and S1's (S3, S4) are only counted, in one "+2 more" each
    small = neighbourhood(web_graph, U["F"], hops=2, relations=["supply"], max_nodes=4)
    assert _short(n["id"] for n in small["nodes"] if n["kind"] != "more") == {"F", "B1", "S1"}
    assert sorted(n["hidden"] for n in small["nodes"] if n["kind"] == "more") == [2, 2, 2]
    assert small["truncated"] == 6
    with pytest.raises(InvalidQueryParameter):
        neighbourhood(web_graph, U["F"], hops=4)
    with pytest.raises(InvalidQueryParameter):
        neighbourhood(web_graph, U["F"], relations=["owns"])


def test_guarantee_group(web_graph):
    g = guarantee_group(web_graph, U["F"])
    # G2 -> G1 -> F, P1 -> F, F -> B1: one group of 4 firms and a person, no circle
    assert _short(g["group"]["members"]) == {"F", "G1", "G2", "B1"} and g["group"]["persons"] == ["person-P1"]
    assert g["group"]["guaranteed_amount"] == 2000.0 and g["circles"] == []
    assert {m["uscc"] for m in g["members"]} == set(g["group"]["members"])
    m = guarantee_group(web_graph, U["M1"])
    assert m["group"]["type"] == "mutual" and len(m["circles"]) == 1
    assert guarantee_group(web_graph, U["S7"])["group"] is None


def test_exposure_csv(web_graph):
    text = exposure_csv(web_graph, U["F"], hops=1)
    lines = text.splitlines()
    assert lines[0].startswith("# chain exposure of," + U["F"]) and AS_OF in lines[0]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    got = {(r["section"], _short([r["uscc"] or r["person_id"]]).pop()) for r in rows}
    assert got == {
        ("upstream", "S1"),
        ("upstream", "S2"),
        ("downstream", "B1"),
        ("downstream", "B2"),
        ("guarantors", "G1"),
        ("guarantors", "person-P1"),
        ("guaranteed", "B1"),
    }
    evil = next(r for r in rows if r["uscc"] == U["B2"])
    assert evil["name"] == EVIL  # starts with "<": not a formula, kept as is
