"""Defaults spreading along links (``ingest.generate.default_simulation``): calibration,
consistency of the truth with the written loans and events, and no contagion at strength 0."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ingest.generate import GenerationSummary, generate
from tests.ingest.generate._helpers import read


def test_default_calibration(big: tuple[Path, GenerationSummary]) -> None:
    _, s = big
    assert 0.02 <= s.annual_default_rate <= 0.06
    assert 0.30 <= s.link_default_share <= 0.50


def test_defaults_consistent_with_loans_and_events(big: tuple[Path, GenerationSummary]) -> None:
    out, _ = big
    truth = pq.read_table(out / "_truth" / "defaults.parquet")
    ev = read(out, "events")
    first_default: dict[str, date] = {}
    for u, d, t in zip(ev["uscc"].to_pylist(), ev["date"].to_pylist(), ev["type"].to_pylist(), strict=True):
        if t == "default":
            first_default.setdefault(u, d)
    assert first_default == dict(zip(truth["uscc"].to_pylist(), truth["date"].to_pylist(), strict=True))
    status = read(out, "loan_status")
    loans = read(out, "loans")
    borrower = dict(zip(loans["loan_id"].to_pylist(), loans["borrower_uscc"].to_pylist(), strict=True))
    days = status["days_overdue"].to_numpy()
    late = np.flatnonzero(days > 90)
    months = status["month"].to_pylist()
    ids = status["loan_id"].to_pylist()
    for i in late[:: max(1, len(late) // 2000)]:
        b = borrower[ids[i]]
        assert b in first_default and months[i] > first_default[b]  # >90 days only after the default event
    cls = np.array(status["classification"].to_pylist())
    assert ((days > 90) & (cls == "normal")).sum() > 0  # deliberate inconsistencies exist
    assert ((days > 90) & np.isin(cls, ["substandard", "doubtful", "loss"])).mean() > 0.9 * (days > 90).mean()
    causes = set(truth["cause"].to_pylist())
    assert causes == {"own", "supply", "guarantee"}
    linked = truth.filter(pc.not_equal(truth["cause"], "own"))
    assert linked["via_uscc"].null_count == 0


def test_no_contagion_at_strength_zero(tmp_path: Path) -> None:
    s = generate(tmp_path, firms=5_000, seed=11, months=36, contagion_strength=0.0)
    assert s.defaults > 0 and s.link_default_share == 0.0
