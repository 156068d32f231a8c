"""Import CSVs column by column: CSV text as the csv module writes it, and chunk columns that
hold exactly what the MERGE path's rows hold."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ingest.manifest import read_manifest
from ingest.offline_import_csv import chunk_columns, csv_text
from ingest.rows import NA_TEXT, canonical_column, canonical_parts, hashes_of_parts, prepare_rows, row_hashes
from ingest.tables import LOAD_ORDER, TABLES
from ingest.validate import validate_table
from tests.ingest._tiny import INJECTION, TINY_ROWS, write_dataset


def _csv_module(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


def test_csv_text_writes_what_the_csv_module_writes() -> None:
    cols = [["a", "b,c", 'say "hi"', "x\ny", "cr\rlf", "", INJECTION, "名称，全角"], ["1.5"] * 8, [""] * 8]
    text, multiline = csv_text(cols, ["src", "run,1"])
    rows = [[*r, "src", "run,1"] for r in zip(*cols, strict=True)]
    assert text == _csv_module(rows)
    assert multiline  # "x\ny" and "cr\rlf" span lines
    assert list(csv.reader(io.StringIO(text, newline=""))) == rows


def test_csv_text_plain_rows_are_joined_unquoted() -> None:
    text, multiline = csv_text([["91350100M000100Y43", "B"], ["2024-06-30", ""], ["1e+16", "-0.0"]], ["p1"])
    assert text == "91350100M000100Y43,2024-06-30,1e+16,p1\r\nB,,-0.0,p1\r\n" and not multiline
    assert csv_text([[], []]) == ("", False)
    # a line break in a constant field (the source) is multiline too; a quote there quotes it
    assert csv_text([["a"]], ['s"\n']) == ('a,"s""\n"\r\n', True)


def test_csv_text_only_quotes_the_fields_that_need_it() -> None:
    text, _ = csv_text([["plain", "with,comma"], ["q", 'q"']])
    assert text == 'plain,q\r\n"with,comma","q"""\r\n'


# ------------------------------------------------------------- column values
def _expected_cell(v: Any) -> str:
    """How the importer must see a value the MERGE path sends (None: missing)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def test_canonical_parts_marks_missing_values() -> None:
    floats = pd.Series([1.5, np.nan, 1e16, 0.1 + 0.2, -0.0])
    assert canonical_parts(floats) == (["1.5", NA_TEXT, "1e+16", "0.30000000000000004", "-0.0"],
                                       [False, True, False, False, False])
    days = pd.Series(pd.to_datetime(["2024-06-30", None, "2024-06-30"]))
    assert canonical_parts(days) == (["2024-06-30", NA_TEXT, "2024-06-30"], [False, True, False])
    assert canonical_parts(pd.Series([True, False])) == (["true", "false"], None)
    assert canonical_parts(pd.Series([3, None], dtype="Int64")) == (["3", NA_TEXT], [False, True])
    # a present "\x00" is told from a missing value by the mask only
    assert canonical_parts(pd.Series(["\x00", None], dtype=object)) == (["\x00", NA_TEXT], [False, True])
    mixed = pd.Series([1, True, 2.5, pd.Timestamp("2024-01-02"), "t"], dtype=object)
    assert canonical_parts(mixed) == (["1", "true", "2.5", "2024-01-02", "t"], None)
    df = pd.DataFrame({"a": floats, "d": pd.Series(pd.to_datetime(["2024-06-30"] * 5))})
    assert hashes_of_parts([canonical_column(df[c]) for c in ("a", "d")], source="s", rows=5) == row_hashes(
        df, ("a", "d"), source="s")
    assert hashes_of_parts([], source="s", rows=2) == row_hashes(df.iloc[:2], (), source="s")


@pytest.mark.parametrize("table", LOAD_ORDER)
def test_chunk_columns_hold_the_merge_rows(tmp_path: Path, table: str) -> None:
    """Same key, hash, ids and uid as prepare_rows; each stored value as the importer must read it."""
    ds = write_dataset(tmp_path / "ds", firm_c_name='"Gamma, ""Parts"""')  # a CSV cell
    manifest = read_manifest(ds)
    (chunk,) = [c for c in validate_table(ds, table, manifest) if not c.good.empty]
    rows = prepare_rows(chunk.good, TABLES[table], source=manifest.source)
    cols = chunk_columns(chunk.good, TABLES[table], source=manifest.source)
    assert cols.rows == len(rows) == TINY_ROWS[table]
    assert list(cols.k) == [r["k"] for r in rows]
    assert list(cols.h) == [r["h"] for r in rows]
    assert list(cols.a) == [r["a"] for r in rows]
    assert list(cols.b) == [r.get("b") for r in rows]
    assert list(cols.t) == [r.get("t") for r in rows]
    assert list(cols.u) == [r["u"] for r in rows if "u" in r]
    assert set(cols.cells) == set(TABLES[table].stored)
    for c, values in cols.cells.items():
        assert list(values) == [_expected_cell(r[c]) for r in rows], c


def test_chunk_columns_of_absent_and_missing_values() -> None:
    df = pd.DataFrame({"uscc": ["91350100M000100Y43"], "month": pd.to_datetime(["2024-06-01"]),
                       "orders": [np.nan], "electricity_kwh": [12000.0]})
    cols = chunk_columns(df, TABLES["signals"], source="p1")
    assert cols.k == ["91350100M000100Y43|2024-06"] and cols.a == ["91350100M000100Y43"]
    assert cols.cells["orders"] == [""] and cols.cells["invoices"] == [""]  # NaN / absent column
    assert cols.cells["electricity_kwh"] == ["12000.0"] and cols.cells["month"] == ["2024-06-01"]
    assert cols.h == row_hashes(df, TABLES["signals"].column_names, source="p1")
