r"""The ``k`` firms with the largest ESRI without computing every firm's: bound, then certify.

Computing :func:`contagion.esri.esri` for every firm follows n cascades; a credit officer asking
for the 20 most systemic firms needs only the few whose index can be large. Each cascade
(``contagion.esri``: losses :math:`l = \min(1, \max(\psi, M l))` with :math:`M \ge 0` the
operator on losses, the linear part plus every essential pair's row) is bounded by its
linearisation without the cap, :math:`l \le (I - M)^{-1} e_i`, so the weighted loss of firm
i's failure in one cascade is at most

.. math:: y_i = \bigl[(I - M^\top)^{-1} w\bigr]_i, \qquad y = w + M^\top y

(the adjoint: one fixed point for every firm at once, sparse matrix-vector products). Since
:math:`\max(a, b) \le a + b - \min(a, b)` and the failed firm's own losses are 1 in both,

.. math:: \mathrm{ESRI}_i \le U_i = \min\bigl(1,\; y^d_i + y^u_i - w_i\bigr).

An iterate of :math:`y = w + M^\top y` only approaches the fixed point from below, so the bound
used is a checked supersolution :math:`u \ge w + M^\top u` (then :math:`u \ge y`): the iterate
scaled up by 0.1%. Where none exists (a ring of firms with no trade outside the network,
spectral radius 1), the firms whose failure reaches it are bounded instead by the weight of
every firm their failure can reach in that cascade (each loses at most everything), or 1 when
there are too many of them to search.

The firms are then taken by decreasing :math:`U` in blocks and their ESRI computed with the
dense iteration (``esri(..., exact=True)``, the reference algorithm, which approaches the fixed
point from below too, so a computed value never exceeds :math:`U`), until the k-th largest
computed value exceeds the bound of every firm not computed yet: no such firm can enter the top
k. The answer is the top k of computing every firm, not an approximation of it (the values
agree to the iteration's tolerance: a dense block stops when its largest change is at most
``tol``, so a value depends on its blockmates at that order); only the cost depends on how tight
the bounds are (at 20k firms 128 of 20,600 were computed for the top 20, 192 for the top 100).

Diem, Borsos, Reisch, Kertész, Thurner, "Quantifying firm-level economic systemic risk from
nation-wide supply networks", Sci. Rep. 12, 7719 (2022), for the index itself.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from contagion._validate import as_csr
from contagion.esri import (
    Cascade,
    EssentialLike,
    esri,
    impact_weights,
    network_of,
)
from contagion.typing import LabelsLike, MatrixLike, VectorLike

__all__ = ["TopESRI", "esri_bounds", "top_esri"]

#: Firms without a linear bound searched one by one for what their failure reaches (else bound 1).
_REACH_MAX = 2000


@dataclass(frozen=True)
class TopESRI:
    """Outcome of :func:`top_esri`: the top firms by ESRI, best first, and what it cost."""

    firms: np.ndarray  # indices of the top k (fewer when fewer candidates), by ESRI desc, then index
    esri: np.ndarray  # their ESRI (combined), downstream and upstream parts
    downstream: np.ndarray
    upstream: np.ndarray
    computed: int  # firms whose ESRI was computed
    bound: np.ndarray  # U for every firm


def _operator(c: Cascade, n: int) -> sp.csr_matrix:
    """The cascade's losses operator M (linear part plus each essential pair's row, summed)."""
    m = c.lin
    if c.grp is not None and c.grp.shape[0] and c.pair_buyer is not None:
        pairs = c.grp.shape[0]
        owner = sp.csr_matrix((np.ones(pairs), (c.pair_buyer, np.arange(pairs))), shape=(n, pairs))
        m = m + owner @ c.grp
    return sp.csr_matrix(m)


def _adjoint_bound(m: sp.csr_matrix, w: np.ndarray, rounds: int = 500) -> np.ndarray:
    """A checked supersolution of ``y = w + M^T y`` (inf where none exists)."""
    mt = sp.csr_matrix(m.T)
    y = w.copy()
    for _ in range(rounds):
        new = w + mt @ y
        done = float(np.abs(new - y).max(initial=0.0)) <= 1e-15
        y = new
        if done:
            break
    u = y * 1.001 + 1e-15
    bad = u < w + mt @ u
    # every firm whose failure reaches a firm without a bound has none either (y_j sums over
    # the firms j's losses reach: row j of M^T, i.e. column j of M)
    unbounded, front = bad.copy(), np.flatnonzero(bad)
    while front.size:
        nxt = m[front].indices
        nxt = np.unique(nxt[~unbounded[nxt]])
        unbounded[nxt] = True
        front = nxt
    u[unbounded] = np.inf
    return u


def esri_bounds(
    supply: MatrixLike,
    sectors: LabelsLike,
    *,
    essential: EssentialLike = "linear",
    sector_labels: Sequence[Hashable] | None = None,
    total_sales: VectorLike | None = None,
    total_inputs: VectorLike | None = None,
) -> np.ndarray:
    r"""Upper bounds :math:`U_i \ge \mathrm{ESRI}_i` of every firm (module doc), sales weights.

    >>> W = np.array([[0.0, 4.0, 2.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    >>> u = esri_bounds(W, ["a", "b", "c"], total_sales=[12, 2, 4], total_inputs=[0, 4, 8])
    >>> exact = esri(W, ["a", "b", "c"], total_sales=[12, 2, 4], total_inputs=[0, 4, 8], exact=True).esri
    >>> bool((exact <= u + 1e-12).all()), u.round(4).tolist()
    (True, [0.8904, 0.3894, 0.6676])
    """
    net = network_of(supply, sectors, essential, sector_labels, total_sales, total_inputs)
    n, down, up = net.n, net.down, net.up
    v = impact_weights("sales", net.s_out, net.s_in, net.sales)
    parts = []
    for c in (down, up):
        m = _operator(c, n)
        y = _adjoint_bound(m, v)
        open_ = np.flatnonzero(np.isinf(y))
        if 0 < open_.size <= _REACH_MAX:
            # no linear bound: every firm the failure can reach loses at most everything
            reach = sp.csr_matrix(m.T)
            y[open_] = [float(v[breadth_first_order(reach, i, return_predecessors=False)].sum())
                        for i in open_]
        parts.append(y)
    return np.minimum(1.0, parts[0] + parts[1] - v)


def top_esri(
    supply: MatrixLike,
    sectors: LabelsLike,
    k: int,
    *,
    candidates: np.ndarray | None = None,
    essential: EssentialLike = "linear",
    sector_labels: Sequence[Hashable] | None = None,
    total_sales: VectorLike | None = None,
    total_inputs: VectorLike | None = None,
    tol: float = 1e-6,
    block: int = 64,
) -> TopESRI:
    """The ``k`` firms (among ``candidates``, a boolean mask; all by default) with the largest ESRI
    (sales weights), each computed by ``esri(..., exact=True, tol=tol)``, certified by the
    bounds (module doc): the same firms as computing every firm that way, the values to ``tol``.

    >>> W = np.array([[0.0, 4.0, 2.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])
    >>> got = top_esri(W, ["a", "b", "c"], 2, total_sales=[12, 2, 4], total_inputs=[0, 4, 8])
    >>> got.firms.tolist(), got.esri.round(4).tolist()
    ([0, 2], [0.8889, 0.6667])
    """
    w = as_csr(supply, "supply")
    n = w.shape[0]
    mask = np.ones(n, dtype=bool) if candidates is None else np.asarray(candidates, dtype=bool)
    bound = esri_bounds(w, sectors, essential=essential, sector_labels=sector_labels,
                        total_sales=total_sales, total_inputs=total_inputs)
    pool = np.flatnonzero(mask)
    order = pool[np.lexsort((pool, -bound[pool]))]  # largest bound first
    values = np.full((3, n), np.nan)
    pos = 0
    while pos < order.size:
        batch = order[pos : pos + block]
        pos += batch.size
        r = esri(w, sectors, essential=essential, sector_labels=sector_labels, total_sales=total_sales,
                 total_inputs=total_inputs, tol=tol, exact=True, firms=batch, block=block)
        values[:, batch] = np.vstack((r.esri, r.downstream, r.upstream))[:, batch]
        done = order[:pos]
        if done.size >= k and pos < order.size:
            kth = np.sort(values[0, done])[-k]
            if kth > bound[order[pos]]:  # no firm left can reach the top k
                break
    done = order[:pos]
    best = done[np.lexsort((done, -values[0, done]))][:k]
    return TopESRI(firms=best, esri=values[0, best], downstream=values[1, best], upstream=values[2, best],
                   computed=int(pos), bound=bound)
