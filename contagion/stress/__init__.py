"""Batch stress tests of a bank's SME portfolio: correlated defaults, multi-layer contagion, bank loss.

Example::

    from contagion.stress import load_scenario, run_stress, write_outputs
    scenario = load_scenario("examples/scenarios/regional_downturn.yaml")
    result = run_stress(snapshot, scenario)
    write_outputs(result, "out/stress")

Modules: :mod:`~contagion.stress.scenario` (YAML schema), :mod:`~contagion.stress.default_probability`,
:mod:`~contagion.stress.copula`, :mod:`~contagion.stress.shocks`, :mod:`~contagion.stress.loss`,
:mod:`~contagion.stress.tail_stats`, :mod:`~contagion.stress.segments`,
:mod:`~contagion.stress.montecarlo` (the driver), :mod:`~contagion.stress.result`,
:mod:`~contagion.stress.report`.
"""

from contagion.stress.montecarlo import run_stress
from contagion.stress.report import render_html, write_outputs
from contagion.stress.result import StressResult
from contagion.stress.scenario import Scenario, load_scenario, parse_scenario, scenario_hash
from contagion.stress.tail_stats import StressPrecisionWarning, loss_measures

__all__ = [
    "Scenario",
    "StressPrecisionWarning",
    "StressResult",
    "load_scenario",
    "loss_measures",
    "parse_scenario",
    "render_html",
    "run_stress",
    "scenario_hash",
    "write_outputs",
]
