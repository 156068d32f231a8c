"""Edge attributions against the generator's true contagion links (``gnn.edge_attribution``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnn.edge_attribution import baseline_edge_scores, edge_attribution_auc
from gnn.protocol import Cut, CutPlan

T = date(2024, 12, 31)


def _scores() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "firm": ["A", "A", "A", "B", "B", "C", "C"],
            "counterparty": ["X", "Y", "X", "Y", "Z", "X", "Y"],
            "relation": [
                "sells_to",
                "buys_from",
                "guarantees",
                "guarantees",
                "sells_to",
                "sells_to",
                "buys_from",
            ],
            "score": [0.9, 0.5, 0.1, 0.3, 0.6, 0.8, 0.2],
        }
    )


def _truth() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uscc": ["A", "B", "C", "D"],
            "date": ["2025-04-01", "2025-11-30", "2026-02-01", "2025-05-01"],
            "cause": ["supply", "guarantee", "supply", "own"],
            "via_uscc": ["X", "Y", "X", None],
        }
    )


def test_a_tiny_case_by_hand() -> None:
    r = edge_attribution_auc(_scores(), _truth(), as_of=T)
    # C defaults after the window and D on its own: only A and B count. Positives: A-X by
    # supply (0.9; A-X by guarantee is the wrong channel) and B-Y by guarantee (0.3).
    # Negatives 0.5, 0.1, 0.6. Pairs won: 0.9 beats all 3, 0.3 beats 0.1 only -> 4 / 6.
    assert (r.n_firms, r.n_edges, r.n_positive) == (2, 5, 2)
    assert r.auc == pytest.approx(4 / 6)
    # within A: 0.9 beats 0.5 and 0.1 -> 1; within B: 0.3 loses to 0.6 -> 0; mean 0.5
    assert r.auc_within == pytest.approx(0.5) and r.coverage == 1.0


def test_coverage_counts_firms_whose_true_link_was_not_scored() -> None:
    scores = _scores()
    scores = scores[~((scores["firm"] == "B") & (scores["counterparty"] == "Y"))]
    r = edge_attribution_auc(scores, _truth(), as_of=T, firms=["A", "B", "C"])
    assert r.n_firms == 2 and r.coverage == 0.5 and r.n_positive == 1


def test_the_baseline_scorer_finds_true_links_on_generated_data(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], platform: Path
) -> None:
    plan, cuts = platform_cuts
    test = cuts[plan.test]
    scores = baseline_edge_scores(test.snapshot, test.rows)
    assert set(scores["firm"]) <= set(test.uscc) and np.isfinite(scores["score"]).all()
    truth = pd.read_parquet(platform / "_truth" / "defaults.parquet")
    r = edge_attribution_auc(scores, truth, as_of=test.as_of, firms=test.uscc)
    assert r.n_firms > 0 and r.n_positive > 0
    # exposure alone ranks the true link above a random one of the firm's links
    assert r.auc > 0.5 and 0 < r.coverage <= 1
