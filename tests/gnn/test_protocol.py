"""The out-of-time protocol (``gnn.protocol``): cut dates, and what each cut may see."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from chainrisk.errors import DataError
from gnn.labels import window_end
from gnn.protocol import load_cuts, plan_cuts


def test_cuts_are_a_year_apart_and_every_window_ends_before_the_next_cut() -> None:
    plan = plan_cuts(date(2020, 1, 1), date(2025, 12, 31))
    assert plan.test == date(2024, 12, 31) and plan.validation == date(2023, 12, 31)
    assert plan.train == (date(2020, 12, 31), date(2021, 12, 31), date(2022, 12, 31))
    assert all(window_end(t) <= plan.validation for t in plan.train)
    assert window_end(plan.validation) <= plan.test and window_end(plan.test) <= date(2025, 12, 31)
    mid = plan_cuts(date(2020, 1, 1), date(2025, 12, 15))  # data ending mid-month: the last full month
    assert mid.test == date(2024, 11, 30)


def test_too_short_a_history_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="48 months"):
        plan_cuts(date(2023, 1, 1), date(2025, 12, 31))


def test_cuts_of_a_generated_platform(platform: Path) -> None:
    plan, cuts = load_cuts(platform)
    assert set(cuts) == {*plan.train, plan.validation, plan.test}
    for t, cut in cuts.items():
        assert cut.snapshot.as_of == t and len(cut.y) == len(cut.own) == len(cut.chain) == len(cut.uscc)
        # the book is never in default at its cut
        f = cut.snapshot.firms.set_index("uscc")
        assert not f.loc[cut.uscc, "defaulted"].any()
        assert 0 < cut.y.mean() < 0.5
        assert list(cut.own.columns) == list(cuts[plan.test].own.columns)
    assert np.isfinite(cuts[plan.test].own["leverage"].dropna()).all()
