"""The protocol end to end on a small generated platform (``gnn.evaluate``) and its command."""

from __future__ import annotations

import json
import math
from pathlib import Path

import typer
from typer.testing import CliRunner

from chainrisk.app.commands.evaluate import register
from gnn.evaluate import bootstrap_interval, evaluate
from gnn.metrics import auc


def test_every_model_is_scored_on_the_same_test_cut(platform: Path) -> None:
    r = evaluate(platform, seeds=1)
    assert set(r["models"]) == {"B0", "B1", "B2"} and r["shipped"] == "B2"
    assert set(r["pending"]) == {"B3", "B4"}
    for m in r["models"].values():
        assert (
            0.5 < m["auc"] <= 1.0 and 0 <= m["ece"] < 0.2 and m["auc_ci95"][0] <= m["auc"] <= m["auc_ci95"][1]
        )
        assert set(m) >= {"auc", "pr_auc", "ks", "brier", "ece"}
    assert r["book"]["test_defaults"] > 0 and "sales_to_defaulted" in r["features"]["chain"]
    # the same seed gives the same figures
    again = evaluate(platform, seeds=1)
    assert again["models"]["B1"]["auc"] == r["models"]["B1"]["auc"]


def test_json_output_is_exactly_one_object(platform: Path) -> None:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:
        pass

    res = CliRunner().invoke(app, ["evaluate", str(platform), "--seeds", "1", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc["models"]["B0"]) >= {"auc", "pr_auc", "ks", "brier", "ece"} and doc["shipped"] == "B2"


def test_bootstrap_interval_contains_the_estimate() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.2).astype(float)
    p = np.clip(y * 0.3 + rng.random(400) * 0.7, 0, 1)
    lo, hi = bootstrap_interval(y, p, auc, seed=1)
    assert lo <= auc(y, p) <= hi and not math.isnan(lo)
