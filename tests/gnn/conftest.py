"""A small generated platform the risk-model tests share (generated once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gnn.candidates import RiskModel, fit_candidate
from gnn.model_store import TrainedModel
from gnn.protocol import Cut, CutPlan, load_cuts
from gnn.training import train
from ingest.generate import generate
from ingest.manifest import read_manifest


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 firms over 48 months: one training, one validation and one test year."""
    out = tmp_path_factory.mktemp("gnn") / "platform"
    generate(out, firms=1500, seed=11, months=48)
    return out


@pytest.fixture(scope="session")
def trained(platform: Path) -> TrainedModel:
    """B0 and B1 trained on the platform as of its data's end (fast: no graph-aware candidate)."""
    return train(platform, read_manifest(platform).as_of, seed=0, threads=1, candidates=["B0", "B1"])


@pytest.fixture(scope="session")
def platform_cuts(platform: Path) -> tuple[CutPlan, dict[date, Cut]]:
    """Every cut of the platform's protocol, built once."""
    return load_cuts(platform)


@pytest.fixture(scope="session")
def platform_models(platform_cuts: tuple[CutPlan, dict[date, Cut]]) -> dict[str, RiskModel]:
    """B0 (logistic) and B2 (trees with chain features) fitted once on the platform's cuts."""
    plan, cuts = platform_cuts
    train = [cuts[t] for t in plan.train]
    return {name: fit_candidate(name, train, cuts[plan.validation], seed=0) for name in ("B0", "B2")}
