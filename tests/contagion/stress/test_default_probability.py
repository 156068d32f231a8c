"""PD per firm: loan classification, days-overdue floor and the snapshot's own column."""

from __future__ import annotations

import numpy as np

from contagion.stress.default_probability import default_probabilities
from contagion.stress.scenario import PDParameters

from .conftest import build_snapshot


def test_pd_from_classification_and_snapshot_column() -> None:
    snap = build_snapshot()
    pd_ = default_probabilities(snap.firms, snap.loans, PDParameters())
    assert pd_.tolist() == [0.01, 0.01, 0.05, 0.01, 0.30, 0.01, 0.01]
    firms = snap.firms.assign(pd=[0.2, np.nan, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert default_probabilities(firms, snap.loans, PDParameters())[:2].tolist() == [0.2, 0.01]
    no_loans = snap.loans.iloc[0:0]
    assert set(default_probabilities(snap.firms, no_loans, PDParameters())) == {0.02}


def test_pd_takes_the_days_overdue_floor() -> None:
    snap = build_snapshot()
    loans = snap.loans.assign(min_classification=["doubtful"] + ["normal"] * 6)
    assert default_probabilities(snap.firms, loans, PDParameters())[0] == 0.60
