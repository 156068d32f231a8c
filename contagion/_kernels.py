r"""Compiled sparse kernels and the shared maths of the contagion models (private to the package).

Two layers, both shared by :mod:`~contagion.debtrank`, :mod:`~contagion.esri`,
:mod:`~contagion.guarantee` and :mod:`~contagion.multilayer` (other modules
import their public names; nothing outside the package should):

**Shared maths.** :func:`spmm` (``W @ X`` into a caller's buffer),
:func:`block_width` (scenarios per column block), :func:`scale_rows_capped`
(the impact rule :math:`\min(1, E_{ij} / e_i)`, 1 where :math:`e_i \le 0`) and
:func:`differential` (differential DebtRank over scenario columns, on one impact
matrix or on a sum of layers with each increment attributed to the layers).

**Compiled kernels.** Two kernels over a CSR matrix :math:`W` (n x m) and
row-major (C-ordered) float64 dense blocks whose columns are scenarios:

- :func:`spmm_into` writes :math:`Y = W X` into a caller's buffer;
- :func:`differential_round` advances differential DebtRank one round in place,
  :math:`h \leftarrow \min(1, h + W \Delta h)`, fused with the new increments,
  their per-column maxima and the rows where they are non-zero (the frontier);
- the attributed round of :func:`differential` on a sum of layers does the same on
  the layers merged into one CSR (:func:`merge_layers`), splitting each row's
  increment over the layers; below :data:`SERIAL_WORK` multiply-adds per round
  (a network of a few thousand firms) it runs on one thread, where starting the
  threads would cost more than the round, and far more on a busy machine;

with :func:`row_chunks`, :func:`start_block` and :func:`retire_columns` to split
rows and move scenario columns in and out of a block.

Both run on every core with numba (``parallel=True``, rows split into chunks of
equal non-zeros, each row written by one thread only, so no races) when numba is
installed, and fall back to scipy's single-threaded kernel when it is not:
:data:`BACKEND` says which. The results are the same bit for bit either way and
the same as ``W @ X``: every output entry is summed over the row's non-zeros in
their stored order, without fused multiply-adds, and the compiled round skips
only products with an all-zero row of :math:`\Delta h`, which add exactly zero.
Numba compiles on first use (a few seconds) and caches the machine code in
``__pycache__``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

try:  # the kernel behind ``csr @ dense``, called directly to reuse the output buffer
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - scipy moved its private kernel
    _csr_matvecs = None


def _optional_numba() -> Any:
    try:
        return importlib.import_module("numba")
    except ImportError:  # pragma: no cover - exercised where numba is not installed
        return None


numba: Any = _optional_numba()

__all__ = [
    "BACKEND",
    "DefaultRule",
    "block_width",
    "differential",
    "differential_round",
    "merge_layers",
    "retire_columns",
    "row_chunks",
    "scale_rows_capped",
    "spmm",
    "spmm_into",
    "start_block",
]

#: ``"numba"`` when the compiled multi-threaded kernels are in use, else ``"scipy"``.
BACKEND = "numba" if numba is not None else "scipy"


@dataclass(frozen=True)
class DefaultRule:
    r"""Defaults decided inside the rounds: firm i defaults in scenario r when its distress h
    (below 1) reaches ``cap[i]`` or :math:`X_{ir} < c_i (1 - k h)` (finite :math:`c_i`; an infinite
    :math:`c_i` is the threshold itself), the Merton mapping of :mod:`contagion.stress.distress`.

    A firm that defaults is set to distress 1 in the round it crosses, so it passes the rest of
    a full default on in the next round (see :func:`differential`). ``latent`` is n x k (the
    scenarios' columns), ``thresholds`` and ``cap`` have length n (``inf`` in ``cap`` and
    ``-inf`` in ``thresholds``: never by this rule).
    """

    latent: np.ndarray
    thresholds: np.ndarray
    sensitivity: float
    cap: np.ndarray

    def hits(self, h: np.ndarray, cols: np.ndarray | slice) -> np.ndarray:
        """Where ``h`` (n x len(cols), the scenarios ``cols``) is below 1 and the rule says default.

        The same floating-point expression as the compiled round, so both decide alike.
        """
        c = self.thresholds[:, None]
        with np.errstate(invalid="ignore"):
            t = np.where(np.isfinite(c), c * (1.0 - self.sensitivity * h), c)
        return (h < 1.0) & ((h >= self.cap[:, None]) | (self.latent[:, cols] < t))


def row_chunks(indptr: np.ndarray, parts: int | None = None) -> np.ndarray:
    """Row boundaries splitting a CSR matrix into ``parts`` chunks of about equal non-zeros.

    ``parts`` defaults to sixteen per thread; the compiled kernels hand chunks
    out one at a time, so threads stay balanced on heavy-tailed degrees and
    when another process takes a core for a while. Returns ``parts + 1``
    increasing int64 row indices from 0 to n.
    """
    n = indptr.size - 1
    if parts is None:
        parts = 16 * (numba.get_num_threads() if numba is not None else 1)
    targets = np.linspace(0, indptr[-1], max(1, parts) + 1)
    bounds = np.searchsorted(indptr, targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, n
    return np.maximum.accumulate(np.minimum(bounds, n))


def _check_block(name: str, a: np.ndarray, rows: int, k: int) -> None:
    if a.dtype != np.float64 or a.ndim != 2 or a.shape != (rows, k) or not a.flags.c_contiguous:
        raise ValueError(
            f"{name} must be a C-ordered float64 array of shape {(rows, k)}, got {a.dtype} {a.shape}"
        )


def spmm_into(w: sp.csr_matrix, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[...] = w @ x`` without allocating; ``x`` (m x k) and ``out`` (n x k) C-ordered float64.

    ``w`` is CSR (n x m) with int32 or int64 indices. Returns ``out``.
    """
    n, m = w.shape
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D, got shape {x.shape}")
    k = x.shape[1]
    _check_block("x", x, m, k)
    _check_block("out", out, n, k)
    if numba is not None:
        _spmm_nb(row_chunks(w.indptr), w.indptr, w.indices, w.data, x, out)
    elif _csr_matvecs is not None:  # pragma: no cover - without numba
        out.fill(0.0)
        _csr_matvecs(n, m, k, w.indptr, w.indices, w.data, x.reshape(-1), out.reshape(-1))
    else:  # pragma: no cover
        out[...] = w @ x
    return out


def differential_round(
    w: sp.csr_matrix,
    h: np.ndarray,
    dh: np.ndarray,
    active: np.ndarray,
    dh_next: np.ndarray,
    active_next: np.ndarray,
    chunk_max: np.ndarray,
    bounds: np.ndarray,
) -> np.ndarray:
    r"""One round of differential DebtRank on a block of scenarios, in place.

    ``h, dh, dh_next`` are C-ordered float64 n x k; ``active[j]`` must be True
    wherever row j of ``dh`` has a non-zero (rows where it is False are never
    read, so they may hold stale values). Computes :math:`y = W \Delta h`, then
    ``h_new = min(1, h + y)``, ``dh_next = h_new - h`` and ``h = h_new`` on the
    rows that receive anything (elsewhere ``dh_next`` is not written and
    ``active_next`` is False), ``active_next[i] = any(dh_next[i] != 0)``.
    ``chunk_max`` (at least ``len(bounds) - 1`` rows by k) receives per-chunk
    column maxima of the new increments; ``bounds`` comes from :func:`row_chunks`.
    Returns the column maxima of ``dh_next`` (length k).
    """
    k = h.shape[1]
    parts = bounds.size - 1
    if numba is not None:
        _round_nb(bounds, w.indptr, w.indices, w.data, h, dh, active, dh_next, active_next, chunk_max)
        return chunk_max[:parts, :k].max(axis=0, initial=0.0)
    y = spmm_into(w, dh, np.empty_like(h))  # pragma: no cover - without numba
    new = np.minimum(h + y, 1.0)  # pragma: no cover
    np.subtract(new, h, out=dh_next)  # pragma: no cover
    h[...] = new  # pragma: no cover
    active_next[...] = dh_next.any(axis=1)  # pragma: no cover
    return dh_next.max(axis=0, initial=0.0)  # pragma: no cover


def start_block(h1: np.ndarray, cols: np.ndarray, h: np.ndarray, dh: np.ndarray, active: np.ndarray) -> None:
    """``h[...] = dh[...] = h1[:, cols]`` and ``active[i] = any(h1[i, cols] != 0)``, in one pass."""
    _check_block("h", h, h1.shape[0], cols.size)
    _check_block("dh", dh, h1.shape[0], cols.size)
    if numba is not None:
        _start_nb(h1, cols.astype(np.int64), h, dh, active)
    else:  # pragma: no cover - without numba
        np.take(h1, cols, axis=1, out=h)
        dh[...] = h
        np.any(h, axis=1, out=active)


def retire_columns(
    h: np.ndarray,
    dead: np.ndarray,
    out: np.ndarray,
    out_cols: np.ndarray,
    *,
    keep: np.ndarray | None = None,
    into: np.ndarray | None = None,
) -> None:
    """``out[:, out_cols] = h[:, dead]`` and, given ``keep``, ``into[...] = h[:, keep]``, in one pass.

    Writes finished scenarios out and compacts the running ones of a block.
    """
    if keep is None or into is None:
        keep, into = np.empty(0, np.int64), h
    else:
        _check_block("into", into, h.shape[0], keep.size)
    if numba is not None:
        _retire_nb(h, dead.astype(np.int64), out, out_cols.astype(np.int64), keep.astype(np.int64), into)
    else:  # pragma: no cover - without numba
        out[:, out_cols] = h[:, dead]
        if keep.size:
            np.take(h, keep, axis=1, out=into)


def _jit(fn: Any) -> Any:
    """Compile ``fn`` for all threads; each call hands out its ``prange`` chunks one at a time."""
    if numba is None:  # pragma: no cover
        return fn
    compiled = numba.njit(parallel=True, fastmath=False, cache=True, nogil=True)(fn)

    def call(*args: Any) -> Any:
        with numba.parallel_chunksize(1):
            return compiled(*args)

    return call


def _spmm_nb_py(bounds, indptr, indices, data, x, out):  # pragma: no cover - compiled
    k = x.shape[1]
    for c in numba.prange(bounds.size - 1):
        acc = np.empty(k)
        for i in range(bounds[c], bounds[c + 1]):
            if k == 1:  # SpMV: accumulate in a register
                s = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    s += data[p] * x[indices[p], 0]
                out[i, 0] = s
                continue
            for q in range(k):
                acc[q] = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                a = data[p]
                j = indices[p]
                for q in range(k):
                    acc[q] += a * x[j, q]
            for q in range(k):
                out[i, q] = acc[q]


def _round_nb_py(
    bounds, indptr, indices, data, h, dh, active, dh_next, active_next, chunk_max
):  # pragma: no cover - compiled
    k = h.shape[1]
    for c in numba.prange(bounds.size - 1):
        acc = np.empty(k)
        for q in range(k):
            chunk_max[c, q] = 0.0
        for i in range(bounds[c], bounds[c + 1]):
            hit = False
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                if active[j]:
                    if not hit:
                        for q in range(k):
                            acc[q] = 0.0
                        hit = True
                    a = data[p]
                    for q in range(k):
                        acc[q] += a * dh[j, q]
            if not hit:
                active_next[i] = False
                continue
            nz = False
            for q in range(k):
                old = h[i, q]
                new = old + acc[q]
                if new > 1.0:
                    new = 1.0
                d = new - old
                h[i, q] = new
                dh_next[i, q] = d
                if d > chunk_max[c, q]:
                    chunk_max[c, q] = d
                nz = nz or d != 0.0
            active_next[i] = nz


def _start_nb_py(h1, cols, h, dh, active):  # pragma: no cover - compiled
    for i in numba.prange(h1.shape[0]):
        nz = False
        for q in range(cols.size):
            v = h1[i, cols[q]]
            h[i, q] = v
            dh[i, q] = v
            nz = nz or v != 0.0
        active[i] = nz


def _retire_nb_py(h, dead, out, out_cols, keep, into):  # pragma: no cover - compiled
    for i in numba.prange(h.shape[0]):
        for q in range(dead.size):
            out[i, out_cols[q]] = h[i, dead[q]]
        for q in range(keep.size):
            into[i, q] = h[i, keep[q]]


_spmm_nb = _jit(_spmm_nb_py)
_start_nb = _jit(_start_nb_py)
_retire_nb = _jit(_retire_nb_py)
_round_nb = _jit(_round_nb_py)


# ----------------------------------------------------------------------- shared maths
def scale_rows_capped(m: sp.csr_matrix, equity: np.ndarray) -> sp.csr_matrix:
    """``min(1, m[i, j] / equity[i])`` on the stored entries; 1 where ``equity[i] <= 0`` (shared rule)."""
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    e = equity[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        data = np.where(e > 0, m.data / np.where(e > 0, e, 1.0), 1.0)
    w = sp.csr_matrix((np.minimum(data, 1.0), m.indices.copy(), m.indptr.copy()), shape=m.shape)
    w.eliminate_zeros()
    return w


def block_width(n: int, k: int) -> int:
    """Scenarios per column block: up to 64, fewer on big networks (at most 128 MiB per n x b array)."""
    return max(1, min(k, 64, (1 << 24) // max(n, 1)))


def spmm(w: sp.csr_matrix, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[...] = w @ x`` for C-ordered ``x`` and ``out``, without allocating (:func:`spmm_into`)."""
    if not out.flags.c_contiguous:
        raise ValueError("spmm needs a C-ordered output buffer")
    return spmm_into(w, np.ascontiguousarray(x, dtype=np.float64), out)


def differential(
    w: sp.csr_matrix | Sequence[sp.csr_matrix],
    h1: np.ndarray,
    *,
    tol: float,
    max_rounds: int,
    block: int | None = None,
    prior: np.ndarray | None = None,
    rule: DefaultRule | None = None,
) -> tuple[np.ndarray, list[np.ndarray] | None, int, float, int]:
    """Differential DebtRank on C-ordered ``h1`` (n x k); the engine of ``debtrank`` and ``multilayer``.

    ``w`` is one matrix, or a list of matrices whose sum is the impact matrix:
    then each round's increment is also attributed to the matrices in
    proportion to their terms ``w_l @ dh``, and the attributions are returned.
    Returns ``(h, attributions or None, rounds, residual, scenario_rounds)``;
    ``residual`` is 0.0 when every scenario converged, else the largest last increment.
    ``prior`` (list of matrices only): the distress an earlier run reached; the first
    increment is then ``h1 - prior`` and the attributions cover this call's increments.
    ``rule`` (list of matrices only): firms that default by the :class:`DefaultRule` are set
    to distress 1 in the round they cross it (and at the start, where ``h1`` crosses it); the
    jump to 1 is attributed to the matrices in proportion to what they carried to the firm
    before (nothing where nothing was carried: a default of the start).
    """
    if isinstance(w, sp.spmatrix | sp.sparray):
        if prior is not None or rule is not None:
            raise ValueError("prior and rule need the attributed form (a list of matrices)")
        return (*_differential_one(w, h1, tol=tol, max_rounds=max_rounds, block=block),)
    return _differential_attributed(list(w), h1, tol=tol, max_rounds=max_rounds, block=block, prior=prior,
                                    rule=rule)


def _differential_one(
    w: sp.csr_matrix, h1: np.ndarray, *, tol: float, max_rounds: int, block: int | None
) -> tuple[np.ndarray, None, int, float, int]:
    """Single-matrix differential DebtRank with the fused round of :func:`differential_round`.

    Per block of scenarios, rows whose increment is zero in every scenario of
    the block (outside the frontier) are skipped. A converged scenario is
    written out at once; it stays in the block (its slot is ignored) until at
    most half the block is live, then the block is compacted. Three n x b
    buffers are allocated once per call and reused: a first touch of fresh
    memory costs about as much as a round.
    """
    n, k = h1.shape
    out = np.empty_like(h1)
    b = block or max(1, min(k, 128, (1 << 25) // max(n, 1)))  # 128 columns measured ~10% faster than 64
    bounds = row_chunks(w.indptr)
    chunk_max = np.empty((bounds.size - 1, b))
    bufs = [np.empty(n * b) for _ in range(3)]  # h, dh and the next dh, in turns
    active, active_next = np.empty(n, dtype=bool), np.empty(n, dtype=bool)
    colmax0 = h1.max(axis=0, initial=0.0)
    rounds_all, residual, work = 0, 0.0, 0

    def view(i: int, width: int) -> np.ndarray:
        return bufs[i][: n * width].reshape(n, width)

    for start in range(0, k, b):
        cols = np.arange(start, min(start + b, k))  # scenario in each slot of the block
        ih, idh, inext = 0, 1, 2
        h, dh = view(ih, cols.size), view(idh, cols.size)
        start_block(h1, cols, h, dh, active)
        colmax = colmax0[cols]
        alive = np.ones(cols.size, dtype=bool)  # slots whose scenario still runs
        t = 0
        while True:
            done = alive & (colmax < tol)
            if t == max_rounds and (alive & ~done).any():
                residual = max(residual, float(colmax[alive & ~done].max()))
                done = alive.copy()
            if done.any():  # write finished scenarios out; compact when at most half the slots run
                alive &= ~done
                dead = np.flatnonzero(done)
                keep = np.flatnonzero(alive)
                if keep.size == 0:
                    retire_columns(h, dead, out, cols[dead])
                    break
                if 2 * keep.size <= alive.size:  # h into the free buffer, then dh into h's old one
                    retire_columns(h, dead, out, cols[dead], keep=keep, into=view(inext, keep.size))
                    retire_columns(dh, dead[:0], out, dead[:0], keep=keep, into=view(ih, keep.size))
                    ih, idh, inext = inext, ih, idh
                    h, dh = view(ih, keep.size), view(idh, keep.size)
                    cols, colmax, alive = cols[keep], colmax[keep], alive[keep]
                else:
                    retire_columns(h, dead, out, cols[dead])
            dh_next = view(inext, cols.size)
            colmax = differential_round(w, h, dh, active, dh_next, active_next, chunk_max, bounds)
            dh, idh, inext = dh_next, inext, idh
            active, active_next = active_next, active
            t += 1
            work += int(alive.sum())
            rounds_all = max(rounds_all, t)
    return out, None, rounds_all, residual, work


def merge_layers(mats: Sequence[sp.csr_matrix]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One CSR of the layers' entries, row by row, each row's entries by layer then in stored order.

    Returns ``(indptr, indices, data, layer)`` (int64, int64, float64, int64): the
    entries of row i of ``mats[0]``, then of ``mats[1]``, ..., each with its layer
    index, so a kernel summing a row's entries per layer in this order sums each
    layer's row in its own stored order (the same floating-point sum as ``mats[l] @ x``).
    """
    n = mats[0].shape[0]
    rows = [np.repeat(np.arange(n, dtype=np.int64), np.diff(m.indptr)) for m in mats]
    row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    layer = np.concatenate([np.full(m.nnz, i, dtype=np.int64) for i, m in enumerate(mats)])
    order = np.lexsort((layer, row))  # stable: within (row, layer) the stored order is kept
    indices = np.concatenate([m.indices.astype(np.int64) for m in mats])[order]
    data = np.concatenate([m.data.astype(np.float64) for m in mats])[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    return indptr, indices, data, layer[order]


#: Multiply-adds per round below which the attributed round runs on one thread
#: (starting the threads costs more than it saves there, and far more on a busy machine).
SERIAL_WORK = 1 << 22


def _differential_attributed(
    mats: list[sp.csr_matrix],
    h1: np.ndarray,
    *,
    tol: float,
    max_rounds: int,
    block: int | None,
    prior: np.ndarray | None = None,
    rule: DefaultRule | None = None,
) -> tuple[np.ndarray, list[np.ndarray], int, float, int]:
    """Differential DebtRank on a sum of matrices, attributing each increment to the terms.

    One fused round per step (:func:`_attr_round_py`): the terms ``w_l @ dh`` over
    the rows of ``dh`` with a non-zero (the frontier), the capped update, and the
    attribution ``acc_l += (w_l @ dh) * dh_new / y`` where ``y = sum_l w_l @ dh > 0``,
    the same floating-point operations as the plain formula. With ``prior`` (the
    distress an earlier propagation reached), the first increment is ``h1 - prior``
    instead of ``h1`` (continuing from that state; the attributions cover this call only).
    With ``rule``, a row that crosses the :class:`DefaultRule` in a round jumps to 1 there
    (the whole jump is that round's increment, passed on in the next round) and its
    attributions are scaled up pro rata to cover the jump, so they still sum to ``h - h1``.
    As in :func:`_differential_one`, a converged scenario is written out at once and
    its slot compacted away only once at most half the block runs.
    """
    n, k = h1.shape
    n_layers = len(mats)
    indptr, indices, data, layer = merge_layers(mats)
    out = h1.copy()
    acc_out = np.zeros((n_layers, n, k))
    b = block or block_width(n, k)
    parallel = numba is not None and data.size * b >= SERIAL_WORK and numba.get_num_threads() > 1
    bounds = row_chunks(indptr) if parallel else np.array([0, n], dtype=np.int64)
    chunk_max = np.empty((bounds.size - 1, b))
    rounds_all, residual, work = 0, 0.0, 0
    if rule is not None:
        if rule.latent.shape != (n, k) or rule.thresholds.shape != (n,) or rule.cap.shape != (n,):
            raise ValueError(f"rule: latent must be {(n, k)}, thresholds and cap ({n},)")
        c_rule = np.ascontiguousarray(rule.thresholds, dtype=np.float64)
        cap_rule = np.ascontiguousarray(rule.cap, dtype=np.float64)
    else:  # placeholders of the compiled signature, never read
        c_rule = cap_rule = np.zeros(1)
        latent = np.zeros((1, 1))
    for start in range(0, k, b):
        cols = np.arange(start, min(start + b, k))
        h = np.array(h1[:, cols], order="C")
        if rule is not None:
            latent = np.array(rule.latent[:, cols], dtype=np.float64, order="C")
            h[rule.hits(h, cols)] = 1.0  # defaults of the start: no layer carried them
        dh = h - prior[:, cols] if prior is not None else h.copy()
        active = np.ascontiguousarray((dh != 0.0).any(axis=1))
        active_next = np.empty(n, dtype=bool)
        acc = np.zeros((n_layers, n, cols.size))
        colmax = dh.max(axis=0, initial=0.0)
        dh_next = np.empty_like(h)
        alive = np.ones(cols.size, dtype=bool)  # slots whose scenario still runs
        t = 0
        while True:
            done = alive & (colmax < tol)
            if t == max_rounds and (alive & ~done).any():
                residual = max(residual, float(colmax[alive & ~done].max()))
                done = alive.copy()
            if done.any():  # write finished scenarios out; compact when at most half the slots run
                out[:, cols[done]] = h[:, done]
                acc_out[:, :, cols[done]] = acc[:, :, done]
                alive &= ~done
                keep = np.flatnonzero(alive)
                if keep.size == 0:
                    break
                if 2 * keep.size <= alive.size:
                    h, dh = np.array(h[:, keep], order="C"), np.array(dh[:, keep], order="C")
                    acc = np.array(acc[:, :, keep], order="C")
                    if rule is not None:
                        latent = np.array(latent[:, keep], order="C")
                    cols, colmax, alive = cols[keep], colmax[keep], alive[keep]
                    dh_next = np.empty_like(h)
            _attr_round(
                parallel,
                bounds,
                indptr,
                indices,
                data,
                layer,
                n_layers,
                h,
                dh,
                active,
                dh_next,
                active_next,
                acc,
                chunk_max,
                rule is not None,
                latent,
                c_rule,
                float(rule.sensitivity) if rule is not None else 0.0,
                cap_rule,
            )
            colmax = chunk_max[: bounds.size - 1, : cols.size].max(axis=0, initial=0.0)
            dh, dh_next = dh_next, dh
            active, active_next = active_next, active
            t += 1
            work += int(alive.sum())
            rounds_all = max(rounds_all, t)
    return out, list(acc_out), rounds_all, residual, work


def _attr_round_py(
    bounds, indptr, indices, data, layer, n_layers, h, dh, active, dh_next, active_next, acc, chunk_max,
    rule_on, latent, c, sens, cap,
):  # pragma: no cover - compiled
    """One attributed round in place (see :func:`_differential_attributed`); rows that receive nothing
    keep ``h`` and ``acc``, get ``active_next`` False and leave ``dh_next`` unwritten (never read).
    With ``rule_on``, a row that crosses the :class:`DefaultRule` (``latent``, ``c``, ``sens``,
    ``cap``) jumps to 1, its attributions scaled up pro rata to cover the jump."""
    k = h.shape[1]
    for c_ in numba.prange(bounds.size - 1):
        part = np.empty((n_layers, k))
        for q in range(k):
            chunk_max[c_, q] = 0.0
        for i in range(bounds[c_], bounds[c_ + 1]):
            hit = False
            for p in range(indptr[i], indptr[i + 1]):
                j = indices[p]
                if active[j]:
                    if not hit:
                        for m in range(n_layers):
                            for q in range(k):
                                part[m, q] = 0.0
                        hit = True
                    a = data[p]
                    m = layer[p]
                    for q in range(k):
                        part[m, q] += a * dh[j, q]
            if not hit:
                active_next[i] = False
                continue
            nz = False
            for q in range(k):
                y = part[0, q]
                for m in range(1, n_layers):
                    y = y + part[m, q]
                old = h[i, q]
                new = old + y
                if new > 1.0:
                    new = 1.0
                d = new - old
                if y > 0.0:
                    s = d / y
                    for m in range(n_layers):
                        acc[m, i, q] += part[m, q] * s
                if rule_on and new < 1.0:
                    ci = c[i]
                    t = ci * (1.0 - sens * new) if np.isfinite(ci) else ci
                    if new >= cap[i] or latent[i, q] < t:  # defaults: passes a full default on
                        tot = acc[0, i, q]
                        for m in range(1, n_layers):
                            tot = tot + acc[m, i, q]
                        if tot > 0.0:
                            f = (tot + (1.0 - new)) / tot
                            for m in range(n_layers):
                                acc[m, i, q] = acc[m, i, q] * f
                        new = 1.0
                        d = new - old
                h[i, q] = new
                dh_next[i, q] = d
                if d > chunk_max[c_, q]:
                    chunk_max[c_, q] = d
                nz = nz or d != 0.0
            active_next[i] = nz


if numba is not None:
    _attr_par = _jit(_attr_round_py)
    _attr_ser = numba.njit(parallel=False, fastmath=False, cache=True, nogil=True)(_attr_round_py)


def _attr_round(parallel: bool, *args: Any) -> None:
    if numba is not None:
        (_attr_par if parallel else _attr_ser)(*args)
        return
    _attr_round_plain(*args)  # pragma: no cover


def _attr_round_plain(  # pragma: no cover - without numba
    bounds, indptr, indices, data, layer, n_layers, h, dh, active, dh_next, active_next, acc, chunk_max,
    rule_on, latent, c, sens, cap,
) -> None:
    n, k = h.shape
    row = np.repeat(np.arange(n), np.diff(indptr))
    parts = np.zeros((n_layers, n, k))
    for m in range(n_layers):
        sel = layer == m
        w = sp.csr_matrix((data[sel], (row[sel], indices[sel])), shape=(n, n))
        parts[m] = w @ dh
    y = parts.sum(axis=0)
    new = np.minimum(h + y, 1.0)
    share = np.divide(new - h, y, out=np.zeros_like(y), where=y > 0)
    acc += parts * share
    if rule_on:  # the compiled round's rule, in the same floating-point operations
        cc = c[:, None]
        with np.errstate(invalid="ignore"):
            t = np.where(np.isfinite(cc), cc * (1.0 - sens * new), cc)
        jump = (y > 0) & (new < 1.0) & ((new >= cap[:, None]) | (latent < t))
        tot = acc.sum(axis=0)
        scale = jump & (tot > 0)
        f = np.divide(tot + (1.0 - new), tot, out=np.ones_like(tot), where=scale)
        acc[:, scale] = acc[:, scale] * f[scale]
        new = np.where(jump, 1.0, new)
    dh_next[...] = new - h
    h[...] = new
    active_next[...] = dh_next.any(axis=1)
    chunk_max[0, :k] = dh_next.max(axis=0, initial=0.0)
