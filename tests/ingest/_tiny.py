"""The tiny dataset shared by the ingest tests (unit and live).

Four platform firms A-D, one off-platform buyer X (not in ``firms``), one person P:

- supply: A->B, B->C, C->D, D->X (X is external)
- guarantees: A guarantees B's loan L1, B guarantees C's loan L2, P (a person) guarantees D's loan L3
- loans L1, L2, L3 with two monthly statuses each; receivables: B owes A
- ownership: P owns 60% of A; A owns 30% of B
- financials for A and B; one event and one signal row for C
"""

from __future__ import annotations

from pathlib import Path

from ingest.uscc import make

A, B, C, D = (make(f"91350100M00010{i}Y4") for i in range(4))
X = make("91350100M000999Y4")  # off-platform buyer
P = "person-0001"
INJECTION = "'}) DETACH DELETE n //"

SUPPLY_ROWS = [
    f"{A},{B},1200000,2022-01-01,",
    f"{B},{C},800000,2022-06-01,",
    f"{C},{D},300000,2023-01-01,",
    f"{D},{X},500000,2023-03-01,",
]


def _csv(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def write_dataset(
    folder: Path,
    *,
    mode: str = "full",
    source: str = "test-platform",
    as_of: str = "2024-06-30",
    supply_rows: list[str] | None = None,
    firm_c_name: str = "Gamma Parts",
    extra_firm_rows: list[str] | None = None,
) -> Path:
    """Write the tiny dataset into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.yaml").write_text(
        f"source: {source}\nas_of: {as_of}\nmode: {mode}\ncurrency: CNY\nunit: yuan\n", encoding="utf-8"
    )
    _csv(folder / "firms.csv", "uscc,name,industry,region,size_class,founded,employees,registered_capital", [
        f'{A},"{INJECTION}",C3311,350100,small,2010-05-01,40,5000000',
        f"{B},Beta Steel,C3110,350100,medium,2008-01-15,120,20000000",
        f"{C},{firm_c_name},C3670,350200,micro,2018-03-01,8,1000000",
        f"{D},Delta Trade,F5174,350200,small,2015-07-01,25,3000000",
        *(extra_firm_rows or []),
    ])
    _csv(folder / "financials.csv",
         "uscc,period_end,published,total_assets,total_liabilities,equity,revenue,operating_cf,"
         "investing_cf,financing_cf", [
             f"{A},2023-12-31,2024-04-30,9000000,5000000,4000000,12000000,800000,-300000,-100000",
             f"{B},2023-12-31,2024-04-30,30000000,20000000,10000000,40000000,-500000,-900000,1500000",
         ])
    _csv(folder / "supply.csv", "supplier_uscc,buyer_uscc,annual_value,start,end",
         SUPPLY_ROWS if supply_rows is None else supply_rows)
    _csv(folder / "receivables.csv", "creditor_uscc,debtor_uscc,amount,as_of", [f"{A},{B},200000,2024-06-30"])
    _csv(folder / "loans.csv", "loan_id,borrower_uscc,lender,principal,start,maturity,lgd", [
        f"L1,{B},bank-a,5000000,2023-01-01,2025-01-01,0.45",
        f"L2,{C},bank-a,1000000,2023-06-01,2024-12-01,",
        f"L3,{D},bank-b,2000000,2023-09-01,2025-09-01,0.6",
    ])
    _csv(folder / "loan_status.csv", "loan_id,month,outstanding,days_overdue,classification", [
        "L1,2024-05,4000000,0,normal", "L1,2024-06,3900000,0,normal",
        "L2,2024-05,900000,35,special_mention", "L2,2024-06,900000,95,substandard",
        "L3,2024-05,2000000,0,normal", "L3,2024-06,2000000,0,normal",
    ])
    _csv(folder / "guarantees.csv", "guarantor_id,guarantor_type,borrower_uscc,loan_id,amount,start,end", [
        f"{A},firm,{B},L1,5000000,2023-01-01,",
        f"{B},firm,{C},L2,1000000,2023-06-01,",
        f"{P},person,{D},L3,2000000,2023-09-01,",
    ])
    _csv(folder / "ownership.csv", "owner_id,owner_type,firm_uscc,share,start,end", [
        f"{P},person,{A},0.6,2010-05-01,",
        f"{A},firm,{B},30%,2019-01-01,",
    ])
    _csv(folder / "events.csv", "uscc,date,type", [f"{C},2024-06-15,lawsuit"])
    _csv(folder / "signals.csv", "uscc,month,electricity_kwh,equipment_utilization,orders,invoices", [
        f"{C},2024-06,12000,0.55,300000,280000",
    ])
    return folder


#: Rows per table of the tiny dataset.
TINY_ROWS = {"firms": 4, "financials": 2, "supply": 4, "receivables": 1, "loans": 3, "loan_status": 6,
             "guarantees": 3, "ownership": 2, "events": 1, "signals": 1}
