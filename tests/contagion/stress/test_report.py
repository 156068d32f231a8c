"""Output files and the HTML report of a stress run."""

from __future__ import annotations

import json

import pandas as pd
import pytest

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
    assert "calm-year baseline" in html and set(summary["contagion"]["EL_over_baseline"]) == {"value", "se"}
    # the interface kept stable (issue 15): the measures with value and se, the firm columns, and
    # es_contribution summing to ES 99 % as written
    for key in ("EL", "VaR_95", "ES_95", "VaR_99", "ES_99", "VaR_99.9", "ES_99.9"):
        assert set(summary["measures"][key]) >= {"value", "se"}, key
    firms = pd.read_parquet(paths["firms"])
    assert {"uscc", "pd", "bank_ead", "stress_default_prob", "stress_mean_loss", "lgd", "in_default",
            "es_contribution"} <= set(firms.columns)
    assert firms["es_contribution"].sum() == pytest.approx(summary["measures"]["ES_99"]["value"], rel=1e-12)
