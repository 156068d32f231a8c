"""A scenario's initial distress: selectors, shocks and equity haircuts on the 7-firm snapshot."""

from __future__ import annotations

import numpy as np
import pytest

from chainrisk.errors import ScenarioError
from contagion.stress.scenario import parse_scenario
from contagion.stress.shocks import firm_measures, initial_distress, select_firms

from .conftest import USCC, build_snapshot


def _measures() -> dict[str, np.ndarray]:
    snap = build_snapshot()
    return firm_measures(snap.firms, snap.supply, snap.guarantees, bank_exposure=np.zeros(7),
                         pd_=np.full(7, 0.01))


def test_firm_measures() -> None:
    m = _measures()
    assert m["out_strength"].tolist() == [80.0, 20.0, 0.0, 60.0, 30.0, 0.0, 0.0]
    assert m["guarantees_given"].tolist() == [50.0, 50.0, 50.0, 40.0, 0.0, 0.0, 0.0]
    assert m["guarantees_received"].tolist() == [50.0, 50.0, 50.0, 0.0, 40.0, 0.0, 0.0]
    assert np.isnan(m["employees"]).all()  # a column the snapshot lacks


def test_shocks_and_haircuts_combine() -> None:
    snap = build_snapshot()
    s = parse_scenario(
        f"name: t\nshocks:\n  - firms: ['{USCC[0]}']\n    distress: 0.5\n  - region: '44'\n"
        "equity_haircuts:\n  - region: '3501'\n    fraction: 0.2\n"
    )
    # firm 0: 1 - (1 - 0.5)(1 - 0.2); 1, 2: the haircut; 5, 6 (region 44xxxx): default
    np.testing.assert_allclose(initial_distress(snap.firms, s, _measures()), [0.6, 0.2, 0.2, 0, 0, 1, 1])


def test_top_k_selects_the_largest() -> None:
    snap = build_snapshot()
    s = parse_scenario("name: t\nshocks:\n  - top_k: {by: out_strength, k: 2}\n")
    assert select_firms(snap.firms, s.shocks[0], _measures()).tolist() == [1, 0, 0, 1, 0, 0, 0]


def test_unknown_firm_and_empty_selection_name_the_line() -> None:
    snap = build_snapshot()
    s = parse_scenario("name: t\nshocks:\n  - firms: ['91350100MA0000099X']\n  - industry: 'Z'\n",
                       file="t.yaml")
    with pytest.raises(ScenarioError, match="not in the snapshot") as info:
        select_firms(snap.firms, s.shocks[0], {}, file="t.yaml")
    assert info.value.line == 3
    with pytest.raises(ScenarioError, match="matches no firm") as info:
        select_firms(snap.firms, s.shocks[1], {}, file="t.yaml")
    assert info.value.line == 4
