"""Write the sample dataset of chainrisk into this folder (deterministic).

Run ``python data/sample/make_sample.py`` from the repository root. Thirty
platform firms in a four-tier supply chain, one external buyer, and every table
in a mix of formats and encodings:

- ``firms.csv`` (UTF-8, English headers), ``financials.csv.gz``,
  ``supply.parquet``, ``receivables.jsonl``, ``guarantees.jsonl``,
  ``loans.csv`` (GBK, Chinese headers), ``loan_status.csv.gz``,
  ``events.csv``, ``signals.parquet``, ``ownership.ndjson``.

Planted cases: a guarantee circle F03 -> F04 -> F05 -> F03, a mutual pair
F06 <-> F07, an external counterparty (a buyer with no firm row), a person
guarantor, a default event (F10, 2024-03-15), a bankruptcy after the
manifest date (F11), a loan 120 days overdue yet classified normal (L0005),
a supply link starting after the manifest date, financials published after it.
"""

from __future__ import annotations

import itertools
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ingest.uscc import make

HERE = Path(__file__).resolve().parent
AS_OF = date(2024, 6, 30)
REGIONS = ("350100", "350200", "330100", "320500")
INDUSTRIES = ("C3110", "C3311", "C3670", "C3981", "F5174")


def uscc(i: int, region: str = "350100") -> str:
    """A valid code for firm ``i`` (authority 9, type 1)."""
    return make(f"91{region}MA0{i:05d}X")


def main(out: Path = HERE) -> None:
    rng = np.random.default_rng(7)
    n = 30
    codes = [uscc(i, REGIONS[i % len(REGIONS)]) for i in range(n)]
    external = make("91110000MA000999X")  # a large buyer outside the platform
    firms = pd.DataFrame(
        {
            "uscc": codes,
            "name": [f"样例制造{i:02d}有限公司" for i in range(n)],
            "industry": [INDUSTRIES[i // 6] for i in range(n)],
            "region": [REGIONS[i % len(REGIONS)] for i in range(n)],
            "size_class": [("micro", "small", "medium")[i % 3] for i in range(n)],
            "founded": [f"20{10 + i % 12:02d}-0{1 + i % 9}-15" for i in range(n)],
            "employees": [int(x) for x in rng.integers(8, 300, n)],
            "registered_capital": [int(x) * 10_000 for x in rng.integers(50, 2000, n)],
        }
    )
    firms.to_csv(out / "firms.csv", index=False)

    assets = rng.lognormal(np.log(2e7), 0.7, n).round(-3)
    rows = []
    for i in range(n):
        for year, pub in ((2022, "2023-04-20"), (2023, "2024-04-20")):
            eq = assets[i] * rng.uniform(0.2, 0.6)
            rows.append(
                {
                    "uscc": codes[i],
                    "period_end": f"{year}-12-31",
                    "published": pub,
                    "total_assets": assets[i],
                    "total_liabilities": round(assets[i] - eq, -3),
                    "equity": round(eq, -3),
                    "revenue": round(assets[i] * rng.uniform(0.6, 1.6), -3),
                    "operating_cf": round(assets[i] * rng.uniform(-0.05, 0.12), -3),
                    "investing_cf": round(assets[i] * rng.uniform(-0.1, 0.02), -3),
                    "financing_cf": round(assets[i] * rng.uniform(-0.06, 0.06), -3),
                }
            )
        if i % 5 == 0:  # half-year report published after the manifest date
            rows.append({**rows[-1], "period_end": "2024-06-30", "published": "2024-08-15", "equity": -1.0})
    pd.DataFrame(rows).to_csv(
        out / "financials.csv.gz", index=False, compression={"method": "gzip", "mtime": 0}
    )

    links = []
    tiers = [range(0, 5), range(5, 15), range(15, 25), range(25, 30)]
    for up, down in itertools.pairwise(tiers):
        for s in up:
            for b in rng.choice(list(down), size=2, replace=False):
                links.append((codes[s], codes[int(b)], "2021-01-01", None))
    for s in tiers[2]:
        links.append((codes[s], external, "2022-03-01", None))
    links.append((codes[1], codes[16], "2024-09-01", None))  # starts after as_of
    links.append((codes[2], codes[20], "2020-01-01", "2023-12-31"))  # ended before as_of
    supply = pd.DataFrame(links, columns=["supplier_uscc", "buyer_uscc", "start", "end"])
    supply = supply.drop_duplicates(["supplier_uscc", "buyer_uscc", "start"])
    supply.insert(2, "annual_value", rng.lognormal(np.log(3e6), 0.8, len(supply)).round(-2))
    supply["start"] = pd.to_datetime(supply["start"])
    supply["end"] = pd.to_datetime(supply["end"])
    supply.to_parquet(out / "supply.parquet", index=False)

    rec = supply.iloc[::3][["supplier_uscc", "buyer_uscc", "annual_value"]]
    rec_rows = []
    for _, r in rec.iterrows():
        for as_of, frac in (("2024-03-31", 0.15), ("2024-06-30", 0.2)):
            rec_rows.append(
                {
                    "creditor_uscc": r["supplier_uscc"],
                    "debtor_uscc": r["buyer_uscc"],
                    "as_of": as_of,
                    "amount": round(r["annual_value"] * frac, 2),
                    "days_outstanding": 60 if frac < 0.2 else 75,
                }
            )
    pd.DataFrame(rec_rows).to_json(out / "receivables.jsonl", orient="records", lines=True, force_ascii=False)

    loans = []
    for k, i in enumerate(range(0, 30, 2)):
        loans.append(
            {
                "贷款编号": f"L{k:04d}",
                "借款人": codes[i],
                "贷款银行": ("兴业银行", "农商银行")[k % 2],
                "贷款金额": 1_000_000 + 250_000 * k,
                "放款日期": "2023-07-01",
                "到期日": "2025-06-30",
                "担保方式": ("保证", "抵押", "信用")[k % 3],
            }
        )
    for extra, i in (("L0100", 4), ("L0101", 7), ("L0102", 3)):
        loans.append({**loans[0], "贷款编号": extra, "借款人": codes[i]})
    loans.append({**loans[0], "贷款编号": "L0200", "借款人": codes[9], "放款日期": "2024-08-01"})  # future
    pd.DataFrame(loans).to_csv(out / "loans.csv", index=False, encoding="gbk")

    status = []
    for ln in loans:
        for m in range(1, 7):
            days = 0
            cls = "正常"
            if ln["贷款编号"] == "L0005":  # 120 days overdue in June, still normal: flagged
                days = max(0, 30 * m - 60)
            if ln["贷款编号"] == "L0102":  # F03, circle member: substandard, > 90 days in June
                days, cls = max(0, 30 * m - 80), ("关注" if m < 5 else "次级")
            status.append(
                {
                    "loan_id": ln["贷款编号"],
                    "month": f"2024-{m:02d}",
                    "outstanding": ln["贷款金额"] * (1 - 0.02 * m),
                    "days_overdue": days,
                    "classification": cls,
                }
            )
    pd.DataFrame(status).to_csv(
        out / "loan_status.csv.gz", index=False, compression={"method": "gzip", "mtime": 0}
    )

    guarantees = [
        (codes[3], "firm", codes[4], "L0100", 800_000, "2023-07-01"),
        (codes[4], "firm", codes[5], None, 600_000, "2023-07-01"),
        (codes[5], "firm", codes[3], "L0102", 700_000, "2023-07-01"),
        (codes[6], "firm", codes[7], "L0101", 500_000, "2023-07-01"),
        (codes[7], "firm", codes[6], "L0003", 500_000, "2023-07-01"),
        ("P-7f3a9c2e", "person", codes[10], "L0005", 300_000, "2023-07-01"),
        (codes[12], "firm", codes[14], "L0007", 900_000, "2023-07-01"),
        (codes[12], "firm", codes[16], "L0008", 900_000, "2024-10-01"),  # starts after as_of
    ]
    g = pd.DataFrame(
        guarantees, columns=["guarantor_id", "guarantor_type", "borrower_uscc", "loan_id", "amount", "start"]
    )
    g.to_json(out / "guarantees.jsonl", orient="records", lines=True, force_ascii=False)

    events = pd.DataFrame(
        {
            "uscc": [codes[10], codes[11], codes[12], codes[3]],
            "date": ["2024-03-15", "2024-09-10", "2024-02-01", "2024-05-20"],
            "type": ["违约", "bankruptcy", "lawsuit", "诉讼"],
            "description": ["逾期未还银行贷款", "破产清算", "合同纠纷", "担保纠纷"],
        }
    )
    events.to_csv(out / "events.csv", index=False)

    sig = []
    for i in range(n):
        base = rng.uniform(2e4, 2e5)
        for m in range(1, 7):
            fall = 0.6 if i in (10, 11) and m >= 4 else 1.0
            sig.append(
                {
                    "uscc": codes[i],
                    "month": f"2024-{m:02d}",
                    "electricity_kwh": round(base * fall * rng.uniform(0.9, 1.1), 1),
                    "equipment_utilization": round(min(1.0, 0.75 * fall * rng.uniform(0.85, 1.15)), 3),
                    "orders": round(base * 30 * fall, -2),
                    "invoices": round(base * 28 * fall, -2),
                }
            )
    pd.DataFrame(sig).to_parquet(out / "signals.parquet", index=False)

    own = [
        {"owner_id": f"P-{i:04d}", "owner_type": "person", "firm_uscc": codes[i], "share": 0.6}
        for i in range(n)
    ]
    own.append({"owner_id": codes[12], "owner_type": "firm", "firm_uscc": codes[13], "share": 0.4})
    pd.DataFrame(own).to_json(out / "ownership.ndjson", orient="records", lines=True, force_ascii=False)

    (out / "dataset.yaml").write_text(
        f"source: sample-platform\nas_of: {AS_OF.isoformat()}\nmode: full\ncurrency: CNY\nunit: yuan\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
