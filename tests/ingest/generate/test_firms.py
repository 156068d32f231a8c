"""Firm codes (``ingest.generate.firms``): every USCC written anywhere is valid."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pacsv

from ingest.generate import GenerationSummary
from ingest.uscc import is_valid
from tests.ingest.generate._helpers import read


def test_every_uscc_valid(big: tuple[Path, GenerationSummary]) -> None:
    out, _ = big
    codes: set[str] = set(pacsv.read_csv(out / "firms.csv")["uscc"].to_pylist())
    for table, cols in {
        "supply": ("supplier_uscc", "buyer_uscc"),
        "receivables": ("creditor_uscc", "debtor_uscc"),
        "loans": ("borrower_uscc",),
        "guarantees": ("borrower_uscc",),
        "events": ("uscc",),
        "ownership": ("firm_uscc",),
    }.items():
        t = read(out, table)
        for c in cols:
            codes.update(t[c].unique().to_pylist())
    g = read(out, "guarantees")
    codes.update(
        x
        for x, k in zip(g["guarantor_id"].to_pylist(), g["guarantor_type"].to_pylist(), strict=True)
        if k == "firm"
    )
    assert codes and all(is_valid(c) for c in codes)
