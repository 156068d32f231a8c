"""Paired comparisons of models and the issue's targets, checked on one evaluation.

Differences are **paired**: both models' figures come from the same bootstrap draws of
the test firms (:mod:`gnn.bootstrap`), averaged over the seeds draw by draw, so the
interval of a difference reflects that both models were scored on the same firms.

- ``auc``: ``AUC_A - AUC_B`` (AUC units; 0.05 is five AUC points);
- ``pr_auc_relative``: ``PR_A / PR_B - 1``.

The targets (with contagion: the default generator strength; at strength 0: a
generator run without contagion) are all computed; which apply depends on the data,
which the evaluation cannot know without ``_truth/``. Each says so in ``applies``:

===========================  ===============================================  ===========
target                       condition                                        applies
===========================  ===============================================  ===========
shipped_vs_B1_auc            shipped - B1 >= 0.05 AUC, interval above 0       contagion
shipped_vs_B1_pr_auc         shipped / B1 - 1 >= 10% PR-AUC, interval above 0 contagion
best_gnn_vs_B2_auc           better(B3, B4) - B2 >= 0.015 AUC (validation)   contagion
shuffle_hurts                shuffled - full AUC of the shipped model < 0,    contagion
                             interval below 0 (with ``--full``)
shipped_vs_B1_no_contagion   shipped - B1 >= -0.005 AUC                       no contagion
edge_mask_auc                the GNN explainer's edge-mask AUC >= 0.8 on the  contagion
                             true links of ``_truth/defaults`` (``--full``)
ece                          ECE of the shipped model <= 0.015                always
===========================  ===============================================  ===========

>>> d = {"A": {"auc": np.array([0.7, 0.8])}, "B": {"auc": np.array([0.6, 0.6])}}
>>> paired(d, {"A": {"auc": 0.75}, "B": {"auc": 0.6}}, "A", "B")["auc"]["value"]
0.15
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from gnn.bootstrap import interval

__all__ = ["GNN_MODELS", "better_gnn", "paired", "targets"]

#: The graph neural network (B3) and the trees with its embeddings (B4), as the registry names them.
GNN_MODELS: tuple[str, ...] = ("B3", "B4")

Draws = Mapping[str, Mapping[str, np.ndarray]]


def _figure(value: float, draws: np.ndarray) -> dict[str, Any]:
    return {"value": round(float(value), 6), "ci95": list(interval(draws))}


def paired(draws: Draws, means: Mapping[str, Mapping[str, Any]], a: str, b: str) -> dict[str, Any]:
    """``a`` against ``b``: AUC difference and relative PR-AUC, each with its paired interval.

    ``draws``: model -> measure -> seed-averaged bootstrap draws; ``means``: model -> point figures.
    """
    out: dict[str, Any] = {"model": a, "against": b}
    out["auc"] = _figure(means[a]["auc"] - means[b]["auc"], draws[a]["auc"] - draws[b]["auc"])
    if "pr_auc" in draws[a] and "pr_auc" in draws[b]:
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = draws[a]["pr_auc"] / draws[b]["pr_auc"] - 1.0
        out["pr_auc_relative"] = _figure(means[a]["pr_auc"] / means[b]["pr_auc"] - 1.0, rel)
    return out


def better_gnn(models: Mapping[str, Mapping[str, Any]], names: Sequence[str] = GNN_MODELS) -> str:
    """The better of the graph models ``names``: the higher validation AUC.

    The test cut never decides, and the shipping rule's preference for the simpler model on
    a tie within one standard error has no place here: the target compares the better one.

    >>> better_gnn({"B3": {"validation_auc": 0.71736}, "B4": {"validation_auc": 0.71743}})
    'B4'
    """
    present = [m for m in names if m in models]
    if not present:
        raise ValueError(f"none of {list(names)} was evaluated")
    return max(present, key=lambda m: float(models[m]["validation_auc"]))


def _target(
    name: str, text: str, applies: str, value: float, ci: list[float] | None, met: bool
) -> dict[str, Any]:
    return {"name": name, "text": text, "applies": applies, "value": value, "ci95": ci, "met": bool(met)}


def targets(
    comparisons: Mapping[str, Any],
    models: Mapping[str, Mapping[str, Any]],
    shipped: str,
    ablations: Mapping[str, Any] | None = None,
    edge_attribution: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The targets of the module table that this evaluation can check."""
    out = []
    vs_b1 = comparisons.get("shipped_vs_B1")
    if vs_b1:
        auc, pr = vs_b1["auc"], vs_b1["pr_auc_relative"]
        out.append(
            _target(
                "shipped_vs_B1_auc",
                f"{shipped} beats B1 by at least 5 AUC points, interval above 0",
                "contagion",
                auc["value"],
                auc["ci95"],
                auc["value"] >= 0.05 and auc["ci95"][0] > 0,
            )
        )
        out.append(
            _target(
                "shipped_vs_B1_pr_auc",
                f"{shipped} beats B1 by at least 10% relative PR-AUC, interval above 0",
                "contagion",
                pr["value"],
                pr["ci95"],
                pr["value"] >= 0.10 and pr["ci95"][0] > 0,
            )
        )
        out.append(
            _target(
                "shipped_vs_B1_no_contagion",
                f"{shipped} loses at most 0.5 AUC points to B1",
                "no contagion",
                auc["value"],
                auc["ci95"],
                auc["value"] >= -0.005,
            )
        )
    gnn = comparisons.get("best_gnn_vs_B2")
    if gnn:
        out.append(
            _target(
                "best_gnn_vs_B2_auc",
                f"{gnn['model']} (the better of {', '.join(GNN_MODELS)}) beats B2 by at least 1.5 AUC points",
                "contagion",
                gnn["auc"]["value"],
                gnn["auc"]["ci95"],
                gnn["auc"]["value"] >= 0.015,
            )
        )
    shuffled = (ablations or {}).get("variants", {}).get("shuffled", {}).get("models", {}).get(shipped)
    if shuffled:
        out.append(
            _target(
                "shuffle_hurts",
                f"a degree-preserving edge shuffle lowers {shipped}'s AUC, interval below 0",
                "contagion",
                shuffled["delta_auc"],
                shuffled["delta_auc_ci95"],
                shuffled["delta_auc"] < 0 and shuffled["delta_auc_ci95"][1] < 0,
            )
        )
    if edge_attribution:
        out.append(
            _target(
                "edge_mask_auc",
                f"the {edge_attribution['model']} explainer's edge mask finds the true contagion links, "
                f"AUC at least {edge_attribution['target']}",
                "contagion",
                edge_attribution["explainer"]["auc"],
                None,
                edge_attribution["met"],
            )
        )
    e = models[shipped]["ece"]
    out.append(
        _target(
            "ece", f"ECE of {shipped} at most 0.015", "always", e, models[shipped]["ci95"]["ece"], e <= 0.015
        )
    )
    return out
