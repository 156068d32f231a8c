r"""The calm-year baseline: what a scenario adds over the same runs without its shocks.

PDs, whether from the platform's default history or from a model trained on it, are
unconditional 12-month default rates: they already contain the defaults that contagion
caused in the years they were measured on. Each run of the stress engine draws defaults
from those PDs and then propagates them, so even a scenario with no shock at all loses
more than the PDs' own expectation :math:`\sum_i PD_i\, EAD_i\, LGD_i`: the calm year's
contagion. A validator reads the expected loss in three parts,

.. math::

    EL = \underbrace{EL^{c}_{0}}_{\text{the PDs' expectation}}
       + \underbrace{\bigl(EL^{c} - EL^{c}_{0}\bigr)}_{\text{contagion in a calm year}}
       + \underbrace{\bigl(EL - EL^{c}\bigr)}_{\text{the scenario's}},

with :math:`EL^{c}` the calm year's expected loss and :math:`EL^{c}_{0}` the same without
contagion. The calm year is the scenario without its shocks, equity haircuts, macro shifts
and default-stock replay (:func:`calm_scenario`), on the same PDs, copula, contagion
settings, seed and run indices (its run ``r`` draws the same latent variables as the
scenario's run ``r``). The first part is the Monte Carlo estimate of
:math:`\sum_i PD_i\, EAD_i\, LGD_i` net of guarantee recoveries; ``pd_expectation`` is
the closed form before them. The third part, ``EL_over_baseline``, is the stress a
scenario adds, the figure to compare across scenarios.

Transmission of the PDs' own defaults (``contagion.from_pd_defaults``, :func:`pd_default_shock`).
Propagating every default the copula draws from the PDs counts the calm year's contagion twice
(once in the PDs, once in the propagation). With ``excess`` (the default) a run's PD-drawn
defaults pass on only the share of them beyond the PDs' expectation: in run :math:`r` with
:math:`N_r` of them, against :math:`\mu = \sum_i PD_i` expected, each enters the propagation
at distress :math:`s_r = \max(0, 1 - \mu / N_r)` (it is still a full default for the loss),
so a run with the usual number of defaults adds almost no contagion, and one whose systematic
factors doubled the defaults propagates half of each. The scenario's own shocks always pass on
in full. ``all`` propagates every PD-drawn default in full (the engine before), ``none`` none
of them (contagion then starts only from the scenario's shocks).

The calm year costs a share of the scenario's runs (``baseline_runs``; a scenario that
is calm already is its own baseline, at no cost).

>>> from contagion.stress.scenario import parse_scenario
>>> s = parse_scenario("name: hub\nshocks:\n  - {firms: [A], distress: 1.0}\nmacro: {global: -1.0}")
>>> c = calm_scenario(s)
>>> (is_calm(s), is_calm(c), c.shocks, c.macro.global_, c.name)
(False, True, [], 0.0, 'hub (calm baseline)')
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from contagion.stress.scenario import MacroShock, Scenario
from contagion.stress.tail_stats import loss_measures, normalised_weights

__all__ = ["DEFAULT_BASELINE_SHARE", "baseline_report", "baseline_runs", "calm_scenario", "is_calm",
           "pd_default_shock", "pd_expectation"]

#: Calm-year runs as a share of the scenario's runs when the caller names no number.
DEFAULT_BASELINE_SHARE = 0.25


def is_calm(scenario: Scenario) -> bool:
    """No shock, no equity haircut, no macro shift and no default-stock replay."""
    m = scenario.macro
    return (not scenario.shocks and not scenario.equity_haircuts and not scenario.default_stock.replay
            and m.global_ == 0.0 and not any(m.sector.values()) and not any(m.region.values()))


def calm_scenario(scenario: Scenario) -> Scenario:
    """The scenario without its shocks, haircuts, macro shifts and replay; every other setting kept."""
    return scenario.model_copy(update={
        "name": f"{scenario.name} (calm baseline)",
        "shocks": [],
        "equity_haircuts": [],
        "macro": MacroShock.model_validate({}),
        "default_stock": scenario.default_stock.model_copy(update={"replay": False}),
    })


def baseline_runs(runs: int, requested: int | None) -> int:
    """Calm-year runs: ``requested`` (0: no baseline), else a share of ``runs``; at most ``runs``.

    >>> baseline_runs(1000, None), baseline_runs(1000, 0), baseline_runs(10, 50), baseline_runs(3, None)
    (250, 0, 10, 1)
    """
    if requested is not None:
        if requested < 0:
            raise ValueError(f"baseline runs must be >= 0, got {requested}")
        return min(int(requested), runs)
    return max(1, min(runs, math.ceil(DEFAULT_BASELINE_SHARE * runs)))


def pd_default_shock(fresh: np.ndarray, expected: float, mode: str) -> np.ndarray:
    r"""Distress at which each run's PD-drawn defaults enter the propagation (module docstring).

    ``fresh``: n x k, the copula's defaults of each run; ``expected``: :math:`\mu = \sum_i PD_i`
    over the firms that can default; ``mode``: ``all`` (1), ``excess``
    (:math:`\max(0, 1 - \mu / N_r)`) or ``none`` (0). Returns a length-k vector.

    >>> fresh = np.array([[1, 1, 0], [0, 1, 0], [0, 1, 0], [1, 1, 0]], dtype=bool)  # 2, 4, 0 defaults
    >>> pd_default_shock(fresh, 2.0, "excess").tolist(), pd_default_shock(fresh, 2.0, "all").tolist()
    ([0.0, 0.5, 0.0], [1.0, 1.0, 1.0])
    """
    k = fresh.shape[1]
    if mode == "all":
        return np.ones(k)
    if mode == "none":
        return np.zeros(k)
    if mode != "excess":
        raise ValueError(f"from_pd_defaults must be 'all', 'excess' or 'none', got {mode!r}")
    count = fresh.sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count > 0, np.maximum(0.0, 1.0 - expected / np.where(count > 0, count, 1.0)), 0.0)


def pd_expectation(pd_: np.ndarray, borrower: np.ndarray, ead: np.ndarray, lgd: np.ndarray) -> float:
    """:math:`\\sum_\\ell PD_{b(\\ell)}\\, EAD_\\ell\\, LGD_\\ell` over loans, before guarantee recoveries.

    >>> pd_expectation(np.array([0.1, 0.5]), np.array([0, 0, 1]), np.array([100.0, 50.0, 10.0]),
    ...                np.array([0.4, 0.4, 1.0]))  # 0.1*150*0.4 + 0.5*10*1
    11.0
    """
    lgd_ = np.where(np.isfinite(lgd), lgd, 0.0)
    return float(np.sum(np.asarray(pd_)[borrower] * ead * lgd_))


def _mean_se(x: np.ndarray, weights: np.ndarray | None) -> tuple[float, float]:
    """Weighted mean of the runs and its standard error: ``measures.EL``'s estimator."""
    row = loss_measures(x, levels=(), warn=False, weights=weights).iloc[0]
    return float(row["value"]), float(row["se"])


def _over_se(scen: np.ndarray, base: np.ndarray) -> float:
    r"""Standard error of :math:`\bar L_N - \bar B_m`, where the calm year's :math:`m \le N` runs share
    their draws with the scenario's first :math:`m` (``scen``, ``base``: the runs' weighted losses
    :math:`w_r x_r`). With :math:`p = m/N`, :math:`A, C` the scenario's mean over its first
    :math:`m` runs and over the rest, :math:`\bar L_N - \bar B = p(A - B) + (1-p)(C - B)` and

    .. math:: \mathrm{Var} = p^2 V(A - B) + (1-p)^2 (V(C) + V(B)) + 2p(1-p)(V(B) - \mathrm{Cov}(A, B)).

    >>> x = np.array([1.0, 3.0, 2.0, 6.0])
    >>> round(_over_se(x, x), 12)  # the same runs: no error
    0.0
    """
    n, m = len(scen), len(base)
    if m < 2:
        return math.nan
    p = m / n
    a, c = scen[:m], scen[m:]
    v_ab = float(np.var(a - base, ddof=1)) / m
    v_b = float(np.var(base, ddof=1)) / m
    cov_ab = float(np.cov(a, base, ddof=1)[0, 1]) / m
    v_c = float(np.var(c, ddof=1)) / len(c) if len(c) > 1 else 0.0
    var = p * p * v_ab + (1 - p) ** 2 * (v_c + v_b) + 2 * p * (1 - p) * (v_b - cov_ab)
    return float(math.sqrt(max(var, 0.0)))


def baseline_report(el: float, loss_scenario: np.ndarray, weights_scenario: np.ndarray | None,
                    loss: np.ndarray, loss_no_contagion: np.ndarray, weights: np.ndarray | None, *,
                    pd_closed_form: float, same_runs: bool) -> dict[str, Any]:
    """The three parts of EL (module docstring) from the calm year's per-run losses.

    ``el``: the scenario's ``measures.EL``, ``loss_scenario`` its runs (``weights_scenario``
    their importance-sampling weights); ``loss``, ``loss_no_contagion``: the calm year's runs
    with and without contagion, run ``r`` on the scenario's draws of run ``r`` (``weights``:
    their weights); ``same_runs``: the calm year is the scenario itself.
    ``EL_over_baseline``'s standard error uses the pairing of the runs (:func:`_over_se`).

    >>> r = baseline_report(12.0, np.array([10.0, 14.0]), None, np.array([8.0, 12.0]),
    ...                     np.array([6.0, 6.0]), None, pd_closed_form=6.5, same_runs=False)
    >>> r["EL"]["value"], r["EL_no_contagion"]["value"], r["contagion_in_calm_year"]
    (10.0, 6.0, 4.0)
    >>> r["EL_over_baseline"]  # 12 - 10, each run 2 above its calm twin
    {'value': 2.0, 'se': 0.0}
    """
    base = np.asarray(loss, dtype=np.float64)
    b, b_se = _mean_se(base, weights)
    b0, b0_se = _mean_se(np.asarray(loss_no_contagion, dtype=np.float64), weights)
    scen = np.asarray(loss_scenario, dtype=np.float64)
    over_se = 0.0 if same_runs else _over_se(normalised_weights(len(scen), weights_scenario) * scen,
                                              normalised_weights(len(base), weights) * base)
    return {
        "runs": len(base),
        "same_runs_as_scenario": same_runs,
        "EL": {"value": b, "se": b_se},
        "EL_no_contagion": {"value": b0, "se": b0_se},
        "pd_expectation": pd_closed_form,
        "contagion_in_calm_year": b - b0,
        "EL_over_baseline": {"value": el - b, "se": over_se},
        "calm_multiple_of_pd_expectation": b / pd_closed_form if pd_closed_form > 0 else None,
    }
