"""Paths between two firms on the hand-built platform (``_graph``), worked out by hand."""

from __future__ import annotations

import pytest

from chainrisk.errors import InvalidQueryParameter, InvalidUSCC, UnknownFirm
from graph.runner import GraphRunner
from queries.paths import paths_between
from tests.queries._graph import BANK, NAME, U


def _names(section):  # type: ignore[no-untyped-def]
    return [[NAME.get(n["id"], n["id"]) for n in p["nodes"]] for p in section["paths"]]


def test_supply_paths_both_ways_with_values(platform: GraphRunner) -> None:
    got = paths_between(platform, U["S4"], U["B2"], lenders=BANK)
    down = got["supply"]["downstream"]
    # S4 reaches B2 in 3 links two ways: via S1 (100, 600, 300) and via S2 (200, 400, 300);
    # B1 -> B2 (500) is not shorter: F -> B2 is direct
    assert down["length"] == 3 and _names(down) == [["S4", "S1", "F", "B2"], ["S4", "S2", "F", "B2"]]
    assert [[x["value"] for x in p["links"]] for p in down["paths"]] == [[100.0, 600.0, 300.0],
                                                                        [200.0, 400.0, 300.0]]
    # B2 supplies no one
    assert got["supply"]["upstream"] == {"length": None, "paths": [], "truncated": False}
    assert got["guarantee"]["length"] is None  # neither S4 nor B2 is in a guarantee
    assert got["as_of"] == "2024-06-30" and got["stale_before"] == "2023-12-30"
    f = got["firms"][U["F"]]
    # every firm on a path with the bank's exposure and its dates: F 800 + 700 undrawn; S1's statement stale
    assert (f["exposure"], f["stale"]) == (1500.0, False) and got["firms"][U["S1"]]["statement_stale"] is True
    assert set(got["firms"]) == {U[n] for n in ("S4", "S1", "S2", "F", "B2")}


def test_hops_cut_and_the_date_filters_links(platform: GraphRunner) -> None:
    assert paths_between(platform, U["S4"], U["B2"], hops=2)["supply"]["downstream"]["length"] is None
    # on 2023-06-30 S2 -> F had not started: only the path through S1
    old = paths_between(platform, U["S4"], U["B2"], as_of="2023-06-30")["supply"]["downstream"]
    assert _names(old) == [["S4", "S1", "F", "B2"]]
    # S5 -> F ended 2024-01-01; S6 -> F starts 2024-09-01
    assert paths_between(platform, U["S5"], U["F"])["supply"]["downstream"]["length"] is None
    assert paths_between(platform, U["S6"], U["F"])["supply"]["downstream"]["length"] is None


def test_guarantee_paths_walk_either_way_through_persons(platform: GraphRunner) -> None:
    got = paths_between(platform, U["G2"], U["B1"], relations=("guarantee",))
    g = got["guarantee"]
    # G2 -> G1 (300, LG1), G1 -> F (1000, LF), F -> B1 (200, LB1)
    assert _names(g) == [["G2", "G1", "F", "B1"]] and "supply" not in got
    assert [(NAME[x["from"]], NAME[x["to"]], x["amount"], x["loan_ids"]) for x in g["paths"][0]["links"]] == [
        ("G2", "G1", 300.0, ["LG1"]), ("G1", "F", 1000.0, ["LF"]), ("F", "B1", 200.0, ["LB1"])]
    # T1 and T3 are tied only by the person P2 who guarantees both: T1 <- P2 -> T3
    star = paths_between(platform, U["T1"], U["T3"])["guarantee"]
    assert _names(star) == [["T1", "person-P2", "T3"]] and star["paths"][0]["nodes"][1]["party"] == "person"
    # M1 <-> M2 guarantee each other: one path of one step that lists both links (100 each)
    mutual = paths_between(platform, U["M1"], U["M2"])["guarantee"]
    assert mutual["length"] == 1 and len(mutual["paths"]) == 1
    links = mutual["paths"][0]["links"]
    assert sorted((x["step"], NAME[x["from"]], NAME[x["to"]], x["amount"]) for x in links) == [
        (1, "M1", "M2", 100.0), (1, "M2", "M1", 100.0)]


def test_refusals(platform: GraphRunner) -> None:
    with pytest.raises(InvalidQueryParameter, match="hops must be a whole number from 1 to 5"):
        paths_between(platform, U["F"], U["B1"], hops=6)
    with pytest.raises(InvalidUSCC, match="expected"):
        paths_between(platform, U["F"][:17] + ("0" if U["F"][17] != "0" else "1"), U["B1"])
    with pytest.raises(UnknownFirm):
        paths_between(platform, U["F"], "91350100M000100Y43")
    with pytest.raises(InvalidQueryParameter, match="relations"):
        paths_between(platform, U["F"], U["B1"], relations=("owns",))
    with pytest.raises(InvalidQueryParameter, match="same firm"):
        paths_between(platform, U["F"], U["F"])
