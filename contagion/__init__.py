"""Contagion models over sparse matrices: one model per module, pure functions, small frozen results.

- :mod:`contagion.debtrank`   DebtRank, single (Battiston et al. 2012) and differential
                              (Bardoscia et al. 2015)
- :mod:`contagion.clearing`   Eisenberg–Noe clearing with Rogers–Veraart default costs
- :mod:`contagion.esri`       supply-shock propagation and ESRI (Diem et al. 2022)
- :mod:`contagion.guarantee`  guarantee-call cascades
- :mod:`contagion.multilayer` differential DebtRank over supply, guarantee and trade-credit layers
"""

from contagion.clearing import ClearingResult, eisenberg_noe
from contagion.debtrank import DebtRankResult, debtrank, impact_matrix
from contagion.esri import ESRIResult, SupplyShockResult, esri, snapshot_esri, supply_shock
from contagion.guarantee import GuaranteeResult, guarantee_cascade
from contagion.multilayer import MultiLayerResult, build_layers, propagate

__all__ = [
    "ClearingResult",
    "DebtRankResult",
    "ESRIResult",
    "GuaranteeResult",
    "MultiLayerResult",
    "SupplyShockResult",
    "build_layers",
    "debtrank",
    "eisenberg_noe",
    "esri",
    "guarantee_cascade",
    "impact_matrix",
    "propagate",
    "snapshot_esri",
    "supply_shock",
]
