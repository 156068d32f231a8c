"""Training and scoring times of the risk models, against the B1 trees fitted in the same process.

Usage::

    .venv/bin/python bench/gnn.py                    # 10,000 firms, 60 months
    .venv/bin/python bench/gnn.py --firms 100000     # the 100k targets (train <= 10 min, score <= 60 s)
    .venv/bin/python bench/gnn.py --dataset DIR      # a dataset folder generated before (not timed)

Generates a platform (seeded), builds its out-of-time cuts, then times for each model the
fit on the training cuts (early-stopped and calibrated on the validation cut) and the
scoring of every live firm of the test cut's snapshot (book and prospects); prints each
time and its ratio to B1's (the fit's wall and CPU seconds: on a shared machine the wall
time overstates), B3's epochs, and the test AUC for orientation. Targets of the risk-model
issue: training on 10k firms <= 60 s and on 100k <= 10 min; scoring 100k firms <= 60 s.
Never asserts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# this folder's own modules must not shadow the packages of the same name
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--firms", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", default="B1,B2,B3,B4")
    parser.add_argument("--dataset", type=Path, help="an existing dataset folder instead of generating one")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)

    from gnn.candidates import fit_candidate
    from gnn.metrics import auc
    from gnn.protocol import load_cuts
    from gnn.scoring import scoring_cut
    from ingest.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dataset
        if folder is None:
            folder = Path(tmp) / "p"
            t = time.perf_counter()
            generate(folder, firms=args.firms, seed=args.seed, months=args.months)
            print(f"generate {args.firms:,} firms x {args.months} months: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        plan, cuts = load_cuts(folder)
        dates = [str(d) for d in (*plan.train, plan.validation, plan.test)]
        print(f"{folder.name}: cuts {dates}: {time.perf_counter() - t:.1f} s", flush=True)
    train = [cuts[d] for d in plan.train]
    val, test = cuts[plan.validation], cuts[plan.test]
    every, _ = scoring_cut(test.snapshot)
    print(f"training cuts {len(train)}; nodes per snapshot {train[0].snapshot.n:,}")
    print(f"book at the test cut: {len(test.y):,} firms; scored at the test cut: {len(every.uscc):,} firms")
    names = [m.strip() for m in args.models.split(",") if m.strip()]
    if "B1" in names:
        names.remove("B1")
    names.insert(0, "B1")
    fit_s: dict[str, float] = {}
    fit_cpu: dict[str, float] = {}
    score_s: dict[str, float] = {}
    heads = (
        ("fit s", 8),
        ("x B1", 7),
        ("cpu s", 8),
        ("x B1", 7),
        ("score s", 8),
        ("x B1", 7),
        ("test AUC", 9),
    )
    print(f"{'model':6} " + " ".join(f"{h:>{w}}" for h, w in heads))
    for name in names:
        t, c = time.perf_counter(), time.process_time()
        model = fit_candidate(name, train, val, seed=args.seed, threads=args.threads)
        fit_s[name] = time.perf_counter() - t
        # CPU seconds of every thread of the process: on a shared machine the wall time overstates
        fit_cpu[name] = time.process_time() - c
        t = time.perf_counter()
        model.predict_pd(every)
        score_s[name] = time.perf_counter() - t
        a = auc(test.y, model.predict_pd(test))
        print(
            f"{name:6} {fit_s[name]:8.1f} {fit_s[name] / fit_s['B1']:7.1f} "
            f"{fit_cpu[name]:8.1f} {fit_cpu[name] / fit_cpu['B1']:7.1f} "
            f"{score_s[name]:8.2f} {score_s[name] / score_s['B1']:7.1f} {a:9.3f}",
            flush=True,
        )
        epochs = getattr(model, "history", None)
        if name == "B3" and epochs is not None:
            # B4's fold GNNs each train best + 1 epochs: the GNN work of B3 + B4 in epochs
            best = getattr(model, "best_epoch", 0)
            print(
                f"B3 epochs: {len(epochs)} run, best {best + 1} (each B4 fold GNN runs {best + 1})",
                flush=True,
            )
    if "B3" in names and "B4" in names:
        print("B4's fit reuses the B3 fitted just before it (same cuts and seed): its time is the rest")


if __name__ == "__main__":
    main()
