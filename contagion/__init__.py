"""Contagion models over sparse matrices: one model per module, pure functions, small frozen results.

- :mod:`contagion.debtrank`   DebtRank, single (Battiston et al. 2012) and differential
                              (Bardoscia et al. 2015), and its impact matrix
- :mod:`contagion.clearing`   Eisenberg–Noe clearing with Rogers–Veraart default costs
- :mod:`contagion.esri`       supply-shock propagation and ESRI (Diem et al. 2022)
- :mod:`contagion.guarantee`  guarantee-call cascades
- :mod:`contagion.multilayer` differential DebtRank over supply, guarantee and trade-credit layers
- :mod:`contagion.stress`     Monte Carlo stress tests of a bank's portfolio (a subpackage)
- :mod:`contagion.typing`     type aliases of the inputs (matrix-, vector-, scenario-like) and
                              :class:`~contagion.typing.SnapshotLike`, what the models read from a snapshot

Private to the package (their public names are shared by the model modules, nothing else):

- :mod:`contagion._kernels`   shared maths (``spmm``, ``block_width``, ``scale_rows_capped``,
                              ``differential``) on compiled numba kernels with a scipy fallback
- :mod:`contagion._validate`  input checking and coercion to CSR / float64

The models read no settings: callers resolve configuration and pass it in.
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
