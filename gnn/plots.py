"""The evaluation report's plots, as inline SVG (matplotlib's object API; no pyplot state, no network).

Each function takes the JSON-ready ``curves`` (:mod:`gnn.curves`) or a part of an
evaluation result and returns an ``<svg>`` element as text, ready to paste into HTML:

- :func:`roc_svg`          ROC curves of every model, with the diagonal;
- :func:`calibration_svg`  mean PD against default rate of the 10 equal-mass bins (log axes);
- :func:`tiers_svg`        realised default rate by risk tier, the tier bands drawn behind;
- :func:`ablations_svg`    AUC change of each ablation with its 95% interval.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Mapping
from typing import Any

import matplotlib
from matplotlib.figure import Figure

__all__ = ["ablations_svg", "calibration_svg", "roc_svg", "tiers_svg"]

_SVG_START = re.compile(r"^.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    # text as text (small files, the page's fonts), and ids fixed so the same figures give the same bytes
    with (
        matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "chainrisk"}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message="Glyph .* missing from font", category=UserWarning)
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    # the XML prolog cannot sit inside HTML; the RDF metadata names remote vocabularies, carries nothing
    return _METADATA.sub("", _SVG_START.sub("", buf.getvalue(), count=1), count=1)


def roc_svg(roc: Mapping[str, Mapping[str, list[float]]]) -> str:
    """ROC curves: ``roc[model] = {"fpr": [...], "tpr": [...]}``."""
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#bbbbbb", linestyle=":", linewidth=1)
    for name, pts in roc.items():
        if pts["fpr"]:
            ax.plot(pts["fpr"], pts["tpr"], label=name, linewidth=1.4)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="lower right")
    return _svg(fig)


def calibration_svg(calibration: Mapping[str, Mapping[str, list[float]]]) -> str:
    """Reliability diagram: ``calibration[model] = {"mean_pd": [...], "default_rate": [...]}``."""
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.add_subplot()
    # the axes start a factor 2 below the smallest PD or rate shown (at most 1e-4 below: the PD floor)
    shown = [v for c in calibration.values() for v in (*c["mean_pd"], *c["default_rate"]) if v and v > 0]
    lo, hi = max(1e-4, 0.5 * min(shown, default=1e-4)), 1.0
    ax.plot([lo, hi], [lo, hi], color="#bbbbbb", linestyle=":", linewidth=1)
    for name, c in calibration.items():
        # a bin without defaults has rate 0, drawn at the axis floor
        rate = [max(r, lo) for r in c["default_rate"]]
        ax.plot(c["mean_pd"], rate, marker="o", markersize=3, linewidth=1, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("mean PD of the bin")
    ax.set_ylabel("default rate of the bin")
    ax.legend(fontsize=8, loc="upper left")
    return _svg(fig)


def tiers_svg(tiers: Mapping[str, list[Mapping[str, Any]]]) -> str:
    """Realised default rate by tier for each model (bars), the tier's PD band (grey)."""
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    names = list(tiers)
    if not names:
        return _svg(fig)
    rows = tiers[names[0]]
    width = 0.8 / max(1, len(names))
    for k, row in enumerate(rows):
        ax.fill_between([k - 0.45, k + 0.45], row["band"][0], min(row["band"][1], 0.6), color="#eeeeee")
    for j, name in enumerate(names):
        xs = [k - 0.4 + width * (j + 0.5) for k in range(len(tiers[name]))]
        ys = [r["default_rate"] if r["firms"] else 0.0 for r in tiers[name]]
        ax.bar(xs, ys, width=width, label=name)
    ax.set_xticks(range(len(rows)), [f"{r['tier']} {r['name']}" for r in rows], fontsize=8)
    ax.set_ylabel("default rate (bars); PD band (grey)")
    ax.legend(fontsize=8, loc="upper left")
    return _svg(fig)


def ablations_svg(variants: Mapping[str, Mapping[str, Any]]) -> str:
    """AUC change of each variant and graph-aware model, with the paired 95% interval."""
    labels, deltas, lows, highs = [], [], [], []
    for variant, v in variants.items():
        for name, m in v["models"].items():
            labels.append(f"{variant} ({name})")
            deltas.append(m["delta_auc"])
            lows.append(m["delta_auc"] - m["delta_auc_ci95"][0])
            highs.append(m["delta_auc_ci95"][1] - m["delta_auc"])
    fig = Figure(figsize=(6.4, 0.6 + 0.32 * max(1, len(labels))))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))[::-1]
    ax.errorbar(deltas, ys, xerr=[lows, highs], fmt="o", color="#4c72b0", capsize=3)
    ax.axvline(0.0, color="#888888", linewidth=1)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_xlabel("AUC change against the full graph")
    return _svg(fig)
