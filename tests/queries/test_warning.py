"""Early warning and prospects on the hand-built platform (``_graph``), by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from graph.runner import GraphRunner
from queries.prospects import prospects
from queries.warning import early_warning
from tests.queries._graph import BANK, NAME, U
from tests.queries.conftest import published


def test_activity_falls_while_borrowing_grows(platform: GraphRunner) -> None:
    got = early_warning(platform, lenders=BANK)
    # window 3: Apr-Jun against Jan-Mar 2024. W1: electricity 80 against 100 (-20%), borrowing 100 -> 150
    # (+50%). W2's signals fall more but its borrowing stays 200; W3's signals are flat.
    assert [NAME[u] for u in got["uscc"]] == ["W1"]
    w1 = got.iloc[0]
    assert list(w1["falling"]) == ["electricity"] and w1["electricity_change"] == pytest.approx(-0.2)
    assert (w1["orders_change"], w1["borrowing_before"], w1["borrowing_now"]) == (0.0, 100.0, 150.0)
    assert (w1["borrowing_growth"], w1["bank_outstanding"], w1["rank"]) == (0.5, 150.0, 1)
    assert got.attrs["as_of"] == "2024-06-30" and "stale" in got.columns
    # no growth needed: W2 (two signals falling: -50% and -25%) ranks before W1 (one)
    loose = early_warning(platform, min_growth=0.0)
    assert [NAME[u] for u in loose["uscc"]] == ["W2", "W1"]
    assert list(loose.iloc[0]["falling"]) == ["electricity", "orders"]
    # a 25% fall threshold leaves W1's 20% out
    assert early_warning(platform, min_fall=0.25).empty


def test_prospects_near_good_borrowers_ranked_by_risk(platform: GraphRunner) -> None:
    got = prospects(platform, lenders=BANK)
    # good bank-a borrowers: F, B1, W1 (S1 special mention, S4 overdue, M1 substandard). Their active
    # suppliers and buyers without a bank-a loan: S2 (-> F 400; a normal bank-b loan), B2 (F 300 +
    # B1 500), B3 (B1 500). No risk run, no signals: more good borrowers first, then trade.
    cols = ["uscc", "near_borrowers", "trade_with_borrowers"]
    assert [(NAME[u], n, t) for u, n, t in got[cols].values] == [
        ("B2", 2, 800.0), ("B3", 1, 500.0), ("S2", 1, 400.0)]
    assert got.set_index("uscc").loc[U["S2"], "worst_class"] == "normal"
    # two hops also reach S3 (supplies S1, which supplies F)
    assert NAME[prospects(platform, lenders=BANK, hops=2)["uscc"].iloc[-1]] == "S3"
    with published(platform, "risk", [{"uscc": U["B3"], "risk_pd": 0.01, "risk_tier": 1},
                                      {"uscc": U["S2"], "risk_pd": 0.05, "risk_tier": 2}]):
        ranked = prospects(platform, lenders=BANK)
        # low risk first; B2 has no score and goes last
        assert [NAME[u] for u in ranked["uscc"]] == ["B3", "S2", "B2"]
        assert ranked["risk_pd"].tolist()[:2] == [0.01, 0.05]


def test_prospects_from_the_cached_network_equal_the_reference_path(platform: GraphRunner) -> None:
    from queries.chaincache import ChainCache

    def same(hops: int, lenders: list[str] = BANK, exclude_bad: bool = True) -> None:
        kw = {"hops": hops, "lenders": lenders, "exclude_bad": exclude_bad}
        fast = prospects(platform, cache=ChainCache(), **kw)  # type: ignore[arg-type]
        slow = prospects(platform, cache=None, **kw)  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
        assert fast.attrs == slow.attrs

    for hops in (1, 2):
        same(hops=hops)
        same(hops=hops, lenders=[], exclude_bad=False)
    got = prospects(platform, lenders=BANK, hops=2, cache=ChainCache()).set_index("uscc")
    # S3 supplies S1 (a bank-a borrower, no prospect) which supplies F: 2 hops from F, no direct trade
    assert (got.loc[U["S3"], "distance"], got.loc[U["S3"], "trade_with_borrowers"]) == (2, 0.0)
    assert got.loc[U["S3"], "borrowers"] == [U["F"]]
    with published(platform, "risk", [{"uscc": U["B3"], "risk_pd": 0.01, "risk_tier": 1}]):
        same(hops=1)


def test_prospects_after_a_warm_up_equal_the_reference_path(platform: GraphRunner,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from queries.chaincache import ChainCache, warm_up

    module = importlib.import_module("queries.prospects")  # the package's name is the function
    real = module.run_query
    for lenders in (BANK, []):
        cache = ChainCache()
        warm_up(platform, cache, lenders=lenders)  # the book (worst classes) and the details table
        with monkeypatch.context() as m:  # the worst classes from the held book, not loan_worst_class
            m.setattr(module, "run_query",
                      lambda r, name, p=None: None if name == "loan_worst_class" else real(r, name, p))
            for hops in (1, 2):
                fast = prospects(platform, hops=hops, lenders=lenders, cache=cache)
                slow = prospects(platform, hops=hops, lenders=lenders, cache=None)
                pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
                assert len(fast) > 0


def test_signal_trends_average_the_changes(platform: GraphRunner) -> None:
    from queries.catalogue import run_query

    usccs = [U["W1"], U["W2"], U["W3"], U["F"]]
    got = run_query(platform, "signal_trends", {"usccs": usccs}).set_index("uscc")
    # W1: electricity -20%, orders 0 -> -0.1; W2: -50% and -25% -> -0.375; W3 flat; F has June only
    assert got.loc[U["W1"], "signal_change"] == pytest.approx(-0.1)
    assert got.loc[U["W2"], "signal_change"] == pytest.approx(-0.375)
    assert got.loc[U["W3"], "signal_change"] == 0.0 and got["signal_change"].isna().loc[U["F"]]
