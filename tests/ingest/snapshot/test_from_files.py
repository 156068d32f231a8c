"""A snapshot from a dataset folder (``ingest.snapshot.from_files``)."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import ingest
from ingest.snapshot import assemble_snapshot, build_snapshot, read_dataset_tables
from tests.ingest._helpers import code
from tests.ingest.snapshot._checks import assert_well_formed

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample"


def test_routes_agree_on_plain_frames(dataset):
    """A route handing plain frames (no _row/_file, other order, str dtypes) gets an equal snapshot."""
    tables = read_dataset_tables(dataset)
    plain = {
        name: frame.drop(columns=["_row", "_file"])
        .iloc[::-1]
        .astype({c: "str" for c in frame.columns if frame[c].dtype == object and c not in ("_row", "_file")})
        for name, frame in tables.items()
    }
    a = assemble_snapshot(tables, as_of=date(2024, 6, 30))
    b = assemble_snapshot(plain, as_of=date(2024, 6, 30))
    assert a.content_hash() == b.content_hash()
    pd.testing.assert_frame_equal(a.firms, b.firms)


def test_bad_rows_skipped_and_quarantined(dataset, tmp_path_factory):
    with (dataset / "firms.csv").open("a", encoding="utf-8") as fh:
        fh.write("91350100MA0000BAD0,bad,C3311\n")
    qdir = tmp_path_factory.mktemp("q")
    s = build_snapshot(dataset, quarantine_dir=qdir)
    assert s.n == 5
    q = pd.read_csv(qdir / "firms.quarantine.csv", encoding="utf-8-sig")
    assert q["field"].tolist() == ["uscc"] and q["row"].tolist() == [6]


def test_sample_dataset_builds():
    s = ingest.build_snapshot(SAMPLE)
    f = s.firms
    assert f["external"].sum() == 1 and len(f) == 31
    flagged = s.loans[s.loans["classification_flag"] != ""]
    assert "L0005" in flagged["loan_id"].tolist()
    assert f["defaulted"].sum() == 2  # F10 (event) and F03 (loan > 90 days); F11's bankruptcy is later
    assert (s.guarantee_contracts["guarantor_type"] == "person").sum() == 1
    g = s.guarantees.toarray() > 0
    i = s.index
    c3, c4, c5 = code(3, "320500"), code(4, "350100"), code(5, "350200")
    assert g[i[c3], i[c4]] and g[i[c4], i[c5]] and g[i[c5], i[c3]]  # the circle


def test_public_names():
    # isort-style order, as ruff's RUF022 wants: CONSTANTS, Classes, functions
    def kind(n: str) -> tuple[int, str]:
        return (0 if n.isupper() else 1 if n[0].isupper() else 2, n)

    assert ingest.__all__ == sorted(ingest.__all__, key=kind)
    for name in ingest.__all__:
        assert getattr(ingest, name) is not None


@pytest.mark.parametrize("table", ["events", "loans", "loan_status", "guarantees", "supply", "receivables"])
def test_absent_table(dataset, table):
    (dataset / f"{table}.csv").unlink()
    s = build_snapshot(dataset)
    assert_well_formed(s)
    if table == "loans":
        assert s.loans.empty and not s.firms["defaulted"].any()  # the only default came from a loan
    if table == "guarantees":
        assert s.guarantees.nnz == 0 and s.guarantee_contracts.empty
    if table == "supply":
        assert s.supply.nnz == 0


@pytest.mark.parametrize("table", ["events", "loans", "guarantees", "supply"])
def test_header_only_table(dataset, table):
    header = pd.read_csv(dataset / f"{table}.csv", nrows=0).columns
    (dataset / f"{table}.csv").write_text(",".join(header) + "\n", encoding="utf-8")
    s = build_snapshot(dataset)
    assert_well_formed(s)


