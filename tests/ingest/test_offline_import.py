"""Offline (bulk) import: the CSV writer (headers, types, externals) and, end to end, neo4j-admin into a
scratch server home of its own (not the shared test server's)."""

from __future__ import annotations

import csv
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chainrisk.errors import DatasetError, GraphError
from chainrisk.settings import Settings
from ingest.offline_import import admin_arguments, bulk_load, typed_header, write_import_csvs
from ingest.tables import TABLES
from tests.ingest._tiny import INJECTION, TINY_ROWS, A, B, C, P, X, write_dataset


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


def test_typed_headers() -> None:
    assert typed_header(TABLES["firms"], ("name", "founded", "employees", "registered_capital")) == [
        "name", "founded:date", "employees:long", "registered_capital:double"]
    status = typed_header(TABLES["loan_status"], ("month", "classification"))
    assert status == ["month:date", "classification"]


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
    assert supply_h == [":START_ID(Firm)", ":END_ID(Firm)", "uid", "annual_value:double", "start:date",
                        "end:date", "row_hash", "source", "ingest_run"]
    assert _read(files["supply_firm"].data_path)[0][2:3] == [f"{A}|{B}|2022-01-01"]
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


# ------------------------------------------------------------- CSV formatting
# ------------------------------------------------------------------ whole files
def test_names_with_commas_quotes_and_line_breaks_survive(tmp_path: Path) -> None:
    name = 'Gamma, "Parts"\nsecond line'
    cell = '"' + name.replace('"', '""') + '"'
    plan = write_import_csvs(write_dataset(tmp_path / "ds", firm_c_name=cell), tmp_path / "csv", run_id="r")
    firms = next(f for f in plan.files if f.header_path.name == "firms.header.csv")
    names = {r[0]: r[1] for r in _read(firms.data_path)}
    assert names[A] == INJECTION and names[C] == name
    assert plan.multiline and "--multiline-fields=true" in admin_arguments(plan, "neo4j", overwrite=False)
    plain = write_import_csvs(write_dataset(tmp_path / "ds2"), tmp_path / "csv2", run_id="r")
    assert not plain.multiline


def _report(plan: Any) -> dict[str, Any]:
    r = plan.report.to_dict()
    r.pop("seconds")
    r.pop("dataset")
    for t in r["tables"].values():
        t.pop("seconds")
    return dict(r)


def test_parallel_validation_writes_the_same_files(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path / "ds", supply_rows=[f"{A},{B},1200000,2022-01-01,", f"{A},{A},1,2022-01-01,",
                                                    f"{A},{X},5,2022-02-01,"])
    now = datetime(2024, 7, 1, tzinfo=UTC)
    plans = {par: write_import_csvs(ds, tmp_path / f"csv-{par}", run_id="r", now=now, parallel=par,
                                    quarantine_dir=tmp_path / f"q-{par}")
             for par in (False, True)}
    seq, par = plans[False], plans[True]
    assert [f.data_path.name for f in seq.files] == [f.data_path.name for f in par.files]
    for a, b in zip(seq.files, par.files, strict=True):
        if a.data_path.name != "run.csv":
            assert a.data_path.read_bytes() == b.data_path.read_bytes(), a.data_path.name
            assert a.rows == b.rows
    assert _report(seq) == _report(par)
    assert seq.report.tables["supply"].quarantined == 1 and seq.report.tables["supply"].externals == 1
    quarantined = [(tmp_path / f"q-{p}" / "supply.quarantine.csv").read_bytes() for p in (False, True)]
    assert quarantined[0] == quarantined[1]


@pytest.mark.parametrize("parallel", [False, True])
def test_a_table_the_worker_cannot_validate_fails_the_import(tmp_path: Path, parallel: bool) -> None:
    ds = write_dataset(tmp_path / "ds")
    (ds / "loans.csv").write_text("loan_id,lender\nL1,bank-a\n", encoding="utf-8")  # no borrower_uscc
    with pytest.raises(DatasetError, match="borrower_uscc"):
        write_import_csvs(ds, tmp_path / "csv", run_id="r", parallel=parallel)


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


def _property_shape(runner: Any) -> dict[str, list[str]]:
    """Every label's and relationship type's property keys (ingested facts only)."""
    nodes = runner.read(
        "MATCH (n) WHERE NOT n:Run AND NOT n:ChainriskMeta UNWIND labels(n) AS l UNWIND keys(n) AS k "
        "RETURN l AS name, collect(DISTINCT k) AS keys")
    rels = runner.read(
        "MATCH ()-[r]->() UNWIND keys(r) AS k RETURN type(r) AS name, collect(DISTINCT k) AS keys")
    return {row["name"]: sorted(row["keys"]) for row in [*nodes, *rels]}


@pytest.mark.slow
@pytest.mark.neo4j
def test_bulk_import_then_merge_changes_nothing(tmp_path: Path) -> None:
    """Import into a scratch server home, start it (schema applied), re-ingest with MERGE: zero changes."""
    from graph import server
    from graph.runner import GraphRunner
    from graph.schema import schema_status
    from ingest.load import load_dataset

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
            # both load paths store the same properties on every label and relationship type
            imported = _property_shape(runner)
            runner.write("MATCH (n) WHERE NOT n:ChainriskMeta DETACH DELETE n")
            load_dataset(ds, runner=runner)
            assert _property_shape(runner) == imported
        server.stop_server(settings)
        with pytest.raises(GraphError, match="--force"):
            bulk_load(ds, settings=settings, start_after=False)
    finally:
        server.stop_server(settings)
