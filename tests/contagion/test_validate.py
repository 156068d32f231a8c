"""Input checking and coercion of :mod:`contagion._validate`."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from chainrisk.errors import InvalidModelInput
from contagion._validate import as_csr, as_scenarios, as_vector, firm_name, is_sparse


def test_as_csr_gives_clean_csr_float64() -> None:
    coo = sp.coo_matrix(([1.0, 2.0, 0.0], ([0, 0, 1], [1, 1, 0])), shape=(2, 2))  # a duplicate, a zero
    m = as_csr(coo, "m")
    assert m.format == "csr" and m.dtype == np.float64 and m.has_sorted_indices
    assert m.toarray().tolist() == [[0.0, 3.0], [0.0, 0.0]] and m.nnz == 1
    dense = [[0.0, 3.0], [0.0, 0.0]]
    for x in ([[0, 3], [0, 0]], np.array(dense), torch.tensor(dense), torch.tensor(dense).to_sparse()):
        assert as_csr(x, "m").toarray().tolist() == [[0.0, 3.0], [0.0, 0.0]]
    given = sp.csr_matrix([[0.0, 1.0], [1.0, 0.0]])
    assert as_csr(given, "m") is not given  # never the caller's matrix


def test_as_csr_rejects_and_names_the_firm() -> None:
    with pytest.raises(InvalidModelInput, match="square"):
        as_csr(np.zeros((2, 3)), "m")
    with pytest.raises(InvalidModelInput, match="3 x 3"):
        as_csr(np.zeros((2, 2)), "m", n=3)
    with pytest.raises(InvalidModelInput, match="2-d"):
        as_csr(np.zeros(3), "m")
    with pytest.raises(InvalidModelInput, match=r"firm B \(row 1\)"):
        as_csr([[0.0, 1.0], [-1.0, 0.0]], "m", labels=["A", "B"])
    assert as_csr([[0.0, 1.0], [-1.0, 0.0]], "m", nonnegative=False).nnz == 2


def test_as_vector() -> None:
    assert as_vector(0.5, "v", 3).tolist() == [0.5, 0.5, 0.5]  # a scalar for every firm
    assert as_vector([1, 2], "v", 2).dtype == np.float64
    with pytest.raises(InvalidModelInput, match="length 3"):
        as_vector([1.0, 2.0], "v", 3)
    with pytest.raises(InvalidModelInput, match="firm 1"):
        as_vector([0.5, 1.5], "v", 2, upper=1.0)
    with pytest.raises(InvalidModelInput, match="firm 0"):
        as_vector([np.nan, 1.0], "v", 2)
    assert np.isnan(as_vector([np.nan, 1.0], "v", 2, allow_nan=True)[0])


def test_as_scenarios() -> None:
    arr, vector = as_scenarios([0.0, 0.5, 1.0], "s", 3)
    assert vector and arr.shape == (3, 1) and arr.flags.c_contiguous
    block = np.asfortranarray(np.zeros((3, 2)))
    arr, vector = as_scenarios(block, "s", 3)
    assert not vector and arr.shape == (3, 2) and arr.flags.c_contiguous and arr is not block
    with pytest.raises(InvalidModelInput, match="firm 2"):
        as_scenarios([0.0, 0.0, 1.5], "s", 3)
    with pytest.raises(InvalidModelInput, match=r"\(3,\) or \(3, k\)"):
        as_scenarios([0.0, 0.0], "s", 3)


def test_is_sparse_and_firm_name() -> None:
    assert is_sparse(sp.csr_matrix((1, 1))) and is_sparse(torch.zeros(2, 2).to_sparse())
    assert not is_sparse(np.zeros((2, 2))) and not is_sparse(torch.zeros(2, 2)) and not is_sparse([[0.0]])
    assert firm_name(3) == "firm 3" and firm_name(1, ["A", "B"]) == "firm B (row 1)"
