"""Batch stress tests of a bank's SME portfolio: correlated defaults, multi-layer contagion, bank loss.

Example::

    from contagion.stress import load_scenario, run_stress, write_outputs
    scenario = load_scenario("examples/scenarios/regional_downturn.yaml")
    result = run_stress(snapshot, scenario, bank_lenders=["BANK_A"])  # None: the scenario's, else all
    write_outputs(result, "out/stress")

``snapshot`` is anything with the attributes of :class:`contagion.typing.SnapshotLike`
(e.g. an :class:`ingest.snapshot.Snapshot`). Nothing here reads the settings: the
``chainrisk stress`` command and the demo resolve ``CHAINRISK_BANK_LENDERS`` and pass it in.

Modules:

- :mod:`~contagion.stress.scenario`             the YAML schema, loading and hashing
- :mod:`~contagion.stress.default_probability`  PD per firm from the snapshot or loan classification
- :mod:`~contagion.stress.copula`               Gaussian copula of correlated defaults
- :mod:`~contagion.stress.shocks`               initial distress from the scenario's shocks
- :mod:`~contagion.stress.equity`               equity buffers, imputed where unknown (never zero)
- :mod:`~contagion.stress.distress`             final distress -> default (Merton threshold shift)
- :mod:`~contagion.stress.amplification`        whether the contagion damps or amplifies (spectral radius)
- :mod:`~contagion.stress.baseline`             calm-year baseline; the PDs' defaults pass on their excess
- :mod:`~contagion.stress.loss`                 the bank's loan book: EAD, LGD, guarantees, losses
- :mod:`~contagion.stress.tail_stats`           EL, VaR, ES, UL and their standard errors (weighted runs too)
- :mod:`~contagion.stress.importance`           importance sampling of the global factor
- :mod:`~contagion.stress.concentration`        single names, HHI, connected clients vs large-exposure limits
- :mod:`~contagion.stress.reverse`              reverse stress test: factors and firms beyond a loss
- :mod:`~contagion.stress.sweep`                sensitivity sweeps and the tornado chart
- :mod:`~contagion.stress.segments`             guarantee circles, loss by layer and by segment
- :mod:`~contagion.stress.montecarlo`           the driver: :func:`run_stress`, blocks, Dask sharding
- :mod:`~contagion.stress.result`               :class:`StressResult` and its rows
- :mod:`~contagion.stress.report`               HTML report and output files

The contagion itself is :func:`contagion.multilayer.propagate`.
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
