"""The 20k-firm dataset that the calibration and consistency tests share (generated once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.generate import GenerationSummary, generate


@pytest.fixture(scope="session")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    """20,000 firms, seed 3, 60 months (the calibration case of ``docs/generator.md``)."""
    out = tmp_path_factory.mktemp("gen20k")
    return out, generate(out, firms=20_000, seed=3)
