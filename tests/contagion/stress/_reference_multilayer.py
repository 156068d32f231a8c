"""A minimal private stand-in for ``contagion.multilayer`` (tests only).

Used only while the real engine is not importable; same signature, plain
differential DebtRank on the transmission-weighted sum of the layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

LAYERS = ("supply", "guarantee", "trade_credit")


@dataclass(frozen=True)
class MultiLayerResult:
    distress: np.ndarray
    defaulted: np.ndarray
    loss_by_layer: dict[str, np.ndarray]
    rounds: int
    converged: bool


def _impact(exposure: sp.spmatrix, equity: np.ndarray) -> sp.csr_matrix:
    e = sp.csr_matrix(exposure, dtype=np.float64)
    inv = np.where(equity > 0, 1.0 / np.where(equity > 0, equity, 1.0), 1e12)
    w = sp.diags(inv) @ e
    w = sp.csr_matrix(w)
    w.data = np.minimum(w.data, 1.0)
    w.setdiag(0)
    w.eliminate_zeros()
    return w


def build_layers(snapshot: Any, *, loss_rate: float = 0.45) -> dict[str, sp.csr_matrix]:
    equity = np.nan_to_num(snapshot.firms["equity"].to_numpy(dtype=np.float64), nan=0.0)
    s = sp.csr_matrix(snapshot.supply)
    return {
        "supply": _impact((s + s.T) * loss_rate, equity),
        "guarantee": _impact(sp.csr_matrix(snapshot.guarantees) * loss_rate, equity),
        "trade_credit": _impact(sp.csr_matrix(snapshot.receivables) * loss_rate, equity),
    }


def propagate(
    layers: Mapping[str, sp.csr_matrix],
    shock: np.ndarray,
    *,
    transmission: Mapping[str, float] | None = None,
    equity: np.ndarray | None = None,
    default_threshold: float = 1.0,
    tol: float = 1e-9,
    max_rounds: int = 1000,
) -> MultiLayerResult:
    shock = np.asarray(shock, dtype=np.float64)
    squeeze = shock.ndim == 1
    h = np.clip(shock.reshape(shock.shape[0], -1), 0.0, 1.0)
    tau = {k: 1.0 if transmission is None else float(transmission.get(k, 1.0)) for k in layers}
    eq = np.ones(h.shape[0]) if equity is None else np.asarray(equity, dtype=np.float64)
    loss = {k: np.zeros_like(h) for k in layers}
    dh = h.copy()
    rounds, converged = 0, False
    while rounds < max_rounds:
        rounds += 1
        parts = {k: tau[k] * np.asarray(layers[k] @ dh) for k in layers}
        inc = sum(parts.values())
        new = np.minimum(1.0, h + inc)
        dh = new - h
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(inc > 0, dh / np.where(inc > 0, inc, 1.0), 0.0)
        for k in layers:
            loss[k] += parts[k] * frac * eq[:, None]
        h = new
        if dh.max(initial=0.0) < tol:
            converged = True
            break
    d = h[:, 0] if squeeze else h
    return MultiLayerResult(
        distress=d,
        defaulted=d >= default_threshold,
        loss_by_layer={k: (v[:, 0] if squeeze else v) for k, v in loss.items()},
        rounds=rounds,
        converged=converged,
    )
