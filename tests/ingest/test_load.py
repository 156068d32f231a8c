"""``load_dataset`` without a server: dry runs (``ingest.load``); the live loads are in test_load_live."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ingest.load import load_dataset
from tests.ingest._tiny import SUPPLY_ROWS, TINY_ROWS, A, write_dataset


def with_bad_row(folder: Path) -> Path:
    """The tiny dataset plus one supply row whose buyer USCC fails its check character."""
    write_dataset(folder, supply_rows=[*SUPPLY_ROWS, f"{A},91350100M000100Y44,5,2022-01-01,"])
    return folder


def test_dry_run_quarantines_and_writes_nothing(tmp_path: Path) -> None:
    ds = with_bad_row(tmp_path / "ds")
    report = load_dataset(ds, dry_run=True)  # no runner: a dry run never connects
    assert report.run_id is None and report.dry_run
    assert report.tables["supply"].read == 5 and report.tables["supply"].quarantined == 1
    assert report.tables["supply"].created == 0
    q = pd.read_csv(ds / "_quarantine" / "supply.quarantine.csv", encoding="utf-8-sig")
    assert list(q.columns) == ["file", "row", "field", "value", "reason"]
    assert q[["file", "row", "field"]].values.tolist() == [["supply.csv", 6, "buyer_uscc"]]
    assert "check" in str(q["reason"].iloc[0])
    # a second run starts fresh: the file is rewritten, not appended to
    load_dataset(ds, dry_run=True)
    assert len(pd.read_csv(ds / "_quarantine" / "supply.quarantine.csv", encoding="utf-8-sig")) == 1


@pytest.mark.parametrize("table", sorted(TINY_ROWS))
def test_tiny_dataset_validates_clean(tmp_path: Path, table: str) -> None:
    report = load_dataset(write_dataset(tmp_path / "ds"), dry_run=True)
    assert report.tables[table].read == TINY_ROWS[table]
    assert report.tables[table].quarantined == 0
