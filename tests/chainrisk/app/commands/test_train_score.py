"""``chainrisk train`` then ``chainrisk score`` on a small generated dataset, end to end, no server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from chainrisk.app.cli import main
from chainrisk.settings import get_settings
from gnn.scoring import SCORE_COLUMNS
from ingest.generate import generate
from ingest.manifest import read_manifest


@pytest.fixture()
def model_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The default model folder, pointed into tmp_path."""
    path = tmp_path / "models" / "current"
    monkeypatch.setenv("CHAINRISK_MODEL_DIR", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_train_then_score_a_dataset(
    tmp_path: Path, model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = tmp_path / "platform"
    generate(ds, firms=300, seed=5, months=48)
    as_of = read_manifest(ds).as_of.isoformat()

    code = main(["train", str(ds), "--as-of", as_of, "--models", "B0,B1", "--threads", "1", "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    card = json.loads(out)
    assert card["pd_type"] == "point-in-time" and card["path"] == str(model_dir)
    assert (model_dir / "model_card.json").is_file()

    first = tmp_path / "scores" / "first.parquet"
    code = main(["score", "--dataset", str(ds), "--as-of", as_of, "--out", str(first), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["model_version"] == card["model"]["version"] and summary["run_id"] is None
    frame = pd.read_parquet(first)
    assert tuple(frame.columns) == SCORE_COLUMNS
    assert set(frame["segment"]) == {"book", "prospect"}
    assert summary["segments"]["book"]["firms"] == int((frame["segment"] == "book").sum())

    # the same model on the same data: nothing changed since the first file
    second = tmp_path / "scores" / "second.parquet"
    code = main(
        [
            "score",
            "--model",
            str(model_dir),
            "--dataset",
            str(ds),
            "--as-of",
            as_of,
            "--out",
            str(second),
            "--previous",
            str(first),
        ]
    )
    capsys.readouterr()
    assert code == 0
    assert (pd.read_parquet(second)["pd_change"] == 0).all()
    # every scored firm has at least three reasons
    assert frame["reasons"].map(len).min() >= 3

    # one firm's full explanation: contributions add up to its log-odds
    firm = str(frame.sort_values("pd").iloc[-1]["uscc"])
    code = main(["explain", firm, "--dataset", str(ds), "--as-of", as_of, "--json"])
    expl = json.loads(capsys.readouterr().out)
    assert code == 0 and expl["uscc"] == firm and len(expl["reasons"]) >= 3
    assert sum(f["contribution"] for f in expl["features"]) + expl["base"] == pytest.approx(expl["log_odds"])
    assert expl["pd"] == pytest.approx(float(frame.set_index("uscc").loc[firm, "pd"]))


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["score", "--model", str(tmp_path / "none"), "--dataset", str(tmp_path), "--as-of", "2024-12-31"]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1 and "no saved model" in err and len(err.splitlines()) == 1
    code = main(["train", "--as-of", "2024-12-31"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "exactly one of" in err and len(err.splitlines()) == 1
    code = main(["train", str(tmp_path), "--as-of", "31/12/2024"])
    assert code == 1 and "YYYY-MM-DD" in capsys.readouterr().err
