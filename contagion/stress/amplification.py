r"""Whether the contagion damps or amplifies distress: the spectral radius of the impact matrix.

Differential DebtRank iterates :math:`h \leftarrow \min(1, s + W h)` on
:math:`W = \sum_l \tau_l W^l`. When the spectral radius :math:`\rho(W) < 1` a shock's
increments die out and the final distress stays in proportion to the shock; when
:math:`\rho(W) \ge 1` they grow through the network's cycles until the cap at 1
stops them (Bardoscia et al. 2015), so the cascade saturates: nearly every run ends
with the same strongly connected core in default and the stress loss measures the cap
more than the exposures. A validator reads this beside ``share_of_EL``: a baseline
scenario (no shock) whose default rate is many times the PDs, with :math:`\rho \ge 1`,
points at the calibration of the layers (``contagion.supply.margin``,
``contagion.supply_replacement_months``, the loss rate, the transmission weights), not at the
scenario.

``summary.json`` → ``contagion.spectral_radius`` has the value for all layers together
and for each layer alone; at or above 1 the result carries a warning naming the layers.

>>> import numpy as np, scipy.sparse as sp
>>> w = sp.csr_matrix(np.array([[0.0, 0.8], [0.9, 0.0]]))
>>> report, note = amplification({"supply": w, "guarantee": 0.5 * w}, {"supply": 1.0, "guarantee": 1.0})
>>> {k: round(v, 4) for k, v in report.items()}
{'combined': 1.2728, 'supply': 0.8485, 'guarantee': 0.4243}
>>> note.split(":")[0]
'the impact matrix of the contagion has spectral radius 1.27 >= 1 (supply 0.85, guarantee 0.42)'
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import scipy.sparse as sp

from contagion.multilayer import spectral_radius

__all__ = ["amplification"]


def amplification(layers: Mapping[str, sp.csr_matrix], transmission: Mapping[str, float]
                  ) -> tuple[dict[str, float | None], str | None]:
    """Spectral radius of all layers together (``combined``) and of each layer alone (``None`` where
    ARPACK did not converge), and a warning when the combined one is at least 1 (else ``None``)."""
    out: dict[str, float | None] = {"combined": spectral_radius(layers, transmission)}
    for name in layers:
        out[name] = spectral_radius({name: layers[name]}, {name: transmission.get(name, 1.0)})
    # ARPACK may not converge (NaN): the summary is JSON, so that reads null
    out = {k: (v if v is not None and math.isfinite(v) else None) for k, v in out.items()}
    rho = out["combined"]
    if rho is None or rho < 1.0:
        return out, None
    parts = ", ".join(f"{name} {_fmt(out[name])}" for name in sorted(layers, key=lambda k: -(out[k] or 0.0)))
    return out, (f"the impact matrix of the contagion has spectral radius {rho:.2f} >= 1 ({parts}): distress "
                 "is amplified through the network's cycles rather than damped, so cascades saturate at "
                 "distress 1 and the loss reflects that cap more than the exposures; check the layers' "
                 "calibration (contagion.supply.margin, contagion.supply_replacement_months, "
                 "contagion.loss_rate, contagion.transmission)")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
