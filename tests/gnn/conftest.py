"""A small generated platform the risk-model tests share (generated once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gnn.model_store import TrainedModel
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
