"""Loading one table's chunks (``ingest.table_loader``), against a fake that answers by operation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from ingest.cypher import table_cypher
from ingest.report import TableReport
from ingest.rows import key_hashes
from ingest.table_loader import LoadContext, TableLoader, _missing_links, fill_uids
from ingest.tables import TABLES
from tests.ingest._tiny import A, B, C, D, X
from tests.ingest.fake_graph import FakeGraph

SUPPLY = TABLES["supply"]
FIRMS = TABLES["firms"]


def _graph(**kw: Any) -> FakeGraph:
    """A fake graph in which X, the off-platform buyer, is the one firm an endpoint MERGE creates."""
    return FakeGraph(externals={X}, **kw)


def _supply_frame(n: int = 4) -> pd.DataFrame:
    ends = [A, B, C, D, X]
    return pd.DataFrame({
        "supplier_uscc": ends[:n], "buyer_uscc": ends[1 : n + 1], "annual_value": [1.0] * n,
        "start": pd.to_datetime(["2022-01-01"] * n), "end": pd.Series([pd.NaT] * n),
    })


def _firm_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"uscc": [f"F{i:05d}" for i in range(n)], "name": ["n"] * n})


def _ctx(runner: FakeGraph, mode: str = "delta", *, writers: int = 1) -> LoadContext:
    return LoadContext(runner=runner, run_id="run-1", source="src", as_of=pd.Timestamp("2024-06-30").date(),
                       mode=mode, now=pd.Timestamp("2024-06-30T00:00:00Z").to_pydatetime(), batch_size=3,
                       writers=writers)


def _loads(g: FakeGraph) -> list[dict[str, Any]]:
    return [p for op, _, p in g.calls if op in ("load", "create")]


def test_counts_come_from_counters_and_the_written_column() -> None:
    g = _graph()
    report = TableReport("supply")
    TableLoader(_ctx(g), SUPPLY, report).load_chunk(_supply_frame())
    assert (report.created, report.updated, report.unchanged, report.externals) == (0, 0, 4, 1)
    assert [len(p["rows"]) for p in _loads(g)] == [3, 1]  # batch_size 3
    assert all(p["run_id"] == "run-1" and p["source"] == "src" for _, p in g.operations_called("load"))
    assert all(p["run_id"] == "run-1" and p["source"] == "src" for _, p in g.operations_called("ensure"))


def test_created_updated_and_unchanged_are_told_apart() -> None:
    g = _graph(new={"2022-01-01"})
    report = TableReport("supply")
    TableLoader(_ctx(g), SUPPLY, report).load_chunk(_supply_frame())
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)
    g = _graph(changed={"2022-01-01"})
    report = TableReport("supply")
    TableLoader(_ctx(g), SUPPLY, report).load_chunk(_supply_frame())
    assert (report.created, report.updated, report.unchanged) == (0, 4, 0)


def test_full_mode_closes_only_links_missing_from_the_dataset() -> None:
    present = {"id": "e1", "u": f"{A}|{B}|2022-01-01"}
    gone = {"id": "e9", "u": f"{A}|{C}|2020-01-01"}
    g = _graph(open_links=[present, gone])
    report = TableReport("supply")
    loader = TableLoader(_ctx(g, "full"), SUPPLY, report)
    loader.load_chunk(_supply_frame(2))
    loader.finish()
    assert [p["ids"] for _, p in g.operations_called("close")] == [["e9"]] and report.closed == 1
    assert [p["source"] for _, p in g.operations_called("close_read")] == ["src"]


def test_closing_is_skipped_when_rows_were_quarantined() -> None:
    g = _graph(open_links=[{"id": "e9", "u": f"{A}|{C}|x"}])
    report = TableReport("supply")
    loader = TableLoader(_ctx(g, "full"), SUPPLY, report)
    loader.disable_closing("1 row quarantined")
    loader.finish()
    assert report.closed == 0 and report.warnings
    assert not g.operations_called("close_read")


def test_missing_links_streams_in_chunks() -> None:
    links = [{"id": f"e{i}", "u": f"a|b|{i}"} for i in range(10)]
    seen = np.unique(key_hashes([[f"a|b|{i}" for i in range(5)]]))
    query = table_cypher(SUPPLY).close_read
    assert query is not None
    out = _missing_links(_graph(open_links=links), query, {"source": "s"}, seen, chunk=3)
    assert out == [f"e{i}" for i in range(5, 10)]


def test_links_without_uid_are_filled_before_the_first_merge_only() -> None:
    g = _graph()
    TableLoader(_ctx(g), SUPPLY, TableReport("supply")).load_chunk(_supply_frame())
    ops = [op for op, _, _ in g.calls]
    assert ops.count("uid_fill") == 1 and ops.index("uid_fill") < ops.index("load")
    assert g.operations_called("uid_fill")[0][0] == "supply"
    g = _graph(new={"2022-01-01"}, empty=True)  # a first load (CREATE) has nothing to fill
    TableLoader(_ctx(g), SUPPLY, TableReport("supply")).load_chunk(_supply_frame())
    assert not g.operations_called("uid_fill")


def test_fill_uids_repeats_until_a_short_batch() -> None:
    g = FakeGraph(uid_gaps=7)
    assert fill_uids(g, TABLES["ownership"], limit=3) == 7 and g.uid_gaps == 0
    assert len(g.operations_called("uid_fill")) == 3 and g.complete == {"OWNS"}
    assert fill_uids(g, TABLES["ownership"], limit=3) == 0
    assert len(g.operations_called("uid_fill")) == 3  # marked complete: no second scan
    assert fill_uids(g, FIRMS) == 0


def test_an_empty_label_or_type_is_loaded_with_create() -> None:
    g = _graph(new={"2022-01-01"}, empty=True)
    loader = TableLoader(_ctx(g), SUPPLY, TableReport("supply"))
    loader.load_chunk(_supply_frame())
    assert loader.first_load and [op for op, _, _ in g.calls if op in ("load", "create")] == ["create"] * 2
    # the type's secondary index is dropped before the first write and built again by finish()
    assert [(op, t) for op, t, _ in g.calls if op == "drop_index"] == [("drop_index", "supplies_start")]
    assert [op for op, _, _ in g.calls].index("drop_index") < [op for op, _, _ in g.calls].index("create")
    loader.finish()
    last = [(op, t) for op, t, _ in g.calls[-2:]]
    assert last == [("create_index", "supplies_start"), ("await_indexes", "")]
    g = _graph()  # something there already: the incremental query
    loader = TableLoader(_ctx(g), SUPPLY, TableReport("supply"))
    loader.load_chunk(_supply_frame())
    assert not loader.first_load
    assert {op for op, _, _ in g.calls if op in ("load", "create")} == {"load"}


def test_pipelined_loading_counts_the_same_after_finish() -> None:
    g = _graph(new={"2022-01-01"})
    report = TableReport("supply")
    loader = TableLoader(_ctx(g), SUPPLY, report, pipeline=True)
    loader.load_chunk(_supply_frame(2))
    loader.load_chunk(_supply_frame(4).iloc[2:])
    loader.finish()
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)


def _fail_on(op: str, *, when: Any = None) -> Any:
    def hook(o: str, table: str, params: dict[str, Any]) -> None:
        if o == op and (when is None or when(params)):
            raise RuntimeError("server down" if when is None else "deadlock retries exhausted")

    return hook


def test_pipelined_loading_reraises_the_writer_error() -> None:
    g = _graph()
    g.hook = _fail_on("load")
    loader = TableLoader(_ctx(g), SUPPLY, TableReport("supply"), pipeline=True)
    loader.load_chunk(_supply_frame())
    with pytest.raises(RuntimeError, match="server down"):
        loader.finish()


def test_concurrent_writers_count_the_same_as_one() -> None:
    reports = []
    for writers in (1, 3):
        g = _graph(new={"2022-01-01"})
        report = TableReport("supply")
        loader = TableLoader(_ctx(g, writers=writers), SUPPLY, report)
        loader.load_chunk(_supply_frame(4))
        loader.finish()
        reports.append((report.created, report.updated, report.unchanged, report.externals))
        assert sorted(len(p["rows"]) for p in _loads(g)) == [1, 3]
    assert reports[0] == reports[1] == (4, 0, 0, 1)


def test_a_failing_batch_among_concurrent_ones_fails_the_chunk_after_the_others_end() -> None:
    g = _graph()
    g.hook = _fail_on("load", when=lambda p: p["rows"][0]["k"] == "F00003")
    loader = TableLoader(_ctx(g, writers=2), FIRMS, TableReport("firms"))
    with pytest.raises(RuntimeError, match="retries exhausted"):
        loader.load_chunk(_firm_frame(9))
    loader.abort()
    # every other batch was still written (and waited for) before the error surfaced
    assert sorted(p["rows"][0]["k"] for p in _loads(g)) == ["F00000", "F00003", "F00006"]


def test_endpoints_known_in_the_run_are_not_merged_again() -> None:
    g = _graph(new={"2022-01-01"})
    ctx = _ctx(g)
    TableLoader(ctx, FIRMS, TableReport("firms")).load_chunk(pd.DataFrame({"uscc": [A, B, C],
                                                                          "name": ["a", "b", "c"]}))
    report = TableReport("supply")
    TableLoader(ctx, SUPPLY, report).load_chunk(_supply_frame(4))  # A->B, B->C, C->D, D->X

    def ensured() -> list[str]:
        return [i for kind, p in g.operations_called("ensure") if kind == "firm" for i in p["ids"]]

    assert ensured() == [D, X] and report.externals == 1
    TableLoader(ctx, SUPPLY, TableReport("supply")).load_chunk(_supply_frame(4))
    assert ensured() == [D, X]


def test_a_first_load_in_full_mode_reads_no_links_to_close() -> None:
    """The type was empty before the table: every link in it came from this dataset."""
    g = _graph(new={"2022-01-01"}, open_links=[{"id": "e9", "u": "gone"}], empty=True)
    report = TableReport("supply")
    loader = TableLoader(_ctx(g, "full"), SUPPLY, report)
    loader.load_chunk(_supply_frame(2))
    loader.finish()
    assert loader.first_load and report.closed == 0
    assert not g.operations_called("close_read") and not g.operations_called("close")
