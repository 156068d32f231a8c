"""``chainrisk monitor`` over Parquet score files and a small generated dataset (no server)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from chainrisk.app.cli import main
from chainrisk.app.commands import monitor as monitor_cmd
from chainrisk.errors import ConfigError
from gnn.features import firm_features
from gnn.labels import bank_book
from gnn.tiers import tier_of
from ingest.generate import generate
from ingest.snapshot import build_snapshot


def _scores(dataset: Path, t: date, path: Path) -> Path:
    """The book at ``t``, PD rising with leverage, in the score column contract."""
    snap = build_snapshot(dataset, as_of=t)
    rows = np.flatnonzero(bank_book(snap))
    lev = np.nan_to_num(firm_features(snap)["leverage"].to_numpy()[rows], nan=0.5)
    p = np.clip(0.005 + 0.12 * lev**2, 0.0003, 0.9)
    pd.DataFrame(
        {
            "uscc": snap.firms["uscc"].to_numpy()[rows],
            "segment": "book",
            "pd": p,
            "tier": tier_of(p),
            "suggested_class": "normal",
            "reasons": [[f"leverage {v:.2f}"] for v in lev],
            "model_version": "test",
            "as_of": pd.Timestamp(t),
            "pd_change": np.nan,
        }
    ).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A 300-firm platform to 2023-06-30, scored at 2022-12-31 (current) and 2022-06-30 (previous)."""
    root = tmp_path_factory.mktemp("monitor")
    generate(root / "platform", firms=300, seed=5, months=30)
    current = _scores(root / "platform", date(2022, 12, 31), root / "current.parquet")
    previous = _scores(root / "platform", date(2022, 6, 30), root / "previous.parquet")
    return root / "platform", current, previous


def _app() -> typer.Typer:
    app = typer.Typer()
    monitor_cmd.register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps "monitor" a subcommand
        """Nothing."""

    return app


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(_app(), ["monitor", "--help"])
    assert result.exit_code == 0 and "Example: chainrisk monitor --scores" in result.output


@pytest.mark.parametrize(
    "args", [[], ["--scores", "a.parquet", "--from-neo4j"], ["--from-neo4j", "--dataset", "d"]]
)
def test_sources_must_not_clash(args: list[str]) -> None:
    result = CliRunner().invoke(_app(), ["monitor", *args])
    assert isinstance(result.exception, ConfigError)


def test_json_over_files(files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    dataset, current, previous = files
    args = [
        "monitor",
        "--scores",
        str(current),
        "--previous",
        str(previous),
        "--dataset",
        str(dataset),
        "--json",
    ]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)  # exactly one JSON document
    assert out["current"]["as_of"] == "2022-12-31" and out["previous"]["as_of"] == "2022-06-30"
    bt = out["backtest"]
    # the data end at 2023-06-30: half the current scoring's window is observed
    assert (
        bt["scoring"] == "current"
        and bt["window"]["partial"]
        and bt["window"]["observed_until"] == "2023-06-30"
    )
    assert bt["portfolio"]["firms"] == pd.read_parquet(current).shape[0] - bt["excluded_in_default"]
    assert out["stability"]["score"]["feature"] == "pd"
    psis = [r["psi"] for r in out["stability"]["features"]]
    assert psis == sorted(psis, reverse=True)
    assert out["verdict"] in ("calibrated and stable", "watch", "recalibrate", "investigate")
    assert isinstance(out["watchlist"], list)


def test_tables_over_files(files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    dataset, current, previous = files
    assert (
        main(["monitor", "--scores", str(current), "--previous", str(previous), "--dataset", str(dataset)])
        == 0
    )
    text = capsys.readouterr().out
    assert (
        "verdict:" in text and "back-test" in text and "population stability" in text and "watchlist" in text
    )


def test_scores_alone_give_score_stability_only(
    files: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, current, previous = files
    assert main(["monitor", "--scores", str(current), "--previous", str(previous), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["backtest"] is None and out["stability"]["features"] is None
    assert out["stability"]["score"]["psi"] >= 0 and out["verdict"] != "calibrated and stable"


def test_an_unreadable_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--scores", str(tmp_path / "missing.parquet")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "cannot read scores" in err and "\n" not in err
