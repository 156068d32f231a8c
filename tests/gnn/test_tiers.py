"""Tiers and the suggested class of a PD (``gnn.tiers``)."""

from __future__ import annotations

import numpy as np

from gnn.tiers import CLASSES, TIER_BOUNDS, suggested_class, tier_of


def test_tiers_are_the_documented_bands_with_bounds_in_the_upper_tier() -> None:
    p = np.array([0.0003, 0.004999, 0.005, 0.0149, 0.015, 0.05, 0.10, 0.2499, 0.25, 1.0])
    assert tier_of(p).tolist() == [1, 1, 2, 2, 3, 4, 5, 5, 6, 6]
    assert len(TIER_BOUNDS) == 5 and list(TIER_BOUNDS) == sorted(TIER_BOUNDS)


def test_suggested_class_follows_pd_and_never_beats_the_overdue_floor() -> None:
    p = np.array([0.01, 0.12, 0.6, 0.9, 0.99, 0.01])
    floor = np.array(["", "normal", "", "", "", "doubtful"])
    got = suggested_class(p, floor=floor).tolist()
    assert got == ["normal", "special_mention", "substandard", "doubtful", "loss", "doubtful"]
    assert suggested_class(np.array([0.2])).tolist() == ["special_mention"] and CLASSES[0] == "normal"
