"""The ``chainrisk ingest`` command (:mod:`chainrisk.app.commands.ingest`), in dry runs."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from chainrisk.app.commands.ingest import register
from tests.ingest.test_load import with_bad_row


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer from collapsing the app into `ingest`
        pass

    return app


def test_cli_strict_exit_code(tmp_path: Path) -> None:
    ds = with_bad_row(tmp_path / "ds")
    runner = CliRunner()
    ok = runner.invoke(_cli(), ["ingest", str(ds), "--dry-run"])
    assert ok.exit_code == 0, ok.output
    strict = runner.invoke(_cli(), ["ingest", str(ds), "--dry-run", "--strict"])
    assert strict.exit_code == 1
    assert "quarantined" in strict.output


def test_cli_help_has_an_example() -> None:
    out = CliRunner().invoke(_cli(), ["ingest", "--help"])
    assert out.exit_code == 0 and "Example: chainrisk ingest" in out.output


def test_cli_validation_worker_on_and_off_report_the_same(tmp_path: Path) -> None:
    """--parallel forces the worker process even for a small dataset; both runs quarantine the same row."""
    ds = with_bad_row(tmp_path / "ds")
    runner = CliRunner()
    outs = []
    for flag in ("--parallel", "--no-parallel"):
        res = runner.invoke(_cli(), ["ingest", str(ds), "--dry-run", flag])
        assert res.exit_code == 0, res.output
        outs.append(res.output.split("change(s)")[0])
    assert outs[0] == outs[1]
    bad = [f for f in (ds / "_quarantine").glob("*.quarantine.csv") if len(f.read_text().splitlines()) > 1]
    assert len(bad) == 1
