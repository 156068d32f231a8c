"""Discrimination and calibration of each model within slices of the test book.

A model can rank the whole book well and still fail a segment a bank lends to on its
own terms (micro firms, one province, firms that file no statements). For each slice
of the test cut's firms the table gives the firms, defaults and default rate, and per
model the AUC, the mean PD against that default rate, and the ECE (10 equal-mass bins,
:func:`gnn.metrics.ece`), each averaged over the seeds.

Slices (from the snapshot at the cut, so what a bank knew then):

===============  ==============================================================
dimension        groups
===============  ==============================================================
``size_class``   the contract's size class (micro, small, medium, large)
``industry``     the industry code; the 15 largest, the rest pooled as "other"
``region``       the province: first two digits of the division code + "0000"
``statements``   firms without a published statement (``has_statement == 0``)
                 and with one
===============  ==============================================================

A slice is flagged ``small`` when it has fewer than :data:`SMALL_FIRMS` firms or
:data:`SMALL_DEFAULTS` defaults: its AUC and ECE are too noisy to act on.

>>> g = _top_groups(pd.Series(["a", "a", "b", "c", None]), keep=1)
>>> g.tolist()
['a', 'a', 'other', 'other', 'unknown']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from gnn.metrics import auc, ece
from gnn.protocol import Cut

__all__ = ["SLICE_DIMENSIONS", "SMALL_DEFAULTS", "SMALL_FIRMS", "slice_groups", "slice_table"]

SLICE_DIMENSIONS: tuple[str, ...] = ("size_class", "industry", "region", "statements")
#: Below this many firms or defaults a slice is flagged small.
SMALL_FIRMS = 200
SMALL_DEFAULTS = 20
_MAX_INDUSTRIES = 15


def _top_groups(values: pd.Series, keep: int) -> pd.Series:
    v = values.astype(object).where(values.notna(), "unknown").astype(str)
    counts = v[v != "unknown"].value_counts()
    top = set(counts.index[:keep])
    return v.where(v.isin(top) | (v == "unknown"), "other").reset_index(drop=True)


def slice_groups(cut: Cut) -> dict[str, pd.Series]:
    """The group of each of the cut's firms under each dimension (aligned with ``cut.uscc``)."""
    firms = cut.snapshot.firms.iloc[cut.rows].reset_index(drop=True)
    size = firms["size_class"].astype(object).where(firms["size_class"].notna(), "unknown").astype(str)
    region = (
        firms["region"]
        .astype(object)
        .map(lambda r: f"{r[:2]}0000" if isinstance(r, str) and len(r) >= 2 else "unknown")
    )
    has = cut.own["has_statement"].to_numpy() if "has_statement" in cut.own else np.ones(len(cut.rows))
    statements = pd.Series(np.where(has > 0, "with statements", "without statements"))
    return {
        "size_class": size,
        "industry": _top_groups(firms["industry"], _MAX_INDUSTRIES),
        "region": region.astype(str),
        "statements": statements,
    }


def _mean(values: list[float]) -> float:
    arr = np.asarray(values, dtype="float64")
    return float(np.nanmean(arr)) if (~np.isnan(arr)).any() else float("nan")


def slice_table(cut: Cut, preds: Mapping[str, Sequence[np.ndarray]]) -> dict[str, list[dict[str, Any]]]:
    """Per dimension, one row per group (largest first).

    ``preds``: model name -> its PDs of the cut's firms, one array per seed.
    Each row: ``group``, ``firms``, ``defaults``, ``default_rate``, ``small`` and
    ``models: {name: {auc, mean_pd, ece}}``.
    """
    y = np.asarray(cut.y, dtype="float64")
    out: dict[str, list[dict[str, Any]]] = {}
    for dim, groups in slice_groups(cut).items():
        rows = []
        g = groups.to_numpy()
        for name in groups.value_counts().index:
            mask = g == name
            yy = y[mask]
            defaults = int(np.nansum(yy))
            models = {
                m: {
                    "auc": _mean([auc(yy, p[mask]) for p in ps]),
                    "mean_pd": _mean([float(np.mean(p[mask])) for p in ps]),
                    "ece": _mean([ece(yy, p[mask]) for p in ps]),
                }
                for m, ps in preds.items()
            }
            rows.append(
                {
                    "group": str(name),
                    "firms": int(mask.sum()),
                    "defaults": defaults,
                    "default_rate": float(yy.mean()),
                    "small": bool(mask.sum() < SMALL_FIRMS or defaults < SMALL_DEFAULTS),
                    "models": models,
                }
            )
        out[dim] = rows
    return out
