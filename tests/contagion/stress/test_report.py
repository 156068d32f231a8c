"""Output files and the HTML report of a stress run."""

from __future__ import annotations

import json

import pandas as pd

from contagion.stress.report import write_outputs

from .conftest import build_snapshot, run_small


def test_outputs_written(tmp_path: object) -> None:
    res = run_small()
    paths = write_outputs(res, tmp_path)  # type: ignore[arg-type]
    for name in ("firms", "loss_distribution", "segments", "measures", "paths"):
        frame = pd.read_parquet(paths[name])
        assert len(frame) > 0
    assert len(pd.read_parquet(paths["loss_distribution"])) == 1000
    summary = json.loads(paths["summary"].read_text())
    assert {"scenario_hash", "snapshot_hash", "seed", "runs", "code_version", "measures"} <= set(summary)
    assert summary["snapshot_hash"] == build_snapshot(equity=30.0).content_hash()
    html = paths["report"].read_text()
    assert html.count("<img") >= 3 and "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html
    assert "Copula and asset correlation" in html and "Default stock" in html
    assert {"copula", "default_stock"} <= set(summary)
