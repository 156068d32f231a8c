import gzip
import logging

import pandas as pd
import pytest

from chainrisk.errors import DatasetError
from ingest.reader import detect_encoding, find_table_file, iter_raw_chunks
from tests.ingest._helpers import code, manifest


def test_gbk_file_with_chinese_headers(tmp_path):
    path = tmp_path / "firms.csv"
    text = f"统一社会信用代码,企业名称,行政区划\n{code(1)},福州精工机械有限公司,350100\n"
    path.write_bytes(text.encode("gbk"))
    chunks = list(iter_raw_chunks(path))
    assert len(chunks) == 1
    frame = chunks[0].frame
    assert list(frame.columns) == ["uscc", "name", "region"]
    assert frame.loc[2, "name"] == "福州精工机械有限公司"
    assert chunks[0].first_row == 2


def test_utf8_bom_header_is_clean(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_bytes(f"\ufeffuscc,name\n{code(1)},甲\n".encode())
    frame = next(iter_raw_chunks(path)).frame
    assert list(frame.columns) == ["uscc", "name"]


def test_table_specific_alias(tmp_path):
    path = tmp_path / "supply.csv"
    path.write_text(f"供应商,采购方,金额,开始日期\n{code(1)},{code(2)},100,2024-01-01\n", encoding="utf-8")
    frame = next(iter_raw_chunks(path)).frame
    assert list(frame.columns) == ["supplier_uscc", "buyer_uscc", "annual_value", "start"]


def test_ambiguous_headers_rejected(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text("uscc,统一社会信用代码\na,b\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="both mean column 'uscc'"):
        list(iter_raw_chunks(path))


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("firms.csv", b"PAR1" + b"\x00" * 20, "content is Parquet"),
        ("firms.csv", b'[{"uscc": "x"}]', "JSON document"),
        ("firms.csv", b'{"uscc": "x"}\n{"uscc": "y"}\n', "JSON Lines"),
        ("firms.csv", b"PK\x03\x04rest-of-zip", "ZIP archive"),
        ("firms.parquet", b"uscc,name\nx,y\n", "text"),
        ("firms.jsonl", b"uscc,name\nx,y\n", "text"),
        ("firms.csv.gz", b"uscc,name\nx,y\n", "not gzip"),
    ],
)
def test_misleading_extension(tmp_path, name, payload, message):
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(DatasetError, match=message) as info:
        list(iter_raw_chunks(path))
    assert name in str(info.value)


def test_real_parquet_named_csv(tmp_path):
    path = tmp_path / "firms.csv"
    pd.DataFrame({"uscc": [code(1)], "name": ["a"]}).to_parquet(path)
    with pytest.raises(DatasetError, match=r"firms\.csv.*Parquet"):
        list(iter_raw_chunks(path))


def test_gzip_content_without_gz_name(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_bytes(gzip.compress(b"uscc,name\n"))
    with pytest.raises(DatasetError, match="gzip-compressed"):
        list(iter_raw_chunks(path))


def test_zero_byte_file_yields_nothing_and_logs(tmp_path, caplog):
    path = tmp_path / "firms.csv"
    path.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="ingest.reader"):
        assert list(iter_raw_chunks(path)) == []
    assert "0 bytes" in caplog.text


@pytest.mark.parametrize("name", ["firms.csv", "firms.csv.gz"])
def test_header_only_file_yields_nothing(tmp_path, name):
    path = tmp_path / name
    data = b"uscc,name\n"
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert list(iter_raw_chunks(path)) == []


def test_csv_row_numbers_count_blank_lines(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_text(f"uscc,name\n{code(1)},a\n\n{code(2)},b\n", encoding="utf-8")
    frame = next(iter_raw_chunks(path)).frame
    assert frame.index.tolist() == [2, 4]


def test_jsonl_line_numbers_and_bad_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"uscc": "a"}\n\nnot json\n[1, 2]\n{"uscc": "b"}\n', encoding="utf-8")
    (c,) = list(iter_raw_chunks(path))
    assert c.frame.index.tolist() == [1, 5]
    assert [row for row, _ in c.errors] == [3, 4]


def test_parquet_gz_and_row_numbers(tmp_path):
    path = tmp_path / "supply.parquet.gz"
    raw = tmp_path / "raw.parquet"
    pd.DataFrame({"supplier_uscc": [code(i) for i in range(5)]}).to_parquet(raw)
    path.write_bytes(gzip.compress(raw.read_bytes()))
    chunks = list(iter_raw_chunks(path, chunksize=2))
    assert [c.first_row for c in chunks] == [1, 3, 5]


def test_streaming_large_csv_in_bounded_chunks(tmp_path):
    """Memory is bounded by chunksize: every chunk holds at most chunksize rows."""
    path = tmp_path / "signals.csv"
    n, size = 60_000, 7_000
    frame = pd.DataFrame(
        {"uscc": [code(i % 500) for i in range(n)], "month": "2024-01", "electricity_kwh": 1.5}
    )
    frame.to_csv(path, index=False)
    sizes, firsts = [], []
    for c in iter_raw_chunks(path, chunksize=size):
        sizes.append(len(c.frame))
        firsts.append(c.first_row)
    assert len(sizes) == -(-n // size)
    assert max(sizes) == size and sum(sizes) == n
    assert firsts[:3] == [2, 2 + size, 2 + 2 * size]


def test_streaming_jsonl_and_parquet_chunks(tmp_path):
    frame = pd.DataFrame({"uscc": [code(i) for i in range(1000)], "month": "2024-01"})
    frame.to_parquet(tmp_path / "signals.parquet")
    frame.to_json(tmp_path / "signals.jsonl", orient="records", lines=True)
    for name in ("signals.parquet", "signals.jsonl"):
        sizes = [len(c.frame) for c in iter_raw_chunks(tmp_path / name, chunksize=300)]
        assert sizes == [300, 300, 300, 100], name


def test_find_table_file(tmp_path):
    (tmp_path / "supply.parquet").write_bytes(b"PAR1")
    (tmp_path / "Loans.CSV").write_text("x\n")
    m = manifest()
    assert find_table_file(tmp_path, "supply", m) == tmp_path / "supply.parquet"
    assert find_table_file(tmp_path, "loans", m) == tmp_path / "Loans.CSV"
    assert find_table_file(tmp_path, "events", m) is None


def test_find_table_file_explicit_and_ambiguous(tmp_path):
    (tmp_path / "links_2024.csv").write_text("x\n")
    m = manifest(tables={"supply": "links_2024.csv", "events": "missing.csv"})
    assert find_table_file(tmp_path, "supply", m) == tmp_path / "links_2024.csv"
    with pytest.raises(DatasetError, match="no such file"):
        find_table_file(tmp_path, "events", m)
    (tmp_path / "firms.csv").write_text("x\n")
    (tmp_path / "firms.jsonl").write_text("{}\n")
    with pytest.raises(DatasetError, match="several files"):
        find_table_file(tmp_path, "firms", m)


def test_detect_encoding_tolerates_cut_multibyte():
    data = "企业名称".encode()
    assert detect_encoding(data[:-1]) == "utf-8-sig"


# --------------------------------------------------------------------------- wrong field counts
BAD_COUNTS = 'a,b,c\n1,2,3\n4,5\n\n6,7,8,9\n"x\ny",1,2\n1,2,\n10,11,12,13,14,15\n,,\nlast,1,2\n'


@pytest.mark.parametrize("chunksize", [1, 2, 3, 100])
def test_wrong_field_counts_become_row_errors(tmp_path, chunksize):
    path = tmp_path / "t.csv"
    path.write_text(BAD_COUNTS, encoding="utf-8")
    chunks = list(iter_raw_chunks(path, chunksize=chunksize))
    rows = [r for c in chunks for r in c.frame.index.tolist()]
    errors = [e for c in chunks for e in c.errors]
    # header = row 1; the blank line (row 4) and the all-empty row (row 9) are skipped silently
    assert rows == [2, 6, 7, 10]
    assert [c.frame.loc[r, "a"] for c in chunks for r in c.frame.index] == ["1", "x\ny", "1", "last"]
    assert sorted(errors) == [
        (3, "expected 3 fields, found 2"),
        (5, "expected 3 fields, found 4"),
        (8, "expected 3 fields, found 6"),
    ]


@pytest.mark.parametrize("chunksize", [1, 2, 10])
def test_long_first_row_and_last_row(tmp_path, chunksize):
    # pandas would read a long first data row as an index, or truncate it: it must be quarantined
    path = tmp_path / "t.csv.gz"
    path.write_bytes(gzip.compress(b"a,b,c\n1,2,3,4\n5,6,7\n8\n9,9,9,9\n"))
    chunks = list(iter_raw_chunks(path, chunksize=chunksize))
    assert [r for c in chunks for r in c.frame.index.tolist()] == [3]
    assert sorted(e for c in chunks for e in c.errors) == [
        (2, "expected 3 fields, found 4"),
        (4, "expected 3 fields, found 1"),
        (5, "expected 3 fields, found 4"),
    ]


def test_gbk_file_with_bad_field_count(tmp_path):
    path = tmp_path / "firms.csv"
    path.write_bytes(f"统一社会信用代码,企业名称\n{code(1)},甲公司,多余\n{code(2)},乙公司\n".encode("gbk"))
    (chunk,) = list(iter_raw_chunks(path))
    assert chunk.frame["name"].tolist() == ["乙公司"] and chunk.frame.index.tolist() == [3]
    assert chunk.errors == [(2, "expected 2 fields, found 3")]
