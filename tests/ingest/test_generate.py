"""Tests of the synthetic dataset generator: contract, calibration, determinism, CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import typer
import yaml
from typer.testing import CliRunner

from ingest.generate import DEFAULT_CONTAGION_STRENGTH, GenerationSummary, generate, stats
from ingest.uscc import is_valid

TABLES = (
    "financials",
    "supply",
    "receivables",
    "guarantees",
    "loans",
    "loan_status",
    "events",
    "signals",
    "ownership",
)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("gen20k")
    return out, generate(out, firms=20_000, seed=3)


def _read(out: Path, table: str) -> pa.Table:
    return pq.read_table(out / f"{table}.parquet")


def _days(col: pa.ChunkedArray) -> np.ndarray:
    return col.cast(pa.int32()).to_numpy(zero_copy_only=False)


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
        "supply": ["supplier_uscc", "buyer_uscc", "annual_value", "start", "end", "source"],
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
            "orders_value",
            "invoices_value",
        ],
        "ownership": ["owner_id", "owner_type", "uscc", "share", "start", "end"],
    }
    for table, cols in expected.items():
        assert _read(out, table).column_names == cols
    summary = json.loads((out / "_truth" / "summary.json").read_text())
    assert summary["firms"] == s.firms == 20_000


def test_network_calibration(big: tuple[Path, GenerationSummary]) -> None:
    _, s = big
    assert 4.5 * 0.85 <= s.mean_degree <= 4.5 * 1.15
    assert s.max_degree_ratio > 20
    assert 0.15 <= s.scc_fraction <= 0.35
    assert 13 * 0.75 <= s.link_half_life_months <= 13 * 1.25
    assert s.within_province > 0.5
    assert 0.02 <= s.annual_default_rate <= 0.06
    assert 0.30 <= s.link_default_share <= 0.50


def test_statistics_from_files(big: tuple[Path, GenerationSummary]) -> None:
    """Recompute half-life and heavy tails from the written supply table."""
    out, _s = big
    sup = _read(out, "supply")
    start = _days(sup["start"])
    end = sup["end"].cast(pa.int32()).to_numpy(zero_copy_only=False)
    end = np.where(np.isnan(end.astype(float)), 10**9, end).astype(np.int64)
    lo = (np.datetime64("2021-01-01", "D") - np.datetime64("1970-01-01", "D")).astype(int)
    hl = stats.half_life_months(start - lo, end - lo, 0, 1826)
    assert 13 * 0.75 <= hl <= 13 * 1.25
    firms = set(pacsv.read_csv(out / "firms.csv")["uscc"].to_pylist())
    codes = sup["supplier_uscc"].to_pylist() + sup["buyer_uscc"].to_pylist()
    external = sum(1 for c in codes if c not in firms) / len(sup)
    assert 0.01 <= external <= 0.06


def test_guarantee_network(big: tuple[Path, GenerationSummary]) -> None:
    out, s = big
    g = _read(out, "guarantees")
    loans = _read(out, "loans")
    assert s.mutual_guarantee_pairs >= 10
    assert s.guarantee_circles >= 3
    assert s.max_guarantor_degree >= 20
    assert set(g["guarantor_type"].to_pylist()) == {"firm", "person"}
    principal = dict(zip(loans["loan_id"].to_pylist(), loans["principal"].to_pylist(), strict=True))
    assert all(
        a <= principal[lid] + 1e-6
        for lid, a in zip(g["loan_id"].to_pylist(), g["amount"].to_pylist(), strict=True)
    )


def test_every_uscc_valid(big: tuple[Path, GenerationSummary]) -> None:
    out, _ = big
    codes: set[str] = set(pacsv.read_csv(out / "firms.csv")["uscc"].to_pylist())
    for table, cols in {
        "supply": ("supplier_uscc", "buyer_uscc"),
        "receivables": ("creditor_uscc", "debtor_uscc"),
        "loans": ("borrower_uscc",),
        "guarantees": ("borrower_uscc",),
        "events": ("uscc",),
        "ownership": ("uscc",),
    }.items():
        t = _read(out, table)
        for c in cols:
            codes.update(t[c].unique().to_pylist())
    g = _read(out, "guarantees")
    codes.update(
        x
        for x, k in zip(g["guarantor_id"].to_pylist(), g["guarantor_type"].to_pylist(), strict=True)
        if k == "firm"
    )
    assert codes and all(is_valid(c) for c in codes)


def test_defaults_consistent_with_loans_and_events(big: tuple[Path, GenerationSummary]) -> None:
    out, _ = big
    truth = pq.read_table(out / "_truth" / "defaults.parquet")
    ev = _read(out, "events")
    first_default = {}
    for u, d, t in zip(ev["uscc"].to_pylist(), ev["date"].to_pylist(), ev["type"].to_pylist(), strict=True):
        if t == "default":
            first_default.setdefault(u, d)
    assert first_default == dict(zip(truth["uscc"].to_pylist(), truth["date"].to_pylist(), strict=True))
    status = _read(out, "loan_status")
    loans = _read(out, "loans")
    borrower = dict(zip(loans["loan_id"].to_pylist(), loans["borrower_uscc"].to_pylist(), strict=True))
    days = status["days_overdue"].to_numpy()
    late = np.flatnonzero(days > 90)
    months = status["month"].to_pylist()
    ids = status["loan_id"].to_pylist()
    for i in late[:: max(1, len(late) // 2000)]:
        b = borrower[ids[i]]
        assert b in first_default and months[i] > first_default[b]  # >90 days only after the default event
    cls = np.array(status["classification"].to_pylist())
    assert ((days > 90) & (cls == "normal")).sum() > 0  # deliberate inconsistencies exist
    assert ((days > 90) & np.isin(cls, ["substandard", "doubtful", "loss"])).mean() > 0.9 * (days > 90).mean()
    causes = set(truth["cause"].to_pylist())
    assert causes == {"own", "supply", "guarantee"}
    linked = truth.filter(pc.not_equal(truth["cause"], "own"))
    assert linked["via_uscc"].null_count == 0


def test_financials_published_after_period(big: tuple[Path, GenerationSummary]) -> None:
    out, _ = big
    f = _read(out, "financials")
    assert (_days(f["published"]) > _days(f["period_end"])).all()
    eq = f["equity"].to_numpy()
    assert np.allclose(eq, f["total_assets"].to_numpy() - f["total_liabilities"].to_numpy(), atol=0.02)


def test_no_contagion_at_strength_zero(tmp_path: Path) -> None:
    s = generate(tmp_path, firms=5_000, seed=11, months=36, contagion_strength=0.0)
    assert s.defaults > 0 and s.link_default_share == 0.0


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
    with pytest.raises(ValueError, match="format"):
        generate(tmp_path, firms=200, seed=1, fmt="xlsx")
    with pytest.raises(ValueError, match="contagion"):
        generate(tmp_path, firms=200, seed=1, contagion_strength=-1)


def test_cli(tmp_path: Path) -> None:
    from chainrisk.commands.generate import register

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
