"""Guarantee circles and the split of losses over contagion layers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import ndtri

from contagion.multilayer import DefaultRule, propagate
from contagion.stress.segments import guarantee_circles, layer_split

from .conftest import build_snapshot


def test_circles_and_layer_split() -> None:
    snap = build_snapshot()
    assert guarantee_circles(snap.guarantees).tolist() == ["circle-1"] * 3 + [""] * 4
    firm_loss = np.array([[10.0], [6.0]])
    initial = np.array([[True], [False]])
    by_layer = {"supply": np.array([[0.0], [1.0]]), "guarantee": np.array([[0.0], [2.0]])}
    split = layer_split(firm_loss, initial, by_layer)
    assert split["direct"][0] == 10.0
    assert split["supply"][0] == pytest.approx(2.0) and split["guarantee"][0] == pytest.approx(4.0)
    assert sp.issparse(snap.guarantees)


def test_a_mapped_default_is_booked_to_the_layers_that_carried_its_distress() -> None:
    # Firm 2 fails. Firm 1 loses 0.1 of its equity by supply and 0.4 by guarantee: h = 0.5.
    # At PD 1 % (c = -2.326) and k = 1 it defaults when X < c (1 - 0.5) = -1.163: in run A
    # (X = -1.5) it does, passes a full default on to firm 0 (0.5 x 1 by supply), and its
    # own distress 0.5 -> 1 is booked 1 : 4 to supply : guarantee; in run B (X = -1.0) it
    # does not, and firm 0 gets 0.5 x 0.5.
    sup = sp.csr_matrix(np.array([[0, 0.5, 0], [0, 0, 0.1], [0, 0, 0.0]]))
    gua = sp.csr_matrix(np.array([[0, 0, 0], [0, 0, 0.4], [0, 0, 0.0]]))
    c = np.full(3, ndtri(0.01))
    latent = np.array([[0.0, 0.0], [-1.5, -1.0], [-3.0, -3.0]])
    rule = DefaultRule(latent=latent, thresholds=c, sensitivity=1.0, cap=np.ones(3))
    shock = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    res = propagate({"supply": sup, "guarantee": gua}, shock, rule=rule, tol=1e-14)
    np.testing.assert_allclose(res.distress, [[0.5, 0.25], [1.0, 0.5], [1.0, 1.0]], atol=1e-15)
    by_layer = res.loss_by_layer
    np.testing.assert_allclose(by_layer["supply"], [[0.5, 0.25], [0.2, 0.1], [0.0, 0.0]], atol=1e-15)
    np.testing.assert_allclose(by_layer["guarantee"], [[0.0, 0.0], [0.8, 0.4], [0.0, 0.0]], atol=1e-15)
    # the bank lent 20 to firm 1 and 60 to firm 2 at LGD 0.5; firm 0 survives both runs
    firm_loss = np.array([[0.0, 0.0], [10.0, 0.0], [30.0, 30.0]])
    split = layer_split(firm_loss, shock >= 1.0, res.loss_by_layer)
    assert split["direct"].tolist() == [30.0, 30.0]  # only firm 2's own failure (before: 40 in run A)
    np.testing.assert_allclose(split["supply"], [2.0, 0.0])
    np.testing.assert_allclose(split["guarantee"], [8.0, 0.0])
