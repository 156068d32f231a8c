"""Chain features (``gnn.graph_features``) on a 4-firm network checked by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gnn.features import firm_features
from gnn.graph_features import graph_features, pagerank
from ingest.snapshot import Snapshot, assemble_snapshot


def _snapshot() -> Snapshot:
    firms = pd.DataFrame({"uscc": ["A", "B", "C", "D"], "name": list("abcd")})
    fin = pd.DataFrame(
        {
            "uscc": ["A", "B", "C", "D"],
            "period_end": ["2023-12-31"] * 4,
            "published": ["2024-03-31"] * 4,
            "total_assets": [100.0] * 4,
            "total_liabilities": [50.0, 60.0, 70.0, 80.0],
            "equity": [50.0, 40.0, 30.0, 20.0],
        }
    )
    supply = pd.DataFrame(
        {
            "supplier_uscc": ["A", "A", "B"],
            "buyer_uscc": ["B", "D", "C"],
            "annual_value": [30.0, 10.0, 5.0],
            "start": ["2020-01-01"] * 3,
        }
    )
    guar = pd.DataFrame(
        {
            "guarantor_id": ["A", "C"],
            "borrower_uscc": ["D", "B"],
            "amount": [25.0, 6.0],
            "start": ["2020-01-01"] * 2,
        }
    )
    events = pd.DataFrame({"uscc": ["D"], "type": ["default"], "date": ["2024-01-15"]})
    return assemble_snapshot(
        {"firms": firms, "financials": fin, "supply": supply, "guarantees": guar, "events": events},
        as_of=date(2024, 6, 30),
    )


def test_chain_features_by_hand() -> None:
    snap = _snapshot()
    x = graph_features(snap, firm_features(snap))
    a, b, c, d = (x.loc[i] for i in range(4))
    assert a["sales_to_defaulted"] == pytest.approx(10 / 40)  # A sells 10 of 40 to D, in default
    assert np.isnan(c["sales_to_defaulted"])  # C sells nothing
    assert a["guarantees_to_defaulted"] == pytest.approx(25 / 50) and b["guarantees_to_defaulted"] == 0
    assert a["out_degree"] == 2 and c["in_degree"] == 1 and d["in_degree"] == 1
    assert list(x["guarantee_group_size"]) == [2.0, 2.0, 2.0, 2.0]  # A guarantees D, C guarantees B
    assert a["nbr_leverage"] == pytest.approx((30 * 0.6 + 10 * 0.8) / 40)


def test_recent_defaults_fade_after_six_months() -> None:
    snap = _snapshot()  # D defaulted on 2024-01-15, 167 days before the cut
    x = graph_features(snap, firm_features(snap))
    assert x.loc[0, "sales_to_recent_defaults"] == pytest.approx(10 / 40)
    assert x.loc[0, "guarantees_to_recent_defaults"] == pytest.approx(25 / 50)
    later = replace(snap, as_of=date(2024, 9, 30))  # the same default, 259 days before
    y = graph_features(later, firm_features(later))
    assert y.loc[0, "sales_to_recent_defaults"] == 0 and y.loc[0, "guarantees_to_recent_defaults"] == 0
    assert y.loc[0, "sales_to_defaulted"] == pytest.approx(10 / 40)


def test_pagerank_matches_networkx() -> None:
    m = sp.random(30, 30, density=0.1, random_state=4, format="csr")
    m.setdiag(0)
    m.eliminate_zeros()
    g = nx.from_scipy_sparse_array(m, create_using=nx.DiGraph)
    want = nx.pagerank(g, alpha=0.85, tol=1e-12, weight="weight")
    got = pagerank(m.tocsr(), tol=1e-13)
    assert np.allclose(got, [want[i] for i in range(30)], atol=1e-8)
