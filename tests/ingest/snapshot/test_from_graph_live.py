"""A snapshot read back from the graph (``ingest.snapshot.from_graph``): the same as the folder's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from graph.runner import GraphRunner
from ingest.cypher import table_cypher
from ingest.load import load_dataset
from ingest.snapshot import Snapshot, build_snapshot, read_snapshot
from ingest.snapshot.from_graph import read_graph_table
from ingest.tables import TABLES

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"


def test_one_read_query_per_table() -> None:
    for table, spec in TABLES.items():
        query = table_cypher(spec).read
        for col in spec.column_names:
            assert f" AS `{col}`" in query, (table, col)


def _assert_same(a: Snapshot, b: Snapshot) -> None:
    assert a.content_hash() == b.content_hash()
    for name in ("firms", "loans", "guarantee_contracts", "events", "signals", "ownership"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    for name in ("supply", "guarantees", "receivables"):
        assert (getattr(a, name) != getattr(b, name)).nnz == 0, name


@pytest.mark.neo4j
def test_sample_folder_and_graph_snapshots_are_equal(clean_graph: GraphRunner, tmp_path: Path) -> None:
    report = load_dataset(SAMPLE, runner=clean_graph, quarantine_dir=tmp_path / "q")
    d = report.as_of
    _assert_same(build_snapshot(SAMPLE, as_of=d), read_snapshot(clean_graph, as_of=d))
    assert read_snapshot(clean_graph, as_of=d).currency == "CNY"
    # Earlier dates: the database pre-filters what was not yet known, and both routes still agree.
    for earlier in (date(2023, 1, 15), date(2023, 12, 31), date(2024, 3, 31)):
        _assert_same(build_snapshot(SAMPLE, as_of=earlier), read_snapshot(clean_graph, as_of=earlier))


@pytest.mark.neo4j
def test_closed_links_drop_out_of_later_snapshots(clean_graph: GraphRunner, tmp_path: Path) -> None:
    from tests.ingest._tiny import SUPPLY_ROWS, A, B, write_dataset

    load_dataset(write_dataset(tmp_path / "ds"), runner=clean_graph)
    load_dataset(write_dataset(tmp_path / "f", as_of="2024-07-31", supply_rows=SUPPLY_ROWS[1:]),
                 runner=clean_graph)
    supply = read_graph_table(clean_graph, TABLES["supply"])
    closed = supply[(supply["supplier_uscc"] == A) & (supply["buyer_uscc"] == B)]
    assert closed["end"].tolist() == [pd.Timestamp("2024-07-31")]
    before = read_snapshot(clean_graph, as_of=date(2024, 6, 30))
    after = read_snapshot(clean_graph, as_of=date(2024, 8, 31))
    i = before.index
    assert before.supply[i[A], i[B]] > 0 and after.supply[after.index[A], after.index[B]] == 0
