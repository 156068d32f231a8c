"""Input checking and coercion shared by the contagion models (private).

Every model takes dense numpy arrays, scipy sparse matrices/arrays or torch
tensors (dense or sparse), typed by :mod:`contagion.typing`, and works on CSR float64. Problems raise
:class:`~chainrisk.errors.InvalidModelInput` naming the offending firm: its row
index, or its label when the caller passes ``labels`` (e.g. USCCs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from chainrisk.errors import InvalidModelInput
from contagion.typing import Labels, MatrixLike, ScenarioLike, VectorLike

__all__ = ["as_csr", "as_scenarios", "as_vector", "firm_name", "is_sparse"]


def firm_name(i: int, labels: Labels | None = None) -> str:
    """How an error message names firm ``i``: ``firm 3`` or ``firm 91350100M000100Y43``."""
    if labels is not None:
        return f"firm {labels[i]} (row {i})"
    return f"firm {i}"


def is_sparse(x: object) -> bool:
    """True for scipy sparse input and torch sparse tensors."""
    if sp.issparse(x):
        return True
    layout = getattr(x, "layout", None)
    return layout is not None and "strided" not in str(layout)


def _to_numpy_or_scipy(x: Any) -> Any:
    """Torch tensors to numpy / scipy; anything else unchanged."""
    if type(x).__module__.startswith("torch"):
        t = x.detach().cpu()
        if "strided" in str(t.layout):
            return t.numpy()
        coo = t.to_sparse_coo().coalesce()
        idx = coo.indices().numpy()
        return sp.coo_matrix((coo.values().numpy(), (idx[0], idx[1])), shape=tuple(coo.shape))
    return x


def as_csr(
    x: MatrixLike,
    name: str,
    *,
    n: int | None = None,
    nonnegative: bool = True,
    labels: Labels | None = None,
) -> sp.csr_matrix:
    """``x`` as a square CSR float64 matrix with sorted, summed indices and no explicit zeros.

    Raises :class:`InvalidModelInput` for a non-square or wrongly sized matrix,
    NaN or infinite entries, and (with ``nonnegative``) negative entries, naming
    the row (the firm) of the first bad entry.
    """
    x = _to_numpy_or_scipy(x)
    if sp.issparse(x):
        m = sp.csr_matrix(x, dtype=np.float64)
    else:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim != 2:
            raise InvalidModelInput(f"{name} must be a 2-d matrix, got shape {arr.shape}")
        m = sp.csr_matrix(arr)
    if m.shape[0] != m.shape[1]:
        raise InvalidModelInput(f"{name} must be square, got shape {m.shape}")
    if n is not None and m.shape[0] != n:
        raise InvalidModelInput(f"{name} must be {n} x {n}, got shape {m.shape}")
    if m is x:
        m = m.copy()
    m.sum_duplicates()
    bad = ~np.isfinite(m.data)
    if nonnegative:
        bad |= m.data < 0
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        row = int(np.searchsorted(m.indptr, k, side="right") - 1)
        raise InvalidModelInput(
            f"{name}: {firm_name(row, labels)} has a bad entry {m.data[k]!r} in column {m.indices[k]}"
        )
    m.eliminate_zeros()
    m.sort_indices()
    return m


def as_vector(
    x: float | VectorLike,
    name: str,
    n: int,
    *,
    nonnegative: bool = True,
    upper: float | None = None,
    allow_nan: bool = False,
    labels: Labels | None = None,
) -> np.ndarray:
    """``x`` (scalar or length-n) as a float64 vector of length n, checked entry by entry."""
    x = _to_numpy_or_scipy(x)
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise InvalidModelInput(f"{name} must have length {n}, got shape {arr.shape}")
    _check_entries(arr, name, nonnegative=nonnegative, upper=upper, allow_nan=allow_nan, labels=labels)
    return arr


def as_scenarios(
    x: ScenarioLike,
    name: str,
    n: int,
    *,
    upper: float | None = 1.0,
    labels: Labels | None = None,
) -> tuple[np.ndarray, bool]:
    """``x`` (length n, or n x k with scenarios as columns) as a C-ordered n x k float64 array.

    Returns the array and whether the input was a vector (so results can be
    given back in the input's shape). Entries must lie in ``[0, upper]``.
    """
    x = _to_numpy_or_scipy(x)
    if sp.issparse(x):
        x = x.toarray()
    arr = np.array(x, dtype=np.float64, order="C", copy=True)
    vector = arr.ndim == 1
    if vector:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise InvalidModelInput(f"{name} must have shape ({n},) or ({n}, k), got {np.shape(x)}")
    _check_entries(arr, name, nonnegative=True, upper=upper, allow_nan=False, labels=labels)
    return arr, vector


def _check_entries(
    arr: np.ndarray,
    name: str,
    *,
    nonnegative: bool,
    upper: float | None,
    allow_nan: bool,
    labels: Labels | None,
) -> None:
    with np.errstate(invalid="ignore"):
        bad = np.isinf(arr) if allow_nan else ~np.isfinite(arr)
        if nonnegative:
            bad |= arr < 0
        if upper is not None:
            bad |= arr > upper
    if bad.any():
        flat = int(np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0])
        value = arr[flat] if arr.ndim == 1 else arr[flat][bad[flat]][0]
        bounds = f"[0, {upper}]" if upper is not None else ("[0, inf)" if nonnegative else "finite")
        raise InvalidModelInput(
            f"{name}: {firm_name(flat, labels)} has {value!r}, expected a value in {bounds}"
        )
