"""The watchlist (:mod:`gnn.watchlist`): worsened tiers and the reasons that are new."""

from __future__ import annotations

import pandas as pd

from gnn.watchlist import reason_key, reasons_of, watchlist


def test_only_worsened_tiers_largest_jump_first() -> None:
    previous = pd.DataFrame(
        {"uscc": ["A", "B", "C", "D"], "pd": [0.01, 0.03, 0.08, 0.004], "tier": [2, 3, 4, 1]}
    )
    current = pd.DataFrame(
        {"uscc": ["A", "B", "C", "D", "E"], "pd": [0.06, 0.035, 0.01, 0.006, 0.5], "tier": [4, 3, 2, 2, 6]}
    )
    rows = watchlist(current, previous)
    # A 2 -> 4 (jump 2), D 1 -> 2 (jump 1); B kept its tier, C improved, E was not scored before
    assert [(r["uscc"], r["tier_previous"], r["tier_current"]) for r in rows] == [("A", 2, 4), ("D", 1, 2)]
    assert (rows[0]["pd_previous"], rows[0]["pd_current"]) == (0.01, 0.06)
    assert rows[0]["reasons"] == []  # no reasons column


def test_reasons_absent_before_are_marked_new() -> None:
    previous = pd.DataFrame(
        {
            "uscc": ["A"],
            "pd": [0.01],
            "tier": [2],
            "reasons": [["leverage 0.81", "guarantees 2.0× its equity for 91350100…"]],
        }
    )
    current = pd.DataFrame(
        {
            "uscc": ["A"],
            "pd": [0.2],
            "tier": [5],
            "reasons": [
                ["leverage 0.84", "guarantees 2.0× its equity for 91350200…", "electricity down 30%"]
            ],
        }
    )
    (row,) = watchlist(current, previous)
    # the leverage figure moved (same reason); another counterparty and a new signal are new reasons
    assert [(r["text"], r["new"]) for r in row["reasons"]] == [
        ("leverage 0.84", False),
        ("guarantees 2.0× its equity for 91350200…", True),
        ("electricity down 30%", True),
    ]


def test_reason_key_masks_figures_and_keeps_codes() -> None:
    assert reason_key("sells 35.5% to 91350100MA2XYZ1234, in default since 2025-03") == (
        "sells #% to 91350100MA2XYZ1234, in default since #-#"
    )
    assert reason_key("LEVERAGE 1,200.5") == "LEVERAGE #"  # a word in capitals is no code


def test_reasons_of_cells() -> None:
    assert reasons_of(None) == [] and reasons_of(float("nan")) == []
    assert reasons_of("one") == ["one"] and reasons_of(("a", "b")) == ["a", "b"]
