from datetime import date

import pytest

from chainrisk.errors import DatasetError
from ingest.manifest import read_manifest
from tests.ingest._helpers import write_manifest


@pytest.mark.parametrize(
    ("spelling", "unit", "factor"),
    [("元", "yuan", 1.0), ("万元", "wan_yuan", 1e4), ("10k_yuan", "wan_yuan", 1e4), ("YUAN", "yuan", 1.0)],
)
def test_unit_aliases(tmp_path, spelling, unit, factor):
    m = read_manifest(write_manifest(tmp_path, unit=spelling))
    assert (m.unit, m.unit_factor, m.as_of) == (unit, factor, date(2024, 6, 30))


def test_missing_manifest_names_folder(tmp_path):
    with pytest.raises(DatasetError, match="no manifest"):
        read_manifest(tmp_path)


def test_bad_field_names_file_and_field(tmp_path):
    write_manifest(tmp_path, mode="partial")
    with pytest.raises(DatasetError, match=r"dataset\.yaml.*'mode'"):
        read_manifest(tmp_path)


def test_missing_field_and_unknown_unit(tmp_path):
    (tmp_path / "dataset.yaml").write_text("source: x\nmode: full\nunit: 千元\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="'as_of'") as info:
        read_manifest(tmp_path)
    assert "'unit'" in str(info.value)


def test_not_a_mapping(tmp_path):
    (tmp_path / "dataset.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="mapping"):
        read_manifest(tmp_path)
