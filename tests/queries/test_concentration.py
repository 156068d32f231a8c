"""Concentration of the bank's book on the hand-built platform (``_graph``), by hand."""

from __future__ import annotations

import pytest

from chainrisk.errors import InvalidQueryParameter
from graph.runner import GraphRunner
from queries.concentration import concentration
from tests.queries._graph import BANK, NAME


def _shares(result, dim):  # type: ignore[no-untyped-def]
    return [(r["category"], r["exposure"]) for r in result.dimensions[dim].to_dict("records")]


def test_dimensions_hhi_and_top_shares(platform: GraphRunner) -> None:
    got = concentration(platform, lenders=BANK, top_n=2)
    # bank-a exposures: F 1500 (800 + 700 undrawn), S1 500, M1 400, B1 200, W1 150, S4 100: 2850
    assert got.total == 2850.0
    # W1 alone in region 110000: HHI = (2700^2 + 150^2) / 2850^2
    assert _shares(got, "region") == [("350100", 2700.0), ("110000", 150.0)]
    summary = got.summary.set_index("dimension")
    assert summary.loc["region", "hhi"] == pytest.approx((2700**2 + 150**2) / 2850**2)
    assert summary.loc["sector", "hhi"] == 1.0 and summary.loc["sector", "largest"] == "C"  # C3311, C1810
    # F's cash flows +, -, - are mature; M1's -, -, + start-up; the rest have none
    assert _shares(got, "lifecycle") == [("mature", 1500.0), ("unknown", 950.0), ("start-up", 400.0)]
    # F, S1, B1 have active suppliers and buyers; S4 only buyers; M1, W1 no supply links
    assert _shares(got, "position") == [("midstream", 2200.0), ("unlinked", 550.0), ("upstream", 100.0)]
    firm = summary.loc["firm"]
    # single names: shares 1500, 500, 400, 200, 150, 100 of 2850; top 2 = 2000 / 2850
    assert firm["hhi"] == pytest.approx(sum(x**2 for x in (1500, 500, 400, 200, 150, 100)) / 2850**2)
    assert firm["top1_share"] == pytest.approx(1500 / 2850)
    assert firm["top2_share"] == pytest.approx(2000 / 2850)
    names = got.dimensions["firm"]
    assert [NAME[u] for u in names["uscc"]] == ["F", "S1", "M1", "B1", "W1", "S4"]
    assert bool(names.set_index("uscc")["stale"].map(bool).loc[names["uscc"][1]])  # S1's 2023 statement
    assert got.to_dict()["as_of"] == "2024-06-30"


def test_lenders_and_measure(platform: GraphRunner) -> None:
    every = concentration(platform, lenders=[], by=["lender"], measure="outstanding")
    # outstanding: bank-a 2150 (F 800 ...); bank-b LS2 300 + LJ1 900 + LW2 200 + LW3 200 = 1600
    assert [(r["category"], r["outstanding"]) for r in every.dimensions["lender"].to_dict("records")] == [
        ("bank-a", 2150.0), ("bank-b", 1600.0)]
    assert every.summary.iloc[0]["hhi"] == pytest.approx((2150**2 + 1600**2) / 3750**2)
    with pytest.raises(InvalidQueryParameter, match="dimensions"):
        concentration(platform, by=["colour"])
    with pytest.raises(InvalidQueryParameter, match="measure"):
        concentration(platform, measure="pd")
