"""Fixtures for the stress tests: a hand-built 7-firm snapshot.

Firms (row: uscc suffix, region, sector):

- 0, 1, 2 form a guarantee circle 0 -> 1 -> 2 -> 0 (guarantor -> borrower), region 350100, sector C;
- 3 guarantees 4's loan; 3, 4 in 350200 (C); 5, 6 in 440300 (F);
- a person guarantees 5's loan;
- supply 0 -> 3 -> 5, 4 -> 6, 1 -> 2; receivables 6 owes 5.

The bank is lender ``BANK``; firm 6 borrows only from ``OTHER``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from contagion.stress import StressResult, parse_scenario, run_stress
from ingest.snapshot import Snapshot
from ingest.uscc import make

USCC = [make(f"91350100MA{i:07d}") for i in range(7)]


def _csr(n: int, edges: list[tuple[int, int, float]]) -> sp.csr_matrix:
    if not edges:
        return sp.csr_matrix((n, n))
    r, c, v = zip(*edges, strict=True)
    return sp.csr_matrix((v, (r, c)), shape=(n, n))


def build_snapshot(*, equity: float = 100.0, pd_: list[float] | None = None) -> Snapshot:
    n = 7
    firms = pd.DataFrame({
        "uscc": USCC,
        "name": [f"Firm {i}" for i in range(n)],
        "industry": ["C3311", "C3311", "C3420", "C3420", "C3420", "F5110", "F5110"],
        "sector": ["C", "C", "C", "C", "C", "F", "F"],
        "region": ["350100", "350100", "350100", "350200", "350200", "440300", "440300"],
        "equity": [equity] * n,
        "revenue": [500.0, 400.0, 300.0, 900.0, 100.0, 50.0, 20.0],
        "total_assets": [1000.0] * n,
        "guarantee_ratio": [0.5, 0.5, 0.5, 0.3, 0.0, 0.0, 0.0],
        "defaulted": [False] * n,
    })
    if pd_ is not None:
        firms["pd"] = pd_
    guarantees = _csr(n, [(0, 1, 50.0), (1, 2, 50.0), (2, 0, 50.0), (3, 4, 40.0)])
    supply = _csr(n, [(0, 3, 80.0), (3, 5, 60.0), (4, 6, 30.0), (1, 2, 20.0)])
    receivables = _csr(n, [(5, 6, 10.0)])
    loans = pd.DataFrame({
        "loan_id": ["L0", "L1", "L2", "L3", "L4", "L5", "L6"],
        "borrower": [0, 1, 2, 3, 4, 5, 6],
        "borrower_uscc": USCC,
        "lender": ["BANK"] * 6 + ["OTHER"],
        "principal": [100.0] * 7,
        "limit": [100.0, 150.0, 100.0, 100.0, 100.0, 100.0, 100.0],
        "outstanding": [100.0] * 7,
        "collateral_type": [None, None, "real_estate", None, None, None, None],
        "collateral_value": [np.nan, np.nan, 100.0, np.nan, np.nan, np.nan, np.nan],
        "lgd": [0.5, 0.5, np.nan, np.nan, 0.6, 0.5, 0.5],
        "classification": ["normal", "normal", "special_mention", "normal", "substandard", "normal",
                           "normal"],
        "min_classification": ["normal"] * 7,
    })
    contracts = pd.DataFrame({
        "guarantor_id": [USCC[0], USCC[1], USCC[2], USCC[3], "P1"],
        "guarantor_type": ["firm", "firm", "firm", "firm", "person"],
        "guarantor": [0, 1, 2, 3, -1],
        "borrower": [1, 2, 0, 4, 5],
        "borrower_uscc": [USCC[1], USCC[2], USCC[0], USCC[4], USCC[5]],
        "loan_id": ["L1", "L2", "L0", "L4", "L5"],
        "amount": [50.0, 50.0, 50.0, 40.0, 40.0],
        "start": [pd.NaT] * 5,
        "end": [pd.NaT] * 5,
    })
    return Snapshot(
        as_of=date(2024, 6, 30), firms=firms, supply=supply, guarantees=guarantees, receivables=receivables,
        loans=loans, guarantee_contracts=contracts,
    )


#: A scenario on the 7-firm snapshot: firm 3 fails, region 3501 loses 10 % of its equity.
SCENARIO = f"""
name: circle_test
runs: 1000
seed: 42
shocks:
  - firms: ["{USCC[3]}"]
equity_haircuts:
  - region: "3501"
    fraction: 0.1
copula: {{rho_sector: 0.2, rho_region: 0.1}}
contagion:
  tol: 1.0e-14
"""


def run_small(**kw: object) -> StressResult:
    """The 7-firm snapshot (equity 30) under :data:`SCENARIO`, the bank being ``BANK``."""
    snap = build_snapshot(equity=30.0)
    return run_stress(snap, parse_scenario(SCENARIO), progress=False, bank_lenders=["BANK"], **kw)


@pytest.fixture
def snapshot() -> Snapshot:
    return build_snapshot()
