"""The one ingest report (``ingest.report``)."""

from __future__ import annotations

import json
from datetime import date

from ingest.report import IngestReport, TableReport


def _report() -> IngestReport:
    r = IngestReport(dataset="d", source="p", as_of=date(2024, 6, 30), mode="full", run_id="run-1")
    r.tables["supply"] = TableReport("supply", read=5, created=2, updated=1, unchanged=1, quarantined=1,
                                     externals=1, closed=3, properties_set=9)
    r.tables["firms"] = TableReport("firms", read=4, unchanged=4)
    return r


def test_totals_and_changes() -> None:
    r = _report()
    assert r.totals() == {"read": 9, "created": 2, "updated": 1, "unchanged": 5, "quarantined": 1,
                          "externals": 1, "closed": 3}
    assert r.changes == 2 + 1 + 3 + 1 and r.quarantined == 1 and r.properties_set == 9
    assert r.tables["supply"].loaded == 4


def test_an_unchanged_reingest_reports_no_change() -> None:
    r = IngestReport(dataset="d", source="p", as_of=date(2024, 6, 30), mode="delta", run_id=None)
    r.tables["firms"] = TableReport("firms", read=4, unchanged=4)
    assert r.changes == 0


def test_to_dict_is_json_ready() -> None:
    d = _report().to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["as_of"] == "2024-06-30" and d["tables"]["supply"]["closed"] == 3
