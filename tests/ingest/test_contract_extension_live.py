"""Adding a property to a table is one edit in the contract.

A fixture extends the ``supply`` table with one column (``incoterm``), and nothing
else changes: the new property goes through validation, the Bolt load, the offline
import's CSVs and the read-back of a snapshot, because every one of them is generated
from the table's contract and its graph map.
"""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from graph.runner import GraphRunner
from ingest.load import load_dataset
from ingest.offline_import import write_import_csvs
from ingest.snapshot.from_graph import read_graph_table, read_snapshot
from ingest.tables import CONTRACT, Column, Contract
from tests.ingest._tiny import SUPPLY_ROWS, write_dataset

INCOTERMS = ["FOB", "CIF", "EXW", ""]


@pytest.fixture
def extended() -> Contract:
    """The shipped contract with one more column on ``supply``: the one edit."""
    supply = CONTRACT["supply"]
    wider = dataclasses.replace(supply, columns=(*supply.columns, Column("incoterm", "str")))
    return CONTRACT.with_table(wider)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    rows = [f"{r},{t}" for r, t in zip(SUPPLY_ROWS, INCOTERMS, strict=True)]
    folder = write_dataset(tmp_path / "ds")
    header = "supplier_uscc,buyer_uscc,annual_value,start,end,incoterm"
    (folder / "supply.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder


def test_the_new_property_is_in_the_offline_import_csvs(
    extended: Contract, dataset: Path, tmp_path: Path
) -> None:
    plan = write_import_csvs(dataset, tmp_path / "csv", run_id="r", contract=extended, parallel=False)
    (supply,) = [f for f in plan.files if f.name == "SUPPLIES"]
    with supply.header_path.open(encoding="utf-8") as h:
        header = next(csv.reader(h))
    assert "incoterm" in header
    with supply.data_path.open(encoding="utf-8") as d:
        values = sorted(row[header.index("incoterm")] for row in csv.reader(d))
    assert values == sorted(INCOTERMS)
    # the shipped contract does not know the column: the same files ignore it, with a warning
    plain = write_import_csvs(dataset, tmp_path / "csv2", run_id="r", parallel=False)
    (supply,) = [f for f in plain.files if f.name == "SUPPLIES"]
    assert "incoterm" not in supply.header_path.read_text(encoding="utf-8")
    assert any("incoterm" in w for w in plain.report.tables["supply"].warnings)


@pytest.mark.neo4j
def test_the_new_property_is_loaded_and_read_back(extended: Contract, dataset: Path,
                                                 clean_graph: GraphRunner) -> None:
    report = load_dataset(dataset, runner=clean_graph, contract=extended)
    assert report.tables["supply"].created == 4 and report.quarantined == 0
    rows = clean_graph.read("MATCH ()-[r:SUPPLIES]->() RETURN r.incoterm AS t ORDER BY t")
    assert [r["t"] for r in rows] == sorted([t for t in INCOTERMS if t] + [None], key=lambda t: t or "~")
    back = read_graph_table(clean_graph, extended["supply"])
    assert list(back.columns)[-1] == "incoterm"
    assert sorted(back["incoterm"].fillna("").tolist()) == sorted(INCOTERMS)
    # the whole read-back still assembles a snapshot, as of the dataset's date
    snap = read_snapshot(clean_graph, as_of=report.as_of, contract=extended)
    assert snap.supply.nnz == 4
    # a second load of the same dataset with the same contract changes nothing
    again = load_dataset(dataset, runner=clean_graph, contract=extended)
    assert again.changes == 0
    # the frames are what the files give (same values, same dtypes)
    assert pd.api.types.is_object_dtype(back["incoterm"])
