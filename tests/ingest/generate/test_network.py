"""Supply network (``ingest.generate.network``, links evolved by the monthly simulation):
calibration targets from the summary and recomputed from the written ``supply`` table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ingest.generate import GenerationSummary, stats
from tests.ingest.generate._helpers import days, read


def test_network_calibration(big: tuple[Path, GenerationSummary]) -> None:
    _, s = big
    assert 4.5 * 0.85 <= s.mean_degree <= 4.5 * 1.15
    assert s.max_degree_ratio > 20
    assert 0.15 <= s.scc_fraction <= 0.35
    assert 13 * 0.75 <= s.link_half_life_months <= 13 * 1.25
    assert s.within_province > 0.5


def test_statistics_from_files(big: tuple[Path, GenerationSummary]) -> None:
    """Recompute half-life and heavy tails from the written supply table."""
    out, _s = big
    sup = read(out, "supply")
    start = days(sup["start"])
    end = sup["end"].cast(pa.int32()).to_numpy(zero_copy_only=False)
    end = np.where(np.isnan(end.astype(float)), 10**9, end).astype(np.int64)
    lo = (np.datetime64("2021-01-01", "D") - np.datetime64("1970-01-01", "D")).astype(int)
    hl = stats.half_life_months(start - lo, end - lo, 0, 1826)
    assert 13 * 0.75 <= hl <= 13 * 1.25
    firms = set(pacsv.read_csv(out / "firms.csv")["uscc"].to_pylist())
    codes = sup["supplier_uscc"].to_pylist() + sup["buyer_uscc"].to_pylist()
    external = sum(1 for c in codes if c not in firms) / len(sup)
    assert 0.01 <= external <= 0.06
