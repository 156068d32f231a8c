"""Imputed equity: flagged, by size class and industry, never zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contagion.stress.equity import impute_equity

from .conftest import run_small


def test_unknown_and_non_positive_equity_are_imputed_flagged_and_never_zero() -> None:
    firms = pd.DataFrame(
        {
            "size_class": ["small", "small", "small", "small", "small", "medium", None],
            "industry": ["C3311", "C3312", "C3313", "C3314", "F5110", None, None],
            "equity": [10.0, 20.0, 60.0, np.nan, 0.0, -3.0, np.nan],
        }
    )
    r = impute_equity(firms)
    assert (r.equity > 0).all()
    assert r.source.tolist() == ["reported"] * 3 + ["unknown", "non_positive", "non_positive", "unknown"]
    # firm 3: small C33 cell (10, 20, 60) -> 20; firm 4: no small F51 cell of 3, the small class -> 20;
    # firms 5 and 6: no usable class or industry -> the median of all reported, 20
    assert r.equity.tolist() == [10.0, 20.0, 60.0, 20.0, 20.0, 20.0, 20.0]
    assert r.level.tolist()[3:] == ["size_class_industry", "size_class", "all", "all"]
    assert r.summary()["imputed"] == 4 and r.summary()["by_reason"] == {"non_positive": 2, "unknown": 2}
    # no firm reports any equity: a unit buffer, still not zero
    none = impute_equity(pd.DataFrame({"equity": [np.nan, 0.0]}))
    assert none.equity.tolist() == [1.0, 1.0] and none.level.tolist() == ["unit", "unit"]


@pytest.mark.filterwarnings("ignore::contagion.stress.tail_stats.StressPrecisionWarning")
def test_the_stress_result_flags_and_counts_imputed_firms() -> None:
    res = run_small(runs=100)
    f = res.firms
    assert not f["equity_imputed"].any() and (f["equity_used"] == 30.0).all()
    assert res.summary()["equity"]["imputed"] == 0
