"""The in-memory snapshot that ``gnn`` and ``contagion`` consume.

A :class:`Snapshot` is everything known *as of* one date: nothing published,
started or observed after ``as_of`` is in it, so models never see the future.
It is built straight from a dataset folder (``ingest.snapshot.from_files``) or read
back from Neo4j (``ingest.snapshot.from_graph``); both routes give equal snapshots for
the same data.

Orientation of the sparse matrices (all ``n x n`` over ``firms`` rows, CSR, float64):

- ``supply[i, j]``      annual value firm i sells to firm j (supplier -> buyer)
- ``guarantees[g, b]``  amount firm g guarantees for loans of firm b (guarantor -> borrower);
                        person guarantors are not in it (see ``guarantee_contracts``)
- ``receivables[c, d]`` trade credit: what debtor d owes creditor c, i.e. c's exposure to d
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["FIRM_COLUMNS", "GUARANTEE_COLUMNS", "LOAN_COLUMNS", "Snapshot"]

#: Columns of ``Snapshot.firms`` (row i is firm i of every matrix).
FIRM_COLUMNS: tuple[str, ...] = (
    "uscc",
    "name",
    "industry",  # GB/T 4754 code (string)
    "sector",  # industry section letter or tier used by the supply model (string)
    "region",  # 6-digit division code (string)
    "size_class",
    "founded",
    "employees",
    "registered_capital",
    "platform",
    "external",  # bool: a counterparty known only from links
    # latest financial statement published on or before as_of (NaN when none)
    "period_end",
    "total_assets",
    "total_liabilities",
    "equity",
    "revenue",
    "operating_cf",
    "investing_cf",
    "financing_cf",
    "lifecycle_stage",  # start-up | growth | mature | shake-out | decline | unknown
    # derived as of the snapshot date
    "external_guarantees",  # sum of active guarantees this firm gives
    "guarantee_ratio",  # external_guarantees / equity (inf when equity <= 0)
    "defaulted",  # bool: defaulted on or before as_of (the one default definition)
    "default_date",
)

#: Columns of ``Snapshot.loans``.
LOAN_COLUMNS: tuple[str, ...] = (
    "loan_id",
    "borrower",  # int row of firms
    "borrower_uscc",
    "lender",
    "principal",
    "limit",
    "currency",
    "start",
    "maturity",
    "collateral_type",
    "collateral_value",
    "lgd",  # NaN when the loan gives none
    # latest monthly status on or before as_of
    "status_month",
    "outstanding",
    "days_overdue",
    "classification",  # normal | special_mention | substandard | doubtful | loss
    "min_classification",  # floor implied by days overdue under the 2023 rules
    "classification_flag",  # "" or a description of the inconsistency (never corrected)
)

#: Columns of ``Snapshot.guarantee_contracts``.
GUARANTEE_COLUMNS: tuple[str, ...] = (
    "guarantor_id",
    "guarantor_type",  # firm | person
    "guarantor",  # int row of firms, -1 for persons
    "borrower",  # int row of firms
    "borrower_uscc",
    "loan_id",
    "amount",
    "start",
    "end",
)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """Everything known as of ``as_of``, as frames and sparse matrices."""

    as_of: date
    firms: pd.DataFrame
    supply: sp.csr_matrix
    guarantees: sp.csr_matrix
    receivables: sp.csr_matrix
    loans: pd.DataFrame
    guarantee_contracts: pd.DataFrame
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    signals: pd.DataFrame = field(default_factory=pd.DataFrame)
    ownership: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Unit of money amounts (e.g. "CNY").
    currency: str = "CNY"

    @property
    def n(self) -> int:
        """Number of firms (rows of every matrix)."""
        return len(self.firms)

    @property
    def index(self) -> dict[str, int]:
        """USCC -> row."""
        return {u: i for i, u in enumerate(self.firms["uscc"].tolist())}

    def content_hash(self) -> str:
        """A SHA-256 over every frame and matrix: equal snapshots hash equal."""
        h = hashlib.sha256(self.as_of.isoformat().encode())
        for frame in (self.firms, self.loans, self.guarantee_contracts):
            hashed = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=True)
            h.update(hashed.to_numpy(dtype=np.uint64).tobytes())
            h.update(",".join(map(str, frame.columns)).encode())
        for m in (self.supply, self.guarantees, self.receivables):
            c = sp.csr_matrix(m)
            c.sum_duplicates()
            c.sort_indices()
            for arr in (c.indptr, c.indices, np.asarray(c.data, dtype=np.float64)):
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()
