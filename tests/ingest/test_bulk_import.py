"""Bulk import: the CSV writer (headers, types, externals) and, end to end, neo4j-admin into a
scratch server home of its own (not the shared test server's)."""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import pytest

from chainrisk.errors import GraphError
from chainrisk.settings import Settings
from ingest.bulk_import import admin_arguments, bulk_load, typed_header, write_import_csvs
from tests.ingest.test_loader import INJECTION, TINY_ROWS, A, B, P, X, write_dataset


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_typed_headers() -> None:
    assert typed_header("firms", ("name", "founded", "employees", "registered_capital")) == [
        "name", "founded:date", "employees:long", "registered_capital:double"]
    assert typed_header("loan_status", ("month", "classification")) == ["month:date", "classification"]


def test_csvs_hold_every_entity_with_typed_headers(tmp_path: Path) -> None:
    plan = write_import_csvs(write_dataset(tmp_path / "ds"), tmp_path / "csv", run_id="run-b")
    files = {f.header_path.name.removesuffix(".header.csv"): f for f in plan.files}
    firms = files["firms"]
    assert _read(firms.header_path)[0] == [
        "uscc:ID(Firm)", "name", "industry", "sector", "region", "size_class", "founded:date",
        "employees:long", "registered_capital:double", "platform", "external:boolean",
        "row_hash", "source", "ingest_run", "ingested_at:datetime"]
    rows = _read(firms.data_path)
    assert rows[0][:2] == [A, INJECTION] and rows[0][6] == "2010-05-01" and rows[0][10] == "false"
    assert _read(files["firm_external"].data_path)[0][:2] == [X, "true"]
    assert _read(files["person"].data_path)[0][0] == P
    supply_h = _read(files["supply_firm"].header_path)[0]
    assert supply_h[:5] == [":START_ID(Firm)", ":END_ID(Firm)", "key", "uid", "annual_value:double"]
    assert _read(files["supply_firm"].data_path)[0][2:4] == ["2022-01-01", f"{A}|{B}|2022-01-01"]
    assert "start:date" in supply_h and "end:date" in supply_h
    assert _read(files["guarantees_person"].header_path)[0][0] == ":START_ID(Person)"
    assert files["loan_status_link"].rows == 6  # every status has its loan
    assert _read(files["meta"].data_path)[0][:1] == ["schema"]
    assert _read(files["run"].data_path)[0][:3] == ["run-b", "ingest", "committed"]
    assert {t: r.created for t, r in plan.report.tables.items()} == TINY_ROWS
    assert plan.report.tables["supply"].externals == 1
    args = admin_arguments(plan, "neo4j", overwrite=True)
    assert args[:3] == ["database", "import", "full"] and args[-1] == "neo4j"
    assert f"--nodes=Firm={firms.header_path},{firms.data_path}" in args
    assert "--overwrite-destination=true" in args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _scratch_settings(home: Path) -> Settings:
    bolt = _free_port()
    return Settings(
        _env_file=None, server_home=home, bolt_port=bolt, http_port=_free_port(),
        neo4j_uri=f"bolt://127.0.0.1:{bolt}", heap="512m", pagecache="128m",
    )


@pytest.mark.slow
@pytest.mark.neo4j
def test_bulk_import_then_merge_changes_nothing(tmp_path: Path) -> None:
    """Import into a scratch server home, start it (schema applied), re-ingest with MERGE: zero changes."""
    from graph import server
    from graph.runner import GraphRunner
    from graph.schema import schema_status
    from ingest.api import load_dataset

    settings = _scratch_settings(tmp_path / "neo4j")
    if not server.is_built(settings):
        from tests.conftest import IN_CI

        reason = "the local Neo4j server is not built (chainrisk db build)"
        if IN_CI:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    ds = write_dataset(tmp_path / "ds")
    try:
        report = bulk_load(ds, settings=settings)
        assert report.bulk and report.totals()["created"] == sum(TINY_ROWS.values())
        with GraphRunner.from_settings(settings) as runner:
            assert all(schema_status(runner).values())
            n = runner.read("MATCH (f:Firm) RETURN count(f) AS n, sum(toInteger(f.external)) AS ext")
            assert n == [{"n": 5, "ext": 1}]
            assert runner.read("MATCH (r:Run {kind: 'ingest'}) RETURN r.status AS s") == [{"s": "committed"}]
            again = load_dataset(ds, runner=runner)
            assert again.changes == 0 and again.properties_set == 0
        server.stop_server(settings)
        with pytest.raises(GraphError, match="--force"):
            bulk_load(ds, settings=settings, start_after=False)
    finally:
        server.stop_server(settings)
