"""A small generated platform the risk-model tests share (generated once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gnn.protocol import Cut, CutPlan, load_cuts
from ingest.generate import generate


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 firms over 48 months: one training, one validation and one test year."""
    out = tmp_path_factory.mktemp("gnn") / "platform"
    generate(out, firms=1500, seed=11, months=48)
    return out


@pytest.fixture(scope="session")
def platform_cuts(platform: Path) -> tuple[CutPlan, dict[date, Cut]]:
    """The protocol's cuts of :func:`platform` (built once)."""
    return load_cuts(platform)
