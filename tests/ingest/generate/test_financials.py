"""Statements (``ingest.generate.financials``) as written."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.generate import GenerationSummary
from tests.ingest.generate._helpers import days, read


def test_financials_published_after_period(big: tuple[Path, GenerationSummary]) -> None:
    out, _ = big
    f = read(out, "financials")
    assert (days(f["published"]) > days(f["period_end"])).all()
    eq = f["equity"].to_numpy()
    assert np.allclose(eq, f["total_assets"].to_numpy() - f["total_liabilities"].to_numpy(), atol=0.02)
