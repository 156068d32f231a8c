r"""Reverse stress test: what the runs whose loss exceeds a given amount have in common.

For a threshold :math:`T` (an amount, or a share of the bank's tier-1 capital) the
runs :math:`E = \{r : L_r > T\}` are summarised with the run weights
:math:`\omega_r` (importance sampling; 1 without), so every figure estimates a
conditional expectation given :math:`L > T` under the plain model:

- :math:`P(L > T) \approx \frac1N \sum_{r \in E} \omega_r`, with its standard error;
- the factor values: the weighted mean of the global, each sector and each region
  factor over :math:`E` (macro shifts included), beside their unconditional mean
  (the macro shift) — the most adverse factors are the scenario that breaks the bank;
- the firms that drive those runs: how often each defaults in them (against its
  unconditional default probability) and its mean loss in them, as a share of the
  mean loss beyond :math:`T`.

Reads the run-level data :func:`contagion.stress.run_stress` keeps in
:attr:`~contagion.stress.result.StressResult.internals`: per-firm losses of the runs at
or beyond the 99 % VaR, and of the runs beyond ``keep_runs_above`` when the caller
passed one (:mod:`contagion.stress.collect`). A lower threshold raises
:class:`~chainrisk.errors.InvalidModelInput` rather than describe runs it no longer has.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrisk.errors import InvalidModelInput
from contagion.stress.copula import draw_systematic
from contagion.stress.result import StressResult
from contagion.stress.tail_stats import normalised_weights

__all__ = ["reverse_stress"]


def _factor_rows(keys: tuple[str, ...], values: np.ndarray, w: np.ndarray, base: np.ndarray, top: int,
                 key: str) -> list[dict[str, Any]]:
    means = values @ w / w.sum()
    order = np.argsort(means - base, kind="stable")[:top]  # most adverse (lowest) first
    return [{key: keys[i], "mean": float(means[i]), "baseline": float(base[i])} for i in order]


def reverse_stress(result: StressResult, threshold: float, *, top: int = 20) -> dict[str, Any]:
    """Factor values and driving firms of the runs whose loss exceeds ``threshold`` (see the module)."""
    dist = result.loss_distribution
    loss = dist["loss"].to_numpy(dtype=np.float64)
    n = len(loss)
    w = normalised_weights(n, dist["weight"].to_numpy(dtype=np.float64) if "weight" in dist else None)
    beyond = loss > threshold
    hit = beyond.astype(np.float64)
    p = float(w @ hit) / n
    p_se = math.sqrt(float(np.sum(w * w * (hit - p) ** 2)) / (n * (n - 1))) if n > 1 else math.nan
    out: dict[str, Any] = {"threshold": float(threshold), "runs_beyond": int(beyond.sum()),
                           "probability": p, "probability_se": p_se}
    capital = result.scenario.concentration.tier1_capital
    out["share_of_capital"] = float(threshold / capital) if capital else None
    if not beyond.any():
        out.update({"mean_loss_beyond": None, "factors": None, "firms": []})
        return out
    runs = np.flatnonzero(beyond)
    we = w[runs]
    out["mean_loss_beyond"] = float(loss[runs] @ we / we.sum())
    cop = result.internals.get("copula")
    if cop is not None:
        zg, zs, zr = draw_systematic(cop, runs.tolist(), result.seed)
        out["factors"] = {
            "global": {"mean": float(zg @ we / we.sum()), "baseline": float(cop.global_shift)},
            "sector": _factor_rows(cop.sectors, zs, we, cop.sector_shift, top, "sector"),
            "region": _factor_rows(cop.regions, zr, we, cop.region_shift, top, "region"),
        }
    else:
        out["factors"] = None
    firm_loss = result.internals.get("run_firm_loss")
    defaults = result.internals.get("run_defaults")
    firms = result.firms
    if firm_loss is None or defaults is None:
        out["firms"] = []
        return out
    kept_above = float(result.internals.get("kept_above", -math.inf))
    if threshold < kept_above:
        raise InvalidModelInput(
            f"the stress result kept the firm losses of runs above {kept_above:,.2f} only (the ES tail); "
            f"run it with keep_runs_above={threshold:,.2f} (chainrisk stress --reverse-loss does) "
            "for a reverse stress test at this threshold")
    mean_loss = np.asarray(firm_loss[:, runs] @ we).ravel() / we.sum()
    freq = np.asarray(defaults[:, runs].astype(np.float64) @ we).ravel() / we.sum()
    base = firms["stress_default_prob"].to_numpy(dtype=np.float64)
    total = out["mean_loss_beyond"]
    score = np.lexsort((-(freq - base), -mean_loss))
    keep = [i for i in score if mean_loss[i] > 0 or freq[i] > base[i]][:top]
    out["firms"] = [
        {"uscc": str(firms["uscc"].iloc[i]), "name": str(firms["name"].iloc[i]) if "name" in firms else "",
         "default_frequency": float(freq[i]), "default_probability": float(base[i]),
         "mean_loss": float(mean_loss[i]), "loss_share": float(mean_loss[i] / total) if total > 0 else None}
        for i in keep
    ]
    return out
