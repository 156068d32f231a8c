"""Benchmark of the contagion kernels on a Hungary-sized synthetic supply network.

Usage::

    .venv/bin/python bench/contagion.py                 # 243k firms, 1.1M links, 1000 scenarios
    .venv/bin/python bench/contagion.py --quick         # small sizes, under a minute
    .venv/bin/python bench/contagion.py --big           # 1M firms, 5M links: DebtRank time and peak memory

Prints figures only; never asserts on time. ``--threads`` (default: all cores)
sets the threads of the compiled kernels (numba) and of BLAS. The SpMV bound is
measured twice in the same process, best of many: scipy's single-threaded
CSR SpMV, and the compiled CSR kernel on all threads (when numba is installed);
DebtRank's bytes per second are given against both.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_p.add_argument("--firms", type=int, default=243_000)
_p.add_argument("--links", type=int, default=1_100_000)
_p.add_argument("--guarantee-links", type=int, default=25_000)
_p.add_argument("--scenarios", type=int, default=1000)
_p.add_argument("--shock-share", type=float, default=0.01, help="share of firms shocked per scenario")
_p.add_argument("--tol", type=float, default=1e-9, help="DebtRank tolerance")
_p.add_argument("--esri-tol", type=float, default=1e-3, help="ESRI frontier tolerance")
_p.add_argument("--esri-firms", type=int, default=0, help="source firms timed for ESRI (0 = all)")
_p.add_argument("--exact-sample", type=int, default=32, help="firms checked against exact ESRI")
_p.add_argument("--nx-scenarios", type=int, default=2, help="scenarios run by the pure-Python DebtRank")
_p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
_p.add_argument("--seed", type=int, default=0)
_p.add_argument("--quick", action="store_true", help="small sizes (about 20k firms), under a minute")
_p.add_argument("--big", action="store_true", help="1M firms, 5M links; DebtRank and memory only")
ARGS = _p.parse_args()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = str(ARGS.threads)

import resource  # noqa: E402

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from contagion import _kernels, debtrank, esri, guarantee_cascade, impact_matrix  # noqa: E402

ROWS: list[tuple[str, str]] = []


def report(name: str, value: str) -> None:
    ROWS.append((name, value))
    print(f"  {name:<58} {value}", flush=True)


def network(n: int, m: int, rng: np.random.Generator) -> sp.csr_matrix:
    """Directed supply network with heavy-tailed in- and out-degrees (Pareto weights, tail ~1.1)."""
    p_out = rng.pareto(1.1, n) + 1.0
    p_in = rng.pareto(1.1, n) + 1.0
    sup = rng.choice(n, size=int(m * 1.25), p=p_out / p_out.sum())
    buy = rng.choice(n, size=sup.size, p=p_in / p_in.sum())
    keep = sup != buy
    val = rng.lognormal(mean=0.0, sigma=1.5, size=int(keep.sum()))
    s = sp.csr_matrix((val, (sup[keep], buy[keep])), shape=(n, n))
    s.sum_duplicates()
    if s.nnz > m:  # trim to the requested link count
        coo = s.tocoo()
        idx = rng.choice(coo.nnz, size=m, replace=False)
        s = sp.csr_matrix((coo.data[idx], (coo.row[idx], coo.col[idx])), shape=(n, n))
    s.sort_indices()
    return s


def spmv_bound(w: sp.csr_matrix, *, compiled: bool = False) -> tuple[float, float, int]:
    """Seconds per CSR float64 SpMV (best of many), GB/s, bytes per product.

    scipy's single-threaded kernel, or with ``compiled`` the kernel of
    ``contagion._kernels.spmm_into`` (numba, all threads) on a 1-column block.
    """
    n = w.shape[0]
    x = np.random.default_rng(1).random(n)
    x2, y2 = x.reshape(n, 1), np.empty((n, 1))

    def product() -> None:
        if compiled:
            _kernels.spmm_into(w, x2, y2)
        else:
            w @ x

    product()
    times = []
    for _ in range(max(20, int(4e8 // max(w.nnz * 12, 1)))):  # best of many: the machine may be shared
        t = time.perf_counter()
        product()
        times.append(time.perf_counter() - t)
    dt = float(np.min(times))
    nbytes = w.indptr.nbytes + w.indices.nbytes + w.data.nbytes + 2 * 8 * n
    return dt, nbytes / dt / 1e9, nbytes


def python_debtrank(graph: object, shock: dict[int, float], tol: float) -> dict[int, float]:
    """Straightforward differential DebtRank on a networkx DiGraph (edge i -> j, weight W_ij)."""
    import networkx as nx

    assert isinstance(graph, nx.DiGraph)
    h = {i: 0.0 for i in graph}
    h.update(shock)
    dh = dict(shock)
    while dh and max(dh.values()) >= tol:
        y: dict[int, float] = {}
        for j, d in dh.items():
            for i, _, wij in graph.in_edges(j, data="weight"):
                y[i] = y.get(i, 0.0) + wij * d
        dh = {}
        for i, v in y.items():
            new = min(1.0, h[i] + v)
            if new > h[i]:
                dh[i] = new - h[i]
            h[i] = new
    return h


def main() -> None:
    n, m, k = ARGS.firms, ARGS.links, ARGS.scenarios
    if ARGS.quick:
        n, m, k = 20_000, 90_000, 200
        ARGS.guarantee_links = 2_000
    if ARGS.big:
        n, m = 1_000_000, 5_000_000
    rng = np.random.default_rng(ARGS.seed)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    supply = network(n, m, rng)
    sectors = rng.integers(0, 20, n)
    # exposure of buyer i to supplier j: margin 0.1 on its purchases from j (one impact link per supply
    # link); equity sized so that the row sums of W (the most a firm can lose to all its suppliers)
    # are uniform in [0.05, 0.5]
    exposure = (0.1 * supply.T).tocsr()
    row_tot = np.asarray(exposure.sum(axis=1)).ravel()
    equity = np.where(row_tot > 0, row_tot / rng.uniform(0.05, 0.5, n), 1.0)
    w = impact_matrix(exposure, equity)
    print(
        f"network: {n} firms, {supply.nnz} supply links, impact nnz {w.nnz} "
        f"(built in {time.perf_counter() - t:.1f} s), threads {ARGS.threads}"
    )

    print("(a) sparse matrix-vector bound")
    t = time.perf_counter()
    debtrank(w[:50, :50], np.eye(50, 3) * 0.5, variant="differential")  # compile, or load the cache
    report(
        f"kernel backend / first-call compile or cache load ({ARGS.threads} threads)",
        f"{_kernels.BACKEND} / {time.perf_counter() - t:.2f} s",
    )
    dt, gbs, nbytes = spmv_bound(w)
    report("one CSR float64 SpMV (scipy, 1 thread)", f"{dt * 1e3:.2f} ms")
    report("bytes per SpMV (indptr+indices+data+x+y)", f"{nbytes / 1e6:.1f} MB")
    report("SpMV bandwidth (scipy, 1 thread)", f"{gbs:.2f} GB/s")
    gbs_all = gbs
    if _kernels.BACKEND == "numba":
        dt_all, gbs_all, _ = spmv_bound(w, compiled=True)
        report(
            f"SpMV bandwidth (compiled kernel, {ARGS.threads} threads)",
            f"{gbs_all:.2f} GB/s ({dt_all * 1e3:.2f} ms)",
        )
    bound = max(gbs, gbs_all)

    print(
        f"(b) differential DebtRank, {k} scenarios, {ARGS.shock_share:.0%} of firms shocked by 0.5, "
        f"tol {ARGS.tol:g}"
    )
    chunk = 256  # scenarios per call: two blocks of 128, n x k inputs and outputs of a few hundred MB
    total, work, rounds, dr_time = 0.0, 0, 0, 0.0
    n_shock = max(1, int(ARGS.shock_share * n))
    sample_shocks: list[np.ndarray] = []
    sample_out: list[np.ndarray] = []
    for start in range(0, k, chunk):
        kk = min(chunk, k - start)
        shock = np.zeros((n, kk))
        for c in range(kk):  # building inputs only; the model itself has no scenario loop
            shock[rng.choice(n, n_shock, replace=False), c] = 0.5
        t = time.perf_counter()
        res = debtrank(w, shock, variant="differential", tol=ARGS.tol)
        dr_time += time.perf_counter() - t
        total += float(res.distress.sum())
        work += res.scenario_rounds
        rounds = max(rounds, res.rounds)
        if start == 0:
            sample_shocks = [shock[:, c].copy() for c in range(min(ARGS.nx_scenarios, kk))]
            sample_out = [res.distress[:, c].copy() for c in range(len(sample_shocks))]
        del shock, res
    report("total time", f"{dr_time:.2f} s ({dr_time / k * 1e3:.1f} ms per scenario)")
    report("rounds (max over scenarios) / scenario-rounds in all", f"{rounds} / {work}")
    per = dr_time / max(work, 1)
    report("time per scenario-round", f"{per * 1e3:.3f} ms (SpMV alone: {dt * 1e3:.3f} ms)")
    eff = nbytes / per / 1e9
    report(
        "SpMV-equivalent bytes moved per second",
        f"{eff:.2f} GB/s = {eff / bound:.0%} of the best SpMV bound ({eff / gbs:.0%} of 1-thread scipy)",
    )
    report("mean final distress", f"{total / (n * k):.4f}")

    if not ARGS.big:
        print("(d) pure-Python (networkx) differential DebtRank on a sample")
        import networkx as nx

        coo = w.tocoo()
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        g.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True))
        t = time.perf_counter()
        worst = 0.0
        for shock_c, out_c in zip(sample_shocks, sample_out, strict=True):
            h = python_debtrank(g, {int(i): float(shock_c[i]) for i in np.flatnonzero(shock_c)}, ARGS.tol)
            worst = max(worst, float(np.abs(np.array([h[i] for i in range(n)]) - out_c).max()))
        py_time = (time.perf_counter() - t) / max(len(sample_shocks), 1)
        report("pure Python per scenario", f"{py_time:.2f} s")
        report("speed-up of contagion.debtrank per scenario", f"{py_time / (dr_time / k):.0f}x")
        report("max |difference| from contagion.debtrank", f"{worst:.2e}")
        del g

        print(f"(c) ESRI of every firm, frontier tolerance {ARGS.esri_tol:g}")
        firms = np.arange(n) if ARGS.esri_firms <= 0 else rng.choice(n, ARGS.esri_firms, replace=False)
        t = time.perf_counter()
        er = esri(supply, sectors, tol=ARGS.esri_tol, firms=firms)
        es_time = time.perf_counter() - t
        label = "all firms" if firms.size == n else f"{firms.size} sampled firms, extrapolated to {n}"
        report(f"ESRI time ({label})", f"{es_time * n / firms.size:.1f} s")
        sel = firms[~np.isnan(er.esri[firms])]
        report("ESRI mean / max", f"{np.nanmean(er.esri):.2e} / {np.nanmax(er.esri):.3f}")
        top = sel[np.argsort(-er.esri[sel])][: ARGS.exact_sample // 2]
        sample = np.unique(
            np.concatenate([top, rng.choice(sel, ARGS.exact_sample - top.size, replace=False)])
        )
        t = time.perf_counter()
        ex = esri(supply, sectors, tol=1e-12, exact=True, firms=sample)
        report(
            f"exact ESRI (dense, tol 1e-12) on {sample.size} firms (half the top ones)",
            f"{time.perf_counter() - t:.1f} s",
        )
        err = np.abs(er.esri[sample] - ex.esri[sample])
        report(
            "frontier vs exact: max abs error / max relative error",
            f"{err.max():.2e} / {(err / np.maximum(ex.esri[sample], 1e-300)).max():.2e}",
        )

        print("guarantee cascade (extra)")
        gl = ARGS.guarantee_links
        gmat = sp.csr_matrix(
            (rng.lognormal(0, 1, gl), (rng.integers(0, n, gl), rng.integers(0, n, gl))), shape=(n, n)
        )
        geq = rng.lognormal(1, 1, n)
        init = np.zeros((n, 100), dtype=bool)
        init[rng.integers(0, n, (n_shock, 100)), np.arange(100)] = True
        t = time.perf_counter()
        gr = guarantee_cascade(gmat, geq, init)
        report("100 guarantee-cascade scenarios", f"{time.perf_counter() - t:.2f} s, {gr.rounds} rounds")

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print("(e) memory")
    report("peak resident memory of the process", f"{rss / 1024:.0f} MiB (at start {rss0 / 1024:.0f} MiB)")
    print("\nsummary")
    width = max(len(a) for a, _ in ROWS)
    for a, b in ROWS:
        print(f"| {a:<{width}} | {b} |")


if __name__ == "__main__":
    main()
