"""The snapshot as HeteroData (``gnn.hetero_data``): relations, directions and weights by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from gnn.hetero_data import NODE, relation_edges, to_hetero_data
from ingest.snapshot import Snapshot, assemble_snapshot


def _snapshot(with_receivables: bool = True) -> Snapshot:
    firms = pd.DataFrame({"uscc": ["A", "B", "C"], "name": list("abc")})
    fin = pd.DataFrame(
        {
            "uscc": ["A", "B", "C"],
            "period_end": ["2023-12-31"] * 3,
            "published": ["2024-03-31"] * 3,
            "total_assets": [100.0] * 3,
            "total_liabilities": [50.0, 90.0, 120.0],
            "equity": [50.0, 10.0, -20.0],
        }
    )
    supply = pd.DataFrame(
        {
            "supplier_uscc": ["A", "A"],
            "buyer_uscc": ["B", "C"],
            "annual_value": [30.0, 10.0],
            "start": ["2020-01-01"] * 2,
        }
    )
    guar = pd.DataFrame(
        {
            "guarantor_id": ["A", "C"],
            "guarantor_type": ["firm", "firm"],
            "borrower_uscc": ["B", "B"],
            "amount": [100.0, 10.0],
            "start": ["2020-01-01"] * 2,
        }
    )
    tables = {"firms": firms, "financials": fin, "supply": supply, "guarantees": guar}
    if with_receivables:
        tables["receivables"] = pd.DataFrame(
            {"creditor_uscc": ["A"], "debtor_uscc": ["B"], "amount": [5.0], "as_of": ["2024-01-31"]}
        )
    return assemble_snapshot(tables, as_of=date(2024, 6, 30))


def _as_dict(
    edges: tuple[np.ndarray, np.ndarray, np.ndarray], snap: Snapshot
) -> dict[tuple[str, str], float]:
    u = snap.firms["uscc"].to_numpy()
    src, dst, w = edges
    return {(str(u[s]), str(u[d])): float(x) for s, d, x in zip(src, dst, w, strict=True)}


def test_supply_messages_carry_shares_of_sales_and_inputs() -> None:
    snap = _snapshot()
    e = relation_edges(snap)
    # A sells 30 to B and 10 to C: A hears from its buyers by share of its sales
    assert _as_dict(e["buyer"], snap) == {("B", "A"): 0.75, ("C", "A"): 0.25}
    # B and C buy only from A: all of their inputs
    assert _as_dict(e["supplier"], snap) == {("A", "B"): 1.0, ("A", "C"): 1.0}


def test_guarantee_messages_weigh_the_guarantor_by_its_equity() -> None:
    snap = _snapshot()
    e = relation_edges(snap)
    # A guarantees 100 for B on equity 50: 2x, under the cap; C has negative equity: the cap, 5
    assert _as_dict(e["borrower"], snap) == pytest.approx({("B", "A"): 2.0, ("B", "C"): 5.0})
    # B's cover: 100 from A, 10 from C
    assert _as_dict(e["guarantor"], snap) == pytest.approx({("A", "B"): 100 / 110, ("C", "B"): 10 / 110})


def test_a_missing_table_drops_its_relations() -> None:
    with_r = relation_edges(_snapshot(True))
    without = relation_edges(_snapshot(False))
    assert {"debtor", "creditor"} <= set(with_r)
    assert not {"debtor", "creditor"} & set(without)
    assert not {"owner", "owned", "co_owned"} & set(without)  # no ownership table at all


def test_hetero_data_holds_every_firm_and_relation() -> None:
    snap = _snapshot()
    data = to_hetero_data(snap, np.ones((snap.n, 2)))
    assert data[NODE].num_nodes == snap.n
    assert {k[1] for k in data.edge_types} == set(relation_edges(snap))
    for key in data.edge_types:
        assert data[key].edge_index.shape[1] == data[key].edge_weight.shape[0]
