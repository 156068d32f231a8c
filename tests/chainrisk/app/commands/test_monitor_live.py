"""``chainrisk monitor --from-neo4j`` on the live server: two risk runs on a small ingested graph.

The graph route must tell the same story as the file route over the folder the graph was
loaded from: same back-test, same stability, same watchlist.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainrisk.app.cli import main
from gnn.features import firm_features
from gnn.labels import bank_book
from gnn.monitor import monitor
from gnn.scorings import dataset_history, scoring_of
from gnn.tiers import tier_of
from graph.runner import GraphRunner
from graph.runs import publish
from ingest import load_dataset
from ingest.generate import generate
from ingest.snapshot import build_snapshot

pytestmark = pytest.mark.neo4j


def _rows(dataset: Path, t: date, bump: float) -> list[dict[str, Any]]:
    snap = build_snapshot(dataset, as_of=t)
    rows = np.flatnonzero(bank_book(snap))
    lev = np.nan_to_num(firm_features(snap)["leverage"].to_numpy()[rows], nan=0.5)
    p = np.clip(0.005 + bump * lev**2, 0.0003, 0.9)
    return [
        {
            "uscc": u,
            "risk_pd": float(q),
            "risk_tier": int(k),
            "risk_segment": "book",
            "risk_suggested_class": "normal",
            "risk_reasons": [f"leverage {v:.2f}", "sample reason"],
        }
        for u, q, k, v in zip(snap.firms["uscc"].to_numpy()[rows], p, tier_of(p), lev, strict=True)
    ]


def _frame(rows: list[dict[str, Any]], t: date) -> pd.DataFrame:
    return pd.DataFrame([{k.removeprefix("risk_"): v for k, v in r.items()} for r in rows]).assign(as_of=t)


def test_monitor_from_neo4j_matches_the_files(
    clean_graph: GraphRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset = tmp_path / "platform"
    generate(dataset, firms=150, seed=5, months=30)  # data to 2023-06-30
    load_dataset(dataset, runner=clean_graph, quarantine_dir=tmp_path / "q")
    before, now = date(2022, 6, 30), date(2022, 12, 31)
    prev_rows, cur_rows = _rows(dataset, before, 0.08), _rows(dataset, now, 0.16)
    for t, rows in ((before, prev_rows), (now, cur_rows)):
        publish(
            clean_graph,
            kind="score",
            family="risk",
            parameters={"model": "test", "as_of": t},
            as_of=t,
            firm_rows=rows,
        )

    assert main(["monitor", "--from-neo4j", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["current"]["as_of"] == now.isoformat() and got["previous"]["as_of"] == before.isoformat()
    assert got["current"]["source"].startswith("run score-")
    assert got["data_end"] == "2023-06-30"  # the ingest's as_of

    want = monitor(
        scoring_of(_frame(cur_rows, now), source="file"),
        scoring_of(_frame(prev_rows, before), source="file"),
        dataset_history(dataset),
    )
    assert got["backtest"] == json.loads(json.dumps(want["backtest"]))
    assert got["watchlist"] == want["watchlist"]
    assert got["watchlist"], "doubling the PD slope must worsen some tiers"
    assert all(not r["new"] for w in got["watchlist"] for r in w["reasons"])  # same reasons, other figures
    assert got["stability"]["score"] == pytest.approx(want["stability"]["score"])
    assert [r["feature"] for r in got["stability"]["features"]] == [
        r["feature"] for r in want["stability"]["features"]
    ]
    assert [r["psi"] for r in got["stability"]["features"]] == pytest.approx(
        [r["psi"] for r in want["stability"]["features"]]
    )
    assert got["verdict"] == want["verdict"]


def test_no_risk_run_is_one_line(clean_graph: GraphRunner, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["monitor", "--from-neo4j"]) == 1
    assert "no committed risk run" in capsys.readouterr().err
