"""Run the out-of-time protocol on a dataset folder and compare the models on the same splits.

Every candidate of the registry (:data:`gnn.candidates.CANDIDATES`: B0 logistic
scorecard, B1 trees on own features, B2 trees on own and chain features, and the graph
models as they join it) is trained on the training cuts, stopped and calibrated on the
validation cut, and scored on the test cut's book, once per seed. The result is one
JSON-ready dict:

- ``models.<name>``: each measure of :func:`gnn.metrics.scores` (mean over the seeds),
  ``ci95: {measure: [lo, hi]}`` (bootstrap over firms, draw by draw averaged over the
  seeds; :mod:`gnn.bootstrap`), ``auc_ci95``, ``pr_auc_ci95``, ``validation_auc``,
  ``fit_seconds``; B2 adds ``chain_because`` (seed 0's choice of the chain features on
  validation, with its numbers) and ``chain_kept_seeds`` (how many seeds kept them), B4
  ``readouts_because``;
- ``shipped``: the graph-aware model chosen on the validation firms by a paired
  comparison, simplest first (:func:`gnn.candidates.select_shipped`,
  :mod:`gnn.selection`); ``shipped_because`` its numbers; ``selection`` every
  challenge with its paired SEs; ``comparisons``: shipped
  against B1 and the better of B3/B4 (higher validation AUC) against B2, paired (:mod:`gnn.targets`);
  ``targets``: the issue's targets, met or not;
- ``slices`` (:mod:`gnn.slices`), ``curves`` (:mod:`gnn.curves`, seed 0),
  ``oracle`` when the dataset has ``_truth/hazards.parquet`` (:mod:`gnn.oracle`),
  ``vintages`` on request (:mod:`gnn.vintages`), ``ablations`` under ``full`` or on request
  (:mod:`gnn.ablations`, with their own time); ``edge_attribution`` under ``full`` when a
  GNN was fitted and the dataset has ``_truth/defaults.parquet``: the GNN explainer's
  edge-mask AUC in finding the true contagion links, against a rule-based baseline
  (:func:`gnn.edge_attribution.explainer_figures`);
- ``pending``: registry entries the issue asks for that do not exist yet (absent when
  none is missing); ``cuts``, ``book``, ``features``, ``seeds``, ``seconds``.

Example::

    from gnn.evaluate import evaluate
    result = evaluate("out/platform", seeds=3)
    result["models"]["B2"]["auc"], result["models"]["B2"]["ci95"]["ks"]
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gnn.ablations import run_ablations
from gnn.bootstrap import DRAWS, MEASURES, interval, mean_over_seeds, resample_counts, weighted_scores
from gnn.candidates import CANDIDATES, RiskModel, select_shipped
from gnn.curves import calibration_bins, roc_points, tier_table
from gnn.edge_attribution import defaults_path, explainer_figures
from gnn.hetero_model import GNNModel
from gnn.metrics import auc, brier, scores
from gnn.oracle import gap_closed, hazards_path, oracle_pd, read_hazards
from gnn.protocol import Cut, load_cuts
from gnn.slices import slice_table
from gnn.targets import GNN_MODELS, better_gnn, paired, targets
from gnn.vintages import vintage_figures

__all__ = ["EXPECTED_MODELS", "evaluate"]

#: Every model the issue asks for; those missing from the registry are listed as pending.
EXPECTED_MODELS: dict[str, str] = {
    "B0": "logistic scorecard",
    "B1": "gradient-boosted trees on own features",
    "B2": "gradient-boosted trees on own and chain features",
    "B3": "heterogeneous GNN",
    "B4": "trees with out-of-fold GNN embeddings",
}

Say = Callable[[str], None]


def _model_card(model: RiskModel) -> str | None:
    """The model card of a fitted model, when it offers one (``model_card`` or ``card``)."""
    for attr in ("model_card", "card"):
        card = getattr(model, attr, None)
        if callable(card):
            card = card()
        if isinstance(card, str):
            return card
        if isinstance(card, dict):
            return json.dumps(card, indent=2, ensure_ascii=False, default=str)
    return None


Fitted = tuple[
    dict[str, list[np.ndarray]],
    dict[str, list[np.ndarray]],
    dict[str, float],
    dict[str, RiskModel],
    dict[str, int],
]


def _fit_all(
    names: Sequence[str], train: Sequence[Cut], val: Cut, test: Cut, seeds: int, threads: int, say: Say
) -> Fitted:
    """Every candidate under every seed: test PDs, validation PDs, fit seconds, seed-0 models, and
    per model the number of seeds that kept the chain features (B2's choice on validation)."""
    chain_kept: dict[str, int] = dict.fromkeys(names, 0)
    preds: dict[str, list[np.ndarray]] = {m: [] for m in names}
    val_pds: dict[str, list[np.ndarray]] = {m: [] for m in names}
    secs: dict[str, float] = dict.fromkeys(names, 0.0)
    first: dict[str, RiskModel] = {}
    for seed in range(seeds):
        for name in names:
            say(f"seed {seed}: {name}")
            t = time.monotonic()
            model = CANDIDATES[name].fit(train, val, seed, threads)
            secs[name] += time.monotonic() - t
            chain_kept[name] += bool(getattr(model, "chain", False))
            preds[name].append(np.asarray(model.predict_pd(test), dtype="float64"))
            val_pds[name].append(np.asarray(model.predict_pd(val), dtype="float64"))
            if seed == 0:
                first[name] = model
    return preds, val_pds, secs, first, chain_kept


def _oracle(
    dataset_dir: str | Path, test: Cut, preds: dict[str, list[np.ndarray]], counts: np.ndarray, say: Say
) -> dict[str, Any] | None:
    path = hazards_path(dataset_dir)
    if path is None:
        return None
    say("oracle: the generator's hazards over the test window")
    p = oracle_pd(read_hazards(path, test.as_of), test.uscc, test.as_of)
    known = ~np.isnan(p)
    y, c = test.y[known], counts[:, known]
    o_draws = weighted_scores(y, p[known], c)["auc"]
    m_draws = {m: mean_over_seeds(y, [q[known] for q in ps], c)["auc"] for m, ps in preds.items()}
    m_auc = {m: float(np.mean([auc(y, q[known]) for q in ps])) for m, ps in preds.items()}
    o_auc = auc(y, p[known])
    out: dict[str, Any] = {
        "auc": o_auc,
        "auc_ci95": list(interval(o_draws)),
        "firms": int(known.sum()),
        "firms_without_hazards": int((~known).sum()),
        "models": {m: {"auc": m_auc[m]} for m in preds},
    }
    if "B1" in preds:
        for m in preds:
            share = gap_closed(np.array([m_auc[m]]), np.array([m_auc["B1"]]), np.array([o_auc]))[0]
            out["models"][m]["gap_closed"] = float(share)
            out["models"][m]["gap_closed_ci95"] = list(
                interval(gap_closed(m_draws[m], m_draws["B1"], o_draws))
            )
    return out


def _ablations(
    train: Sequence[Cut],
    val: Cut,
    test: Cut,
    base: dict[str, np.ndarray],
    counts: np.ndarray,
    threads: int,
    say: Say,
) -> dict[str, Any]:
    t0 = time.monotonic()
    graph = [m for m in base if CANDIDATES[m].graph_aware]
    runs = run_ablations(
        train,
        val,
        test,
        models=graph,
        fit=lambda name, tr, va: CANDIDATES[name].fit(tr, va, 0, threads).predict_pd,
        seed=0,
        progress=say,
    )
    base_auc = {m: weighted_scores(test.y, base[m], counts)["auc"] for m in graph}
    variants: dict[str, Any] = {}
    for variant, run in runs.items():
        models = {}
        for m, p in run["preds"].items():
            a = auc(test.y, p)
            models[m] = {
                "auc": a,
                "delta_auc": a - auc(test.y, base[m]),
                "delta_auc_ci95": list(interval(weighted_scores(test.y, p, counts)["auc"] - base_auc[m])),
            }
        variants[variant] = {"seconds": run["seconds"], "models": models}
    return {"seed": 0, "variants": variants, "seconds": round(time.monotonic() - t0, 1)}


def _edge_attribution(
    dataset_dir: str | Path, test: Cut, first: dict[str, RiskModel], threads: int, say: Say
) -> dict[str, Any] | None:
    """The explainer's edge-mask AUC on the test cut (seed 0's GNN), where the data allow it."""
    path = defaults_path(dataset_dir)
    gnn = first.get("B3", getattr(first.get("B4"), "gnn", None))
    if path is None or not isinstance(gnn, GNNModel):
        return None
    import pandas as pd
    import torch

    torch.set_num_threads(threads)
    return explainer_figures(gnn, test, pd.read_parquet(path), seed=0, progress=say)


def evaluate(
    dataset_dir: str | Path,
    *,
    seeds: int = 3,
    progress: Callable[[str], None] | None = None,
    threads: int = 2,
    full: bool = False,
    vintages: bool | None = None,
    models: Sequence[str] | None = None,
    draws: int = DRAWS,
    edge_attribution: bool | None = None,
    ablations: bool | None = None,
) -> dict[str, Any]:
    """The protocol's figures for every model, as a JSON-ready dict (see the module docstring).

    ``full`` adds the ablations (and the vintages unless ``vintages`` says otherwise);
    ``vintages`` the earlier test vintages; ``models`` a subset of the registry (default:
    all of it); ``draws`` the bootstrap draws; ``edge_attribution`` the explainer's
    edge-mask AUC (default: with ``full``); ``ablations`` the ablations of the graph
    (default: with ``full``).
    """
    names = list(models) if models else list(CANDIDATES)
    unknown = [m for m in names if m not in CANDIDATES]
    if unknown:
        raise ValueError(f"unknown models {unknown}: the registry has {sorted(CANDIDATES)}")
    t0 = time.monotonic()
    say: Say = progress or (lambda _msg: None)
    run_vintages = full if vintages is None else vintages
    say("reading the dataset and building the cuts")
    plan, cuts = load_cuts(dataset_dir)
    train = [cuts[t] for t in plan.train]
    val, test = cuts[plan.validation], cuts[plan.test]
    y_train = np.concatenate([c.y for c in train])
    preds, val_pds, fit_secs, first, chain_kept = _fit_all(names, train, val, test, seeds, threads, say)

    say("bootstrap intervals")
    counts = resample_counts(len(test.y), draws=draws, seed=0)
    per_seed = {m: [weighted_scores(test.y, p, counts) for p in ps] for m, ps in preds.items()}
    draws_by = {
        m: {k: np.mean([s[k] for s in runs], axis=0) for k in MEASURES} for m, runs in per_seed.items()
    }
    figures: dict[str, dict[str, Any]] = {}
    for name, ps in preds.items():
        runs = [scores(test.y, p) for p in ps]
        ci = {k: list(interval(draws_by[name][k])) for k in MEASURES}
        figures[name] = {
            **{k: float(np.nanmean([r[k] for r in runs])) for k in MEASURES},
            "ci95": ci,
            "auc_ci95": ci["auc"],
            "pr_auc_ci95": ci["pr_auc"],
            "validation_auc": float(np.nanmean([auc(val.y, p) for p in val_pds[name]])),
            "validation_brier": float(np.nanmean([brier(val.y, p) for p in val_pds[name]])),
            "fit_seconds": round(fit_secs[name] / seeds, 2),
            "description": CANDIDATES[name].description,
        }
        readouts = getattr(first[name], "readouts_because", None)
        if readouts:
            # B4: which read-out set (one or two hops) seed 0 kept on validation, and why
            figures[name]["readouts_because"] = readouts
        chain = getattr(first[name], "chain_because", None)
        if chain:
            # B2: whether seed 0 kept the chain features on validation, and why; and how many seeds did
            figures[name]["chain_because"] = chain
            figures[name]["chain_kept_seeds"] = chain_kept[name]
    say("choosing the shipped model on the validation firms")
    selection = select_shipped(val.y, val_pds)
    shipped, why = selection.shipped, selection.because
    comparisons: dict[str, Any] = {}
    if "B1" in figures and shipped != "B1":
        comparisons["shipped_vs_B1"] = paired(draws_by, figures, shipped, "B1")
    gnns = [m for m in GNN_MODELS if m in figures]
    if gnns and "B2" in figures:
        best = better_gnn(figures, gnns)
        comparisons["best_gnn_vs_B2"] = paired(draws_by, figures, best, "B2")
    core_seconds = round(time.monotonic() - t0, 1)

    say("slices")
    result: dict[str, Any] = {
        "models": figures,
        "shipped": shipped,
        "shipped_because": why,
        "selection": selection.to_dict(),
        "comparisons": comparisons,
        "slices": slice_table(test, preds),
        "curves": {
            "seed": 0,
            "roc": {m: roc_points(test.y, ps[0]) for m, ps in preds.items()},
            "calibration": {m: calibration_bins(test.y, ps[0]) for m, ps in preds.items()},
            "tiers": {m: tier_table(test.y, ps[0]) for m, ps in preds.items()},
        },
        "oracle": _oracle(dataset_dir, test, preds, counts, say),
        "model_card": _model_card(first[shipped]),
    }
    pending = {m: f"{d}: not built yet" for m, d in EXPECTED_MODELS.items() if m not in CANDIDATES}
    if pending:
        result["pending"] = pending
    if run_vintages:
        tv = time.monotonic()
        result["vintages"] = vintage_figures(
            plan, cuts, models=names, threads=threads, draws=draws, progress=say
        )
        result["vintages_seconds"] = round(time.monotonic() - tv, 1)
    if full if ablations is None else ablations:
        result["ablations"] = _ablations(
            train, val, test, {m: ps[0] for m, ps in preds.items()}, counts, threads, say
        )
    if full if edge_attribution is None else edge_attribution:
        result["edge_attribution"] = _edge_attribution(dataset_dir, test, first, threads, say)
    result["targets"] = targets(
        comparisons, figures, shipped, result.get("ablations"), result.get("edge_attribution")
    )
    result.update(
        {
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
            "draws": draws,
            "full": full,
            "features": {"own": list(test.own.columns), "chain": list(test.chain.columns)},
            "core_seconds": core_seconds,
            "seconds": round(time.monotonic() - t0, 1),
        }
    )
    return result
