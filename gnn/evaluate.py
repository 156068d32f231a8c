"""Run the out-of-time protocol on a dataset folder and compare the models on the same splits.

Models (``gnn.baselines``): B0 logistic scorecard, B1 trees on own features, B2 trees
on own and chain features. Each is trained on the training cuts, stopped and
calibrated on the validation cut, and scored on the test cut's book; figures are
means over ``seeds`` (the trees' bagging and the logistic solver take the seed), with
a bootstrap 95% interval of the test AUC and PR-AUC from the first seed.

The graph neural network (B3) and the trees with its embeddings (B4) are not built
yet: the result says so under ``"pending"``, and ``"shipped"`` is the best
graph-aware model on validation among those that exist.

Example::

    from gnn.evaluate import evaluate
    result = evaluate("out/platform", seeds=3)
    result["models"]["B2"]["auc"]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gnn.candidates import CANDIDATES
from gnn.metrics import auc, pr_auc, scores
from gnn.protocol import load_cuts

__all__ = ["bootstrap_interval", "evaluate"]


def bootstrap_interval(
    y: np.ndarray,
    p: np.ndarray,
    measure: Callable[[np.ndarray, np.ndarray], float],
    *,
    seed: int = 0,
    draws: int = 200,
) -> tuple[float, float]:
    """A percentile bootstrap 95% interval of ``measure(y, p)`` over firms."""
    rng = np.random.default_rng(seed)
    n = len(y)
    vals = []
    for _ in range(draws):
        i = rng.integers(0, n, n)
        v = measure(y[i], p[i])
        if not np.isnan(v):
            vals.append(v)
    if not vals:
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return (float(lo), float(hi))


def evaluate(
    dataset_dir: str | Path,
    *,
    seeds: int = 3,
    progress: Callable[[str], None] | None = None,
    threads: int = 2,
) -> dict[str, Any]:
    """The protocol's figures for every model, as a JSON-ready dict (see the module docstring)."""
    t0 = time.monotonic()
    say = progress or (lambda _msg: None)
    say("reading the dataset and building the cuts")
    plan, cuts = load_cuts(dataset_dir)
    train = [cuts[t] for t in plan.train]
    val, test = cuts[plan.validation], cuts[plan.test]
    y_train = np.concatenate([c.y for c in train])
    per_model: dict[str, list[dict[str, float]]] = {m: [] for m in CANDIDATES}
    val_auc: dict[str, list[float]] = {m: [] for m in CANDIDATES}
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    for seed in range(seeds):
        for name, candidate in CANDIDATES.items():
            say(f"seed {seed}: {name}")
            model = candidate.fit(train, val, seed, threads)
            p_test = model.predict_pd(test)
            per_model[name].append(scores(test.y, p_test))
            val_auc[name].append(auc(val.y, model.predict_pd(val)))
            if seed == 0:
                intervals[name] = {
                    "auc": bootstrap_interval(test.y, p_test, auc),
                    "pr_auc": bootstrap_interval(test.y, p_test, pr_auc),
                }
    models: dict[str, dict[str, Any]] = {}
    for name, runs in per_model.items():
        mean = {k: float(np.nanmean([r[k] for r in runs])) for k in runs[0]}
        models[name] = {
            **mean,
            "auc_ci95": list(intervals[name]["auc"]),
            "pr_auc_ci95": list(intervals[name]["pr_auc"]),
            "validation_auc": float(np.nanmean(val_auc[name])),
            "description": CANDIDATES[name].description,
        }
    graph_aware = [m for m in models if CANDIDATES[m].graph_aware]
    shipped = max(graph_aware, key=lambda m: models[m]["validation_auc"])
    return {
        "models": models,
        "shipped": shipped,
        "pending": {
            "B3": "heterogeneous GNN: not built yet",
            "B4": "trees with GNN embeddings: not built yet",
        },
        "cuts": {
            "train": [t.isoformat() for t in plan.train],
            "validation": plan.validation.isoformat(),
            "test": plan.test.isoformat(),
        },
        "book": {
            "train": len(y_train),
            "train_defaults": int(y_train.sum()),
            "validation": len(val.y),
            "validation_defaults": int(val.y.sum()),
            "test": len(test.y),
            "test_defaults": int(test.y.sum()),
        },
        "seeds": seeds,
        "features": {"own": list(test.own.columns), "chain": list(test.chain.columns)},
        "seconds": round(time.monotonic() - t0, 1),
    }
