"""The oracle PD from the generator's monthly hazards (``gnn.oracle``), on hand-made tables."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnn.oracle import HAZARDS, gap_closed, hazards_path, monthly_hazard, oracle_pd, read_hazards

AS_OF = date(2024, 12, 31)


def _hazards() -> pd.DataFrame:
    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    a = pd.DataFrame({"uscc": "A", "month": months, "p_own": 0.01, "p_supply": 0.0, "p_guarantee": 0.0})
    a.loc[5, "p_supply"] = 0.02  # one month of neighbour pressure
    # B defaults in its second month: the table stops there
    b = pd.DataFrame({"uscc": "B", "month": months[:2], "p_own": 0.2, "p_supply": 0.0, "p_guarantee": 0.0})
    # months outside the window (the cut's own month, the month after the window) do not count
    out = pd.DataFrame(
        {
            "uscc": ["A", "B"],
            "month": pd.to_datetime(["2024-12-01", "2026-01-01"]),
            "p_own": [0.9, 0.9],
            "p_supply": [0.0, 0.0],
            "p_guarantee": [0.0, 0.0],
        }
    )
    return pd.concat([a, b, out], ignore_index=True)


def test_monthly_hazard_combines_three_independent_draws() -> None:
    h = pd.DataFrame({"p_own": [0.1, 0.0], "p_supply": [0.2, 0.0], "p_guarantee": [0.5, 0.3]})
    # 1 - 0.9 * 0.8 * 0.5 = 0.64; only the guarantee draw: 0.3
    assert monthly_hazard(h) == pytest.approx([0.64, 0.3])


def test_oracle_pd_over_the_label_window() -> None:
    pd_ = oracle_pd(_hazards(), np.array(["A", "B", "C"]), AS_OF)
    # A: eleven months at 0.01, one at 1 - 0.99 * 0.98 = 0.0298; mean 0.01165 over 12 months
    q_a = (11 * 0.01 + 0.0298) / 12
    assert pd_[0] == pytest.approx(1 - (1 - q_a) ** 12)
    # B: two months at 0.2, extrapolated to the window: 1 - 0.8^12, not 1 - 0.8^2
    assert pd_[1] == pytest.approx(1 - 0.8**12)
    assert math.isnan(pd_[2])  # a firm the table does not list


def test_an_early_default_does_not_lower_the_oracle() -> None:
    # the same monthly hazard: a firm listed for 2 months (it defaulted) and one for 12 (it survived)
    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    h = pd.concat(
        [
            pd.DataFrame(
                {"uscc": "D", "month": months[:2], "p_own": 0.05, "p_supply": 0.0, "p_guarantee": 0.0}
            ),
            pd.DataFrame({"uscc": "S", "month": months, "p_own": 0.05, "p_supply": 0.0, "p_guarantee": 0.0}),
        ]
    )
    d, s = oracle_pd(h, np.array(["D", "S"]), AS_OF)
    assert d == pytest.approx(s)


def test_read_hazards_keeps_the_window_months_only(tmp_path: Path) -> None:
    path = tmp_path / HAZARDS
    path.parent.mkdir(parents=True)
    h = _hazards()
    h.assign(month=h["month"].dt.date).to_parquet(path)
    assert hazards_path(tmp_path) == path and hazards_path(tmp_path / "elsewhere") is None
    got = read_hazards(path, AS_OF)
    assert len(got) == 14 and got["month"].min() == pd.Timestamp("2025-01-01")
    assert got["month"].max() == pd.Timestamp("2025-12-01")
    assert oracle_pd(got, np.array(["A"]), AS_OF) == pytest.approx(oracle_pd(h, np.array(["A"]), AS_OF))


def test_gap_closed() -> None:
    share = gap_closed(
        np.array([0.70, 0.75, 0.80, 0.70]), np.array([0.70] * 4), np.array([0.80] * 3 + [0.65])
    )
    # none of the gap, half, all of it; no gap when the oracle is below B1
    assert share[:3] == pytest.approx([0.0, 0.5, 1.0]) and math.isnan(share[3])
