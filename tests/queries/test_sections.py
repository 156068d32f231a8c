"""queries.sections: a chain's lists as ordered arrays (pure logic, no server)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from queries.catalogue import records
from queries.details import with_details
from queries.networks import ChainIndex, Network
from queries.sections import BookArrays, Section, chain_totals


def _book() -> pd.DataFrame:
    return pd.DataFrame({
        "outstanding": [5.0, 2.0, 0.0], "undrawn": [1.0, 0.0, 0.0], "exposure": [6.0, 2.0, 0.0],
        "guarantees_given": [0.0, 3.0, 0.0], "worst_rank": [1, 0, None],
    }, index=pd.Index(["A", "C", "D"], name="uscc"))


def _section(name: str = "upstream") -> Section:
    book = BookArrays.from_frame(_book())
    ids = np.array(["D", "B", "A", "P", "C"], dtype=object)
    return Section.build(name, ids, firm=np.array([True, True, True, False, True]),
                         distance=np.array([2, 1, 1, 2, 2]), value=np.array([1.0, 3.0, 4.0, 5.0, 2.0]),
                         share=np.array([0.1, 0.4, 0.6, 0.0, 0.3]), book_pos=book.positions(ids),
                         book=book, key=np.arange(5), tie=ids.astype(str))


def test_rows_are_ordered_by_distance_exposure_and_id() -> None:
    f = _section().frame()
    assert f["uscc"].tolist()[:2] == ["A", "B"] and f["distance"].tolist() == [1, 1, 2, 2, 2]
    # at distance 2: C (exposure 2) first, then D and the person P (both 0) by id
    assert f["exposure"].tolist() == [6.0, 0.0, 2.0, 0.0, 0.0]
    assert f["person_id"].tolist()[4] == "P" and f["party"].tolist()[4] == "person"


def test_records_equal_the_frame_with_details_as_records() -> None:
    s = _section()
    details = {"A": {"uscc": "A", "name": "a", "risk_pd": 0.1},
               "C": {"uscc": "C", "name": "c", "risk_pd": 0.2},
               "D": {"uscc": "D", "name": "<b>d</b>", "risk_pd": 0.3}}  # B is not in the details
    for lo, hi in ((0, None), (1, 3), (4, 10)):
        expected = records(with_details(s.frame(lo, hi), details))
        assert s.records(lo, hi, details) == expected
    assert s.records(0, 1) == records(s.frame(0, 1)) and list(s.records(0, 1)[0]) == s.columns
    guarantors = _section("guarantors")
    assert "amount" in guarantors.columns and "share" not in guarantors.records(0, 1, details)[0]


def test_chain_totals_count_each_party_once() -> None:
    up, down = _section("upstream"), _section("downstream")
    t = chain_totals({"upstream": up, "downstream": down})
    assert t["upstream"]["firms"] == 4 and t["upstream"]["persons"] == 1
    assert t["upstream"]["exposure"] == 8.0 and t["upstream"]["special_mention_or_worse"] == 1
    assert t["upstream"]["by_distance"] == {"1": 2, "2": 3} and t["upstream"]["direct_trade_value"] == 7.0
    # the same five parties downstream (same keys): the chain counts them once
    chain = t["chain"]
    assert chain["firms"] == 4 and chain["exposure"] == 8.0 and chain["guarantees_given"] == 3.0


def test_the_index_orders_a_walk_as_the_sort_does() -> None:
    # F buys from five suppliers and two of them from two more; exposures from the book
    src = ["A", "B", "C", "D", "E", "X", "Y", "X"]
    dst = ["F", "F", "F", "F", "F", "A", "B", "B"]
    supply = Network(src, dst, [1.0] * len(src))
    guarantee = Network(["P"], ["F"], [9.0], source_is_firm=[False])
    money = [1.0, 7.0, 7.0, 3.0]
    book = pd.DataFrame({"outstanding": money, "undrawn": 0.0, "exposure": money,
                         "guarantees_given": 0.0, "worst_rank": [0, 2, None, 0]},
                        index=pd.Index(["E", "C", "B", "Y"], name="uscc"))
    index = ChainIndex.build({"supply": supply, "guarantee": guarantee}, book)
    got = index.section("upstream", "F", 3)
    node, dist, value, share = supply.reach("F", 3, backward=True, shares=True)
    ids = supply.ids[node]
    arrays = BookArrays.from_frame(book)
    sorted_ = Section.build("upstream", ids, firm=supply.is_firm[node], distance=dist, value=value,
                            share=share, book_pos=arrays.positions(ids), book=arrays, key=node,
                            tie=ids.astype(str))
    assert got.ids.tolist() == sorted_.ids.tolist() == ["B", "C", "E", "A", "D", "Y", "X"]
    pd.testing.assert_frame_equal(got.frame(), sorted_.frame())
    # the person guarantor and F's suppliers are one chain; keys are shared by both networks
    lists = {"upstream": got, "guarantors": index.section("guarantors", "F", 3)}
    assert chain_totals(lists)["chain"]["persons"] == 1 and chain_totals(lists)["chain"]["firms"] == 7
