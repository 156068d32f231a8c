"""Benchmark of the stress engine: runs per second, the importance-sampling gain, Dask against local.

Usage::

    chainrisk generate DIR --firms 20000 --seed 7
    nice -n 5 .venv/bin/python bench/stress.py --dataset DIR [--dataset DIR100K] --runs 2000
    nice -n 5 .venv/bin/python bench/stress.py --dataset DIR --dask-only --dask-runs 500

For each dataset, with the default scenario (default loadings, default contagion):

1. runs per second without contagion and with it (simulation only, preparation apart);
2. the importance-sampling gain at 99.9 %: without contagion, plain Monte Carlo and
   importance sampling each draw ``--runs`` runs on the same seed; from their relative
   standard errors of VaR 99.9 % the runs each needs for 5 % (SE falls as 1/sqrt(N))
   and their ratio; with contagion on, the relative SE importance sampling reaches in
   ``--contagion-runs`` runs and at 10,000;
3. the same runs on a local Dask cluster (``--workers`` processes) against the local
   loop: wall time of each, with the workers' one-time start-up (processes, then
   imports and compiled kernels: :func:`contagion.stress.montecarlo.warm_dask_workers`)
   apart, and the largest difference in the loss of a run (0: the sharded run equals
   the local one);
4. the per-run firm losses kept for the Euler contributions against keeping every
   run's (:mod:`contagion.stress.collect`), and the process's peak memory;
5. with contagion and no shock, the default probability against the PDs, the share of EL
   contagion adds and the spectral radius of the impact matrix
   (:mod:`contagion.stress.amplification`: at or above 1 the cascades saturate).

Prints figures only; never asserts on time. Timings on a shared machine move with
its load: compare ratios from the same invocation.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# this folder holds bench/contagion.py, which would shadow the contagion package
sys.path[:] = [str(ROOT)] + [x for x in sys.path if Path(x or ".").resolve() != ROOT / "bench"]

import numpy as np  # noqa: E402

from contagion.stress import StressPrecisionWarning, parse_scenario, run_stress  # noqa: E402
from contagion.stress.montecarlo import warm_dask_workers  # noqa: E402
from contagion.stress.result import StressResult  # noqa: E402
from ingest import build_snapshot  # noqa: E402

NO_CONTAGION = "contagion: {transmission: {supply: 0, guarantee: 0, trade_credit: 0}}\n"


def _run(snap: object, extra: str, runs: int, seed: int, **kw: object) -> StressResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        return run_stress(snap, parse_scenario("name: bench\n" + extra), runs=runs, seed=seed,  # type: ignore[arg-type]
                          progress=False, **kw)  # type: ignore[arg-type]


def _rel(res: StressResult, key: str = "VaR_99.9") -> float:
    m = res.summary()["measures"][key]
    return m["se"] / m["value"] if m["value"] else math.nan


def _needed(rel: float, runs: int, target: float = 0.05) -> float:
    return runs * (rel / target) ** 2


def _tail_gain(res: StressResult, q: float = 0.999) -> float:
    """Variance of plain MC's tail-probability estimate at the VaR over importance sampling's, per run.

    Both VaR estimators have SE = SE(tail probability) / density at the VaR, so this
    ratio is the runs plain MC needs per importance-sampled run for the same VaR SE; it
    comes from the importance-sampled runs alone (plain MC's own SE at 99.9 % rests on
    N / 1000 draws and is itself unreliable).
    """
    dist = res.loss_distribution
    loss = dist["loss"].to_numpy()
    w = dist["weight"].to_numpy() * len(loss) / dist["weight"].sum()
    hit = loss > res.measure("VaR", q)
    p = float(np.mean(w * hit))
    return p * (1 - p) / float(np.mean((w * hit) ** 2) - p * p)


def _cpu_s() -> float:
    """CPU seconds (user + system) this process has used, all its threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _kept_line(res: StressResult) -> str:
    """Memory of the per-run firm losses and defaults kept, against keeping every run's."""
    b = res.internals["run_matrix_bytes"]
    per_10k = b["all_runs"] / res.runs * 1e4 / 2**30
    return (f"per-run firm losses and defaults (sparse), {res.runs} runs: kept {b['kept'] / 2**20:,.1f} MiB "
            f"({len(res.internals['kept_runs'])} runs at or beyond VaR 99 %); every run kept: "
            f"{b['all_runs'] / 2**20:,.1f} MiB, {per_10k:,.2f} GiB at 10,000 runs")


def _peak_gib() -> float:
    """Peak resident memory of this process (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def bench(path: Path, a: argparse.Namespace) -> None:
    t = time.perf_counter()
    snap = build_snapshot(path)
    print(f"\n{path.name}: {snap.n:,} firms, {len(snap.loans):,} loans "
          f"(snapshot {time.perf_counter() - t:.1f} s)", flush=True)
    if not a.dask_only:
        _precision(snap, a)
    if a.workers > 0:
        _dask(snap, a)


def _precision(snap: object, a: argparse.Namespace) -> None:
    """Runs per second, the importance-sampling gain, the kept run-level memory (items 1, 2 and 4)."""
    plain = _run(snap, NO_CONTAGION + "sampling: {importance: off}\n", a.runs, a.seed)
    tilted = _run(snap, NO_CONTAGION, a.runs, a.seed)
    rps = tilted.runs / tilted.timings["simulate"]
    plain_rps = plain.runs / plain.timings["simulate"]
    print(f"  runs per second, no contagion: {rps:8.1f}  (plain MC {plain_rps:.1f})")
    for name, res in (("plain MC", plain), ("importance sampling", tilted)):
        m = res.summary()["measures"]
        print(f"  {name:<20} {res.runs} runs: "
              f"VaR 99.9 % {m['VaR_99.9']['value']:,.4g} ± {m['VaR_99.9']['se']:,.3g} "
              f"(rel {_rel(res):.1%}), ES 99.9 % {m['ES_99.9']['value']:,.4g} ± {m['ES_99.9']['se']:,.3g}, "
              f"EL {m['EL']['value']:,.4g} ± {m['EL']['se']:,.3g}")
    n_plain, n_is = _needed(_rel(plain), a.runs), _needed(_rel(tilted), a.runs)
    gain = _tail_gain(tilted)
    print(f"  runs for 5 % relative SE of VaR 99.9 %: importance sampling {n_is:,.0f} "
          f"(at 10,000 runs: {_rel(tilted) * math.sqrt(a.runs / 1e4):.1%}); plain MC {n_is * gain:,.0f} "
          f"from the tail-probability variance ratio (gain {gain:.1f}x; plain MC's own order-statistics SE "
          f"says {n_plain:,.0f}, resting on {a.runs / 1000:.0f} tail draws)")
    print(f"  no contagion, {_kept_line(tilted)}")
    full = _run(snap, "", a.contagion_runs, a.seed)
    crps = full.runs / full.timings["simulate"]
    print(f"  runs per second, with contagion: {crps:8.2f}")
    print(f"  with contagion, {_kept_line(full)}")
    rho = full.summary()["contagion"]["spectral_radius"]
    f = full.firms[~full.firms["in_default"]]
    ead = f["bank_ead"].to_numpy()
    print(f"  with contagion, no shock: EAD-weighted default probability "
          f"{float(f['stress_default_prob'].to_numpy() @ ead) / ead.sum():.1%} against PD "
          f"{float(f['pd'].to_numpy() @ ead) / ead.sum():.1%}; share of EL from contagion "
          f"{full.summary()['contagion']['share_of_EL']:.0%}; spectral radius of the impact matrix "
          + ", ".join(f"{k} {v:.2f}" for k, v in rho.items()) + " (>= 1: cascades saturate)")
    print(f"  with contagion, IS, {full.runs} runs: VaR 99.9 % rel SE {_rel(full):.1%} "
          f"(at 10,000 runs: {_rel(full) * math.sqrt(full.runs / 1e4):.1%}); "
          f"ES 99 % rel SE {_rel(full, 'ES_99'):.1%}")


def _dask(snap: object, a: argparse.Namespace) -> None:
    """The same runs sharded on a local Dask cluster against the local loop (item 3)."""
    try:
        import distributed
    except ImportError:
        print("  dask: distributed is not installed")
        return
    import dask

    # a batch job's workers need neither the statistical profiler (a stack sample every 10 ms) nor
    # 20 ms event-loop health ticks; on a CPU-starved machine they cost as much as the runs
    quiet = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
             "distributed.worker.memory.monitor-interval": "1s"} if a.quiet_workers else {}
    with warnings.catch_warnings(), dask.config.set(quiet):
        warnings.simplefilter("ignore", DeprecationWarning)
        t = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        with cluster, distributed.Client(cluster) as client:
            t_start = time.perf_counter() - t
            t = time.perf_counter()
            threads = warm_dask_workers(client)
            t_warm = time.perf_counter() - t
            t, before, c = time.perf_counter(), client.run(_cpu_s), _cpu_s()
            sharded = _run(snap, NO_CONTAGION, a.dask_runs, a.seed, scheduler=client)
            t_dask, c_driver = time.perf_counter() - t, _cpu_s() - c
            after = client.run(_cpu_s)
            c_workers = sum(after[w] - before[w] for w in after)
    _run(snap, NO_CONTAGION, 1, a.seed)  # this process warm too: engine imported, kernels loaded
    t, c = time.perf_counter(), _cpu_s()
    local = _run(snap, NO_CONTAGION, a.dask_runs, a.seed)
    t_local, c_local = time.perf_counter() - t, _cpu_s() - c
    diff = float(np.max(np.abs(sharded.loss_distribution["loss"].to_numpy()
                               - local.loss_distribution["loss"].to_numpy())))
    same = np.array_equal(sharded.firms["es_contribution"], local.firms["es_contribution"])
    print(f"  {a.dask_runs} runs, no contagion: Dask ({a.workers} worker processes, "
          f"{'quiet' if a.quiet_workers else 'default'} worker settings, kernel threads "
          f"{sorted(set(threads.values()))}) {t_dask:.1f} s on warm workers, local {t_local:.1f} s "
          f"(ratio local / Dask {t_local / t_dask:.2f}); worker start-up, once per cluster: processes "
          f"{t_start:.1f} s, imports and kernels {t_warm:.1f} s (ratio with start-up "
          f"{t_local / (t_dask + t_start + t_warm):.2f}); largest difference of a run's loss {diff:.3g}, "
          f"es_contribution {'identical' if same else 'DIFFERENT'}; simulation alone (preparation apart): "
          f"Dask {sharded.timings['simulate']:.1f} s, local {local.timings['simulate']:.1f} s")
    # wall time on a shared machine is its CPU share (per session with Linux autogroup, however many
    # processes): CPU seconds say whether the sharded work would spread over free cores
    print(f"  CPU seconds of those runs: Dask workers {c_workers:.1f} (sum) + driver {c_driver:.1f} "
          f"(preparation, scheduler, folding); local {c_local:.1f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", type=Path, action="append", required=True, help="dataset folder (repeatable)")
    p.add_argument("--runs", type=int, default=2000, help="runs of the no-contagion comparison")
    p.add_argument("--contagion-runs", type=int, default=300)
    p.add_argument("--dask-runs", type=int, default=1000)
    p.add_argument("--workers", type=int, default=2, help="Dask worker processes (0: skip)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--dask-only", action="store_true", help="only the Dask comparison (item 3)")
    p.add_argument("--default-workers", dest="quiet_workers", action="store_false",
                   help="keep Dask's worker profiler and 20 ms ticks (default: off, as for a batch job)")
    a = p.parse_args()
    for path in a.dataset:
        bench(path, a)
        print(f"  peak memory of this process so far: {_peak_gib():.2f} GiB (getrusage maxrss)", flush=True)


if __name__ == "__main__":
    main()
