"""Guarantee cascades on hand-checkable networks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from chainrisk.errors import InvalidModelInput
from contagion import guarantee_cascade

# a guarantee circle: 0 guarantees 1, 1 guarantees 2, 2 guarantees 0, 10 each
CIRCLE = np.array([[0, 10, 0], [0, 0, 10], [10, 0, 0]], dtype=float)


def test_circle_converges_and_each_default_fires_once() -> None:
    r = guarantee_cascade(CIRCLE, [4.0, 5.0, 5.0], np.array([True, False, False]), loss_rate=0.5)
    # round 1: 0's default calls 2 for 10 * 0.5 = 5 >= 5: 2 defaults
    # round 2: 2's default calls 1 for 5 >= 5: 1 defaults
    # round 3: 1's default calls 0 (already down) for 5: nobody new, stop; 0 is called once only
    assert r.defaulted.tolist() == [True, True, True]
    assert r.default_round.tolist() == [0, 2, 1]
    assert r.calls.tolist() == [5.0, 5.0, 5.0]
    assert r.rounds == 2


def test_survivor_breaks_the_chain() -> None:
    r = guarantee_cascade(CIRCLE, [4.0, 5.0, 6.0], np.array([True, False, False]), loss_rate=0.5)
    assert r.defaulted.tolist() == [True, False, False]  # 2 is called 5 < 6
    assert r.calls.tolist() == [0.0, 0.0, 5.0]
    assert r.default_round.tolist() == [0, -1, -1]


def test_calls_accumulate_and_per_borrower_loss_rate() -> None:
    # 0 guarantees 1 (10) and 2 (10); loss rates 0.3 for 1, 0.6 for 2; equity of 0 is 8
    g = sp.csr_matrix(np.array([[0, 10, 10], [0, 0, 0], [0, 0, 0]], dtype=float))
    one = guarantee_cascade(g, [8.0, 1.0, 1.0], np.array([False, True, False]), loss_rate=[0.0, 0.3, 0.6])
    assert not one.defaulted[0] and one.calls[0] == pytest.approx(3.0)  # 10 * 0.3 = 3 < 8
    both = guarantee_cascade(g, [8.0, 1.0, 1.0], np.array([False, True, True]), loss_rate=[0.0, 0.3, 0.6])
    assert both.defaulted[0] and both.calls[0] == pytest.approx(9.0)  # 3 + 6 = 9 >= 8


def test_zero_equity_rule() -> None:
    g = np.array([[0, 1.0, 0], [0, 0, 0], [0, 0, 0]])
    r = guarantee_cascade(g, [0.0, 1.0, 0.0], np.array([False, True, False]))
    # 0 is called 0.45 > 0 with no equity: defaults; 2 also has no equity but is never called
    assert r.defaulted.tolist() == [True, True, False]


def test_columns_equal_scenarios_alone() -> None:
    rng = np.random.default_rng(3)
    g = sp.random(50, 50, density=0.06, random_state=rng, format="csr") * 10
    eq = rng.random(50) * 4
    init = rng.random((50, 70)) < 0.05
    both = guarantee_cascade(g, eq, init)
    for c in (0, 13, 64, 69):
        alone = guarantee_cascade(g, eq, init[:, c])
        np.testing.assert_array_equal(both.defaulted[:, c], alone.defaulted)
        np.testing.assert_array_equal(both.default_round[:, c], alone.default_round)
        np.testing.assert_allclose(both.calls[:, c], alone.calls)


def test_bad_inputs_name_the_firm() -> None:
    init = np.array([True, False, False])
    with pytest.raises(InvalidModelInput, match="firm 1"):
        guarantee_cascade(CIRCLE, [1.0, -1.0, 1.0], init)
    with pytest.raises(InvalidModelInput, match="firm 2"):
        guarantee_cascade(CIRCLE, [1.0, 1.0, np.nan], init)
    with pytest.raises(InvalidModelInput, match="loss_rate"):
        guarantee_cascade(CIRCLE, [1.0, 1.0, 1.0], init, loss_rate=1.5)
    with pytest.raises(InvalidModelInput, match="bool"):
        guarantee_cascade(CIRCLE, [1.0, 1.0, 1.0], [1, 0, 0])
