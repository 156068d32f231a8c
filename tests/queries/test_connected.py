"""Connected clients and large exposures on the hand-built platform (``_graph``), by hand."""

from __future__ import annotations

import pytest

from chainrisk.errors import InvalidQueryParameter
from graph.runner import GraphRunner
from queries.connected import DEFAULT_LIMITS, connected_clients
from tests.queries._graph import BANK, NAME


def _groups(result):  # type: ignore[no-untyped-def]
    return [(r["id"], [NAME[m] for m in r["members"]], r["exposure"])
            for r in result.groups.to_dict("records")]


def test_groups_by_control_and_guarantees_against_the_2018_limits(platform: GraphRunner) -> None:
    got = connected_clients(platform, tier1_capital=10_000, net_capital=12_000, lenders=BANK)
    # bank-a exposures: F 800 + 700 undrawn = 1500, S1 500, M1 400, B1 200, W1 150, S4 100.
    # K1: P3 holds 0.6 of F and 0.7 of W1 (control), F's guarantee group adds G1, G2, B1 (P1 a person):
    #     1500 + 200 + 150 = 1850 = 18.5% of 10,000: large (>= 10%) but within the group limit of 20%.
    # K2: M1 <-> M2 (mutual guarantee): 400. P4's 0.2 of M1 and 0.3 of J1 are no control;
    # G2's 0.5 of W3 ended 2024-01-01, so W3 is not in K1.
    assert _groups(got) == [("K1", ["F", "B1", "G1", "G2", "W1"], 1850.0), ("K2", ["M1", "M2"], 400.0)]
    k1 = got.groups.iloc[0]
    assert (k1["share_of_tier1"], k1["large"], k1["over_limit"]) == (pytest.approx(0.185), True, False)
    assert k1["persons"] == ["person-P1", "person-P3"]
    assert (k1["control_pairs"], k1["guarantee_pairs"]) == (2, 4)
    c = got.clients.set_index(got.clients["uscc"].map(NAME))
    # F alone: 1500 = 15% of tier-1, exactly the single-client limit (within it); loans 800 / 12,000 = 6.7%
    assert c.loc["F", "share_of_tier1"] == 0.15 and c.loc["F", "large"] and not c.loc["F", "over_limit"]
    assert c.loc["F", "loan_share_of_net_capital"] == pytest.approx(800 / 12_000)
    assert c.loc["F", "group"] == "K1" and c.loc["F", "group_exposure"] == 1850.0
    assert c.loc["S1", "group"] is None and list(c.index) == ["F", "S1", "M1", "B1", "W1", "S4"]
    # every client shown with its dates: S1's statement (2023-04-30) and B1's status (2023-10) are stale
    assert bool(c.loc["S1", "stale"]) and bool(c.loc["B1", "loan_status_stale"])
    assert not bool(c.loc["F", "stale"])
    assert got.to_dict()["as_of"] == "2024-06-30" and "2018" in got.to_dict()["source"]


def test_limits_control_share_and_undrawn_factor_are_parameters(platform: GraphRunner) -> None:
    # 9,000 of tier-1: K1 1850 = 20.6% > 20% breaches; F 1500 = 16.7% > 15% breaches
    tight = connected_clients(platform, tier1_capital=9_000, lenders=BANK)
    assert bool(tight.groups.iloc[0]["over_limit"]) and bool(tight.clients.iloc[0]["over_limit"])
    assert tight.clients["over_loan_limit"].isna().all()  # no net capital given: not checked
    # a 0.2 control share ties M1 (P4 0.2) and J1 (P4 0.3): K2 = M1, M2 + J1's joint clique J1, J2, J3
    loose = connected_clients(platform, tier1_capital=10_000, lenders=BANK, control_share=0.2)
    assert _groups(loose)[1] == ("K2", ["M1", "M2", "J1", "J2", "J3"], 400.0)
    # undrawn limits at a 50% conversion factor: F 800 + 350
    half = connected_clients(platform, tier1_capital=10_000, lenders=BANK, undrawn_factor=0.5)
    assert half.clients.iloc[0]["exposure"] == 1150.0
    # control only: F and W1 through P3, no guarantee group
    control = connected_clients(platform, tier1_capital=10_000, lenders=BANK, include_guarantees=False)
    assert _groups(control) == [("K1", ["F", "W1"], 1650.0)]
    assert DEFAULT_LIMITS == {"large_threshold": 0.10, "single_limit": 0.15, "group_limit": 0.20,
                              "loan_limit": 0.10}
    with pytest.raises(InvalidQueryParameter, match="tier1_capital"):
        connected_clients(platform, tier1_capital=0)
    with pytest.raises(InvalidQueryParameter, match="unknown limit"):
        connected_clients(platform, tier1_capital=1.0, limits={"bogus": 0.1})


def test_a_warm_chain_cache_gives_the_same_answer(platform: GraphRunner,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    import queries.connected
    from queries.chaincache import CHAIN_CACHE, warm_up

    CHAIN_CACHE.clear()
    try:
        cold = connected_clients(platform, tier1_capital=10_000.0, lenders=BANK)
        state = warm_up(platform, lenders=BANK)  # the book and the details table, as the API's start
        assert CHAIN_CACHE.held_book(platform, state, cold.as_of, BANK) is not None
        # the borrowers and their exposures from the held book: no bank_borrowers, no firm_exposure
        real = queries.connected.run_query
        monkeypatch.setattr(queries.connected, "run_for_firms", None)
        monkeypatch.setattr(queries.connected, "run_query",
                            lambda r, name, p=None: None if name == "bank_borrowers" else real(r, name, p))
        warm = connected_clients(platform, tier1_capital=10_000.0, lenders=BANK)
        pd.testing.assert_frame_equal(warm.clients, cold.clients)
        pd.testing.assert_frame_equal(warm.groups, cold.groups)
        assert len(cold.clients) > 0 and len(cold.groups) > 0
    finally:
        CHAIN_CACHE.clear()
