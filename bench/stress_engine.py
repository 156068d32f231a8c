"""Benchmark of one stress block: runs per second, propagate calls and DebtRank rounds.

Usage::

    chainrisk generate DIR --firms 2000 --seed 7
    nice -n 5 .venv/bin/python bench/stress_engine.py --dataset DIR --runs 200 \
        [--scenario examples/scenarios/hub_guarantor_failure.yaml] [--profile] [--loop]

For the default scenario and each ``--scenario`` file, times
:func:`contagion.stress.montecarlo.simulate_block` over ``--runs`` runs (one block,
preparation apart) with the scenario as written and with the baseline of the
engine before the distress mapping (``contagion.distress_sensitivity: 0``,
``contagion.debtrank.matrix: capped``), in the same process, and prints runs per
second, the ``propagate`` calls and the rounds they took. ``--profile`` prints the
top of a cProfile of the scenario as written. ``--loop`` also times the scenario as
written with the distress -> default mapping applied the way the engine did before it
moved into the propagation rounds (propagate to convergence, map, continue the runs that
gained a default, until none does: :func:`_spread_loop`), alternating with the in-round
engine, and checks that both give the same defaults and losses. Prints figures only;
compare ratios from the same invocation (timings move with the machine's load).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# this folder holds bench/contagion.py, which would shadow the contagion package
sys.path[:] = [str(ROOT)] + [x for x in sys.path if Path(x or ".").resolve() != ROOT / "bench"]

import numpy as np  # noqa: E402
import yaml  # noqa: E402

import contagion.multilayer as multilayer  # noqa: E402
import contagion.stress.montecarlo as montecarlo  # noqa: E402
from contagion.stress import parse_scenario  # noqa: E402
from contagion.stress.distress import distress_defaults  # noqa: E402
from contagion.stress.montecarlo import prepare, simulate_block  # noqa: E402
from ingest import build_snapshot  # noqa: E402

BASELINE = {"distress_sensitivity": 0.0, "debtrank": {"matrix": "capped"}}


class _Counter:
    """Wraps ``multilayer.propagate`` to count calls, rounds and scenario columns."""

    def __init__(self) -> None:
        self.inner = multilayer.propagate
        self.calls = self.rounds = self.columns = 0

    def __call__(self, *args: Any, **kw: Any) -> Any:
        res = self.inner(*args, **kw)
        self.calls += 1
        self.rounds += res.rounds
        self.columns += res.distress.shape[1]
        return res


def _spread_loop(model: Any, shock: np.ndarray, latent: np.ndarray, live: np.ndarray) -> Any:
    """The mapping as it was before it moved into the rounds: after each converged propagation.

    Firms the mapping names become shocks of 1 and the runs that gained one continue from the
    distress reached (``propagate(..., prior=h)``), until the mapping adds no firm.
    """
    def run(s: np.ndarray, prior: np.ndarray | None = None) -> Any:
        return multilayer.propagate(model.layers, s, transmission=model.transmission, tol=model.tol,
                                    default_threshold=model.default_threshold, max_rounds=model.max_rounds,
                                    prior=prior)

    res = run(shock)
    h = np.array(res.distress, dtype=np.float64)
    by_layer = {k: np.array(v, dtype=np.float64) for k, v in res.loss_by_layer.items()}
    rounds, thr = int(res.rounds), model.copula.thresholds
    while True:
        dflt = live & distress_defaults(latent, thr, h, sensitivity=model.distress_sensitivity,
                                        default_threshold=model.default_threshold)
        grow = dflt & (h < 1.0) & (shock < 1.0)
        cols = np.flatnonzero(grow.any(axis=0))
        if not len(cols):
            return h, by_layer, dflt, rounds, True
        g = grow[:, cols]
        shock[:, cols] = np.maximum(shock[:, cols], g)
        sub = run(shock[:, cols], prior=h[:, cols])
        h[:, cols] = sub.distress
        for name, v in sub.loss_by_layer.items():
            by_layer[name][:, cols] = np.where(g, 0.0, by_layer[name][:, cols]) + v
        rounds = max(rounds, int(sub.rounds))


def _scenario(doc: dict[str, Any], baseline: bool) -> Any:
    doc = dict(doc)
    if baseline:
        c = dict(doc.get("contagion") or {})
        c.update(BASELINE)
        doc["contagion"] = c
    return parse_scenario(yaml.safe_dump(doc))


def measure(snap: Any, doc: dict[str, Any], runs: int, baseline: bool, profile: bool = False,
            loop: bool = False) -> dict[str, Any]:
    model, _ = prepare(snap, _scenario(doc, baseline), seed=int(doc.get("seed", 7)), bank_lenders=None)
    inround = montecarlo._spread
    if loop:
        montecarlo._spread = _spread_loop
    simulate_block(model, 0, min(runs, 8))  # warm up (numba, caches)
    counter = _Counter()
    multilayer.propagate = counter  # type: ignore[assignment]
    prof = cProfile.Profile() if profile else None
    try:
        t = time.perf_counter()
        if prof:
            prof.enable()
        res = simulate_block(model, 0, runs)
        if prof:
            prof.disable()
        dt = time.perf_counter() - t
    finally:
        multilayer.propagate = counter.inner  # type: ignore[assignment]
        montecarlo._spread = inround
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
    return {"seconds": dt, "runs_per_s": runs / dt, "calls": counter.calls, "rounds": counter.rounds,
            "columns": counter.columns, "loss_mean": float(res.loss.mean()), "block": res}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", type=Path, required=True)
    p.add_argument("--scenario", type=Path, action="append", default=[])
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--loop", action="store_true", help="also time the mapping after each propagation")
    a = p.parse_args()
    snap = build_snapshot(a.dataset)
    docs = [("default", {"name": "default"})] + [(s.stem, yaml.safe_load(s.read_text())) for s in a.scenario]
    print(f"{snap.n} firms, {a.runs} runs in one block")
    for name, doc in docs:
        base = measure(snap, doc, a.runs, baseline=True)
        cur = measure(snap, doc, a.runs, baseline=False, profile=a.profile)
        for label, m in (("baseline (k=0, capped)", base), ("as written", cur)):
            print(f"{name:24s} {label:24s} {m['runs_per_s']:8.1f} runs/s  {m['seconds']:6.2f} s  "
                  f"propagate calls {m['calls']:3.0f}  rounds {m['rounds']:5.0f}  "
                  f"columns {m['columns']:5.0f}  mean loss {m['loss_mean']:.6g}")
        print(f"{name:24s} slowdown as written / baseline: {cur['seconds'] / base['seconds']:.2f}x")
        if a.loop:
            _compare_loop(snap, name, doc, a.runs, cur)


def _compare_loop(snap: Any, name: str, doc: dict[str, Any], runs: int, cur: dict[str, Any]) -> None:
    """Time the mapping loop against the in-round mapping, alternating, and compare their runs."""
    old = measure(snap, doc, runs, baseline=False, loop=True)
    again = measure(snap, doc, runs, baseline=False)
    a, b = again["block"], old["block"]
    same = bool(np.array_equal(a.n_defaults, b.n_defaults)
                and np.array_equal(a.firm_defaults, b.firm_defaults))
    dev = float(np.max(np.abs(a.loss - b.loss) / np.maximum(np.abs(b.loss), 1.0)))
    t_new = min(cur["seconds"], again["seconds"])
    for label, m in (("mapping loop (before)", old), ("mapping in rounds", again)):
        print(f"{name:24s} {label:24s} {m['runs_per_s']:8.1f} runs/s  {m['seconds']:6.2f} s  "
              f"propagate calls {m['calls']:3.0f}  rounds {m['rounds']:5.0f}  columns {m['columns']:5.0f}")
    print(f"{name:24s} speed-up in rounds / loop: {old['seconds'] / t_new:.2f}x (best of two in-round runs); "
          f"same defaults: {same}; largest relative loss difference {dev:.1e}")


if __name__ == "__main__":
    main()
