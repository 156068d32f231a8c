"""Shared helpers of the contagion model tests: small hand-checkable and random impact matrices."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

# 0 and 1 are exposed to each other (half their equity each way), 1 is also exposed to 2 (0.4)
LOOP = np.array([[0.0, 0.5, 0.0], [0.5, 0.0, 0.4], [0.0, 0.0, 0.0]])


def random_impact(n: int, density: float, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    w = sp.random(n, n, density=density, random_state=rng, format="csr") * 0.6
    w.setdiag(0.0)
    w.eliminate_zeros()
    return sp.csr_matrix(w)
