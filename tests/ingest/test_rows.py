"""Row hashes, identity keys, uids and driver-ready rows (``ingest.rows``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.rows import key_hashes, key_strings, prepare_rows, row_hashes, uid_strings
from ingest.tables import TABLES, RelMap
from tests.ingest._tiny import A, B, C, D, P, X


def _supply_frame(n: int = 4) -> pd.DataFrame:
    ends = [A, B, C, D, X]
    return pd.DataFrame({
        "supplier_uscc": ends[:n], "buyer_uscc": ends[1 : n + 1], "annual_value": [1.0] * n,
        "start": pd.to_datetime(["2022-01-01"] * n), "end": pd.Series([pd.NaT] * n),
    })


def test_row_hash_ignores_bookkeeping_and_sees_every_value() -> None:
    df = pd.DataFrame({"uscc": [A, A], "amount": [1.0, 1.0], "_row": [2, 3], "_file": ["a.csv", "b.csv"]})
    h = row_hashes(df, ("uscc", "amount"), source="s")
    assert h[0] == h[1]
    assert row_hashes(df.assign(amount=[1.0, 1.0000001]), ("uscc", "amount"), source="s")[1] != h[1]
    assert row_hashes(df, ("uscc", "amount"), source="other")[0] != h[0]  # the source is part of a fact


def test_row_hash_tells_missing_from_empty() -> None:
    df = pd.DataFrame({"name": pd.Series(["", None], dtype=object)})
    a, b = row_hashes(df, ("name",), source="s")
    assert a != b


def test_key_strings_use_iso_dates_and_months() -> None:
    df = pd.DataFrame({"loan_id": ["L1"], "month": pd.to_datetime(["2024-06-01"])})
    assert key_strings(df, TABLES["loan_status"], ("loan_id", "month")) == ["L1|2024-06"]
    g = pd.DataFrame({"loan_id": [None], "start": pd.to_datetime(["2023-01-01"])})
    assert key_strings(g, TABLES["guarantees"], ("loan_id", "start")) == ["|2023-01-01"]


def test_prepare_rows_for_a_person_guarantor() -> None:
    df = pd.DataFrame({
        "guarantor_id": [P], "guarantor_type": ["person"], "borrower_uscc": [D], "loan_id": ["L3"],
        "amount": [2e6], "start": pd.to_datetime(["2023-09-01"]), "end": pd.Series([pd.NaT]),
    })
    (row,) = prepare_rows(df, TABLES["guarantees"], source="s")
    assert (row["a"], row["b"], row["t"], row["k"]) == (P, D, "person", "L3|2023-09-01")
    assert row["u"] == f"{P}|{D}|L3|2023-09-01"
    assert row["end"] is None and row["amount"] == 2e6
    assert type(row["start"]).__name__ == "date"


def test_uids_join_endpoints_and_key_for_relationships_only() -> None:
    assert uid_strings([A, P], [B, D], ["2022-01-01", "L3|2023-09-01"]) == [
        f"{A}|{B}|2022-01-01", f"{P}|{D}|L3|2023-09-01"]
    assert uid_strings([], [], []) == []
    rows = prepare_rows(_supply_frame(2), TABLES["supply"], source="s")
    assert [r["u"] for r in rows] == [f"{A}|{B}|2022-01-01", f"{B}|{C}|2022-01-01"]
    firms = pd.DataFrame({"uscc": [A], "name": ["n"]})
    assert "u" not in prepare_rows(firms, TABLES["firms"], source="s")[0]


def test_rows_carry_exactly_the_stored_columns_and_the_row_fields() -> None:
    for spec in TABLES.values():
        frame = pd.DataFrame({c: pd.Series([None], dtype=object) for c in spec.column_names})
        (row,) = prepare_rows(frame, spec, source="s")
        fields = {"k", "h", "a"} | ({"b", "u"} if spec.is_relationship else set())
        g = spec.graph
        start = g.start if isinstance(g, RelMap) else g.parent
        fields |= {"t"} if start.type_column else set()
        assert set(row) == fields | set(spec.stored), spec.name


def test_key_hashes_are_stable_and_distinct() -> None:
    h = key_hashes([["a", "a"], ["b", "c"], ["1", "1"]])
    assert h.dtype == np.uint64 and h[0] != h[1]
    assert key_hashes([["a"], ["b"], ["1"]])[0] == h[0]
