"""The monitor end to end on a generated platform (:mod:`gnn.monitor`), and its verdict rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from chainrisk.errors import DataError
from gnn.features import firm_features
from gnn.graph_features import graph_features
from gnn.labels import bank_book, default_within
from gnn.monitor import monitor, verdict
from gnn.scorings import History, Scoring, dataset_history, scoring_of
from gnn.tiers import tier_of
from ingest.snapshot import assemble_snapshot


@pytest.fixture(scope="module")
def history(platform: Path) -> History:
    return dataset_history(platform)


def _scoring(history: History, t: date) -> Scoring:
    """The book at ``t`` with a PD that rises with leverage (deterministic, no model needed)."""
    snap = assemble_snapshot(history.tables, as_of=t, currency=history.currency)
    rows = np.flatnonzero(bank_book(snap))
    lev = np.nan_to_num(firm_features(snap)["leverage"].to_numpy()[rows], nan=0.5)
    p = np.clip(0.005 + 0.12 * lev**2, 0.0003, 0.9)
    frame = pd.DataFrame(
        {
            "uscc": snap.firms["uscc"].to_numpy()[rows],
            "segment": "book",
            "pd": p,
            "tier": tier_of(p),
            "reasons": [[f"leverage {v:.2f}"] for v in lev],
            "as_of": t,
        }
    )
    return scoring_of(frame, source=f"scores {t}")


def test_backtest_counts_the_labels_defaults(history: History) -> None:
    t = date(2023, 12, 31)
    current, previous = _scoring(history, t), _scoring(history, date(2022, 12, 31))
    out = monitor(current, previous, history)
    bt = out["backtest"]
    assert bt["scoring"] == "current" and not bt["window"]["partial"]  # data end 2024-12-31 = t + 12 months
    tables = history.tables
    new = default_within(tables["events"], tables["loan_status"], tables["loans"], as_of=t)
    assert bt["portfolio"]["observed_defaults"] == int(current.scores["uscc"].isin(new.index).sum())
    assert bt["portfolio"]["expected_defaults"] == pytest.approx(current.scores["pd"].sum())
    assert sum(r["firms"] for r in bt["tiers"]) == len(current.scores)
    # every feature of both feature families, at the previous scoring's date and the current one
    snap = assemble_snapshot(tables, as_of=t)
    own = firm_features(snap)
    names = {*own.columns, *graph_features(snap, own).columns}
    assert {r["feature"] for r in out["stability"]["features"]} == names
    assert out["stability"]["reference_as_of"] == "2022-12-31"
    assert out["stability"]["score"]["n_current"] == len(current.scores)
    assert out["watchlist"] and all(r["tier_current"] > r["tier_previous"] for r in out["watchlist"])
    assert (out["verdict"], out["verdict_reasons"]) == verdict(out)


def test_a_window_not_over_scales_and_says_so(history: History) -> None:
    t = date(2023, 12, 31)
    current = _scoring(history, t)
    cut = History(history.tables, date(2024, 6, 30), history.currency)
    full = monitor(current, None, history)["backtest"]
    half = monitor(current, None, cut)
    w = half["backtest"]["window"]
    assert w["partial"] and w["fraction"] == pytest.approx(182 / 366)  # 2024 is a leap year
    assert any("observed" in n for n in half["notes"])
    assert half["backtest"]["portfolio"]["observed_defaults"] <= full["portfolio"]["observed_defaults"]
    expected = (1 - (1 - current.scores["pd"]) ** w["fraction"]).sum()
    assert half["backtest"]["portfolio"]["expected_defaults"] == pytest.approx(expected)


def test_a_scoring_at_the_data_end_back_tests_the_previous_one(history: History) -> None:
    current, previous = _scoring(history, date(2024, 12, 31)), _scoring(history, date(2023, 12, 31))
    out = monitor(current, previous, history)
    assert out["backtest"]["scoring"] == "previous" and out["backtest"]["scored_as_of"] == "2023-12-31"


def test_without_a_segment_column_the_book_is_found_from_the_data(history: History) -> None:
    current = _scoring(history, date(2023, 12, 31))
    bare = scoring_of(current.scores.drop(columns="segment"), source="bare")
    assert monitor(bare, None, history)["backtest"] == monitor(current, None, history)["backtest"]
    assert monitor(current, None, None)["backtest"] is None


def test_bad_inputs_are_data_errors(history: History) -> None:
    with pytest.raises(DataError, match="lack column"):
        scoring_of(pd.DataFrame({"uscc": ["A"], "pd": [0.1]}), source="x", as_of=date(2024, 1, 1))
    with pytest.raises(DataError, match="exactly one as_of"):
        scoring_of(
            pd.DataFrame(
                {"uscc": ["A", "B"], "pd": [0.1, 0.2], "tier": [5, 5], "as_of": ["2024-01-31", "2024-02-29"]}
            ),
            source="x",
        )
    with pytest.raises(DataError, match=r"PD in \[0, 1\]"):
        scoring_of(
            pd.DataFrame({"uscc": ["A"], "pd": [1.5], "tier": [6]}), source="x", as_of=date(2024, 1, 1)
        )
    current = _scoring(history, date(2023, 12, 31))
    with pytest.raises(DataError, match="reference date"):
        monitor(current, None, history, reference_as_of=date(2024, 6, 30))
    with pytest.raises(DataError, match="segment"):
        monitor(current, segment="nobody")


def _result(
    *,
    psis: list[tuple[float, bool]] = (),
    lights: list[str] = (),
    calibrated: bool = True,
    tested: bool = True,
) -> dict[str, Any]:
    from gnn.stability import psi_verdict

    features = [
        {"feature": f"x{i}", "psi": v, "verdict": psi_verdict(v), "small_sample": small}
        for i, (v, small) in enumerate(psis)
    ]
    bt = {
        "tiers": [{"tier": i + 1, "light": lt} for i, lt in enumerate(lights)],
        "portfolio": {"firms": 100, "calibrated": calibrated, "mean_pd": 0.05, "rate_ci95": [0.06, 0.2]},
    }
    return {"stability": {"score": None, "features": features}, "backtest": bt if tested else None}


@pytest.mark.parametrize(
    ("kwargs", "want"),
    [
        ({"lights": ["green", "green"]}, "calibrated and stable"),
        ({"tested": False}, "stable, not back-tested"),
        ({"lights": ["green", "amber"]}, "watch"),
        ({"psis": [(0.12, False)]}, "watch"),
        ({"psis": [(0.9, True)]}, "calibrated and stable"),  # a small sample's PSI does not count
        ({"lights": ["amber", "amber"]}, "recalibrate"),
        ({"lights": ["red"]}, "recalibrate"),
        ({"calibrated": False}, "recalibrate"),
        ({"psis": [(0.3, False)], "lights": ["red"]}, "investigate"),  # a moved population comes first
    ],
)
def test_verdict_rule(kwargs: dict[str, Any], want: str) -> None:
    got, reasons = verdict(_result(**kwargs))
    assert got == want
    assert bool(reasons) == (want not in ("calibrated and stable", "stable, not back-tested"))
