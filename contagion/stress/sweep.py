"""Sensitivity sweeps of scenario keys, and the tornado chart of their effect on one figure.

A sweep spec is ``KEY=LOW:HIGH:COUNT`` (``COUNT`` evenly spaced values from
``LOW`` to ``HIGH``) or ``KEY=V1,V2,...``, ``KEY`` a dotted scenario path such as
``copula.rho_global``, ``macro.global`` or ``contagion.transmission.guarantee``.
Each value re-runs the scenario with that one key changed (same seed: common
random numbers, so differences are not noise of different draws). The tornado
chart shows, per key, the chosen figure at its lowest and its highest value
against the base scenario's, keys ordered by the width of that range.

>>> parse_sweep("copula.rho_global=0.05:0.25:5")
('copula.rho_global', [0.05, 0.1, 0.15, 0.2, 0.25])
>>> with_value(Scenario.model_validate({"name": "x"}), "copula.rho_global", 0.2).copula.rho_global
0.2
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import ValidationError

from chainrisk.errors import ScenarioError
from contagion.stress.result import StressResult
from contagion.stress.scenario import Scenario

__all__ = ["parse_sweep", "run_sweep", "tornado", "tornado_png", "with_value"]

#: Figures a sweep records (summary keys).
SWEEP_FIGURES: tuple[str, ...] = ("EL", "VaR_99", "ES_99", "VaR_99.9", "ES_99.9")


def parse_sweep(text: str) -> tuple[str, list[float]]:
    """``KEY=LOW:HIGH:COUNT`` or ``KEY=V1,V2,...`` as the key and its values."""
    key, sep, spec = text.partition("=")
    key = key.strip()
    try:
        if not sep or not key:
            raise ValueError
        if ":" in spec:
            lo, hi, count = spec.split(":")
            k = int(count)
            if k < 2:
                raise ValueError
            values = [round(float(v), 12) for v in np.linspace(float(lo), float(hi), k)]
        else:
            values = [float(v) for v in spec.split(",")]
    except ValueError:
        raise ScenarioError(f"sweep {text!r}: write KEY=LOW:HIGH:COUNT (COUNT >= 2) "
                            "or KEY=V1,V2,...") from None
    return key, values


def with_value(scenario: Scenario, key: str, value: float) -> Scenario:
    """``scenario`` with the dotted ``key`` set to ``value`` (validated like a file)."""
    data = scenario.model_dump(mode="json", by_alias=True)
    node: Any = data
    parts = key.split(".")
    for part in parts[:-1]:
        if not isinstance(node, dict) or part not in node:
            raise ScenarioError(f"sweep: no scenario key {key!r}")
        node = node[part]
    if not isinstance(node, dict) or parts[-1] not in node or isinstance(node[parts[-1]], dict | list):
        raise ScenarioError(f"sweep: no scenario key {key!r}")
    node[parts[-1]] = value
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        msg = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        raise ScenarioError(f"sweep {key}={value}: {msg}") from None


def _figures(result: StressResult) -> dict[str, float | None]:
    m = result.summary()["measures"]
    out: dict[str, float | None] = {}
    for f in SWEEP_FIGURES:
        out[f] = m.get(f, {}).get("value")
        out[f"{f}_se"] = m.get(f, {}).get("se")
    return out


def run_sweep(run: Callable[[Scenario], StressResult], scenario: Scenario,
              sweeps: Sequence[tuple[str, Sequence[float]]]) -> pd.DataFrame:
    """One row per (key, value): the figures of ``run(scenario with key = value)``."""
    rows = []
    for key, values in sweeps:
        for v in values:
            rows.append({"key": key, "value": float(v), **_figures(run(with_value(scenario, key, v)))})
    return pd.DataFrame(rows)


def tornado(table: pd.DataFrame, base: float, measure: str = "ES_99") -> pd.DataFrame:
    """Per key: the figure at the lowest and highest value, their change from ``base``, widest first."""
    rows = []
    for key, part in table.groupby("key", sort=False):
        lo = part.iloc[int(np.argmin(part["value"].to_numpy()))]
        hi = part.iloc[int(np.argmax(part["value"].to_numpy()))]
        rows.append({"key": key, "low_value": float(lo["value"]), "high_value": float(hi["value"]),
                     "at_low": float(lo[measure]), "at_high": float(hi[measure]), "base": base,
                     "range": abs(float(hi[measure]) - float(lo[measure]))})
    out = pd.DataFrame(rows, columns=["key", "low_value", "high_value", "at_low", "at_high", "base", "range"])
    return out.sort_values(["range", "key"], ascending=[False, True], kind="stable").reset_index(drop=True)


def tornado_png(frame: pd.DataFrame, measure: str = "ES_99") -> bytes:
    """The tornado chart (PNG): a bar per key from the figure at its low to its high value."""
    fig = Figure(figsize=(7, 0.6 * max(2, len(frame)) + 1.2))
    ax = fig.add_subplot()
    rows = frame.iloc[::-1]  # widest on top
    y = np.arange(len(rows))
    base = float(rows["base"].iloc[0]) if len(rows) else 0.0
    ax.barh(y, rows["at_low"] - base, left=base, color="#4c72b0", label="lowest value")
    ax.barh(y, rows["at_high"] - base, left=base, color="#dd8452", label="highest value")
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(y, [f"{k}\n{lo:g} .. {hi:g}" for k, lo, hi in
                      zip(rows["key"], rows["low_value"], rows["high_value"], strict=True)], fontsize=8)
    ax.set_xlabel(f"{measure} (base {base:,.4g})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()
