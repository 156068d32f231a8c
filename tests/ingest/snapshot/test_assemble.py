"""The as-of rules of the shared assembly (``ingest.snapshot.assemble``).

Most tests reach the assembly through a dataset folder (the files route), which is
the shortest way to hand it validated tables; ``test_from_files`` covers that route.
"""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from chainrisk.errors import SnapshotError
from ingest.snapshot import assemble_snapshot, build_snapshot, supply_shares
from ingest.snapshot.assemble import sector_of
from ingest.snapshot.model import FIRM_COLUMNS, GUARANTEE_COLUMNS, LOAN_COLUMNS
from tests.ingest.snapshot._checks import assert_well_formed
from tests.ingest.snapshot.conftest import A, B, C, D, X


def test_columns_and_dtypes(dataset):
    s = build_snapshot(dataset)
    assert tuple(s.firms.columns) == FIRM_COLUMNS
    assert tuple(s.loans.columns) == LOAN_COLUMNS
    assert tuple(s.guarantee_contracts.columns) == GUARANTEE_COLUMNS
    assert s.firms["uscc"].tolist() == sorted(s.firms["uscc"])
    assert s.as_of == date(2024, 6, 30) and s.currency == "CNY"
    assert s.firms["external"].dtype == bool and s.firms["defaulted"].dtype == bool


def test_external_counterparty(dataset):
    s = build_snapshot(dataset)
    ext = s.firms.set_index("uscc").loc[X]
    assert bool(ext["external"]) and ext["name"] is None and np.isnan(ext["equity"])
    assert not s.firms.set_index("uscc").loc[A, "external"]
    assert s.n == 5


def test_matrix_orientation_and_active_links(dataset):
    s = build_snapshot(dataset)
    i = s.index
    assert s.supply[i[A], i[B]] == 100 and s.supply[i[B], i[A]] == 0  # supplier -> buyer
    assert s.supply[i[B], i[X]] == 50
    assert s.supply[i[D], i[A]] == 0  # starts after as_of
    assert s.supply[i[D], i[B]] == 0  # ended on as_of
    assert s.supply.nnz == 4
    assert s.guarantees[i[A], i[B]] == 500  # guarantor -> borrower, two contracts summed
    assert s.guarantees[i[B], i[A]] == 10
    assert s.guarantees.nnz == 2  # the person guarantor is not in the matrix
    assert s.receivables[i[A], i[B]] == 20  # creditor -> debtor, latest as_of <= snapshot date
    persons = s.guarantee_contracts[s.guarantee_contracts["guarantor_type"] == "person"]
    assert persons["guarantor"].tolist() == [-1] and persons["guarantor_id"].tolist() == ["P-9"]


def test_future_facts_excluded(dataset):
    s = build_snapshot(dataset)
    f = s.firms.set_index("uscc")
    assert f.loc[A, "equity"] == 1000.0  # the report published 2024-08-15 is not seen
    assert f.loc[A, "period_end"] == pd.Timestamp("2023-12-31")
    assert f.loc[A, "lifecycle_stage"] == "mature"
    assert not f.loc[C, "defaulted"]  # its default comes later
    assert s.loans["loan_id"].tolist() == ["L1", "L2"]  # L9 starts after as_of
    assert s.events["type"].tolist() == ["lawsuit"]


def test_default_and_classification_flag(dataset):
    s = build_snapshot(dataset)
    f = s.firms.set_index("uscc")
    assert f.loc[B, "defaulted"] and f.loc[B, "default_date"] == pd.Timestamp("2024-06-30")
    l1 = s.loans.set_index("loan_id").loc["L1"]
    assert l1["days_overdue"] == 100 and l1["classification"] == "normal"
    assert l1["min_classification"] == "substandard"
    assert l1["classification_flag"].startswith("more than 90 days overdue yet normal")
    assert l1["status_month"] == pd.Timestamp("2024-06-01") and l1["outstanding"] == 440
    assert pd.isna(s.loans.set_index("loan_id").loc["L2", "classification"])


def test_earlier_as_of_sees_less(dataset):
    s = build_snapshot(dataset, as_of=date(2024, 6, 15))
    f = s.firms.set_index("uscc")
    assert not f.loc[B, "defaulted"]  # June's status is observed on June 30
    assert s.loans.set_index("loan_id").loc["L1", "days_overdue"] == 0


def test_guarantee_ratio(dataset):
    s = build_snapshot(dataset)
    f = s.firms.set_index("uscc")
    assert f.loc[A, "external_guarantees"] == 500 and f.loc[A, "guarantee_ratio"] == 0.5
    assert f.loc[B, "guarantee_ratio"] == np.inf  # equity 0
    assert f.loc[C, "guarantee_ratio"] == 0.0  # gives none


def test_supply_shares(dataset):
    s = build_snapshot(dataset)
    sh = supply_shares(s).set_index(["supplier_uscc", "buyer_uscc"])
    assert sh.loc[(A, B), "share_of_buyer_inputs"] == pytest.approx(100 / 400)
    assert sh.loc[(A, B), "share_of_supplier_sales"] == pytest.approx(100 / 400)
    assert sh.loc[(C, B), "share_of_buyer_inputs"] == pytest.approx(300 / 400)
    assert sh.loc[(B, X), "share_of_supplier_sales"] == 1.0


def test_assemble_rejects_bad_input():
    with pytest.raises(SnapshotError, match="unknown tables"):
        assemble_snapshot({"nope": pd.DataFrame()}, as_of=date(2024, 1, 1))
    with pytest.raises(SnapshotError, match="'name'"):
        assemble_snapshot({"firms": pd.DataFrame({"uscc": [A]})}, as_of=date(2024, 1, 1))


def test_sector_of():
    assert [sector_of(x) for x in ("C3311", "3311", "0511", "9700", "")] == ["C", "C", "A", "T", None]


# --------------------------------------------------------------------------- sparse data
@pytest.mark.parametrize("as_of", [date(2020, 1, 1), date(2023, 6, 30), date(2024, 5, 31)])
def test_early_as_of_nothing_defaulted(dataset, as_of):
    s = build_snapshot(dataset, as_of=as_of)
    assert_well_formed(s)
    assert not s.firms["defaulted"].any() and s.firms["default_date"].isna().all()


def test_only_firms_nothing_else():
    firms = pd.DataFrame({"uscc": [B, A], "name": ["b", "a"]})
    s = assemble_snapshot({"firms": firms}, as_of=date(2024, 6, 30))
    assert_well_formed(s)
    assert s.n == 2 and s.supply.nnz == 0 and s.loans.empty and s.events.empty
    e = assemble_snapshot({"firms": firms.iloc[:0]}, as_of=date(2024, 6, 30))
    assert_well_formed(e)
    assert e.n == 0 and e.supply.shape == (0, 0)
    assert supply_shares(e).empty


def test_events_all_later_than_as_of():
    firms = pd.DataFrame({"uscc": [A, B], "name": ["a", "b"]})
    events = pd.DataFrame({"uscc": [A], "date": ["2024-08-01"], "type": ["default"]})
    s = assemble_snapshot({"firms": firms, "events": events}, as_of=date(2024, 6, 30))
    assert_well_formed(s)
    assert not s.firms["defaulted"].any() and s.events.empty
