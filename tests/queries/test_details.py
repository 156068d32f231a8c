"""Per-firm details: the in-memory table of every firm answers what the per-firm query answers."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from graph.runner import GraphRunner
from queries.catalogue import run_query
from queries.chaincache import TABLE_FROM, ChainCache, details_of, ingest_state, warm_up
from queries.details import DetailsTable, firm_details, frame_rows, stale_before
from queries.exposure import SECTIONS, chain_exposure
from queries.sections import MONEY, Section
from tests.queries._graph import AS_OF, BANK, NAME, U
from tests.queries.conftest import published


def _every_firm(runner: GraphRunner) -> list[str]:
    return sorted(r["uscc"] for r in runner.read("MATCH (f:Firm) RETURN f.uscc AS uscc"))


def test_the_table_gives_firm_details_rows_for_every_firm(platform: GraphRunner) -> None:
    firms = _every_firm(platform)
    for day in (date.fromisoformat(AS_OF), date(2023, 6, 30)):
        table = DetailsTable.read(platform, day)
        assert len(table) == len(firms) and table.nbytes > 0
        assert table.rows(firms) == firm_details(platform, firms, day)
    # with a current risk run: its PD and tier, and None where a firm was not scored
    with published(platform, "risk", [{"uscc": U["B3"], "risk_pd": 0.01, "risk_tier": 1}]):
        day = date.fromisoformat(AS_OF)
        got = DetailsTable.read(platform, day).rows(firms)
        assert got == firm_details(platform, firms, day)
        assert (got[U["B3"]]["risk_pd"], got[U["B3"]]["risk_tier"], got[U["F"]]["risk_pd"]) == (0.01, 1, None)


def test_table_rows_by_hand(platform: GraphRunner) -> None:
    table = DetailsTable.read(platform, date.fromisoformat(AS_OF))
    got = table.rows([U["S1"], U["S2"], U["B1"], "91350100MA00000000"])  # the last is no firm here
    assert set(got) == {U["S1"], U["S2"], U["B1"]}
    # S1's latest statement was published 2023-04-30: before 2023-12-30, stale (as test_exposure)
    s1 = got[U["S1"]]
    assert (s1["name"], s1["statement_published"], s1["statement_stale"], s1["stale"]) == (
        "Firm S1", "2023-04-30", True, True)
    assert got[U["B1"]]["loan_status_month"] == "2023-10-01" and got[U["B1"]]["loan_status_stale"] is True
    # nothing known is not stale
    assert got[U["S2"]]["statement_published"] is None and got[U["S2"]]["statement_stale"] is None
    assert got[U["S2"]]["stale"] is False and table.rows([]) == {}


def test_warm_up_reads_the_table_and_pages_use_it(platform: GraphRunner,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ChainCache()
    state = warm_up(platform, cache, lenders=BANK)
    table = cache.held_table(platform, state, date.fromisoformat(AS_OF))
    assert table is not None and len(table) == len(_every_firm(platform))
    asked: list[int] = []
    real = DetailsTable.rows

    def counted(self: DetailsTable, usccs: Any) -> dict[str, dict[str, Any]]:
        asked.append(len(usccs))
        return real(self, usccs)

    monkeypatch.setattr(DetailsTable, "rows", counted)
    for page in (1, 2):
        ref = chain_exposure(platform, U["F"], hops=3, lenders=BANK, page=page, page_size=3, cache=None)
        got = chain_exposure(platform, U["F"], hops=3, lenders=BANK, page=page, page_size=3, cache=cache)
        for s in SECTIONS:
            pd.testing.assert_frame_equal(getattr(got, s), getattr(ref, s))
        assert got.to_dict() == ref.to_dict() and got.name == ref.name == "Firm F"
    # the pages' details came from the table (each page), not per firm; the name by one probe
    key = (cache.server(platform), state.token, state.results, date.fromisoformat(AS_OF))
    assert len(asked) == 2 and cache.firm_details.get(key) is None
    assert table.name(U["F"]) == (True, "Firm F") and table.name("91350100MA00000000") == (False, None)
    # an older date has no table held: the per-firm path, with the same answers
    old = chain_exposure(platform, U["F"], hops=1, as_of="2023-06-30", lenders=BANK, cache=cache)
    ref = chain_exposure(platform, U["F"], hops=1, as_of="2023-06-30", lenders=BANK, cache=None)
    assert old.to_dict() == ref.to_dict() and [NAME[u] for u in old.upstream["uscc"]] == ["S1", "S5"]


def test_details_of_reads_the_table_when_held_or_when_many(platform: GraphRunner,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import queries.chaincache

    cache, day = ChainCache(), date.fromisoformat(AS_OF)
    firms = _every_firm(platform)
    state = ingest_state(platform)
    # a few firms, nothing held: per-firm queries, no table read (repeats count once)
    assert len(firms) < TABLE_FROM
    assert details_of(platform, firms * 2, day, cache) == firm_details(platform, firms, day)
    assert cache.held_table(platform, state, day) is None
    # many firms: the table is read once and kept, and then answers a few firms too
    monkeypatch.setattr(queries.chaincache, "TABLE_FROM", 3)
    assert details_of(platform, firms, day, cache) == firm_details(platform, firms, day)
    assert cache.held_table(platform, state, day) is not None
    assert details_of(platform, firms[:2], day, cache) == firm_details(platform, firms[:2], day)
    assert details_of(platform, firms, day, None) == firm_details(platform, firms, day)
    assert details_of(platform, [], day, cache) == {}


def test_all_firm_details_is_firm_details_of_every_firm(platform: GraphRunner) -> None:
    every = run_query(platform, "all_firm_details", {"as_of": AS_OF}).sort_values("uscc", ignore_index=True)
    some = run_query(platform, "firm_details", {"usccs": _every_firm(platform), "as_of": AS_OF})
    pd.testing.assert_frame_equal(every, some.sort_values("uscc", ignore_index=True), check_dtype=False)


def test_table_rows_equal_the_per_firm_rows_with_every_kind_of_missing_value() -> None:
    # pure logic: the table's columns (categories, floats, Arrow strings, objects) give the rows
    # the per-firm path's frame gives, value for value, whatever is missing where
    frame = pd.DataFrame({
        "uscc": pd.array(["A", "B", "C", "D"], dtype="string[pyarrow]"),
        "name": pd.array(["a", None, "c", "<d>"], dtype="string[pyarrow]"),
        "industry": ["x", None, "y", "x"],
        "external": [False, True, None, False],
        "statement_published": ["2024-01-31", None, "2023-01-31", "2024-05-31"],
        "signal_month": ["2024-06-01", "2023-01-01", None, None],
        "loan_status_month": [None, None, None, "2022-12-01"],
        "risk_pd": [0.01, float("nan"), 0.2, None],
        "risk_tier": [2.0, None, 5.0, float("nan")],
        "stress_default_prob": pd.array([None, 0.5, None, 0.25], dtype="float64[pyarrow]"),
    })
    day = date(2024, 6, 30)
    table = DetailsTable(frame, day)
    for firms in (["A", "B", "C", "D"], ["D", "B"], ["C", "Z"], []):
        want = frame_rows(frame[frame["uscc"].isin(firms)], stale_before(day).isoformat())
        assert table.rows(firms) == want
    got = table.rows(["A", "B", "C", "D"])
    assert got["B"]["name"] is None and got["B"]["risk_pd"] is None and got["A"]["risk_tier"] == 2
    assert isinstance(got["A"]["risk_tier"], int) and got["D"]["risk_tier"] is None
    flags = (got["B"]["signal_stale"], got["C"]["signal_stale"], got["A"]["statement_stale"])
    assert flags == (True, None, False) and got["D"]["stale"] is True and got["A"]["stale"] is False
    assert got["D"]["stress_default_prob"] == 0.25
    assert (table.name("B"), table.name("D"), table.name("Z")) == ((True, None), (True, "<d>"), (False, None))
    # a page's rows zip the table's columns in the list's order: the rows of the per-firm path
    ids = np.array(["D", "P1", "Z", "B", "A"], dtype=object)
    s = Section("upstream", ids=ids, firm=np.array([True, False, True, True, True]),
                distance=np.array([1, 1, 2, 2, 3]), value=np.arange(5.0), share=np.full(5, 0.2),
                money={c: np.arange(5.0) for c in MONEY}, rank=np.array([0, np.nan, np.nan, 2, 1]),
                key=np.arange(5))
    by_uscc = table.rows(["A", "B", "D", "Z"])
    for lo, hi in ((0, None), (1, 4), (1, 3), (2, 3)):
        assert s.records(lo, hi, table) == s.records(lo, hi, by_uscc), (lo, hi)
    # no firm of the table among the rows: no details' keys at all; else None for those without
    assert "stale" not in s.records(1, 3, table)[0] and s.records(1, 4, table)[1]["stale"] is None
    assert s.records(0, 1, table)[0]["stale"] is True and s.records(0, 1, table)[0]["name"] == "<d>"

