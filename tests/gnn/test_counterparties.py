"""Counterparty links by relation (``gnn.counterparties``) on a 4-firm snapshot checked by hand."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from gnn.counterparties import flagged_counterparties, relation_edges
from ingest.snapshot import Snapshot, assemble_snapshot


def _snapshot() -> Snapshot:
    firms = pd.DataFrame({"uscc": ["A", "B", "C", "D"], "name": list("abcd")})
    fin = pd.DataFrame(
        {
            "uscc": ["A", "B"],
            "period_end": ["2024-12-31"] * 2,
            "published": ["2025-03-31"] * 2,
            "total_assets": [10.0, 10.0],
            "total_liabilities": [6.0, 20.0],
            "equity": [4.0, -10.0],
        }
    )
    supply = pd.DataFrame(
        {"supplier_uscc": ["A", "A", "C"], "buyer_uscc": ["B", "C", "A"], "annual_value": [6.0, 2.0, 5.0],
         "start": ["2020-01-01"] * 3}
    )  # fmt: skip
    guar = pd.DataFrame(
        {
            "guarantor_id": ["A", "B"],
            "borrower_uscc": ["B", "A"],
            "amount": [8.0, 1.0],
            "start": ["2020-01-01"] * 2,
        }
    )
    rec = pd.DataFrame(
        {"creditor_uscc": ["A"], "debtor_uscc": ["D"], "amount": [3.0], "as_of": ["2024-12-31"]}
    )
    own = pd.DataFrame(
        {"owner_id": ["P1", "P1", "A"], "owner_type": ["person", "person", "firm"],
         "firm_uscc": ["A", "D", "C"], "share": [0.6, 0.9, 0.3]}
    )  # fmt: skip
    events = pd.DataFrame({"uscc": ["B"], "date": ["2025-03-10"], "type": ["default"]})
    tables = {"firms": firms, "financials": fin, "supply": supply, "guarantees": guar, "receivables": rec,
              "ownership": own, "events": events}  # fmt: skip
    return assemble_snapshot(tables, as_of=date(2025, 6, 30))


def _of(e: pd.DataFrame, relation: str) -> dict[int, tuple[float, float]]:
    part = e[e["relation"] == relation]
    return {
        int(c): (float(a), float(x))
        for c, a, x in zip(part["counterparty"], part["amount"], part["exposure"], strict=True)
    }


def test_every_relation_of_firm_a_by_hand() -> None:
    snap = _snapshot()
    a, b, c, d = (snap.index[u] for u in "ABCD")
    e = relation_edges(snap, np.array([a]))
    # A sells 6 to B and 2 to C: shares 0.75 and 0.25 of its sales
    assert _of(e, "sells_to") == {b: (6.0, 0.75), c: (2.0, 0.25)}
    # A buys everything (5) from C
    assert _of(e, "buys_from") == {c: (5.0, 1.0)}
    # A guarantees 8 for B against equity 4: 2x
    assert _of(e, "guarantees") == {b: (8.0, 2.0)}
    # B is A's only firm guarantor: the whole cover
    assert _of(e, "guaranteed_by") == {b: (1.0, 1.0)}
    assert _of(e, "owed_by") == {d: (3.0, 1.0)}
    owns = e[e["relation"] == "owns"]
    assert owns["counterparty"].tolist() == [c] and owns["exposure"].tolist() == [0.3]
    # P1 holds 60% of A and 90% of D: the weaker tie, 0.6
    co = e[e["relation"] == "co_owned"]
    assert (
        co["counterparty"].tolist() == [d]
        and co["exposure"].tolist() == [0.6]
        and co["via"].tolist() == ["P1"]
    )


def test_guarantee_ratio_is_missing_without_positive_equity() -> None:
    snap = _snapshot()
    e = relation_edges(snap, np.array([snap.index["B"]]), relations=("guarantees",))
    assert len(e) == 1 and np.isnan(e["exposure"].iloc[0])


def test_counterparty_mask_and_pds() -> None:
    snap = _snapshot()
    defaulted, pd_all = flagged_counterparties(snap, pd.Series({"C": 0.2, "D": 0.01}), high_pd=0.1)
    assert defaulted.tolist() == [False, True, False, False]
    # B in default counts as PD 1; C is high-risk; D is under the threshold
    assert (
        pd_all[snap.index["B"]] == 1.0
        and pd_all[snap.index["C"]] == 0.2
        and np.isnan(pd_all[snap.index["D"]])
    )
    e = relation_edges(snap, np.array([snap.index["A"]]), counterparties=~np.isnan(pd_all))
    assert set(e["counterparty"]) == {snap.index["B"], snap.index["C"]}
