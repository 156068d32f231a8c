"""Guarantee groups and circles: types, cycle counts, metrics and review cuts, by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from chainrisk.errors import InvalidQueryParameter
from graph.runner import GraphRunner
from queries.circles import analyse_guarantees, guarantee_circles
from tests.queries._graph import BANK, NAME, U


def _links(*pairs: str, person: str = "") -> pd.DataFrame:
    """Links "ab" = a guarantees b (amount 1); guarantors named in ``person`` are persons."""
    rows = [("person" if p[0] in person else "firm", p[0], p[1], 1.0) for p in pairs]
    return pd.DataFrame(rows, columns=["kind", "guarantor", "borrower", "amount"])


@pytest.mark.parametrize(("pairs", "person", "group_type", "circle_types"), [
    (("ab", "ba"), "", "mutual", ["mutual"]),
    (("ab", "ba", "bc", "cb", "ac", "ca"), "", "joint", ["joint"]),
    (("ab", "bc", "ca"), "", "cycle", ["cycle"]),
    (("ab", "bc", "cd"), "", "chain", []),
    (("ab",), "", "chain", []),
    (("pa", "pb", "pc"), "p", "star", []),
    (("ap", "bp", "cp"), "", "star", []),          # a borrower guaranteed by many
    (("ab", "ba", "cd", "dc", "bc"), "", "cross", ["mutual", "mutual"]),
    (("ab", "ba", "bc"), "", "complex", ["mutual"]),  # a circle with a tail
    (("ab", "bc", "ca", "ac"), "", "complex", ["complex"]),
    (("ab", "cb", "bd", "de"), "", "complex", []),  # a tree, neither path nor star
])
def test_types(pairs: tuple[str, ...], person: str, group_type: str, circle_types: list[str]) -> None:
    net = analyse_guarantees(_links(*pairs, person=person))
    assert net.groups["type"].tolist() == [group_type]
    assert sorted(net.circles["type"]) == circle_types


def test_star_names_its_hub_and_persons_join_groups() -> None:
    net = analyse_guarantees(_links("pa", "pb", "pc", person="p"))
    row = net.groups.iloc[0]
    assert row["hub"] == "p" and row["persons"] == ["p"] and row["members"] == ["a", "b", "c"]


def test_cycle_counts_exact_and_lower_bound() -> None:
    k4 = [a + b for a in "abcd" for b in "abcd" if a != b]
    net = analyse_guarantees(_links(*k4))
    # complete digraph on 4: C(4,2)=6 two-cycles, 4*2=8 three-cycles, 3!=6 four-cycles -> 20
    c = net.circles.iloc[0]
    assert (c["type"], c["cycles_total"], c["cycles_exact"], len(c["cycles"])) == ("joint", 20, True, 20)
    assert c["cycles"][0] == ["a", "b"] and all(cy[0] == min(cy) for cy in c["cycles"])
    capped = analyse_guarantees(_links(*k4), max_listed=5, count_limit=12).circles.iloc[0]
    assert (capped["cycles_total"], capped["cycles_exact"], len(capped["cycles"])) == (12, False, 5)


def test_cycles_up_to_length_10_and_1000_listed_by_default() -> None:
    ring = "abcdefghijk"
    # a ring of 10 firms is one cycle; a ring of 11 is a circle whose only cycle is too long to list
    ten = analyse_guarantees(_links(*(ring[i] + ring[(i + 1) % 10] for i in range(10)))).circles.iloc[0]
    assert (ten["type"], ten["cycles_total"], ten["cycles_exact"], ten["cycles"]) == (
        "cycle", 1, True, [list(ring[:10])])
    eleven = analyse_guarantees(_links(*(ring[i] + ring[(i + 1) % 11] for i in range(11)))).circles.iloc[0]
    assert (eleven["n_members"], eleven["cycles_total"], eleven["cycles"]) == (11, 0, [])
    # a 7-firm joint group: sum over k = 2..7 of C(7, k) (k - 1)! = 2,365 cycles, 1,000 of them listed
    k7 = analyse_guarantees(_links(*(a + b for a in "abcdefg" for b in "abcdefg" if a != b))).circles.iloc[0]
    assert (k7["type"], k7["cycles_total"], k7["cycles_exact"], len(k7["cycles"])) == (
        "joint", 2365, True, 1000)


def test_metrics_and_grades() -> None:
    facts = pd.DataFrame({"uscc": ["a", "b"], "equity": [100.0, None], "balance_all": [60.0, 50.0],
                          "worst_rank": [0, 2], "exposure": [10.0, 0.0]})
    links = pd.DataFrame({"kind": ["firm", "firm"], "guarantor": ["a", "b"], "borrower": ["b", "a"],
                          "amount": [30.0, 20.0]})
    g = analyse_guarantees(links, facts, grade_thresholds=(100.0, 200.0)).groups.iloc[0]
    # 50 guaranteed against a's 100 of equity (b has no statement); balance 110 reaches 100 -> grade 2
    assert (g["guaranteed_amount"], g["members_equity"], g["guarantee_to_equity"]) == (50.0, 100.0, 0.5)
    assert (g["loan_balance"], g["share_special_mention_or_worse"], g["bank_exposure"], g["grade"]) == (
        110.0, 0.5, 10.0, 2)
    with pytest.raises(InvalidQueryParameter, match="increase"):
        analyse_guarantees(links, grade_thresholds=(2.0, 1.0))


def test_large_groups_split_at_the_weakest_links() -> None:
    # two mutual triangles (links of 10 each way) joined by one guarantee of 1: the cut takes that link
    tri = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "f"), ("f", "d")]
    rows = [("firm", x, y, 10.0) for x, y in tri] + [("firm", y, x, 10.0) for x, y in tri]
    rows.append(("firm", "c", "d", 1.0))
    links = pd.DataFrame(rows, columns=["kind", "guarantor", "borrower", "amount"])
    g = analyse_guarantees(links, review_size=3).groups.iloc[0]
    assert g["n_members"] == 6 and g["members"] == list("abcdef")  # the whole group stays reported
    assert g["review_parts"] == [["a", "b", "c"], ["d", "e", "f"]] and g["cut_links"] == [("c", "d", 1.0)]
    assert analyse_guarantees(links).groups.iloc[0]["review_parts"] is None


def test_the_platform_groups_and_circles(platform: GraphRunner) -> None:
    net = guarantee_circles(platform, lenders=BANK, grade_thresholds=(100.0, 500.0))
    types = {tuple(NAME[m] for m in r["members"]): r["type"] for r in net.groups.to_dict("records")}
    assert types == {("F", "B1", "G1", "G2"): "complex", ("T1", "T2", "T3"): "star",
                     ("X1", "X2", "X3", "X4"): "cross", ("J1", "J2", "J3"): "joint",
                     ("C1", "C2", "C3"): "cycle", ("H1", "H2", "H3"): "chain", ("M1", "M2"): "mutual"}
    circles = {tuple(sorted(NAME[m] for m in r["members"])): (r["type"], r["cycles_total"])
               for r in net.circles.to_dict("records")}
    # K3 complete digraph: 3 two-cycles + 2 three-cycles
    assert circles == {("X1", "X2"): ("mutual", 1), ("X3", "X4"): ("mutual", 1),
                       ("J1", "J2", "J3"): ("joint", 5), ("C1", "C2", "C3"): ("cycle", 1),
                       ("M1", "M2"): ("mutual", 1)}
    f = net.groups.set_index("type").loc["complex"]
    # G1 1000 + P1 500 + G2 300 + F->B1 200; F's equity 5000; balances F 800 + B1 200; bank F 1500 + B1 200
    assert (f["guaranteed_amount"], f["guarantee_to_equity"], f["loan_balance"], f["bank_exposure"]) == (
        2000.0, 0.4, 1000.0, 1700.0)
    assert f["persons"] == ["person-P1"] and f["grade"] == 3
    m = net.groups.set_index("type").loc["mutual"]
    # M1 substandard of two members; equity 150 + 50 against 200 guaranteed; balance 400 reaches 100
    assert (m["share_special_mention_or_worse"], m["guarantee_to_equity"], m["grade"]) == (0.5, 1.0, 2)
    assert net.to_dict()["as_of"] == "2024-06-30" and U["M1"] in net.to_dict()["circles"][-1]["members"]


def test_gds_components_equal_the_networkx_path(platform: GraphRunner) -> None:
    from queries.circles import gds_components

    nx_net = guarantee_circles(platform, lenders=BANK)
    gds_net = gds_components(platform)

    def groups(net):  # type: ignore[no-untyped-def]
        return [(r["id"], r["members"], r["persons"]) for r in net.groups.to_dict("records")]

    def circles(net):  # type: ignore[no-untyped-def]
        return [(r["group"], r["members"]) for r in net.circles.to_dict("records")]

    # seven groups (persons P1, P2 inside theirs), five circles: the same members, ids and order
    assert groups(gds_net) == groups(nx_net) and len(groups(gds_net)) == 7
    assert circles(gds_net) == circles(nx_net) and len(circles(gds_net)) == 5
    # the projection is dropped afterwards
    assert platform.read("CALL gds.graph.list() YIELD graphName RETURN graphName") == []
    # on 2022-12-31 no guarantee had started (all start 2023-01-01): nothing to project
    assert gds_components(platform, as_of="2022-12-31").groups.empty


def test_guarantee_circles_same_answer_with_gds_or_networkx_components(platform: GraphRunner) -> None:
    by_gds = guarantee_circles(platform, lenders=BANK, components="gds").to_dict()
    by_nx = guarantee_circles(platform, lenders=BANK, components="networkx").to_dict()
    assert by_gds == by_nx and len(by_gds["groups"]) == 7 and len(by_gds["circles"]) == 5
    assert guarantee_circles(platform, lenders=BANK).to_dict() == by_nx  # auto: GDS is on this server
    assert platform.read("CALL gds.graph.list() YIELD graphName RETURN graphName") == []
    with pytest.raises(InvalidQueryParameter, match="components"):
        guarantee_circles(platform, components="igraph")  # type: ignore[arg-type]


def test_a_partition_that_misses_nodes_is_recomputed() -> None:
    links = _links("ab", "ba", "bc")
    whole = analyse_guarantees(links).to_dict()
    given = ([{("firm", "a"), ("firm", "b"), ("firm", "c")}], [{("firm", "a"), ("firm", "b")}])
    assert analyse_guarantees(links, partition=given).to_dict() == whole
    stale = ([{("firm", "a"), ("firm", "b")}], [{("firm", "a"), ("firm", "b")}])  # c came in since
    assert analyse_guarantees(links, partition=stale).to_dict() == whole
    assert whole["groups"][0]["type"] == "complex" and whole["circles"][0]["members"] == ["a", "b"]
