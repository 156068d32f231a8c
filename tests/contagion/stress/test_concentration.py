"""Concentration: HHI, single names and connected-client groups against large-exposure limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from contagion.stress.concentration import client_groups, concentration_report, hhi

USCC = [f"F{i}" for i in range(6)]


def _case() -> tuple[np.ndarray, np.ndarray]:
    """Firm 1 guarantees firm 2; owner P controls 2 and 3; owner Q holds 30 % of 4 and 5 (no control)."""
    g = sp.csr_matrix(([50.0], ([1], [2])), shape=(6, 6))
    own = pd.DataFrame({"owner_id": ["P", "P", "Q", "Q"], "firm": [2, 3, 4, 5],
                        "share": [0.6, 0.8, 0.3, 0.3]})
    ead = np.array([12.0, 6.0, 5.0, 5.0, 1.0, 0.0])
    return client_groups(g, own, 6), ead


def test_groups_join_guarantees_and_common_control() -> None:
    groups, _ = _case()
    assert groups[1] == groups[2] == groups[3] != ""
    assert groups[0] == groups[4] == groups[5] == ""  # no link; a 30 % holding is not control


def test_limits_flag_single_names_and_groups() -> None:
    groups, ead = _case()
    rep = concentration_report(USCC, USCC, ead, groups, capital=100.0, single_limit=0.10, group_limit=0.15)
    flagged = {r["uscc"] for r in rep["top_names"] if r["breach"]}
    assert flagged == {u for u, e in zip(USCC, ead, strict=True) if e > 10.0}
    assert rep["single_breaches"] == len(flagged)
    (group,) = rep["top_groups"]
    assert group["ead"] == pytest.approx(ead[[1, 2, 3]].sum()) and group["breach"] is True
    assert rep["group_breaches"] == 1
    shares = ead / ead.sum()
    assert rep["hhi"] == pytest.approx(float(np.sum(shares ** 2)))
    assert rep["equivalent_names"] == pytest.approx(1.0 / rep["hhi"])
    relaxed = concentration_report(USCC, USCC, ead, groups, capital=100.0, single_limit=0.2, group_limit=0.2)
    assert relaxed["single_breaches"] == 0 and relaxed["group_breaches"] == 0


def test_without_capital_no_shares_of_capital() -> None:
    groups, ead = _case()
    rep = concentration_report(USCC, USCC, ead, groups, capital=None, single_limit=0.1, group_limit=0.15)
    assert rep["single_breaches"] is None and rep["top_names"][0]["share_of_capital"] is None
    assert np.isnan(hhi(np.zeros(3)))
