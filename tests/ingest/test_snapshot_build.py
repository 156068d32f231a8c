from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ingest
from chainrisk.errors import SnapshotError
from ingest.snapshot import FIRM_COLUMNS, GUARANTEE_COLUMNS, LOAN_COLUMNS
from ingest.snapshot_build import assemble_snapshot, build_snapshot, read_tables, sector_of, supply_shares
from tests.ingest._helpers import code, write_manifest

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
A, B, C, D, X = code(1), code(2), code(3), code(4), code(99, "110000")  # X: external


def write(folder: Path, name: str, rows: list[dict[str, object]]) -> None:
    pd.DataFrame(rows).to_csv(folder / name, index=False)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    write_manifest(tmp_path, as_of="2024-06-30")
    write(
        tmp_path,
        "firms.csv",
        [{"uscc": u, "name": n, "industry": "C3311"} for u, n in ((A, "a"), (B, "b"), (C, "c"), (D, "d"))],
    )
    write(
        tmp_path,
        "financials.csv",
        [
            {
                "uscc": A,
                "period_end": "2023-12-31",
                "published": "2024-04-30",
                "equity": 1000.0,
                "operating_cf": 1,
                "investing_cf": -1,
                "financing_cf": -1,
            },
            {
                "uscc": A,
                "period_end": "2024-06-30",
                "published": "2024-08-15",
                "equity": -5.0,
                "operating_cf": -1,
                "investing_cf": -1,
                "financing_cf": 1,
            },
            {"uscc": B, "period_end": "2023-12-31", "published": "2024-04-30", "equity": 0.0},
        ],
    )
    write(
        tmp_path,
        "supply.csv",
        [
            {"supplier_uscc": A, "buyer_uscc": B, "annual_value": 100, "start": "2023-01-01"},
            {"supplier_uscc": A, "buyer_uscc": C, "annual_value": 300, "start": "2023-01-01"},
            {
                "supplier_uscc": C,
                "buyer_uscc": B,
                "annual_value": 300,
                "start": "2023-01-01",
                "end": "2025-01-01",
            },
            {"supplier_uscc": B, "buyer_uscc": X, "annual_value": 50, "start": "2023-01-01"},
            {"supplier_uscc": D, "buyer_uscc": A, "annual_value": 70, "start": "2024-09-01"},  # future
            {
                "supplier_uscc": D,
                "buyer_uscc": B,
                "annual_value": 70,
                "start": "2022-01-01",
                "end": "2024-06-30",
            },
        ],
    )
    write(
        tmp_path,
        "guarantees.csv",
        [
            {"guarantor_id": A, "borrower_uscc": B, "loan_id": "L1", "amount": 400, "start": "2023-01-01"},
            {"guarantor_id": A, "borrower_uscc": B, "loan_id": "L2", "amount": 100, "start": "2023-01-01"},
            {"guarantor_id": B, "borrower_uscc": A, "loan_id": "L3", "amount": 10, "start": "2023-01-01"},
            {
                "guarantor_id": "P-9",
                "guarantor_type": "person",
                "borrower_uscc": C,
                "amount": 5,
                "start": "2023-01-01",
            },
        ],
    )
    write(
        tmp_path,
        "receivables.csv",
        [
            {"creditor_uscc": A, "debtor_uscc": B, "as_of": "2024-03-31", "amount": 10},
            {"creditor_uscc": A, "debtor_uscc": B, "as_of": "2024-06-30", "amount": 20},
            {"creditor_uscc": A, "debtor_uscc": B, "as_of": "2024-09-30", "amount": 99},
        ],
    )
    write(
        tmp_path,
        "loans.csv",
        [
            {"loan_id": "L1", "borrower_uscc": B, "lender": "bank", "principal": 500, "start": "2023-01-01"},
            {"loan_id": "L2", "borrower_uscc": B, "lender": "bank", "principal": 100, "start": "2023-01-01"},
            {"loan_id": "L9", "borrower_uscc": C, "lender": "bank", "principal": 100, "start": "2024-07-01"},
        ],
    )
    write(
        tmp_path,
        "loan_status.csv",
        [
            {
                "loan_id": "L1",
                "month": "2024-05",
                "outstanding": 450,
                "days_overdue": 0,
                "classification": "正常",
            },
            {
                "loan_id": "L1",
                "month": "2024-06",
                "outstanding": 440,
                "days_overdue": 100,
                "classification": "正常",
            },
            {
                "loan_id": "L1",
                "month": "2024-07",
                "outstanding": 430,
                "days_overdue": 130,
                "classification": "次级",
            },
        ],
    )
    write(
        tmp_path,
        "events.csv",
        [
            {"uscc": C, "date": "2024-08-01", "type": "default"},  # after as_of
            {"uscc": D, "date": "2024-01-10", "type": "lawsuit"},
        ],
    )
    return tmp_path


def test_columns_and_dtypes(dataset):
    s = build_snapshot(dataset)
    assert tuple(s.firms.columns) == FIRM_COLUMNS
    assert tuple(s.loans.columns) == LOAN_COLUMNS
    assert tuple(s.guarantee_contracts.columns) == GUARANTEE_COLUMNS
    assert s.firms["uscc"].tolist() == sorted(s.firms["uscc"])
    assert s.as_of == date(2024, 6, 30) and s.currency == "CNY"
    assert s.firms["external"].dtype == bool and s.firms["defaulted"].dtype == bool


def test_external_counterparty(dataset):
    s = build_snapshot(dataset)
    ext = s.firms.set_index("uscc").loc[X]
    assert bool(ext["external"]) and ext["name"] is None and np.isnan(ext["equity"])
    assert not s.firms.set_index("uscc").loc[A, "external"]
    assert s.n == 5


def test_matrix_orientation_and_active_links(dataset):
    s = build_snapshot(dataset)
    i = s.index
    assert s.supply[i[A], i[B]] == 100 and s.supply[i[B], i[A]] == 0  # supplier -> buyer
    assert s.supply[i[B], i[X]] == 50
    assert s.supply[i[D], i[A]] == 0  # starts after as_of
    assert s.supply[i[D], i[B]] == 0  # ended on as_of
    assert s.supply.nnz == 4
    assert s.guarantees[i[A], i[B]] == 500  # guarantor -> borrower, two contracts summed
    assert s.guarantees[i[B], i[A]] == 10
    assert s.guarantees.nnz == 2  # the person guarantor is not in the matrix
    assert s.receivables[i[A], i[B]] == 20  # creditor -> debtor, latest as_of <= snapshot date
    persons = s.guarantee_contracts[s.guarantee_contracts["guarantor_type"] == "person"]
    assert persons["guarantor"].tolist() == [-1] and persons["guarantor_id"].tolist() == ["P-9"]


def test_future_facts_excluded(dataset):
    s = build_snapshot(dataset)
    f = s.firms.set_index("uscc")
    assert f.loc[A, "equity"] == 1000.0  # the report published 2024-08-15 is not seen
    assert f.loc[A, "period_end"] == pd.Timestamp("2023-12-31")
    assert f.loc[A, "lifecycle_stage"] == "mature"
    assert not f.loc[C, "defaulted"]  # its default comes later
    assert s.loans["loan_id"].tolist() == ["L1", "L2"]  # L9 starts after as_of
    assert s.events["type"].tolist() == ["lawsuit"]


def test_default_and_classification_flag(dataset):
    s = build_snapshot(dataset)
    f = s.firms.set_index("uscc")
    assert f.loc[B, "defaulted"] and f.loc[B, "default_date"] == pd.Timestamp("2024-06-30")
    l1 = s.loans.set_index("loan_id").loc["L1"]
    assert l1["days_overdue"] == 100 and l1["classification"] == "normal"
    assert l1["min_classification"] == "substandard"
    assert l1["classification_flag"].startswith("more than 90 days overdue yet normal")
    assert l1["status_month"] == pd.Timestamp("2024-06-01") and l1["outstanding"] == 440
    assert pd.isna(s.loans.set_index("loan_id").loc["L2", "classification"])


def test_earlier_as_of_sees_less(dataset):
    s = build_snapshot(dataset, as_of=date(2024, 6, 15))
    f = s.firms.set_index("uscc")
    assert not f.loc[B, "defaulted"]  # June's status is observed on June 30
    assert s.loans.set_index("loan_id").loc["L1", "days_overdue"] == 0


def test_guarantee_ratio(dataset):
    s = build_snapshot(dataset)
    f = s.firms.set_index("uscc")
    assert f.loc[A, "external_guarantees"] == 500 and f.loc[A, "guarantee_ratio"] == 0.5
    assert f.loc[B, "guarantee_ratio"] == np.inf  # equity 0
    assert f.loc[C, "guarantee_ratio"] == 0.0  # gives none


def test_supply_shares(dataset):
    s = build_snapshot(dataset)
    sh = supply_shares(s).set_index(["supplier_uscc", "buyer_uscc"])
    assert sh.loc[(A, B), "share_of_buyer_inputs"] == pytest.approx(100 / 400)
    assert sh.loc[(A, B), "share_of_supplier_sales"] == pytest.approx(100 / 400)
    assert sh.loc[(C, B), "share_of_buyer_inputs"] == pytest.approx(300 / 400)
    assert sh.loc[(B, X), "share_of_supplier_sales"] == 1.0


def test_routes_agree_on_plain_frames(dataset):
    """A route handing plain frames (no _row/_file, other order, str dtypes) gets an equal snapshot."""
    tables = read_tables(dataset)
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


def test_assemble_rejects_bad_input():
    with pytest.raises(SnapshotError, match="unknown tables"):
        assemble_snapshot({"nope": pd.DataFrame()}, as_of=date(2024, 1, 1))
    with pytest.raises(SnapshotError, match="'name'"):
        assemble_snapshot({"firms": pd.DataFrame({"uscc": [A]})}, as_of=date(2024, 1, 1))


def test_bad_rows_skipped_and_quarantined(dataset, tmp_path_factory):
    with (dataset / "firms.csv").open("a", encoding="utf-8") as fh:
        fh.write("91350100MA0000BAD0,bad,C3311\n")
    qdir = tmp_path_factory.mktemp("q")
    s = build_snapshot(dataset, quarantine_dir=qdir)
    assert s.n == 5
    q = pd.read_csv(qdir / "firms.quarantine.csv", encoding="utf-8-sig")
    assert q["field"].tolist() == ["uscc"] and q["row"].tolist() == [6]


def test_sector_of():
    assert [sector_of(x) for x in ("C3311", "3311", "0511", "9700", "")] == ["C", "C", "A", "T", None]


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


# --------------------------------------------------------------------------- sparse data
def _assert_well_formed(s) -> None:  # type: ignore[no-untyped-def]
    assert tuple(s.firms.columns) == FIRM_COLUMNS
    assert tuple(s.loans.columns) == LOAN_COLUMNS
    assert tuple(s.guarantee_contracts.columns) == GUARANTEE_COLUMNS
    for m in (s.supply, s.guarantees, s.receivables):
        assert m.shape == (s.n, s.n) and m.dtype == np.float64
    assert s.firms["defaulted"].dtype == bool
    assert s.firms["default_date"].dtype == "datetime64[ns]"
    s.content_hash()


@pytest.mark.parametrize("as_of", [date(2020, 1, 1), date(2023, 6, 30), date(2024, 5, 31)])
def test_early_as_of_nothing_defaulted(dataset, as_of):
    s = build_snapshot(dataset, as_of=as_of)
    _assert_well_formed(s)
    assert not s.firms["defaulted"].any() and s.firms["default_date"].isna().all()


@pytest.mark.parametrize("table", ["events", "loans", "loan_status", "guarantees", "supply", "receivables"])
def test_absent_table(dataset, table):
    (dataset / f"{table}.csv").unlink()
    s = build_snapshot(dataset)
    _assert_well_formed(s)
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
    _assert_well_formed(s)


def test_only_firms_nothing_else():
    firms = pd.DataFrame({"uscc": [B, A], "name": ["b", "a"]})
    s = assemble_snapshot({"firms": firms}, as_of=date(2024, 6, 30))
    _assert_well_formed(s)
    assert s.n == 2 and s.supply.nnz == 0 and s.loans.empty and s.events.empty
    e = assemble_snapshot({"firms": firms.iloc[:0]}, as_of=date(2024, 6, 30))
    _assert_well_formed(e)
    assert e.n == 0 and e.supply.shape == (0, 0)
    assert supply_shares(e).empty


def test_events_all_later_than_as_of():
    firms = pd.DataFrame({"uscc": [A, B], "name": ["a", "b"]})
    events = pd.DataFrame({"uscc": [A], "date": ["2024-08-01"], "type": ["default"]})
    s = assemble_snapshot({"firms": firms, "events": events}, as_of=date(2024, 6, 30))
    _assert_well_formed(s)
    assert not s.firms["defaulted"].any() and s.events.empty
