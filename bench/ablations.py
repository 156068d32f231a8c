"""Ablations of the graph on one dataset, variant by variant: test AUC against the intact graph.

Usage::

    .venv/bin/python bench/ablations.py --dataset DIR                       # every variant, B2-B4
    .venv/bin/python bench/ablations.py --dataset DIR --variants shuffled --models B3,B4 \\
        --intact intact.npz                                                  # reuse the intact fits

The same transformation and refit as ``chainrisk evaluate DIR --ablations`` (:mod:`gnn.ablations`:
every cut's snapshot transformed alike, cuts rebuilt, models refitted with seed 0), for a
chosen subset of variants, so that the slow variants can run in separate processes. Prints,
per variant and model, the test AUC and its difference from the intact graph's with a paired
bootstrap 95% interval (the evaluation's draws, :mod:`gnn.bootstrap`). ``--intact FILE``
keeps the intact fits' test PDs in an ``.npz`` (read when it exists, written otherwise).
Never asserts; a shuffle that hurts shows as a negative difference whose interval excludes 0.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# this folder's own modules must not shadow the packages of the same name
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--models", default="B2,B3,B4")
    parser.add_argument(
        "--variants", default="", help="comma-separated (default: every variant the data allow)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--intact", type=Path, help="an .npz of the intact fits' test PDs (read or written)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)

    from gnn.ablations import ablate_cut, ablation_variants
    from gnn.bootstrap import DRAWS, interval, resample_counts, weighted_scores
    from gnn.candidates import CANDIDATES
    from gnn.metrics import auc
    from gnn.protocol import load_cuts

    t = time.perf_counter()
    plan, cuts = load_cuts(args.dataset)
    train = [cuts[d] for d in plan.train]
    val, test = cuts[plan.validation], cuts[plan.test]
    print(
        f"{args.dataset.name}: cuts built in {time.perf_counter() - t:.0f} s; test book {len(test.y):,} firms"
    )
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    snaps = [c.snapshot for c in (*train, val, test)]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()] or ablation_variants(snaps)
    counts = resample_counts(len(test.y), draws=DRAWS, seed=0)

    intact: dict[str, np.ndarray] = {}
    if args.intact is not None and args.intact.exists():
        intact = dict(np.load(args.intact))
    for m in models:
        if m not in intact:
            t = time.perf_counter()
            intact[m] = np.asarray(CANDIDATES[m].fit(train, val, 0, args.threads).predict_pd(test))
            print(f"intact {m}: fit {time.perf_counter() - t:.0f} s", flush=True)
    if args.intact is not None:
        np.savez(args.intact, allow_pickle=False, **intact)
    base = {m: weighted_scores(test.y, intact[m], counts)["auc"] for m in models}
    for m in models:
        lo, hi = interval(base[m])
        print(f"intact   {m}: AUC {auc(test.y, intact[m]):.4f} [{lo:.4f}, {hi:.4f}]", flush=True)

    for variant in variants:
        t = time.perf_counter()
        a_train = [ablate_cut(c, variant, seed=0) for c in train]
        a_val, a_test = ablate_cut(val, variant, seed=0), ablate_cut(test, variant, seed=0)
        for m in models:
            p = np.asarray(CANDIDATES[m].fit(a_train, a_val, 0, args.threads).predict_pd(a_test))
            a = auc(test.y, p)
            lo, hi = interval(weighted_scores(test.y, p, counts)["auc"] - base[m])
            print(
                f"{variant:16} {m}: AUC {a:.4f}  vs intact {a - auc(test.y, intact[m]):+.4f} "
                f"[{lo:+.4f}, {hi:+.4f}]",
                flush=True,
            )
        print(f"{variant}: {time.perf_counter() - t:.0f} s", flush=True)


if __name__ == "__main__":
    main()
