"""GDS on the live server: every procedure we call exists, and known answers on a small graph."""

from __future__ import annotations

import pytest

from graph.gds import REQUIRED_PROCEDURES, gds_version, guarantee_structure, missing_procedures, pagerank
from graph.runner import GraphRunner

pytestmark = pytest.mark.neo4j


def test_gds_is_2_13(graph_runner: GraphRunner) -> None:
    assert gds_version(graph_runner).startswith("2.13.")


def test_every_procedure_we_call_is_listed(graph_runner: GraphRunner) -> None:
    assert missing_procedures(graph_runner) == set()
    assert len(REQUIRED_PROCEDURES) >= 6


@pytest.fixture()
def guarantee_graph(clean_graph: GraphRunner) -> GraphRunner:
    # Circle A->B->C->A, chain C->D, separate pair E<->F, lone G->H, and an ended link H->G.
    clean_graph.write(
        "UNWIND ['A','B','C','D','E','F','G','H'] AS u CREATE (:Firm {uscc: u}) WITH count(*) AS _ "
        "UNWIND [['A','B'],['B','C'],['C','A'],['C','D'],['E','F'],['F','E'],['G','H']] AS p "
        "MATCH (a:Firm {uscc: p[0]}), (b:Firm {uscc: p[1]}) CREATE (a)-[:GUARANTEES {amount: 1.0}]->(b)"
    )
    clean_graph.write(
        "MATCH (h:Firm {uscc: 'H'}), (g:Firm {uscc: 'G'}) "
        "CREATE (h)-[:GUARANTEES {amount: 1.0, end: date('2024-01-01')}]->(g)"
    )
    return clean_graph


def test_wcc_and_scc_known_answers(guarantee_graph: GraphRunner) -> None:
    df = guarantee_structure(guarantee_graph).set_index("uscc")
    groups = df.groupby("group").groups
    assert sorted(sorted(v) for v in groups.values()) == [["A", "B", "C", "D"], ["E", "F"], ["G", "H"]]
    circles = df[df["circle"] >= 0].groupby("circle").groups
    # The ended H->G link is not projected, so G, H form no circle.
    assert sorted(sorted(v) for v in circles.values()) == [["A", "B", "C"], ["E", "F"]]
    assert df.loc["D", "circle"] == -1 and df.loc["A", "circle_size"] == 3


def test_pagerank_known_answer(guarantee_graph: GraphRunner) -> None:
    """Hand solution of PR(v) = 0.15 + 0.85 * sum PR(u)/outdeg(u) on the active links.

    Circle with a tail: A = .15 + .425 C, B = .15 + .85 A, C = .15 + .85 B, D = .15 + .425 C
    gives C = .385875 / .6929375; the pair E<->F gives E = F = 1; G = .15, H = .15 + .85 * .15.
    """
    pr = pagerank(guarantee_graph, "GUARANTEES").set_index("uscc")["score"]
    c = 0.385875 / 0.6929375
    a = 0.15 + 0.425 * c
    expected = {"A": a, "B": 0.15 + 0.85 * a, "C": c, "D": a, "E": 1.0, "F": 1.0, "G": 0.15, "H": 0.2775}
    for uscc, value in expected.items():
        assert pr[uscc] == pytest.approx(value, abs=1e-4), uscc


def test_graphdatascience_client_connects_to_open_gds(graph_runner: GraphRunner) -> None:
    """The client's connect path (which probes gds.debug.arrow, absent in open GDS) works."""
    from graph.gds import gds_client

    client = gds_client(graph_runner)
    assert str(client.server_version()).startswith("2.13.")


def test_projection_is_as_of_a_date(guarantee_graph: GraphRunner) -> None:
    """Before the H->G link ended (2024-01-01) G and H guaranteed each other: a circle."""
    from datetime import date

    df = guarantee_structure(guarantee_graph, as_of=date(2023, 6, 1)).set_index("uscc")
    assert df.loc["G", "circle"] >= 0 and df.loc["G", "circle"] == df.loc["H", "circle"]


def test_nothing_active_gives_empty_frames(clean_graph: GraphRunner) -> None:
    clean_graph.write(
        "CREATE (:Firm {uscc: 'A'})-[:GUARANTEES {end: date('2020-01-01')}]->(:Firm {uscc: 'B'})"
    )
    assert guarantee_structure(clean_graph).empty
    assert list(pagerank(clean_graph, "GUARANTEES").columns) == ["uscc", "score"]
