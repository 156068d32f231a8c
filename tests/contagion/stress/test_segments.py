"""Guarantee circles and the split of losses over contagion layers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

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
