"""The outcome of a stress test, with the rows the lead writes back to Neo4j.

Tables of a :class:`StressResult`:

``firms``
    one row per firm: ``uscc``, ``name``, ``region``, ``industry``, ``sector``,
    ``guarantee_circle``, ``pd`` (the copula's; 1 for the default stock), ``in_default``
    (in default at the snapshot date), ``lgd`` (EAD-weighted LGD of the bank's loans before
    guarantees), ``equity_used`` and ``equity_imputed`` (:mod:`contagion.stress.equity`),
    ``initial_distress`` (the scenario's), ``bank_ead``, ``client_group`` (connected clients:
    guarantees and common control), ``es_contribution`` (the firm's Euler contribution to
    ES at 99 %; the column sums to the ES), ``stress_default_prob`` (default frequency over the
    runs), ``stress_vulnerability`` (mean final distress over the runs in which the
    firm was not initially shocked; NaN when it always was), ``stress_mean_loss``
    (mean bank loss on its loans), ``stress_mean_distress`` and
    ``stress_systemic_impact`` (the caller's ESRI, NaN when not given).
``loss_distribution``
    one row per run: ``run``, ``weight`` (importance-sampling likelihood ratio; 1 without),
    ``global_factor`` (the global factor's draw, macro shift included), ``loss``,
    ``loss_no_contagion`` (the loss had only
    the initial defaults happened), ``wrong_way_loss``, ``n_defaults`` and
    ``loss_<cause>`` for ``direct`` and each contagion layer.
``measures``
    EL, and VaR, ES and unexpected loss (UL = VaR - EL) at 95, 99 and 99.9 % with standard
    errors, for the loss and for the
    loss without contagion (see :mod:`contagion.stress.tail_stats`).
``segments``
    mean loss and Euler contribution to ES at 99 % by region, industry, lender, guarantee circle,
    connected-client group and layer.
``paths``
    the links that carried the most distress: ``source`` (the distressed firm),
    ``target`` (the firm it hit), ``layer``, ``stress_flow`` (see
    :mod:`contagion.stress.montecarlo`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from contagion.stress.scenario import Scenario
from contagion.stress.tail_stats import measure_key

__all__ = ["StressResult"]


def _num(x: Any) -> float | None:
    v = float(x)
    return v if math.isfinite(v) else None


@dataclass(frozen=True, eq=False)
class StressResult:
    """Everything :func:`contagion.stress.run_stress` found (see the module docstring)."""

    scenario: Scenario
    scenario_hash: str
    snapshot_hash: str
    as_of: date
    seed: int
    runs: int
    block_size: int
    bank_lenders: tuple[str, ...]
    code_version: str
    firms: pd.DataFrame
    loss_distribution: pd.DataFrame
    measures: pd.DataFrame
    segments: pd.DataFrame
    paths: pd.DataFrame
    warnings: tuple[str, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    #: JSON-ready sections of the summary: ``copula`` (loadings, IRB reference, implied
    #: correlation), ``default_stock``, ``pd_source``, ``equity`` (imputed firms) and
    #: ``contagion`` (the share of expected loss contagion adds).
    details: dict[str, Any] = field(default_factory=dict)
    #: Run-level data kept in memory for the reverse stress test, never written: ``copula``
    #: (the :class:`~contagion.stress.copula.CopulaModel`), ``run_firm_loss`` and
    #: ``run_defaults`` (n x runs sparse: bank loss per firm, new default per firm; only the
    #: columns of ``kept_runs`` are filled: the runs at or beyond VaR 99 % and those whose loss
    #: exceeds ``keep_runs_above``, so every run with a loss above ``kept_above`` is there,
    #: :mod:`contagion.stress.collect`) and ``run_matrix_bytes`` (``kept``, and ``all_runs``:
    #: what the two matrices would take with every run kept).
    internals: dict[str, Any] = field(default_factory=dict, repr=False)

    def measure(self, name: str, level: float | None = None, *, column: str = "value") -> float:
        """One figure of ``measures``: ``measure("VaR", 0.99)``, ``measure("EL", column="se")``."""
        m = self.measures
        row = m[(m["measure"] == name) & ((m["level"].isna()) if level is None else (m["level"] == level))]
        if len(row) != 1:
            raise KeyError(f"no measure {name!r} at level {level!r}")
        return float(row[column].iloc[0])

    def firm_rows(self) -> Iterator[dict[str, Any]]:
        """Per-firm write-back rows: ``uscc`` and the ``stress_*`` properties (NaN as ``None``)."""
        cols = ("stress_default_prob", "stress_vulnerability", "stress_systemic_impact", "stress_mean_loss")
        values = {c: self.firms[c].to_numpy(dtype=np.float64) for c in cols}
        for i, uscc in enumerate(self.firms["uscc"].astype(str).tolist()):
            yield {"uscc": uscc, **{c: _num(values[c][i]) for c in cols}}

    def edge_rows(self, top: int = 100) -> Iterator[dict[str, Any]]:
        """The ``top`` contagion links: ``source`` -> ``target`` is the direction distress flowed."""
        p = self.paths.head(top)
        for src, dst, layer, flow in zip(p["source"], p["target"], p["layer"], p["stress_flow"], strict=True):
            yield {"source": str(src), "target": str(dst), "layer": str(layer), "stress_flow": float(flow)}

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary: hashes, seed, runs, version and the headline figures."""
        figures: dict[str, Any] = {}
        m = self.measures
        for name, level, value, se, base in zip(m["measure"], m["level"].to_numpy(dtype=np.float64),
                                                m["value"], m["se"], m["value_no_contagion"], strict=True):
            key = measure_key(str(name), None if math.isnan(level) else float(level))
            figures[key] = {"value": _num(value), "se": _num(se), "no_contagion": _num(base)}
        amplification = {
            k: (v["value"] / v["no_contagion"]) if v["value"] is not None and v["no_contagion"] else None
            for k, v in figures.items()
        }
        return {
            "scenario": self.scenario.name,
            "scenario_hash": self.scenario_hash,
            "snapshot_hash": self.snapshot_hash,
            "as_of": self.as_of.isoformat(),
            "seed": self.seed,
            "runs": self.runs,
            "block_size": self.block_size,
            "bank_lenders": list(self.bank_lenders),
            "code_version": self.code_version,
            "firms": len(self.firms),
            "measures": figures,
            "contagion_amplification": amplification,
            **self.details,
            "warnings": list(self.warnings),
            "timings_s": dict(self.timings),
        }
