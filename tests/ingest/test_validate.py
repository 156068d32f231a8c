import pandas as pd
import pytest

from chainrisk.errors import DatasetError
from ingest.tables import TABLES
from ingest.validate import QUARANTINE_COLUMNS, TableValidator, validate_table
from tests.ingest._helpers import chunk, code, manifest, reasons, validate, write_manifest

INJECTION = "'}) DETACH DELETE n //"


def firm(i: int, **kw: object) -> dict[str, object]:
    return {"uscc": code(i), "name": f"firm {i}", **kw}


def test_good_rows_are_normalised():
    vc, v = validate(
        "firms",
        [firm(1, founded="2020年3月5日", employees="12", registered_capital="1,000,000", size_class="小型")],
    )
    row = vc.good.iloc[0]
    assert row["founded"] == pd.Timestamp("2020-03-05")
    assert row["employees"] == 12 and vc.good["employees"].dtype == "Int64"
    assert row["registered_capital"] == 1e6
    assert row["size_class"] == "small"
    assert row["platform"] == "test"  # the manifest's source
    assert (row["_row"], row["_file"]) == (2, "firms.csv")
    assert str(vc.good["founded"].dtype) == "datetime64[ns]"
    assert v.stats["rows_good"] == 1 and vc.quarantine.empty


def test_wrong_check_character_names_expected():
    bad = code(1)[:17] + ("0" if code(1)[17] != "0" else "1")
    vc, _ = validate("firms", [{"uscc": bad, "name": "x"}])
    assert vc.good.empty
    (reason,) = reasons(vc)
    assert f"expected {code(1)[17]!r}" in reason
    assert vc.quarantine.loc[0, "field"] == "uscc" and vc.quarantine.loc[0, "row"] == 2


def test_lower_case_uscc_accepted_and_stored_upper():
    vc, _ = validate("firms", [{"uscc": code(1).lower(), "name": "x"}])
    assert vc.good["uscc"].tolist() == [code(1)]


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_forbidden_letter(letter):
    bad = code(1)[:9] + letter + code(1)[10:]
    vc, _ = validate("firms", [{"uscc": bad, "name": "x"}])
    assert vc.good.empty
    assert "outside the USCC alphabet" in reasons(vc)[0]


def test_invalid_counterparty_id_quarantined():
    rows = [
        {
            "supplier_uscc": code(1),
            "buyer_uscc": "91350100MA0000BAD",
            "annual_value": 5,
            "start": "2024-01-01",
        },
        {"supplier_uscc": code(1), "buyer_uscc": code(2), "annual_value": 5, "start": "2024-01-01"},
    ]
    vc, v = validate("supply", rows)
    assert vc.good["buyer_uscc"].tolist() == [code(2)]
    assert vc.quarantine["field"].tolist() == ["buyer_uscc"]
    assert v.stats["rows_quarantined"] == 1


def test_missing_required_column_is_dataset_error():
    v = TableValidator(TABLES["supply"], manifest(), file="supply.csv")
    with pytest.raises(DatasetError, match=r"supply\.csv.*'annual_value'"):
        v.validate(chunk([{"supplier_uscc": code(1), "buyer_uscc": code(2), "start": "2024-01-01"}]))


def test_required_value_missing():
    vc, _ = validate("firms", [{"uscc": code(1), "name": None}, {"uscc": code(2), "name": "  "}])
    assert reasons(vc) == ["required value missing"] * 2


@pytest.mark.parametrize("value", ["2024-02-30", "yesterday", "2024/13/01", "1850-01-01"])
def test_unparseable_date(value):
    vc, _ = validate("firms", [firm(1, founded=value)])
    assert vc.good.empty
    assert reasons(vc) == [f"unparseable date: {value!r}"]


@pytest.mark.parametrize("value", ["20240105", "2024/1/5", "2024-01-05 00:00:00", "2024.01.05"])
def test_date_formats(value):
    vc, _ = validate("firms", [firm(1, founded=value)])
    assert vc.good["founded"].tolist() == [pd.Timestamp("2024-01-05")]


def test_negative_amount():
    rows = [{"supplier_uscc": code(1), "buyer_uscc": code(2), "annual_value": "-100", "start": "2024-01-01"}]
    vc, _ = validate("supply", rows)
    assert vc.good.empty
    assert "negative amount -100" in reasons(vc)[0]


def test_money_scaled_by_unit():
    rows = [{"supplier_uscc": code(1), "buyer_uscc": code(2), "annual_value": "12.5", "start": "2024-01-01"}]
    vc, _ = validate("supply", rows, unit="万元")
    assert vc.good["annual_value"].tolist() == [125_000.0]


def test_duplicates_exact_dropped_conflicting_quarantined_across_chunks():
    v = TableValidator(TABLES["firms"], manifest(), file="firms.csv")
    a = v.validate(chunk([firm(1), firm(2), firm(1)], first_row=2))
    b = v.validate(chunk([{"uscc": code(2), "name": "other name"}], first_row=5))
    assert a.good["uscc"].tolist() == [code(1), code(2)]
    assert b.good.empty
    assert "different from row 3" in reasons(b)[0]
    assert "first occurrence wins" in reasons(b)[0]
    assert v.stats["duplicates_dropped"] == 1
    assert v.stats["duplicates_conflicting"] == 1
    assert v.stats["rows_read"] == 4 and v.stats["rows_good"] == 2 and v.stats["rows_quarantined"] == 1


def test_injection_text_kept_verbatim():
    vc, _ = validate("firms", [{"uscc": code(1), "name": INJECTION}])
    assert vc.good["name"].tolist() == [INJECTION]


def test_self_loops_quarantined():
    rows = [
        {"guarantor_id": code(1), "borrower_uscc": code(1), "amount": 1, "start": "2024-01-01"},
    ]
    vc, _ = validate("guarantees", rows)
    assert vc.good.empty and "self-loop" in reasons(vc)[0]
    vc, _ = validate(
        "supply",
        [{"supplier_uscc": code(3), "buyer_uscc": code(3), "annual_value": 1, "start": "2024-01-01"}],
    )
    assert "self-loop: supplier_uscc equals buyer_uscc" in reasons(vc)


def test_end_before_start_quarantined():
    rows = [
        {
            "supplier_uscc": code(1),
            "buyer_uscc": code(2),
            "annual_value": 1,
            "start": "2024-05-01",
            "end": "2024-01-01",
        }
    ]
    vc, _ = validate("supply", rows)
    assert vc.good.empty and reasons(vc) == ["end is before start"]


def test_person_ids_not_uscc_validated():
    rows = [
        {
            "guarantor_id": "P-001",
            "guarantor_type": "自然人",
            "borrower_uscc": code(1),
            "amount": 1,
            "start": "2024-01-01",
        },
        {"guarantor_id": "P-002", "borrower_uscc": code(1), "amount": 1, "start": "2024-01-01"},
    ]
    vc, _ = validate("guarantees", rows)
    assert vc.good["guarantor_id"].tolist() == ["P-001"]
    assert vc.good["guarantor_type"].tolist() == ["person"]
    assert vc.quarantine["field"].tolist() == ["guarantor_id"]  # type defaults to firm: must be a USCC


@pytest.mark.parametrize(("value", "expected"), [("0.3", 0.3), ("30%", 0.3), ("1", 1.0)])
def test_share_range_and_percent(value, expected):
    vc, _ = validate(
        "ownership", [{"owner_id": "P-1", "owner_type": "person", "firm_uscc": code(1), "share": value}]
    )
    assert vc.good["share"].tolist() == [pytest.approx(expected)]


@pytest.mark.parametrize("value", ["1.5", "-0.1", "85"])
def test_out_of_range_rejected_not_rescaled(value):
    vc, _ = validate("signals", [{"uscc": code(1), "month": "2024-01", "equipment_utilization": value}])
    assert vc.good.empty
    assert "equipment_utilization" in vc.quarantine["field"].tolist()


def test_days_overdue_negative_and_enum_aliases():
    rows = [
        {
            "loan_id": "L1",
            "month": "2024年3月",
            "outstanding": 5,
            "days_overdue": 0,
            "classification": "关注",
        },
        {
            "loan_id": "L2",
            "month": "202403",
            "outstanding": 5,
            "days_overdue": -1,
            "classification": "normal",
        },
        {"loan_id": "L3", "month": "2024-03", "outstanding": 5, "days_overdue": 3, "classification": "fine"},
    ]
    vc, _ = validate("loan_status", rows)
    assert vc.good["classification"].tolist() == ["special_mention"]
    assert vc.good["month"].tolist() == [pd.Timestamp("2024-03-01")]
    assert vc.quarantine["field"].tolist() == ["days_overdue", "classification"]
    assert "unrecognised value 'fine'" in reasons(vc)[1]


def test_month_from_full_date_is_first_of_month():
    vc, _ = validate("signals", [{"uscc": code(1), "month": "2024-03-17"}])
    assert vc.good["month"].tolist() == [pd.Timestamp("2024-03-01")]


def test_position_warnings_counted_not_rejected():
    odd = code(1)  # fine; now one with an unusual authority "3"
    from ingest.uscc import make

    unusual = make("31350100MA0000001")
    vc, v = validate("firms", [{"uscc": odd, "name": "a"}, {"uscc": unusual, "name": "b"}])
    assert len(vc.good) == 2
    assert v.stats["warnings"] == 1 and "registering authority" in vc.warnings[0]


def test_extra_columns_warned_once():
    v = TableValidator(TABLES["firms"], manifest(), file="firms.csv")
    a = v.validate(chunk([firm(1, colour="red")]))
    b = v.validate(chunk([firm(2, colour="blue")], first_row=3))
    assert any("colour" in w for w in a.warnings) and not b.warnings


def test_quarantine_columns():
    vc, _ = validate("firms", [{"uscc": "x", "name": "a"}])
    assert tuple(vc.quarantine.columns) == QUARANTINE_COLUMNS
    assert vc.quarantine.loc[0, "value"] == "x"


@pytest.mark.parametrize(
    ("unit", "values", "looks"), [("万元", 2_000_000, "yuan (元)"), ("yuan", 300, "wan_yuan")]
)
def test_unit_disagreeing_with_scale_is_warned(tmp_path, unit, values, looks):
    write_manifest(tmp_path, unit=unit)
    rows = "".join(f"{code(i)},f{i},{values + i}\n" for i in range(60))
    (tmp_path / "firms.csv").write_text("uscc,name,registered_capital\n" + rows, encoding="utf-8")
    from ingest.manifest import read_manifest

    chunks = list(validate_table(tmp_path, "firms", read_manifest(tmp_path), chunksize=25))
    warnings = [w for c in chunks for w in c.warnings]
    assert len(warnings) == 1
    assert "'firms'" in warnings[0] and "'registered_capital'" in warnings[0] and looks in warnings[0]


def test_plausible_units_not_warned(tmp_path):
    write_manifest(tmp_path, unit="万元")
    (tmp_path / "firms.csv").write_text(f"uscc,name,registered_capital\n{code(1)},a,100\n", encoding="utf-8")
    from ingest.manifest import read_manifest

    chunks = list(validate_table(tmp_path, "firms", read_manifest(tmp_path)))
    assert [w for c in chunks for w in c.warnings] == []


@pytest.mark.parametrize("content", [b"", b"uscc,name\n"])
def test_empty_and_header_only_tables_reported(tmp_path, content):
    write_manifest(tmp_path)
    (tmp_path / "firms.csv").write_bytes(content)
    from ingest.manifest import read_manifest

    (c,) = list(validate_table(tmp_path, "firms", read_manifest(tmp_path)))
    assert c.good.empty and list(c.good.columns)[-2:] == ["_row", "_file"]
    assert "empty" in c.warnings[0] or "no data rows" in c.warnings[0]


def test_absent_tables(tmp_path):
    write_manifest(tmp_path)
    from ingest.manifest import read_manifest

    m = read_manifest(tmp_path)
    assert list(validate_table(tmp_path, "events", m)) == []
    with pytest.raises(DatasetError, match="required table 'firms'"):
        list(validate_table(tmp_path, "firms", m))


def test_jsonl_bad_lines_quarantined(tmp_path):
    write_manifest(tmp_path)
    (tmp_path / "events.jsonl").write_text(
        f'{{"uscc": "{code(1)}", "date": "2024-01-01", "type": "违约"}}\nnot json\n', encoding="utf-8"
    )
    from ingest.manifest import read_manifest

    (c,) = list(validate_table(tmp_path, "events", read_manifest(tmp_path)))
    assert c.good["type"].tolist() == ["default"]
    assert c.quarantine["row"].tolist() == [2]


def test_all_missing_optional_columns():
    rows = [
        {
            "supplier_uscc": code(1),
            "buyer_uscc": code(2),
            "annual_value": 1,
            "start": "2024-01-01",
            "end": None,
        }
    ]
    vc, _ = validate("supply", rows)
    assert vc.good["end"].isna().all() and str(vc.good["end"].dtype) == "datetime64[ns]"
    vc, _ = validate("firms", [firm(1, founded=None, size_class=None)])
    assert len(vc.good) == 1 and vc.good["size_class"].tolist() == [None]


# --------------------------------------------------------------------------- wrong field counts
@pytest.mark.parametrize("chunksize", [1, 2, 100])
def test_rows_with_wrong_field_count_quarantined_rest_loads(tmp_path, chunksize):
    from ingest.manifest import read_manifest

    write_manifest(tmp_path)
    lines = [
        "uscc,name,region",
        f"{code(1)},a,350100",
        f"{code(2)},b,350100,extra",  # too many separators
        f"{code(3)},c",  # too few
        f"{code(4)},d,350100",
    ]
    (tmp_path / "firms.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    chunks = list(validate_table(tmp_path, "firms", read_manifest(tmp_path), chunksize=chunksize))
    good = pd.concat([c.good for c in chunks])
    q = pd.concat([c.quarantine for c in chunks])
    assert good["uscc"].tolist() == [code(1), code(4)] and good["_row"].tolist() == [2, 5]
    assert q[["file", "row", "field", "reason"]].values.tolist() == [
        ["firms.csv", 3, "", "expected 3 fields, found 4"],
        ["firms.csv", 4, "", "expected 3 fields, found 2"],
    ]
    assert chunks[-1].stats["rows_read"] == 4 and chunks[-1].stats["rows_quarantined"] == 2


# --------------------------------------------------------------------------- per-chunk counts
def test_chunk_counts_add_up_to_rows_read():
    v = TableValidator(TABLES["firms"], manifest(), file="firms.csv")
    a = v.validate(chunk([firm(1), firm(2), firm(1), {"uscc": "bad", "name": "x"}], first_row=2))
    b = v.validate(chunk([firm(2), firm(1), {"uscc": code(3), "name": None}], first_row=6))
    assert (a.duplicates_dropped, a.rows_quarantined, len(a.good)) == (1, 1, 2)
    assert (b.duplicates_dropped, b.rows_quarantined, len(b.good)) == (2, 1, 0)
    for c, read in ((a, 4), (b, 3)):
        assert len(c.good) + c.rows_quarantined + c.duplicates_dropped == read
    assert a.stats["duplicates_dropped"] == 1 and b.stats == v.stats and b.stats["duplicates_dropped"] == 3
    assert b.stats["rows_read"] == b.stats["rows_good"] + b.stats["rows_quarantined"] + 3


def test_whole_number_beyond_64_bits_is_a_bad_row_not_a_failed_table():
    vc, _ = validate("firms", [firm(1, employees="1e20"), firm(2, employees="12")])
    assert vc.good["employees"].tolist() == [12]
    assert "out of the 64-bit range" in reasons(vc)[0]
