"""Which PDs a stress test uses, in one place, and the summary section that says so.

Sources, in the order ``default_probability.source: auto`` tries them:

1. ``risk_run``: the calibrated PDs of a ``risk`` run (:class:`RiskRunPDs`, passed in
   as data: contagion never imports the model). A run whose ``as_of`` lies more than
   ``default_probability.max_age_days`` (31) from the snapshot date is refused. Firms
   the run did not score take the next source's PD and are counted.
2. ``history``: 12-month default rates of the platform's own yearly cohorts by class
   and days overdue (:mod:`contagion.stress.pd_calibration`).
3. ``snapshot``: the snapshot's ``firms.pd`` column where finite (else the class table).
4. ``class_table``: by worst loan class (:mod:`contagion.stress.default_probability`).

Every PD is floored at ``default_probability.floor`` (Basel's 0.03 %). Firms in
default at the snapshot date get PD 1 later (:mod:`contagion.stress.default_stock`).

Point in time or through the cycle: a risk run's parameters state ``pd_type``.
Point-in-time PDs already carry the current state of the cycle, so the scenario's
macro shifts are not applied on top of them unless
``default_probability.shift_point_in_time`` is set; through-the-cycle PDs, the
history calibration (a long-run average over cohorts), the snapshot column and the
class table are shifted. The summary's ``pd_source`` records the choice.

>>> import pandas as pd
>>> from contagion.stress.scenario import PDParameters
>>> firms = pd.DataFrame({"uscc": ["A", "B"]})
>>> run = RiskRunPDs(pd=pd.Series({"A": 0.02}), run_id="risk-1", as_of=date(2024, 6, 1),
...                  model_version="m1", pd_type="point_in_time")
>>> p, info, shift = resolve_pds(firms, pd.DataFrame(), date(2024, 6, 30), PDParameters(), risk=run)
>>> p.tolist(), info["source"], info["firms_from_fallback"], shift
([0.02, 0.02], 'risk_run', 1, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from chainrisk.errors import InvalidModelInput
from contagion.stress.default_probability import default_probabilities
from contagion.stress.pd_calibration import calibrate_pd_table, pd_from_table
from contagion.stress.scenario import PDParameters

__all__ = ["PD_TYPES", "RiskRunPDs", "concat_cohorts", "resolve_pds"]

#: What a risk run may state about its PDs.
PD_TYPES: tuple[str, ...] = ("point_in_time", "through_the_cycle")


@dataclass(frozen=True)
class RiskRunPDs:
    """The PDs of one ``risk`` run, as data (e.g. read through ``graph.runs.current_results``)."""

    #: 12-month PD per USCC.
    pd: pd.Series
    run_id: str
    as_of: date
    model_version: str | None = None
    #: ``point_in_time`` or ``through_the_cycle`` (``None``: not stated).
    pd_type: str | None = None


def _class_table(firms: pd.DataFrame, loans: pd.DataFrame, params: PDParameters) -> np.ndarray:
    return default_probabilities(firms, loans, params.model_copy(update={"use_snapshot_pd": False}))


def _history(firms: pd.DataFrame, loans: pd.DataFrame, params: PDParameters, observations: pd.DataFrame
             ) -> tuple[np.ndarray, dict[str, Any]]:
    table = calibrate_pd_table(observations, params)
    cohorts = observations.groupby("cohort", sort=True)["defaulted"].agg(["size", "sum"])
    info = {
        "cohorts": [{"cohort": str(c), "firms": int(r["size"]), "defaults": int(r["sum"])}
                    for c, r in cohorts.iterrows()],
        "prior_weight": params.prior_weight,
        "cells": [{"class": str(c), "dpd_bucket": str(b), **{k: float(v) for k, v in row.items()}}
                  for (c, b), row in zip(table.index.tolist(), table.to_dict("records"), strict=True)],
    }
    return pd_from_table(firms, loans, table, params), info


def resolve_pds(
    firms: pd.DataFrame,
    loans: pd.DataFrame,
    as_of: date,
    params: PDParameters,
    *,
    risk: RiskRunPDs | None = None,
    history: pd.DataFrame | None = None,
) -> tuple[np.ndarray, dict[str, Any], bool]:
    """PD per firm row, the summary's ``pd_source`` section, and whether macro shifts apply.

    ``history`` is the cohort observations of :func:`contagion.stress.pd_calibration.cohort_observations`
    (several cohorts concatenated).

    Raises
    ------
    InvalidModelInput
        A risk run too far from the snapshot date; a source the scenario insists on that
        was not given; a PD outside [0, 1].
    """
    src = params.source
    has_history = history is not None and len(history) > 0
    info: dict[str, Any] = {"floor": params.floor}
    shift = True
    if src == "risk_run" and risk is None:
        raise InvalidModelInput("default_probability.source is risk_run but no current risk run was given")
    if src == "history" and not has_history:
        raise InvalidModelInput("default_probability.source is history but no yearly cohort could be built")
    if risk is not None and src in ("auto", "risk_run"):
        age = abs((risk.as_of - as_of).days)
        if age > params.max_age_days:
            raise InvalidModelInput(
                f"risk run {risk.run_id} is as of {risk.as_of}, {age} days from the snapshot date {as_of}; "
                f"set default_probability.max_age_days to at least {age} to use it"
            )
        given = pd.to_numeric(firms["uscc"].map(risk.pd), errors="coerce").to_numpy(dtype=np.float64)
        bad = np.isfinite(given) & ((given < 0) | (given > 1))
        if bad.any():
            raise InvalidModelInput(f"risk run {risk.run_id}: PD {given[bad][0]!r} is outside [0, 1]")
        if has_history:
            fallback, _ = _history(firms, loans, params, history)  # type: ignore[arg-type]
            fallback_name = "history"
        else:
            fallback, fallback_name = _class_table(firms, loans, params), "class_table"
        pd_ = np.where(np.isfinite(given), given, fallback)
        # model cards write "point-in-time"; scenario files and code "point_in_time"
        stated = (risk.pd_type or "").strip().lower().replace("-", "_").replace(" ", "_")
        shift = stated != "point_in_time" or params.shift_point_in_time
        info |= {"source": "risk_run", "run_id": risk.run_id, "model_version": risk.model_version,
                 "as_of": str(risk.as_of), "age_days": age, "pd_type": risk.pd_type or "not stated",
                 "firms_from_run": int(np.isfinite(given).sum()),
                 "firms_from_fallback": int((~np.isfinite(given)).sum()), "fallback": fallback_name}
    elif has_history and src in ("auto", "history"):
        pd_, detail = _history(firms, loans, params, history)  # type: ignore[arg-type]
        info |= {"source": "history", "pd_type": "through_the_cycle (pooled yearly cohorts)", **detail}
    elif src == "class_table" or not (params.use_snapshot_pd and "pd" in firms):
        pd_ = _class_table(firms, loans, params)
        info |= {"source": "class_table", "pd_type": "not stated"}
    else:
        pd_ = default_probabilities(firms, loans, params)
        given = pd.to_numeric(firms["pd"], errors="coerce").to_numpy(dtype=np.float64)
        info |= {"source": "snapshot", "pd_type": "not stated",
                 "firms_from_snapshot": int(np.isfinite(given).sum())}
    info["macro_shift_applied"] = bool(shift)
    return np.maximum(np.asarray(pd_, dtype=np.float64), params.floor), info, shift


def concat_cohorts(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Cohort observations of several past snapshots as one frame (empty when none)."""
    frames = [p for p in parts if len(p)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["cohort", "uscc", "cell_class", "dpd_bucket", "defaulted"])
