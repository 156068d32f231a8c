"""The small dataset the snapshot tests share (five firms, one external, every table)."""

from pathlib import Path

import pandas as pd
import pytest

from tests.ingest._helpers import code, write_manifest

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
