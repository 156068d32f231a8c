"""Chain exposure on the hand-built platform (``_graph``): every figure worked out by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from chainrisk.errors import InvalidQueryParameter, UnknownFirm
from graph.runner import GraphRunner
from queries.exposure import chain, chain_exposure, months_before
from tests.queries._graph import BANK, NAME, U


def _rows(frame, *cols):  # type: ignore[no-untyped-def]
    return [(NAME.get(r["uscc"], r["person_id"]), *(r[c] for c in cols)) for r in frame.to_dict("records")]


def test_upstream_distances_values_and_shares(platform: GraphRunner) -> None:
    page = chain_exposure(platform, U["F"], hops=3, lenders=BANK)
    got = _rows(page.upstream, "distance", "trade_value", "share", "exposure")
    # F's active inputs: S1 600 + S2 400 = 1000 (S5's link ended 2024-01-01, S6's starts 2024-09-01).
    # S1 input total 400 (S3 300, S4 100); S2's 200 (S4). S4 reaches F twice at distance 2:
    # 100/400 * 0.6 + 200/200 * 0.4 = 0.55, trade value 100 + 200. S3: 300/400 * 0.6 = 0.45; S7: 50/50 * 0.45.
    # Order within a distance: exposure (bank-a only) descending: S1 500 before S2 (bank-b), S4 100 before S3.
    expected = [("S1", 1, 600.0, 0.6, 500.0), ("S2", 1, 400.0, 0.4, 0.0),
                ("S4", 2, 300.0, 0.55, 100.0), ("S3", 2, 300.0, 0.45, 0.0), ("S7", 3, 50.0, 0.45, 0.0)]
    assert [r[:3] for r in got] == [r[:3] for r in expected]
    assert [r[3] for r in got] == pytest.approx([r[3] for r in expected])
    assert [r[4] for r in got] == [r[4] for r in expected]


def test_downstream_skips_firms_already_nearer(platform: GraphRunner) -> None:
    page = chain_exposure(platform, U["F"], hops=3, direction="downstream", lenders=BANK)
    # B2 is a direct buyer (300 of F's 1000 sales); B1 -> B2 does not put it at distance 2.
    # B3: 500 of B1's 1000 sales x B1's 0.7.
    assert _rows(page.downstream, "distance", "trade_value") == [("B1", 1, 700.0), ("B2", 1, 300.0),
                                                                  ("B3", 2, 500.0)]
    assert page.downstream["share"].tolist() == pytest.approx([0.7, 0.3, 0.35])
    assert page.upstream.empty and page.counts["upstream"] == 0  # direction=downstream


def test_guarantee_chains_both_ways_with_persons(platform: GraphRunner) -> None:
    page = chain_exposure(platform, U["F"], hops=2, lenders=BANK)
    assert sorted(_rows(page.guarantors, "distance", "amount", "party")) == [
        ("G1", 1, 1000.0, "firm"), ("G2", 2, 300.0, "firm"), ("person-P1", 1, 500.0, "person")]
    assert _rows(page.guaranteed, "distance", "amount") == [("B1", 1, 200.0)]


def test_bank_exposure_totals_and_the_focal_firm(platform: GraphRunner) -> None:
    page = chain_exposure(platform, U["F"], hops=3, lenders=BANK)
    f = page.firm_details
    # LF: 800 outstanding of a 1500 limit -> 700 undrawn; F guarantees B1's bank-a loan for 200
    assert (f["outstanding"], f["undrawn"], f["exposure"], f["guarantees_given"]) == (800, 700, 1500, 200)
    up = page.totals["upstream"]
    assert (up["firms"], up["outstanding"], up["special_mention_or_worse"]) == (5, 600.0, 1)  # S1 + S4
    assert up["by_distance"] == {"1": 2, "2": 2, "3": 1} and up["direct_trade_value"] == 1000.0
    chain_t = page.totals["chain"]
    # distinct over the lists: 5 up + 3 down + G1, G2 (+ P1 as a person) + B1 again (guaranteed) = 10 firms;
    # bank outstanding S1 500 + S4 100 + B1 200; G1 gave 1000 on LF
    assert (chain_t["firms"], chain_t["persons"], chain_t["outstanding"], chain_t["guarantees_given"]) == (
        10, 1, 800.0, 1000.0)
    every_lender = chain_exposure(platform, U["F"], hops=3, lenders=[])
    assert every_lender.totals["upstream"]["outstanding"] == 900.0  # S2's bank-b loan counts too


def test_staleness_is_flagged_per_firm(platform: GraphRunner) -> None:
    page = chain_exposure(platform, U["F"], hops=1, lenders=BANK)
    assert page.as_of == date(2024, 6, 30) and months_before(page.as_of, 6) == date(2023, 12, 30)
    s1 = page.upstream.set_index("uscc").loc[U["S1"]]
    assert s1["statement_published"] == "2023-04-30" and bool(s1["statement_stale"]) and bool(s1["stale"])
    b1 = page.downstream.set_index("uscc").loc[U["B1"]]
    assert b1["loan_status_month"] == "2023-10-01" and bool(b1["loan_status_stale"])
    assert page.firm_details["stale"] is False and page.firm_details["signal_month"] == "2024-06-01"
    s2 = page.upstream.set_index("uscc").loc[U["S2"]]
    assert pd.isna(s2["statement_published"]) and not bool(s2["stale"])  # nothing known is not stale


def test_risk_labels_and_stress_results_where_present(platform: GraphRunner) -> None:
    from tests.queries.conftest import published

    before = chain_exposure(platform, U["F"], hops=1, lenders=BANK).upstream.set_index("uscc")
    assert pd.isna(before.loc[U["S1"], "risk_pd"]) and pd.isna(before.loc[U["S1"], "stress_default_prob"])
    with published(platform, "risk", [{"uscc": U["S1"], "risk_pd": 0.02, "risk_tier": 3}]), \
            published(platform, "stress", [{"uscc": U["S1"], "stress_default_prob": 0.3,
                                             "stress_systemic_impact": 0.1}]):
        up = chain_exposure(platform, U["F"], hops=1, lenders=BANK).upstream.set_index("uscc")
        s1, s2 = up.loc[U["S1"]], up.loc[U["S2"]]
        assert (s1["risk_pd"], s1["risk_tier"], s1["stress_default_prob"]) == (0.02, 3, 0.3)
        assert pd.isna(s2["risk_pd"]) and pd.isna(s2["stress_default_prob"])  # not in either run


def test_as_of_filters_links_both_ways(platform: GraphRunner) -> None:
    page = chain_exposure(platform, U["F"], hops=1, as_of="2023-06-30", lenders=BANK)
    # on 2023-06-30, S2's link had not started and S5's had not ended: inputs 600 + 250
    assert _rows(page.upstream, "trade_value") == [("S1", 600.0), ("S5", 250.0)]
    assert page.upstream["share"].tolist() == pytest.approx([600 / 850, 250 / 850])
    assert page.to_dict()["as_of"] == "2023-06-30"


def test_pages_carry_counts_and_whole_chain_totals(platform: GraphRunner) -> None:
    whole = chain(platform, U["F"], hops=3, lenders=BANK)
    pages = list(whole.pages(platform, page_size=2))
    assert len(pages) == 3  # upstream has 5 rows -> pages of 2, 2, 1
    assert [len(p.upstream) for p in pages] == [2, 2, 1]
    assert [n[0] for p in pages for n in _rows(p.upstream)] == ["S1", "S2", "S4", "S3", "S7"]
    assert all(p.totals == whole.totals and p.counts["upstream"] == 5 for p in pages)
    assert [len(p.downstream) for p in pages] == [2, 1, 0]


def test_refusals(platform: GraphRunner) -> None:
    with pytest.raises(InvalidQueryParameter, match="hops must be a whole number from 1 to 5"):
        chain_exposure(platform, U["F"], hops=6)
    with pytest.raises(InvalidQueryParameter, match=r"page_size must lie in \[1, 1000\]"):
        chain_exposure(platform, U["F"], page_size=1001)
    with pytest.raises(InvalidQueryParameter, match="expected"):
        chain_exposure(platform, U["F"][:17] + ("0" if U["F"][17] != "0" else "1"))
    with pytest.raises(UnknownFirm):
        chain_exposure(platform, "91350100M000100Y43")
