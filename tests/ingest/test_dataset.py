"""The one validated-dataset stream (``ingest.dataset``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest.dataset import DatasetStream, estimate_rows
from ingest.tables import LOAD_ORDER
from tests.ingest._tiny import TINY_ROWS, write_dataset
from tests.ingest.test_load import with_bad_row


class Recorder:
    """A :class:`ingest.report.Progress` that remembers what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None]] = []

    def start(self, table: str, total: int | None) -> None:
        self.events.append(("start", table, total))

    def advance(self, table: str, rows: int) -> None:
        self.events.append(("advance", table, rows))

    def finish(self, table: str) -> None:
        self.events.append(("finish", table, None))


def _drain(stream: DatasetStream) -> dict[str, pd.DataFrame]:
    out = {}
    for table in stream:
        parts = list(table)
        out[table.name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return out


def test_tables_come_in_load_order_and_absent_optional_ones_are_skipped(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds")
    (ds / "events.csv").unlink()
    (ds / "receivables.csv").unlink()
    with DatasetStream(ds, write_quarantine=False) as stream:
        names = [t.name for t in stream]
    assert names == [t for t in LOAD_ORDER if t not in ("events", "receivables")]


def test_counts_and_quarantine_of_a_bad_row(tmp_path: Path) -> None:
    ds = with_bad_row(tmp_path / "ds")
    with DatasetStream(ds) as stream:
        frames = _drain(stream)
        report = stream.report
    assert report.tables["supply"].read == 5 and report.tables["supply"].quarantined == 1
    assert len(frames["supply"]) == 4
    assert {t: r.read for t, r in report.tables.items() if t != "supply"} == \
        {t: n for t, n in TINY_ROWS.items() if t != "supply"}
    assert all(r.seconds >= 0 for r in report.tables.values()) and report.seconds > 0
    q = ds / "_quarantine" / "supply.quarantine.csv"
    assert len(pd.read_csv(q, encoding="utf-8-sig")) == 1


def test_a_run_starts_from_a_fresh_quarantine(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds")
    stale = ds / "_quarantine" / "loans.quarantine.csv"
    stale.parent.mkdir()
    stale.write_text("file,row,field,value,reason\nloans.csv,9,x,y,old\n", encoding="utf-8")
    with DatasetStream(ds) as stream:
        _drain(stream)
    assert not stale.exists()


def test_without_quarantine_nothing_is_written(tmp_path: Path) -> None:
    ds = with_bad_row(tmp_path / "ds")
    with DatasetStream(ds, write_quarantine=False) as stream:
        _drain(stream)
        assert stream.report.quarantined == 1 and stream.report.quarantine_dir == ""
    assert not (ds / "_quarantine").exists()


def test_progress_hears_every_table_and_every_row(tmp_path: Path) -> None:
    ds = with_bad_row(tmp_path / "ds")
    rec = Recorder()
    with DatasetStream(ds, progress=rec, write_quarantine=False) as stream:
        _drain(stream)
        report = stream.report
    for table, tr in report.tables.items():
        events = [e for e in rec.events if e[1] == table]
        assert events[0][0] == "start" and events[-1][0] == "finish"
        assert events[0][2] == tr.read  # CSV line count: an exact estimate here
        assert sum(n or 0 for kind, _, n in events if kind == "advance") == tr.read


def test_worker_process_gives_the_same_frames_and_report(tmp_path: Path) -> None:
    ds = with_bad_row(tmp_path / "ds")
    results = []
    for parallel in (False, True):
        with DatasetStream(ds, parallel=parallel, write_quarantine=False) as stream:
            frames = _drain(stream)
            results.append((frames, stream.report.totals()))
    (a, ta), (b, tb) = results
    assert ta == tb and set(a) == set(b)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def test_estimate_rows(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds")
    assert estimate_rows(ds / "supply.csv") == TINY_ROWS["supply"]
    assert estimate_rows(None) is None and estimate_rows(ds / "missing.csv") is None
