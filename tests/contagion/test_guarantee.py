"""The guarantee model (calls, sharing, capacity) and guarantee cascades, on hand-checkable cases."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from chainrisk.errors import InvalidModelInput
from contagion import guarantee_cascade
from contagion.guarantee import call_matrix, guarantee_calls, payment_rates

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


# ----------------------------------------------------------------------------- the guarantee model


def test_call_is_capped_at_the_guarantee_and_at_the_loss() -> None:
    # two loans of EAD 100 losing 50 each; a guarantee of 30 on loan 0, one of 80 on loan 1
    _, loans, calls = guarantee_calls([0, 1], [100.0, 100.0], [50.0, 50.0], [0, 1], [0, 1], [30.0, 80.0])
    assert loans.tolist() == [0, 1]
    assert calls.tolist() == [30.0, 50.0]  # min(30, 50) and min(80, 50): never above the debt's loss


def test_co_guarantors_share_a_call_pro_rata() -> None:
    # loan loss 50, guarantees of 60 and 40: together they owe 50, split 60:40 -> 30 and 20
    # (each charged in full, they would owe 100 for a loss of 50)
    _, _, calls = guarantee_calls([0], [100.0], [50.0], [0, 0], [0, 0], [60.0, 40.0])
    assert calls.tolist() == [pytest.approx(30.0), pytest.approx(20.0)]


def test_general_guarantee_covers_the_borrowers_loans_pro_rata() -> None:
    # borrower 0 has loans of EAD 100 and 300 (losses 50 and 150); a general guarantee of 80 is
    # split by EAD into 20 and 60, both below the losses
    contract, loans, calls = guarantee_calls([0, 0], [100.0, 300.0], [50.0, 150.0], [0], [-1], [80.0])
    assert contract.tolist() == [0, 0] and loans.tolist() == [0, 1]
    assert calls.tolist() == [pytest.approx(20.0), pytest.approx(60.0)]
    # a general guarantee of a borrower without loans covers nothing
    assert len(guarantee_calls([0], [100.0], [50.0], [1], [-1], [80.0])[0]) == 0


def test_call_matrix_leaves_out_persons_and_self_guarantees() -> None:
    c = call_matrix([0, -1, 1, 2], [1, 1, 1, 1], [4.0, 9.0, 7.0, 3.0], 3)
    assert c.toarray().tolist() == [[0.0, 4.0, 0.0], [0.0, 0.0, 0.0], [0.0, 3.0, 0.0]]


def test_capacity_limits_a_survivors_payments() -> None:
    # firm 0 guarantees 1 and 2 for calls of 30 each and can pay 45: with both borrowers in
    # default it pays 45 / 60 of each call; with one, in full
    c = sp.csr_matrix(np.array([[0, 30.0, 30.0], [0, 0, 0], [0, 0, 0]]))
    d = np.array([[False, False], [True, True], [False, True]])
    rates = payment_rates(c, d, [45.0, 1.0, 1.0], defaulted_pays=0.55)
    assert rates[0].tolist() == [1.0, pytest.approx(0.75)]


def test_defaulted_guarantor_pays_partially() -> None:
    # a guarantor in default pays 1 - loss rate of its calls: neither all nor nothing
    c = sp.csr_matrix(np.array([[0, 30.0], [0, 0]]))
    d = np.array([[True], [True]])
    assert payment_rates(c, d, [1e9, 1e9], defaulted_pays=0.55)[0, 0] == pytest.approx(0.55)
    with pytest.raises(InvalidModelInput):
        payment_rates(c, d, [np.nan, 1.0], defaulted_pays=0.55)
