"""Column parsers on text (CSV-like object columns) and typed (Parquet-like) columns.

The parsers take numbers as they are and parse each distinct date, code or enum
value once; these tests pin the results, which must not depend on the path
taken: the same values, the same reasons quoting the same text.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest import parse
from ingest import uscc as uscc_mod
from ingest.reader import RawChunk
from ingest.tables import CLASSIFICATIONS, SIZE_CLASSES, TABLES
from ingest.validate import TableValidator, _combine_hashes, _SeenKeys, _show, validate_table
from tests.ingest._helpers import manifest, write_manifest

T = pd.Timestamp
NAT = pd.NaT
SIZES = "expected one of: micro, small, medium, large"
CLASSES = "expected one of: normal, special_mention, substandard, doubtful, loss"


def values_reasons(result: tuple[pd.Series, ...]) -> tuple[list[Any], ...]:
    return tuple(s.tolist() for s in result)


def same_floats(s: pd.Series, expected: list[float]) -> bool:
    """Bit-identical float64 values (NaN == NaN, -0.0 != 0.0)."""
    got = s.to_numpy(dtype="float64")
    want = np.asarray(expected, dtype="float64")
    return s.dtype == "float64" and bool((got.view("int64") == want.view("int64")).all())


# ---------------------------------------------------------------- numbers


NEG = "negative value {} where values must be >= 0"


@pytest.mark.parametrize(
    ("raw", "values", "reasons"),
    [
        pytest.param(
            pd.Series(
                ["1.5", " -5.0 ", "inf", "-inf", "nan", None, "  ", "", "True", "1,200", "-0.0"], dtype=object
            ),
            [1.5, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 1200.0, -0.0],
            [None, NEG.format("-5.0"), "not a number: 'inf'", "not a number: '-inf'", "not a number: 'nan'"]
            + [None] * 3
            + ["not a number: 'True'", None, None],
            id="csv-text",
        ),
        pytest.param(
            pd.Series([1.5, -5.0, np.inf, -np.inf, np.nan, -0.0, 1e308, 5e-324]),
            [1.5, np.nan, np.nan, np.nan, np.nan, -0.0, 1e308, 5e-324],
            [None, NEG.format("-5.0"), "not a number: 'inf'", "not a number: '-inf'", None, None, None, None],
            id="float64",
        ),
        pytest.param(
            pd.Series([1.5, -5.0, None, float("nan"), float("inf"), 3, pd.NA], dtype=object),
            [1.5, np.nan, np.nan, np.nan, np.nan, 3.0, np.nan],
            [None, NEG.format("-5.0"), None, None, "not a number: 'inf'", None, None],
            id="json-objects",
        ),
        pytest.param(
            pd.Series([1.5, None, -2.0], dtype="Float64"),
            [1.5, np.nan, np.nan],
            [None, None, NEG.format("-2.0")],
            id="nullable-Float64",
        ),
        pytest.param(
            pd.Series([0.1, -0.5], dtype="float32"),
            [float(np.float32(0.1)), np.nan],  # the float32 value, exactly, as its text says
            [None, NEG.format("-0.5")],
            id="float32",
        ),
        pytest.param(
            pd.Series([3, -4, 2**53 + 1], dtype="int64"),
            [3.0, np.nan, 9007199254740992.0],
            [None, NEG.format("-4"), None],
            id="int64-big",
        ),
        pytest.param(
            pd.Series([3, None, -4], dtype="Int64"),
            [3.0, np.nan, np.nan],
            [None, None, NEG.format("-4")],
            id="nullable-Int64",
        ),
        pytest.param(
            pd.Series([True, False]),
            [np.nan, np.nan],
            ["not a number: 'True'", "not a number: 'False'"],
            id="bool",  # str(True) is not a number
        ),
        pytest.param(
            pd.Series([True, 1.0, 10**400], dtype=object),
            [np.nan, 1.0, np.nan],
            ["not a number: 'True'", None, f"not a number: '{10**400}'"],
            id="bool-and-huge-objects",
        ),
    ],
)
def test_parse_number_edge_cases(raw, values, reasons):
    v, r = parse.parse_number(raw, min_value=0.0)
    assert same_floats(v, values), v.tolist()
    assert r.tolist() == reasons
    assert v.index.equals(raw.index) and r.index.equals(raw.index)


@pytest.mark.parametrize(
    "raw", [pd.Series([0.5, 1.5, -0.25, np.nan]), pd.Series(["0.5", "1.5", "-0.25", ""], dtype=object)]
)
def test_parse_number_range_reasons_quote_the_text(raw):
    v, r = parse.parse_number(raw, min_value=0.0, max_value=1.0, percent=True, what="share")
    assert same_floats(v, [0.5, np.nan, np.nan, np.nan])
    assert r.tolist() == [
        None,
        "share 1.5 is out of range [0, 1]",
        "negative share -0.25 where shares must be >= 0",
        None,
    ]


def test_parse_number_does_not_modify_its_input():
    raw = pd.Series([1.0, -2.0, np.inf])
    parse.parse_number(raw, min_value=0.0)
    assert raw.tolist() == [1.0, -2.0, np.inf]


def test_parse_money_scales_typed_values():
    v, r = parse.parse_money(pd.Series([1.5, -2.0, np.nan]), factor=10_000.0, min_value=0.0)
    assert same_floats(v, [15000.0, np.nan, np.nan])
    assert r.tolist() == [None, "negative amount -2.0 where amounts must be >= 0", None]


@pytest.mark.parametrize(
    ("raw", "values", "reasons"),
    [
        pytest.param(
            pd.Series(["30", "30.0", "30.5", " 7 ", None, "x"], dtype=object),
            [30, 30, pd.NA, 7, pd.NA, pd.NA],
            [None, None, "not a whole number: '30.5'", None, None, "not a number: 'x'"],
            id="csv-text",
        ),
        pytest.param(
            pd.Series([30.0, 30.5, np.nan, -1.5]),
            [30, pd.NA, pd.NA, pd.NA],
            [None, "not a whole number: '30.5'", None, "negative value -1.5 where values must be >= 0"],
            id="float64",
        ),
        pytest.param(
            pd.Series([3, None, -4], dtype="Int64"),
            [3, pd.NA, pd.NA],
            [None, None, "negative value -4 where values must be >= 0"],
            id="nullable-Int64",
        ),
    ],
)
def test_parse_int_edge_cases(raw, values, reasons):
    v, r = parse.parse_int(raw, min_value=0.0)
    assert str(v.dtype) == "Int64"
    assert v.tolist() == values
    assert r.tolist() == reasons


def test_parse_int_uint64_beyond_float_precision_keeps_its_text():
    v, r = parse.parse_int(pd.Series([3, 2**64 - 1], dtype="uint64"), max_value=5.0)
    assert v.tolist() == [3, pd.NA]
    assert r.tolist() == [None, "value 18446744073709551615 is out of range [-inf, 5]"]


@pytest.mark.parametrize(
    ("raw", "fast"),
    [
        (pd.Series([1.5, np.nan]), True),
        (pd.Series([1.5], dtype="float32"), True),
        (pd.Series([1, None], dtype="Int64"), True),
        (pd.Series([1.5, None, 2], dtype=object), True),
        (pd.Series([2**53], dtype="int64"), False),  # beyond exact integers: parsed from text
        (pd.Series([True]), False),
        (pd.Series([True, 1.0], dtype=object), False),
        (pd.Series(["1.5"], dtype=object), False),
        (pd.Series([1.5], dtype="category"), False),
    ],
)
def test_which_columns_are_taken_as_numbers(raw, fast):
    assert (parse._float_values(raw) is not None) == fast


# ---------------------------------------------------------------- distinct values


TRICKY: list[pd.Series] = [
    pd.Series([0.0, -0.0, 1, 1.0, True, None, " a ", "  "], dtype=object),  # equal values, different texts
    pd.Series(["a", " a", "a ", "", "  ", None, np.nan, pd.NA], dtype=object),
    pd.Series([0.0, -0.0, np.nan, 2.0]),
    pd.Series([1, 1.0, True], dtype=object),
    pd.Series([T("2024-06-30 20:00", tz="UTC"), T("2024-07-01 04:00", tz="Asia/Shanghai")], dtype=object),
    pd.Series([dt.date(2024, 6, 30), dt.datetime(2024, 6, 30), None], dtype=object),
    pd.Series([dt.date(2024, 6, 30), dt.date(2024, 6, 30), None, np.nan], dtype=object),
    pd.Series([np.datetime64("NaT"), None, "x"], dtype=object),
    pd.Series([T("2024-06-30 23:30"), NAT, T("2024-06-30 23:30")]),
    pd.Series([T("2024-06-30 20:00", tz="UTC"), NAT]).dt.tz_convert("Asia/Shanghai"),
    pd.Series(["a", " a", None, "  "], dtype="str"),
    pd.Series(["a", " a", None, "  ", "a"], dtype="category"),
    pd.Series([1, 2, 1, None], dtype="Int64"),
    pd.Series([True, False, True]),
    pd.Series([5, 5, 7], dtype="int64"),
    pd.Series([], dtype=object),
]


@pytest.mark.parametrize("raw", TRICKY)
def test_distinct_texts_give_the_text_of_every_row(raw):
    codes, texts = parse._distinct_texts(raw)
    rebuilt = [None if c < 0 else texts.iat[c] for c in codes.tolist()]
    assert rebuilt == parse.as_text(raw).tolist()


# ---------------------------------------------------------------- dates and months


@pytest.mark.parametrize(
    ("raw", "values", "reasons"),
    [
        pytest.param(
            pd.Series(
                [
                    "2024-06-30",
                    " 2024-06-30 ",
                    "2024/6/3",
                    "  ",
                    None,
                    "2024-02-30",
                    "1850-01-01",
                    "20240630",
                ],
                dtype=object,
            ),
            [T("2024-06-30"), T("2024-06-30"), T("2024-06-03"), NAT, NAT, NAT, NAT, T("2024-06-30")],
            [None] * 5 + ["unparseable date: '2024-02-30'", "unparseable date: '1850-01-01'", None],
            id="csv-text",
        ),
        pytest.param(
            pd.Series([dt.date(2024, 6, 30), None, dt.date(1850, 1, 1), dt.date(2024, 6, 30)], dtype=object),
            [T("2024-06-30"), NAT, NAT, T("2024-06-30")],
            [None, None, "unparseable date: '1850-01-01'", None],
            id="parquet-date32",
        ),
        pytest.param(
            pd.Series([T("2024-06-30 23:30"), NAT, T("1850-01-01"), T("2024-06-30")]),
            [T("2024-06-30"), NAT, NAT, T("2024-06-30")],
            [None, None, "unparseable date: '1850-01-01 00:00:00'", None],
            id="datetime64",
        ),
        pytest.param(
            pd.Series([T("2024-06-30 20:00", tz="UTC"), T("2024-06-30 17:00", tz="UTC")]).dt.tz_convert(
                "Asia/Shanghai"
            ),
            [T("2024-07-01"), T("2024-07-01")],  # the local date
            [None, None],
            id="tz-aware",
        ),
        pytest.param(
            pd.Series(
                [T("2024-06-30 20:00", tz="UTC"), T("2024-07-01 04:00", tz="Asia/Shanghai")], dtype=object
            ),
            [T("2024-06-30"), T("2024-07-01")],  # the same instant, two local dates
            [None, None],
            id="mixed-tz-objects",
        ),
    ],
)
def test_parse_date_edge_cases(raw, values, reasons):
    v, r = parse.parse_date(raw)
    assert str(v.dtype) == "datetime64[ns]"
    assert v.tolist() == values
    assert r.tolist() == reasons
    assert v.index.equals(raw.index)


@pytest.mark.parametrize(
    ("raw", "values", "reasons"),
    [
        pytest.param(
            pd.Series(
                ["2024-06", "202406", "2024年6月", "2024-06-30", " 2024-06 ", "2024-13", "", None],
                dtype=object,
            ),
            [T("2024-06-01")] * 5 + [NAT] * 3,
            [None] * 5 + ["unparseable month: '2024-13'", None, None],
            id="csv-text",
        ),
        pytest.param(
            pd.Series([T("2024-06-30"), NAT, T("2101-03-01")]),
            [T("2024-06-01"), NAT, NAT],
            [None, None, "unparseable month: '2101-03-01 00:00:00'"],
            id="datetime64",
        ),
        pytest.param(
            pd.Series([dt.date(2024, 6, 30), dt.date(2024, 6, 1), None], dtype=object),
            [T("2024-06-01"), T("2024-06-01"), NAT],
            [None, None, None],
            id="parquet-date32",
        ),
        pytest.param(
            pd.Series([202406, 202413, 20240630], dtype="int64"),
            [T("2024-06-01"), NAT, T("2024-06-01")],
            [None, "unparseable month: '202413'", None],
            id="int64",
        ),
    ],
)
def test_parse_month_edge_cases(raw, values, reasons):
    v, r = parse.parse_month(raw)
    assert v.tolist() == values
    assert r.tolist() == reasons


def test_parse_date_keeps_a_non_default_index():
    raw = pd.Series(["2024-06-30", None, "bad", "2024-06-30"], index=[7, 3, 11, 2], dtype=object)
    v, r = parse.parse_date(raw)
    assert v.index.tolist() == [7, 3, 11, 2]
    assert v.tolist() == [T("2024-06-30"), NAT, NAT, T("2024-06-30")]
    assert r.to_dict() == {7: None, 3: None, 11: "unparseable date: 'bad'", 2: None}


# ---------------------------------------------------------------- enums


@pytest.mark.parametrize("dtype", [object, "str", "category"])
def test_parse_enum_text_with_blanks(dtype):
    raw = pd.Series(["small", " Small ", "小型", "", None, "tiny", "  "], dtype=dtype)
    v, r = parse.parse_enum(raw, SIZE_CLASSES)
    assert v.tolist() == ["small", "small", "small", None, None, None, None]
    assert r.tolist() == [None] * 5 + [f"unrecognised value 'tiny' ({SIZES})", None]


def test_parse_enum_values_equal_in_python_keep_their_own_text():
    # 2 == 2.0 == True-ish: each keeps its text ('2' is an alias, '2.0' and 'True' are not)
    v, r = parse.parse_enum(pd.Series(["2", 2, 2.0, True, 1, " 5 "], dtype=object), CLASSIFICATIONS)
    assert v.tolist() == ["special_mention", "special_mention", None, None, "normal", "loss"]
    assert r.tolist() == [
        None,
        None,
        f"unrecognised value '2.0' ({CLASSES})",
        f"unrecognised value 'True' ({CLASSES})",
        None,
        None,
    ]
    _, r = parse.parse_enum(pd.Series([0.0, -0.0, 1.0]), CLASSIFICATIONS)
    assert r.tolist() == [f"unrecognised value '{t}' ({CLASSES})" for t in ("0.0", "-0.0", "1.0")]


# ---------------------------------------------------------------- USCC

C1 = uscc_mod.make("91350100MA0000001")
C2 = uscc_mod.make("91350100MA0000002")
BAD = C1[:17] + ("0" if C1[17] != "0" else "1")


@pytest.mark.parametrize("dtype", [object, "str", "category"])
def test_parse_uscc_text_with_blanks(dtype):
    raw = pd.Series([C1, " " + C1.lower() + " ", BAD, "", None, "9135", C2], dtype=dtype)
    codes, reasons, warns = parse.parse_uscc(raw)
    assert codes.tolist() == [C1, C1, None, None, None, None, C2]
    assert reasons.tolist() == [
        None,
        None,
        f"invalid USCC: USCC {BAD!r} has check character {BAD[17]!r}, expected {C1[17]!r}",
        None,
        None,
        "invalid USCC: USCC '9135' has 4 characters, expected 18",
        None,
    ]
    assert warns.tolist() == [None] * 7


def test_parse_uscc_cache_is_keyed_by_text_and_reused():
    cache: dict[str, Any] = {}
    parse.parse_uscc(pd.Series([" " + C1, BAD, None, "  "], dtype=object), cache)
    assert set(cache) == {C1, BAD}  # stripped text; blanks and missing values are not cached
    cache[C1] = ("CACHED", None, ["from the cache"])
    codes, _, warns = parse.parse_uscc(pd.Series([C1, C1 + " "], dtype="str"), cache)
    assert codes.tolist() == ["CACHED", "CACHED"]
    assert warns.tolist() == [["from the cache"], ["from the cache"]]


def test_parse_uscc_position_warnings():
    odd = uscc_mod.make("81990100MA0000001")
    _, _, warns = parse.parse_uscc(pd.Series([odd, C1, odd], dtype=object))
    expected = [
        "registering authority '8' is not a common one (1, 5, 9, Y)",
        "administrative division '990100' has no province code 11-82",
    ]
    assert warns.tolist() == [expected, None, expected]


# ---------------------------------------------------------------- validator: dedup and typed input


def _old_deduplicate(
    v: TableValidator, keys: dict[int, tuple[int, int]], good: pd.DataFrame, problems: list
) -> pd.DataFrame:
    """The reference: one row at a time through a dict (the implementation before vectorising)."""
    if good.empty:
        return good
    key_cols = list(v.spec.key)
    khash = pd.util.hash_pandas_object(good[key_cols], index=False).to_numpy()
    vhash = pd.util.hash_pandas_object(good[list(v.spec.column_names)], index=False).to_numpy()
    keep = np.ones(len(good), dtype=bool)
    rows = good["_row"].to_numpy()
    for i, (k, h) in enumerate(zip(khash.tolist(), vhash.tolist(), strict=True)):
        first = keys.get(k)
        if first is None:
            keys[k] = (int(rows[i]), h)
            continue
        keep[i] = False
        if first[1] == h:
            v.stats["duplicates_dropped"] += 1
        else:
            v.stats["duplicates_conflicting"] += 1
            key_text = ", ".join(f"{c}={_show(good[c].iat[i])}" for c in key_cols)
            problems.append(
                {
                    "file": v.file,
                    "row": int(rows[i]),
                    "field": ",".join(key_cols),
                    "value": key_text,
                    "reason": f"duplicate key ({key_text}) with values different from row {first[0]}, "
                    "which is kept (the first occurrence wins)",
                }
            )
    return good[keep]


@pytest.mark.parametrize("seed", range(4))
def test_vectorised_deduplication_agrees_with_row_by_row(seed):
    rng = random.Random(seed)
    new = TableValidator(TABLES["loan_status"], manifest(), file="loan_status.csv")
    old = TableValidator(TABLES["loan_status"], manifest(), file="loan_status.csv")
    keys: dict[int, tuple[int, int]] = {}
    old._deduplicate = lambda good, problems: _old_deduplicate(old, keys, good, problems)  # type: ignore[method-assign]
    row = 2
    for _ in range(12):
        n = rng.choice([0, 1, 3, 50, 200])
        rows = [
            {
                "loan_id": f"L{rng.randrange(60)}",
                "month": f"2024-{rng.randrange(1, 4):02d}",
                "outstanding": str(rng.choice([100, 200])),
                "days_overdue": "0",
                "classification": "normal",
            }
            for _ in range(n)
        ]
        frame = pd.DataFrame(
            rows, columns=["loan_id", "month", "outstanding", "days_overdue", "classification"]
        )
        frame = frame.astype(object)
        frame.index = pd.RangeIndex(row, row + n)
        row += n
        a = new.validate(RawChunk(frame, row - n, Path("loan_status.csv")))
        b = old.validate(RawChunk(frame, row - n, Path("loan_status.csv")))
        pd.testing.assert_frame_equal(a.good, b.good, check_exact=True)
        pd.testing.assert_frame_equal(a.quarantine, b.quarantine, check_exact=True)
        assert a.duplicates_dropped == b.duplicates_dropped
        assert a.stats == b.stats
    assert new.stats["duplicates_conflicting"] > 0 and new.stats["duplicates_dropped"] > 0
    assert len(new._keys) == len(keys)


def test_seen_keys_runs_merge_and_find_everything():
    seen = _SeenKeys()
    rng = np.random.default_rng(0)
    all_keys = rng.permutation(np.arange(5000, dtype=np.uint64) * np.uint64(7919))
    for part in np.array_split(all_keys, 37):
        part = np.sort(part)
        found, _, _ = seen.lookup(part)
        assert not found.any()
        seen.add(part, part.astype(np.int64) + 1, part * np.uint64(3))
    assert len(seen) == 5000 and len(seen._runs) < 10
    found, rows, values = seen.lookup(np.sort(all_keys))
    assert found.all()
    assert (rows == np.sort(all_keys).astype(np.int64) + 1).all()
    assert (values == np.sort(all_keys) * np.uint64(3)).all()
    assert not seen.lookup(np.array([1, 2**63], dtype=np.uint64))[0].any()


def test_combined_column_hashes_equal_frame_hashes():
    df = pd.DataFrame(
        {
            "a": pd.Series(["x", None, "y"], dtype=object),
            "b": [1.5, np.nan, -0.0],
            "c": pd.Series([1, None, 3], dtype="Int64"),
            "d": pd.to_datetime(["2024-01-01", None, "2024-01-02"]),
        }
    )
    for cols in (["a"], ["a", "d"], ["d", "c", "b", "a"]):
        parts = [pd.util.hash_pandas_object(df[c], index=False).to_numpy() for c in cols]
        assert (_combine_hashes(parts) == pd.util.hash_pandas_object(df[cols], index=False).to_numpy()).all()


def test_typed_parquet_validates_like_object_columns(tmp_path):
    """Parquet columns reach the validator typed; the outcome is that of the same values as objects."""
    n = 12
    table = pa.table(
        {
            "uscc": pa.array([C1, " " + C1.lower(), BAD, None, "", C2] * 2),
            "month": pa.array(
                [dt.date(2024, 6, 30), None, dt.date(1850, 1, 1), dt.date(2024, 5, 1)] * 3, type=pa.date32()
            ),
            "electricity_kwh": pa.array([0.1, -0.5, 3.0, None] * 3, type=pa.float32()),
            "equipment_utilization": pa.array([0.5, 1.5, float("inf"), float("nan"), -0.0, None] * 2),
            "orders": pa.array([1, -2, 3, None] * 3, type=pa.int64()),
            "invoices": pa.array(["1,000", " 2 ", "x", None] * 3).dictionary_encode(),
            "receivable_days": pa.array([True, False, None] * 4),
        }
    )
    write_manifest(tmp_path)
    pq.write_table(table, tmp_path / "signals.parquet")
    got = list(validate_table(tmp_path, "signals", manifest(), chunksize=5))
    ref = TableValidator(TABLES["signals"], manifest(), file="signals.parquet")
    frame = table.to_pandas().astype(object)
    frame.index = pd.RangeIndex(1, n + 1)
    want = [
        ref.validate(RawChunk(frame.iloc[i : i + 5], i + 1, tmp_path / "signals.parquet"))
        for i in range(0, n, 5)
    ]
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(a.good, b.good, check_exact=True)
        pd.testing.assert_frame_equal(a.quarantine, b.quarantine, check_exact=True)
        assert a.warnings == b.warnings
    quarantine = pd.concat([c.quarantine for c in got])
    assert "negative value -0.5 where values must be >= 0" in quarantine["reason"].tolist()
    assert "-0.5" in quarantine["value"].tolist()  # the float32 value's text, as its reason quotes it
    assert "not a number: 'True'" in quarantine["reason"].tolist()
