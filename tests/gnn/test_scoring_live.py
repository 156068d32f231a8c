"""Train and score from the live graph, write ``risk`` runs, read the current labels back."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainrisk.app.cli import main
from gnn.model_store import save_model
from gnn.reasons import portfolio_reasons
from gnn.scoring import previous_from_graph, publish_scores, score
from gnn.training import train, train_from_graph
from graph.runner import GraphRunner
from ingest.generate import generate
from ingest.load import load_dataset
from ingest.manifest import read_manifest
from ingest.snapshot import build_snapshot, read_snapshot

pytestmark = pytest.mark.neo4j

#: The pattern docs/risk-model.md gives analysts for the current labels.
CURRENT_LABELS = (
    "MATCH (:Current {family: 'risk'})-[:POINTS_TO]->(run:Run) "
    "MATCH (f:Firm)-[:HAS_RESULT]->(r:Result {run_id: run.run_id}) "
    "RETURN f.uscc AS uscc, r.risk_pd AS pd, r.risk_tier AS tier, "
    "r.risk_suggested_class AS suggested_class, r.risk_reasons AS reasons, r.risk_pd_change AS pd_change "
    "ORDER BY r.risk_pd DESC"
)


def test_score_from_the_graph_and_write_back_twice(
    clean_graph: GraphRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = tmp_path / "platform"
    generate(ds, firms=200, seed=3, months=48)
    load_dataset(ds, runner=clean_graph)
    end = read_manifest(ds).as_of
    kw = {"seed": 0, "threads": 1, "candidates": ["B0"]}

    trained = train_from_graph(clean_graph, end, **kw)
    from_files = train(ds, end, **kw)
    # the graph holds what the files hold: the same tables, cuts and model
    assert (
        trained.card["training_data"]["content_sha256"] == from_files.card["training_data"]["content_sha256"]
    )
    assert trained.card["sizes"] == from_files.card["sizes"] and trained.version == from_files.version

    first_day = date(end.year, 6, 30)
    first = score(
        trained, read_snapshot(clean_graph, as_of=first_day), previous=previous_from_graph(clean_graph)
    )
    assert first["pd_change"].isna().all()
    run1 = publish_scores(clean_graph, first, trained, as_of=first_day)

    # the second run through the CLI: from the graph, written back by default
    model_dir = save_model(trained, tmp_path / "model")
    code = main(["score", "--model", str(model_dir), "--as-of", end.isoformat(), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["run_id"]

    expected = score(trained, build_snapshot(ds, as_of=end), previous=first, reasons=portfolio_reasons)
    current = pd.DataFrame(clean_graph.read(CURRENT_LABELS)).set_index("uscc")
    assert set(current.index) == set(expected["uscc"])
    exp = expected.set_index("uscc").loc[current.index]
    np.testing.assert_allclose(current["pd"].to_numpy(dtype=float), exp["pd"].to_numpy())
    assert current["tier"].tolist() == exp["tier"].tolist()
    assert current["suggested_class"].tolist() == exp["suggested_class"].tolist()
    # the reasons written back are the scoring's, at least three a firm
    assert [list(r) for r in current["reasons"]] == [list(r) for r in exp["reasons"]]
    assert min(len(r) for r in current["reasons"]) >= 3
    # pd_change against the first run, where the firm was scored then
    np.testing.assert_allclose(current["pd_change"].to_numpy(dtype=float), exp["pd_change"].to_numpy())
    changed = exp["pd_change"].dropna()
    assert (
        len(changed) > 0
        and (changed != 0).any()
        and exp["pd_change"].isna().sum() == (~exp.index.isin(first["uscc"])).sum()
    )

    # the first run stays queryable, superseded; the second is current with its parameters
    runs = {
        r["run_id"]: r
        for r in clean_graph.read(
            "MATCH (r:Run {family: 'risk'}) OPTIONAL MATCH (r)<-[:HAS_RESULT]-() "
            "RETURN r.run_id AS run_id, r.status AS status, r.parameters AS parameters"
        )
    }
    assert runs[run1.run_id]["status"] == "superseded" and runs[summary["run_id"]]["status"] == "committed"
    params = json.loads(runs[summary["run_id"]]["parameters"])
    assert params["model_version"] == trained.version and params["pd_type"] == "point-in-time"
    old = clean_graph.read(
        "MATCH (:Firm)-[:HAS_RESULT]->(r:Result {run_id: $id}) RETURN count(r) AS n", {"id": run1.run_id}
    )
    assert old[0]["n"] == len(first)
