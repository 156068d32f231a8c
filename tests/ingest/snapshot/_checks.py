"""Checks the snapshot tests share."""

import numpy as np

from ingest.snapshot import FIRM_COLUMNS, GUARANTEE_COLUMNS, LOAN_COLUMNS, Snapshot


def assert_well_formed(s: Snapshot) -> None:
    assert tuple(s.firms.columns) == FIRM_COLUMNS
    assert tuple(s.loans.columns) == LOAN_COLUMNS
    assert tuple(s.guarantee_contracts.columns) == GUARANTEE_COLUMNS
    for m in (s.supply, s.guarantees, s.receivables):
        assert m.shape == (s.n, s.n) and m.dtype == np.float64
    assert s.firms["defaulted"].dtype == bool
    assert s.firms["default_date"].dtype == "datetime64[ns]"
    s.content_hash()
