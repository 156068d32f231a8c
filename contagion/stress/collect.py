r"""Streaming collection of block results, keeping per-firm run losses only where they are needed.

The driver (:func:`contagion.stress.run_stress`) folds the blocks of
:func:`~contagion.stress.montecarlo.simulate_block` in block order, as they arrive
(locally or from Dask workers in any order): per-run figures are appended, per-firm
and per-loan sums added in block order (so a sharded run equals a local one bit for
bit), and each block is dropped once folded.

Per-firm losses of each run, :math:`L_{jr}` (and new defaults), are what the Euler
contributions :math:`\sum_r \theta_r L_{jr}` and the reverse stress test read. Kept for
every run they grow as firms x runs (at 100,000 firms and 10,000 runs, several
gigabytes), but :math:`\theta_r` (:func:`contagion.stress.tail_stats.es_weights`) is
zero for every run below :math:`\widehat{VaR}_q`. A run can be dropped as soon as the
runs seen so far prove that it lies below the final VaR: with unnormalised weights
:math:`w_r` of total :math:`W` over all :math:`N` runs (known before the runs: they
depend on the global factor draws alone), the final VaR is the smallest loss
:math:`x` with :math:`\sum_{r: L_r > x} w_r \le (1 - q) W` (up to the tolerance of
:func:`~contagion.stress.tail_stats.weighted_var`); if the runs seen so far already
have weight above :math:`x` beyond that, so has the whole set, and the VaR lies
above :math:`x`. The bound :math:`B` is the largest such seen loss; runs with
:math:`L_r \le B` are dropped, with a margin so that rounding never drops a run the
final VaR keeps. At the end, only runs with :math:`\theta_r > 0` stay, plus the runs
whose loss exceeds ``keep_above`` (the reverse stress threshold, when the caller knows
it). Dropped runs leave empty columns, so the matrices keep their n x N shape and
``run_firm_loss @ theta`` is the same sum, term for term, as with every run kept
(the dropped terms were exact zeros).

Under importance sampling many more runs land in the tail (the tilted half of them
mostly lies beyond the 99 % VaR), so the saving is smaller there than under plain
Monte Carlo; ``summary.json`` → ``sampling.tail_runs_kept`` says how many were kept.

**Memory bound.** What stays is still firms x kept runs, so a big job (100,000 firms,
10,000 runs, contagion on, or a reverse stress threshold far below the VaR) could need
more memory than the machine has. ``max_kept_bytes`` (default
:data:`DEFAULT_MAX_KEPT_BYTES`, 4 GiB) bounds the kept matrices: once the columns kept
after a block is folded (and pruned) pass it, :class:`~chainrisk.errors.ModelError` is
raised at once, naming the bound, the runs folded and kept, and what to change; with
``keep_above = -inf`` (every run kept) the error comes as soon as the blocks folded so
far project past the bound at ``runs``. The kept matrices therefore never exceed the
bound by more than one block's columns. The bound covers these matrices only, not the
working arrays of a block (firms x ``block_size``; lower ``block_size`` for those).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from chainrisk.errors import ModelError
from contagion.stress.tail_stats import es_weights

if TYPE_CHECKING:
    from contagion.stress.montecarlo import BlockResult

__all__ = ["DEFAULT_MAX_KEPT_BYTES", "Collected", "RunCollector", "tail_lower_bound"]

#: Default bound on the per-run firm losses and defaults a result keeps (bytes of the two
#: sparse matrices). At 100,000 firms and 10,000 runs the measured need is about 0.15 GiB
#: without contagion and 1 GiB with it under the default importance sampling; 4 GiB leaves
#: room for that and stops a job whose tail (or ``keep_above``) would take far more.
DEFAULT_MAX_KEPT_BYTES = 4 * 2**30

#: Relative margin on the tail mass before a run is dropped (the block-order weight
#: total and the final normalisation round differently from the total known up front).
_MARGIN = 1e-6


def tail_lower_bound(losses: np.ndarray, weights: np.ndarray, total_weight: float, q: float) -> float:
    r"""A loss at or below which no run can reach the final :math:`\widehat{VaR}_q` (``-inf``: none yet).

    The largest seen loss :math:`x` with :math:`\sum_{\text{seen}, L_r > x} w_r > (1 - q) W`
    (plus margins), ``total_weight`` :math:`W` being the weight of all runs, seen or not.

    >>> # of 20 runs, at most 5 lie beyond the 75 % VaR; 6 seen ones already lie above 4
    >>> tail_lower_bound(np.arange(1.0, 11.0), np.ones(10), 20.0, 0.75)
    4.0
    >>> tail_lower_bound(np.arange(1.0, 11.0), np.ones(10), 100.0, 0.75)  # 25 runs may lie beyond the VaR
    -inf
    """
    x = np.asarray(losses, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if not len(x):
        return -math.inf
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cum = np.cumsum(ws)
    above = cum[-1] - cum[np.searchsorted(xs, xs, side="right") - 1]  # weight strictly above each loss
    limit = total_weight * (1.0 - q + 1e-9) * (1.0 + _MARGIN) + _MARGIN * 1e-3 * total_weight
    ok = above > limit
    return float(xs[np.flatnonzero(ok)[-1]]) if ok.any() else -math.inf


@dataclass(frozen=True)
class Collected:
    """The folded blocks: per-run arrays in run order, per-firm sums, and the kept run-level matrices."""

    weight: np.ndarray
    global_factor: np.ndarray
    loss: np.ndarray
    loss_no_contagion: np.ndarray
    wrong_way: np.ndarray
    n_defaults: np.ndarray
    loss_by_cause: dict[str, np.ndarray]
    weight_total: float
    sums: dict[str, np.ndarray]
    converged: bool
    #: Bank loss and new defaults per firm and run (n x N CSR; only the kept runs' columns filled).
    run_firm_loss: sp.csr_matrix
    run_defaults: sp.csr_matrix
    #: Loss per lender and run (dense; lenders are few).
    run_lender_loss: np.ndarray
    #: The kept runs, and the loss above which every run is kept.
    kept_runs: np.ndarray
    kept_above: float
    #: Bytes of the two run-level sparse matrices as kept, and had every run been kept.
    kept_bytes: int = 0
    all_runs_bytes: int = 0


#: Per-firm / per-loan sums of a block (weighted over its runs).
SUMS = ("firm_defaults", "firm_loss", "loan_loss", "distress", "unshocked_distress", "unshocked_runs")


class RunCollector:
    """Fold :class:`~contagion.stress.montecarlo.BlockResult` objects in block order (see the module).

    Parameters
    ----------
    runs : int
        Number of runs N.
    total_weight : float
        The sum of the weights of all N runs (N without importance sampling).
    level : float
        The ES level whose Euler contributions need the run-level losses.
    keep_above : float, optional
        Also keep every run whose loss exceeds this (for a reverse stress test at that
        threshold); ``-inf`` keeps every run.
    max_kept_bytes : int, optional
        Bound on the kept run-level matrices (see *Memory bound* in the module);
        ``None``: no bound.

    Raises
    ------
    ModelError
        From :meth:`add`, when the kept matrices pass ``max_kept_bytes``.
    """

    def __init__(self, runs: int, total_weight: float, level: float, keep_above: float | None = None,
                 max_kept_bytes: int | None = DEFAULT_MAX_KEPT_BYTES) -> None:
        if max_kept_bytes is not None and max_kept_bytes < 0:
            raise ValueError(f"max_kept_bytes must be >= 0, got {max_kept_bytes}")
        self.runs = runs
        self.total_weight = float(total_weight)
        self.level = level
        self.keep_above = math.inf if keep_above is None else float(keep_above)
        self._pending: dict[int, BlockResult] = {}
        self._next = 0
        self._per_run: dict[str, list[np.ndarray]] = {}
        self._causes: dict[str, list[np.ndarray]] = {}
        self._sums: dict[str, np.ndarray] = {}
        self._weight_total = 0.0
        self._converged = True
        self._lender: list[np.ndarray] = []
        self._bound = -math.inf
        # kept run-level columns: (run index, firm-loss column, default column) per block
        self._kept: list[tuple[np.ndarray, sp.csc_matrix, sp.csc_matrix]] = []
        self._n = -1
        self._all_bytes = 0
        self.max_kept_bytes = max_kept_bytes

    @property
    def done(self) -> int:
        """Runs folded so far (blocks that arrived early wait for their predecessors)."""
        return self._next

    def add(self, block: BlockResult) -> None:
        """Take one block (any order); fold every block whose predecessors are in."""
        self._pending[block.start] = block
        while self._next in self._pending:
            b = self._pending.pop(self._next)
            self._fold(b)
            self._next = b.stop

    def _fold(self, b: BlockResult) -> None:
        for name in ("weight", "global_factor", "loss", "loss_no_contagion", "wrong_way", "n_defaults"):
            self._per_run.setdefault(name, []).append(np.asarray(getattr(b, name)))
        for cause, v in b.loss_by_cause.items():
            self._causes.setdefault(cause, []).append(v)
        for name in SUMS:
            v = getattr(b, name)
            # acc = acc + v in block order: the same floating-point sum wherever blocks ran
            self._sums[name] = (np.zeros_like(v) + v) if name not in self._sums else self._sums[name] + v
        self._weight_total += b.weight_total
        self._converged = self._converged and b.converged
        self._lender.append(b.run_lender_loss)
        self._n = b.run_firm_loss.shape[0]
        self._all_bytes += _sparse_bytes(b.run_firm_loss) + _sparse_bytes(b.run_defaults)
        runs = np.arange(b.start, b.stop)
        self._kept.append((runs, sp.csc_matrix(b.run_firm_loss), sp.csc_matrix(b.run_defaults)))
        seen_loss = np.concatenate(self._per_run["loss"])
        seen_w = np.concatenate(self._per_run["weight"])
        self._bound = max(self._bound, tail_lower_bound(seen_loss, seen_w, self.total_weight, self.level))
        self._prune(seen_loss > min(self._bound, self.keep_above))
        self._check_budget(b.stop)

    def kept_bytes(self) -> int:
        """Bytes of the run-level columns kept now."""
        return sum(_sparse_bytes(fl) + _sparse_bytes(df) for _, fl, df in self._kept)

    def _check_budget(self, folded: int) -> None:
        """Raise before the kept matrices grow past ``max_kept_bytes`` (see the module)."""
        bound = self.max_kept_bytes
        if bound is None:
            return
        kept = self.kept_bytes()
        every = self.keep_above == -math.inf
        # keeping every run, the final size is known from the blocks so far: stop before spending the runs
        projected = self._all_bytes / folded * self.runs if every else kept
        if max(kept, projected) <= bound:
            return
        runs_kept = sum(len(r) for r, _, _ in self._kept)
        what = (f"keeping every run's firm losses would take about {_size(projected)} at "
                f"{self.runs:,} runs" if every and projected > kept else
                f"the per-run firm losses kept for the Euler contributions and the reverse stress test "
                f"reached {_size(kept)} ({runs_kept:,} runs kept)")
        raise ModelError(
            f"{what} after {folded:,} of {self.runs:,} runs, above max_kept_bytes = {_size(bound)}: "
            "raise the bound (run_stress(max_kept_bytes=...), chainrisk stress --max-kept-gib), draw fewer "
            "runs, or set a higher keep_runs_above (--reverse-loss)")

    def _prune(self, keep: np.ndarray) -> None:
        """Keep the columns of the runs where ``keep`` (indexed by run) is true."""
        out = []
        for runs, fl, df in self._kept:
            mask = keep[runs]
            if mask.all():
                out.append((runs, fl, df))
            elif mask.any():
                idx = np.flatnonzero(mask)
                out.append((runs[idx], fl[:, idx], df[:, idx]))
        self._kept = out

    def finish(self) -> Collected:
        """Everything folded; raises when a block is missing."""
        if self._next != self.runs or self._pending:
            raise RuntimeError(f"blocks missing: folded {self._next} of {self.runs} runs")
        cat = {k: np.concatenate(v) for k, v in self._per_run.items()}
        loss, weight = cat["loss"], cat["weight"]
        theta, var = es_weights(loss, weight, self.level)
        self._prune((theta > 0) | (loss > self.keep_above))
        out = self._kept
        kept_runs = (np.concatenate([r for r, _, _ in out]) if out else np.zeros(0, dtype=np.int64))
        firm_loss = _spread_columns([fl for _, fl, _ in out], kept_runs, self._n, self.runs)
        defaults = _spread_columns([df for _, _, df in out], kept_runs, self._n, self.runs)
        return Collected(
            weight=weight,
            global_factor=cat["global_factor"],
            loss=loss,
            loss_no_contagion=cat["loss_no_contagion"],
            wrong_way=cat["wrong_way"],
            n_defaults=cat["n_defaults"],
            loss_by_cause={c: np.concatenate(v) for c, v in self._causes.items()},
            weight_total=self._weight_total,
            sums=dict(self._sums),
            converged=self._converged,
            run_firm_loss=firm_loss,
            run_defaults=defaults,
            run_lender_loss=np.hstack(self._lender),
            kept_runs=kept_runs,
            kept_above=min(var, self.keep_above),
            kept_bytes=_sparse_bytes(firm_loss) + _sparse_bytes(defaults),
            all_runs_bytes=self._all_bytes,
        )


def _size(b: float) -> str:
    """Bytes for a message, exact and readable: ``3,993 B (3.9 KiB)``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= scale:
            return f"{b:,.0f} B ({b / scale:,.1f} {unit})"
    return f"{b:,.0f} B"


def _sparse_bytes(m: sp.spmatrix) -> int:
    """Memory of a compressed sparse matrix's three arrays."""
    return int(m.data.nbytes + m.indices.nbytes + m.indptr.nbytes)


def _spread_columns(parts: list[sp.csc_matrix], runs: np.ndarray, n: int, total: int) -> sp.csr_matrix:
    """The kept columns placed at their run indices of an n x ``total`` matrix (others empty), as CSR."""
    if not parts:
        return sp.csr_matrix((n, total))
    kept = sp.hstack(parts, format="csc")
    counts = np.zeros(total, dtype=np.int64)
    counts[runs] = np.diff(kept.indptr)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    full = sp.csc_matrix((kept.data, kept.indices, indptr), shape=(n, total))
    return full.tocsr()
