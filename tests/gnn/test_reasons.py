"""Reason codes (``gnn.reasons``): a guarantee to a defaulted borrower by hand; every firm of a platform."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from gnn.candidates import RiskModel
from gnn.contributions import BASE
from gnn.protocol import Cut, CutPlan, cut_of
from gnn.reasons import reason_table, reasons_for
from ingest.snapshot import assemble_snapshot
from ingest.uscc import make

GUARANTOR, BORROWER, SUPPLIER = (
    make("91350100MA2Y00001"),
    make("91350100MA2Y00002"),
    make("91350100MA2Y00003"),
)


def _cut() -> Cut:
    """The guarantor (equity 1.0m) guarantees 3.2m of the borrower's loans; the borrower
    defaulted on 2025-03-10; the supplier, healthy, sells the guarantor its inputs."""
    firms = pd.DataFrame({"uscc": [GUARANTOR, BORROWER, SUPPLIER], "name": ["g", "b", "s"]})
    fin = pd.DataFrame(
        {"uscc": [GUARANTOR], "period_end": ["2024-12-31"], "published": ["2025-03-31"],
         "total_assets": [4e6], "total_liabilities": [3e6], "equity": [1e6]}
    )  # fmt: skip
    guar = pd.DataFrame(
        {"guarantor_id": [GUARANTOR], "borrower_uscc": [BORROWER], "amount": [3.2e6], "start": ["2024-01-01"]}
    )
    supply = pd.DataFrame(
        {
            "supplier_uscc": [SUPPLIER],
            "buyer_uscc": [GUARANTOR],
            "annual_value": [5e5],
            "start": ["2024-01-01"],
        }
    )
    events = pd.DataFrame({"uscc": [BORROWER], "date": ["2025-03-10"], "type": ["default"]})
    tables = {"firms": firms, "financials": fin, "guarantees": guar, "supply": supply, "events": events}
    snap = assemble_snapshot(tables, as_of=date(2025, 6, 30))
    return cut_of(snap, np.array([snap.index[GUARANTOR]]))


class _Fixed:
    """A model that reads two features, with contributions set by hand."""

    name = "fixed"

    def __init__(self, contributions: dict[str, float]) -> None:
        self.contributions = contributions

    def predict_pd(self, cut: Cut) -> np.ndarray:
        z = sum(self.contributions.values()) - 3.0
        return np.full(len(cut.uscc), 1 / (1 + np.exp(-z)))

    def feature_contributions(self, cut: Cut) -> pd.DataFrame:
        n = len(cut.uscc)
        return pd.DataFrame({**{f: np.full(n, c) for f, c in self.contributions.items()}, BASE: -3.0})


def test_a_guarantee_to_a_defaulted_borrower_reads_as_expected() -> None:
    cut = _cut()
    model = _Fixed({"guarantees_to_defaulted": 0.9, "elec_trend": 0.0, "equity_ratio": -0.2})
    # one firm has no portfolio to set the risk side of its values: the book's medians
    # (its equity ratio, 25%, is above the book's 20%: in its favour, as the model says)
    medians = pd.Series({"equity_ratio": 0.2, "elec_trend": 0.0})
    table = reason_table(model, cut, medians=medians)
    first = table.iloc[0]
    assert first["text"] == f"guarantees 3.2× its equity for {BORROWER}, in default since 2025-03"
    assert first["kind"] == "counterparty" and first["relation"] == "guarantees"
    # the model's contribution of the chain feature, all of it carried by the one borrower
    assert first["severity"] == 0.9 and first["feature"] == "guarantees_to_defaulted"
    texts = table["text"].tolist()
    # not repeated as an aggregate; filled with the mitigating fact, then a neutral one
    assert not any("borrowers in default" in t for t in texts)
    assert texts[1] == "in its favour: equity 25% of assets"
    assert texts[2] == "1 of its 2 supply, guarantee and trade-credit counterparties in default at 2025-06-30"
    assert table["rank"].tolist() == [1, 2, 3]
    # on the wrong side of the median the same contribution is no longer "in its favour"
    other = reason_table(model, cut, medians=pd.Series({"equity_ratio": 0.4}), k=4)["text"].tolist()
    assert other[-1] == "also weighed: equity 25% of assets"


def test_a_link_the_model_does_not_read_is_still_a_reason() -> None:
    # a model without chain features: the guarantee is a rule-based fact, severity min(1, 3.2)
    table = reason_table(_Fixed({"equity_ratio": 0.4}), _cut())
    assert table["text"].iloc[0].startswith(f"guarantees 3.2× its equity for {BORROWER}")
    assert table["severity"].iloc[0] == 1.0 and pd.isna(table["feature"].iloc[0])


def test_high_risk_counterparties_given_their_pds() -> None:
    cut = _cut()
    table = reason_table(_Fixed({"equity_ratio": 0.4}), cut, k=4, counterparty_pd=pd.Series({SUPPLIER: 0.3}))
    supplier = table[table["counterparty_uscc"] == SUPPLIER]
    # the supplier gives all of the guarantor's inputs: severity PD x share = 0.3
    assert supplier["text"].tolist() == [f"buys 100% of its inputs from {SUPPLIER}, with a PD of 30%"]
    assert supplier["severity"].tolist() == [0.3]


def test_every_firm_gets_k_reasons(
    platform_cuts: tuple[CutPlan, dict[date, Cut]], platform_models: dict[str, RiskModel]
) -> None:
    plan, cuts = platform_cuts
    test = cuts[plan.test]
    for model in platform_models.values():
        for k in (3, 5):
            reasons = reasons_for(model, test, k=k)
            assert len(reasons) == len(test.uscc)
            assert all(len(r) >= k and all(s.strip() for s in r) for r in reasons)
            assert all(len(set(r)) == len(r) for r in reasons)  # no reason twice
    table = reason_table(platform_models["B2"], test)
    # risk-raising reasons come first, strongest first
    first = table.groupby("uscc")["severity"].first()
    assert (first > 0).mean() > 0.9
    ranked = table[(table["severity"] > 0) & ~table["text"].str.startswith("also weighed")]
    assert (ranked.groupby("uscc")["severity"].diff().dropna() <= 1e-12).all()
