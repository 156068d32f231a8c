"""Type aliases and protocols for the inputs of the contagion models (like ``torch_geometric.typing``).

The models coerce their inputs with :mod:`contagion._validate` and work on CSR
float64 matrices and C-ordered float64 arrays; these aliases say, for type
checkers and readers, what they accept:

- :data:`SparseMatrix`  a scipy sparse matrix or array (any format);
- :data:`MatrixLike`    an n x n matrix: scipy sparse, a dense ndarray, a torch
                        tensor (dense or sparse) or nested sequences of numbers;
- :data:`VectorLike`    a length-n vector: ndarray, pandas Series, torch tensor
                        or a sequence of numbers;
- :data:`ScenarioLike`  a length-n vector or an n x k block whose columns are
                        scenarios (what a shock or an initial default is);
- :data:`Labels`        firm names for error messages (e.g. USCCs);
- :data:`LabelsLike`    one label per firm (e.g. sectors; None or NaN allowed);
- :class:`SnapshotLike` what the models read from an :class:`ingest.snapshot.Snapshot`.

Nothing here imports ``ingest`` or ``torch`` at run time: they are named for type
checkers only. The aliases are strings so that they cost nothing at import.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

import numpy as np
import pandas as pd
import scipy.sparse as sp

if TYPE_CHECKING:
    import torch

    from ingest.snapshot import Snapshot

__all__ = [
    "Labels",
    "LabelsLike",
    "MatrixLike",
    "ScenarioLike",
    "SnapshotLike",
    "SparseMatrix",
    "VectorLike",
]

#: A scipy sparse matrix or array, in any format.
SparseMatrix: TypeAlias = "sp.spmatrix | sp.sparray"

#: An n x n matrix: scipy sparse, dense numpy, torch (dense or sparse) or nested sequences.
MatrixLike: TypeAlias = "SparseMatrix | np.ndarray | torch.Tensor | Sequence[Sequence[float]]"

#: A length-n vector of numbers (one per firm).
VectorLike: TypeAlias = "np.ndarray | pd.Series | torch.Tensor | Sequence[float]"

#: A length-n vector or an n x k block whose columns are scenarios (dense, sparse, torch or nested).
ScenarioLike: TypeAlias = "VectorLike | MatrixLike"

#: Firm names used in error messages, indexed by row (e.g. USCCs).
Labels: TypeAlias = Sequence[Hashable]

#: One label per firm (e.g. sectors); None or NaN for a missing one.
LabelsLike: TypeAlias = "np.ndarray | pd.Series | Sequence[Hashable]"


@runtime_checkable
class SnapshotLike(Protocol):
    """Exactly what the contagion models read from a snapshot (:class:`ingest.snapshot.Snapshot` has it).

    Read by :func:`contagion.multilayer.build_layers` (``n``, ``firms``, ``supply``,
    ``guarantees``, ``receivables``), :func:`contagion.esri.snapshot_esri`
    (``firms``, ``supply``) and :mod:`contagion.stress` (all of them). Matrices
    are n x n with rows in the order of ``firms``; the columns of ``firms``,
    ``loans`` and ``guarantee_contracts`` each model uses are in its docstring.
    """

    @property
    def as_of(self) -> date:
        """The snapshot date."""
        ...

    @property
    def firms(self) -> pd.DataFrame:
        """One row per firm (``uscc``, ``equity``, ``revenue``, ``sector``, ...)."""
        ...

    @property
    def supply(self) -> SparseMatrix:
        """``supply[i, j]``: what firm i sells to firm j."""
        ...

    @property
    def guarantees(self) -> SparseMatrix:
        """``guarantees[g, b]``: what firm g guarantees for firm b."""
        ...

    @property
    def receivables(self) -> SparseMatrix:
        """``receivables[c, d]``: what debtor d owes creditor c in trade credit."""
        ...

    @property
    def loans(self) -> pd.DataFrame:
        """The loans (``borrower`` row, ``lender``, amounts, classification, ...)."""
        ...

    @property
    def guarantee_contracts(self) -> pd.DataFrame:
        """Guarantee contracts on loans (``loan_id``, ``guarantor`` row, ``guarantor_type``, dates)."""
        ...

    @property
    def n(self) -> int:
        """Number of firms (rows of every matrix)."""
        ...

    def content_hash(self) -> str:
        """A hash of the contents: equal snapshots hash equal."""
        ...


if TYPE_CHECKING:

    def _snapshot_is_snapshot_like(snapshot: Snapshot) -> SnapshotLike:
        """Type checkers verify here that the real snapshot satisfies the protocol."""
        return snapshot
