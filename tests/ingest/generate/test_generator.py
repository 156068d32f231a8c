"""End-to-end tests of ``ingest.generate.generator``: the contract, determinism, arguments, CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import typer
import yaml
from typer.testing import CliRunner

from ingest.generate import DEFAULT_CONTAGION_STRENGTH, GenerationSummary, generate
from ingest.manifest import read_manifest
from ingest.tables import TABLES
from ingest.validate import validate_table
from tests.ingest.generate._helpers import read


def test_public_api() -> None:
    import ingest.generate as g

    assert g.__all__ == sorted(g.__all__)
    assert DEFAULT_CONTAGION_STRENGTH > 0


def test_contract_files_and_columns(big: tuple[Path, GenerationSummary]) -> None:
    out, s = big
    manifest = yaml.safe_load((out / "dataset.yaml").read_text())
    assert manifest["mode"] == "full" and manifest["currency"] == "CNY" and manifest["unit"] == "yuan"
    assert (out / "firms.csv").exists()
    expected = {
        "supply": ["supplier_uscc", "buyer_uscc", "annual_value", "start", "end"],
        "loans": [
            "loan_id",
            "borrower_uscc",
            "lender",
            "principal",
            "limit",
            "currency",
            "start",
            "maturity",
            "collateral_type",
            "collateral_value",
            "lgd",
        ],
        "loan_status": ["loan_id", "month", "outstanding", "days_overdue", "classification"],
        "guarantees": [
            "guarantor_id",
            "guarantor_type",
            "borrower_uscc",
            "loan_id",
            "amount",
            "start",
            "end",
        ],
        "signals": [
            "uscc",
            "month",
            "electricity_kwh",
            "equipment_utilization",
            "orders",
            "invoices",
        ],
        "ownership": ["owner_id", "owner_type", "firm_uscc", "share", "start", "end"],
    }
    for table, cols in expected.items():
        assert read(out, table).column_names == cols
    summary = json.loads((out / "_truth" / "summary.json").read_text())
    assert summary["firms"] == s.firms == 20_000


def _columns(path: Path) -> list[str]:
    """Column names of one written table, read raw (no header aliases applied)."""
    if path.suffix == ".parquet":
        return list(pq.read_schema(path).names)
    if path.suffix == ".csv":
        return list(pacsv.read_csv(path).column_names)
    return list(pd.read_json(path, lines=True, nrows=1).columns)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_writes_contract_columns_only(tmp_path: Path, fmt: str) -> None:
    """Every table holds canonical contract columns only, and ingest validation of the
    dataset warns about nothing (no ignored columns, nothing quarantined)."""
    generate(tmp_path, firms=300, seed=2, months=24, fmt=fmt)
    files = {p.name.split(".")[0]: p for p in tmp_path.iterdir() if p.is_file() and p.name != "dataset.yaml"}
    assert set(files) == set(TABLES)
    for table, path in files.items():
        cols = _columns(path)
        assert cols and set(cols) <= set(TABLES[table].column_names), (table, cols)
    manifest = read_manifest(tmp_path)
    for table in TABLES:
        chunks = list(validate_table(tmp_path, table, manifest))
        warnings = [w for c in chunks for w in c.warnings]
        assert not [w for w in warnings if "ignored columns" in w or "contract" in w], warnings
        assert warnings == [], warnings
        assert sum(c.rows_quarantined for c in chunks) == 0 and sum(len(c.good) for c in chunks) > 0


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "summary.json"  # the summary holds the run time
    }


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_deterministic(tmp_path: Path, fmt: str) -> None:
    a = generate(tmp_path / "a", firms=1_500, seed=5, months=24, fmt=fmt)
    b = generate(tmp_path / "b", firms=1_500, seed=5, months=24, fmt=fmt)
    ha, hb = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert ha == hb and any(k.endswith(f".{fmt}") for k in ha)
    assert a.defaults == b.defaults
    c = generate(tmp_path / "c", firms=1_500, seed=6, months=24, fmt=fmt)
    assert _hashes(tmp_path / "c") != ha and c.firms == a.firms


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="firms"):
        generate(tmp_path, firms=10, seed=1)
    with pytest.raises(ValueError, match="months"):
        generate(tmp_path, firms=200, seed=1, months=12)
    with pytest.raises(ValueError, match="format"):
        generate(tmp_path, firms=200, seed=1, fmt="xlsx")
    with pytest.raises(ValueError, match="contagion"):
        generate(tmp_path, firms=200, seed=1, contagion_strength=-1)


def test_cli(tmp_path: Path) -> None:
    from chainrisk.app.commands.generate import register

    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from collapsing the group
        """Nothing."""

    help_text = CliRunner().invoke(app, ["generate", "--help"]).output
    assert "Example: chainrisk generate" in help_text
    res = CliRunner().invoke(
        app,
        [
            "generate",
            str(tmp_path / "d"),
            "--firms",
            "300",
            "--seed",
            "2",
            "--months",
            "24",
            "--format",
            "csv",
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "d" / "supply.csv").exists() and "mean degree" in res.output
