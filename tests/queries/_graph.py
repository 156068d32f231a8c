"""A small hand-built platform for the query tests, ingested through ``ingest.load_dataset``.

Read at ``AS_OF`` = 2024-06-30; the bank is lender ``bank-a``. Values in yuan.

Supply (supplier -> buyer, annual value, start .. end)::

    S1 -> F 600 (2022-01-01)      S2 -> F 400 (2024-01-01)      S5 -> F 250 (2022-01-01 .. 2024-01-01)
    S6 -> F 999 (2024-09-01: after AS_OF)
    S3 -> S1 300   S4 -> S1 100   S4 -> S2 200   S7 -> S3 50          (all 2022-01-01)
    F -> B1 700   F -> B2 300   B1 -> B3 500   B1 -> B2 500           (all 2022-01-01)

Guarantees (guarantor -> borrower, amount; all active)::

    around F:   G1 -> F 1000, person P1 -> F 500, G2 -> G1 300, F -> B1 200 (on B1's bank-a loan)
    mutual:     M1 <-> M2 (100 each)
    joint:      J1, J2, J3 every ordered pair (50 each)
    cycle:      C1 -> C2 -> C3 -> C1 (80 each)
    chain:      H1 -> H2 -> H3 (60 each)
    star:       person P2 -> T1, T2, T3 (40 each)
    cross:      X1 <-> X2, X3 <-> X4, X2 -> X3 (70 each)

Loans (id, borrower, lender, principal, limit; latest status month, outstanding, days overdue, class)::

    LF  F  bank-a 1000 1500   2024-06  800   0 normal
    LS1 S1 bank-a  500   -    2024-06  500  10 special_mention
    LS2 S2 bank-b  300   -    2024-06  300   0 normal
    LS4 S4 bank-a  100   -    2024-06  100  40 normal            (class better than 40 days overdue allow)
    LB1 B1 bank-a  200   -    2023-10  200   0 normal            (status stale at AS_OF)
    LM1 M1 bank-a  400   -    2024-06  400 100 substandard
    LJ1 J1 bank-b  900   -    2024-06  900   0 normal
    LW1 W1 bank-a  100   -    2024-03  100, 2024-06  150   0 normal   (borrowing +50% over 3 months)
    LW2 W2 bank-b  200   -    2024-03  200, 2024-06  200   0 normal   (flat)
    LW3 W3 bank-b  100   -    2024-03  100, 2024-06  200   0 normal   (+100%)

Statements: F published 2024-04-30 (equity 5000), S1 published 2023-04-30 (equity 800; stale),
M1 and M2 2024-04-30 (equity 150 and 50); cash flows (operating, investing, financing): F +, -, -
(Dickinson: mature), M1 -, -, + (start-up), the others none (unknown). Signals: F 2024-06.

Added for the portfolio queries (connected clients, concentration, early warning):

- ownership (owner -> firm, share; all since 2022-01-01): person P3 -> F 0.6, P3 -> W1 0.7 (control:
  F and W1 are connected clients); person P4 -> M1 0.2, P4 -> J1 0.3 (no control); firm G2 -> W3 0.5
  ending 2024-01-01 (no longer held at AS_OF);
- W1, W2, W3 are in region 110000, industry C1810; the rest 350100, C3311;
- monthly signals 2024-01 .. 2024-06 (electricity_kwh, orders):
  W1 electricity 100, 100, 100, 80, 80, 80 (-20%), orders 50 flat;
  W2 electricity 200 x 3 then 100 x 3 (-50%), orders 40, 40, 40, 30, 30, 30 (-25%);
  W3 both flat (electricity 70, orders 20).
"""

from __future__ import annotations

from pathlib import Path

from ingest.uscc import make

AS_OF = "2024-06-30"
BANK = ["bank-a"]

_NAMES = [
    "F", *(f"S{i}" for i in range(1, 8)), "B1", "B2", "B3", "G1", "G2", "M1", "M2", "J1", "J2", "J3",
    "C1", "C2", "C3", "H1", "H2", "H3", "T1", "T2", "T3", "X1", "X2", "X3", "X4", "W1", "W2", "W3",
]
#: Short name -> USCC.
U: dict[str, str] = {n: make(f"91350100M{i + 1:08d}") for i, n in enumerate(_NAMES)}
#: USCC -> short name.
NAME: dict[str, str] = {v: k for k, v in U.items()}

_D = "2022-01-01"
SUPPLY = [
    ("S1", "F", 600, _D, ""), ("S2", "F", 400, "2024-01-01", ""), ("S5", "F", 250, _D, "2024-01-01"),
    ("S6", "F", 999, "2024-09-01", ""),
    ("S3", "S1", 300, _D, ""), ("S4", "S1", 100, _D, ""), ("S4", "S2", 200, _D, ""), ("S7", "S3", 50, _D, ""),
    ("F", "B1", 700, _D, ""), ("F", "B2", 300, _D, ""), ("B1", "B3", 500, _D, ""), ("B1", "B2", 500, _D, ""),
]
GUARANTEES: list[tuple[str, str, str, str, int]] = [
    ("G1", "firm", "F", "LF", 1000), ("P1", "person", "F", "LF", 500), ("G2", "firm", "G1", "LG1", 300),
    ("F", "firm", "B1", "LB1", 200),
    ("M1", "firm", "M2", "", 100), ("M2", "firm", "M1", "LM1", 100),
    *[(a, "firm", b, "", 50) for a in ("J1", "J2", "J3") for b in ("J1", "J2", "J3") if a != b],
    ("C1", "firm", "C2", "", 80), ("C2", "firm", "C3", "", 80), ("C3", "firm", "C1", "", 80),
    ("H1", "firm", "H2", "", 60), ("H2", "firm", "H3", "", 60),
    ("P2", "person", "T1", "", 40), ("P2", "person", "T2", "", 40), ("P2", "person", "T3", "", 40),
    ("X1", "firm", "X2", "", 70), ("X2", "firm", "X1", "", 70), ("X3", "firm", "X4", "", 70),
    ("X4", "firm", "X3", "", 70), ("X2", "firm", "X3", "", 70),
]
LOANS = [
    ("LF", "F", "bank-a", 1000, 1500, "2024-06", 800, 0, "normal"),
    ("LS1", "S1", "bank-a", 500, "", "2024-06", 500, 10, "special_mention"),
    ("LS2", "S2", "bank-b", 300, "", "2024-06", 300, 0, "normal"),
    ("LS4", "S4", "bank-a", 100, "", "2024-06", 100, 40, "normal"),
    ("LB1", "B1", "bank-a", 200, "", "2023-10", 200, 0, "normal"),
    ("LM1", "M1", "bank-a", 400, "", "2024-06", 400, 100, "substandard"),
    ("LJ1", "J1", "bank-b", 900, "", "2024-06", 900, 0, "normal"),
    ("LW1", "W1", "bank-a", 100, "", "2024-06", 150, 0, "normal"),
    ("LW2", "W2", "bank-b", 200, "", "2024-06", 200, 0, "normal"),
    ("LW3", "W3", "bank-b", 100, "", "2024-06", 200, 0, "normal"),
]
#: Earlier statuses (loan, month, outstanding): the W firms' borrowing three months before AS_OF.
EARLIER_STATUS = [("LW1", "2024-03", 100), ("LW2", "2024-03", 200), ("LW3", "2024-03", 100)]
#: (owner, kind, firm, share, end)
OWNERSHIP = [("P3", "person", "F", 0.6, ""), ("P3", "person", "W1", 0.7, ""), ("P4", "person", "M1", 0.2, ""),
             ("P4", "person", "J1", 0.3, ""), ("G2", "firm", "W3", 0.5, "2024-01-01")]
#: firm -> (electricity by month 2024-01 .. 06, orders by month)
SIGNALS = {
    "W1": ([100, 100, 100, 80, 80, 80], [50] * 6),
    "W2": ([200, 200, 200, 100, 100, 100], [40, 40, 40, 30, 30, 30]),
    "W3": ([70] * 6, [20] * 6),
}


def _person(name: str) -> str:
    return f"person-{name}"


def _id(name: str, kind: str) -> str:
    return _person(name) if kind == "person" else U[name]


def write_platform(folder: Path) -> Path:
    """Write the dataset into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)

    def csv(name: str, header: str, rows: list[str]) -> None:
        (folder / f"{name}.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")

    (folder / "dataset.yaml").write_text(
        f"source: query-tests\nas_of: {AS_OF}\nmode: full\ncurrency: CNY\nunit: yuan\n", encoding="utf-8")
    csv("firms", "uscc,name,industry,region", [
        f"{u},Firm {n},{'C1810,110000' if n.startswith('W') else 'C3311,350100'}" for n, u in U.items()])
    csv("supply", "supplier_uscc,buyer_uscc,annual_value,start,end",
        [f"{U[a]},{U[b]},{v},{s},{e}" for a, b, v, s, e in SUPPLY])
    csv("guarantees", "guarantor_id,guarantor_type,borrower_uscc,loan_id,amount,start,end",
        [f"{_id(g, k)},{k},{U[b]},{loan},{amt},2023-01-01," for g, k, b, loan, amt in GUARANTEES])
    csv("loans", "loan_id,borrower_uscc,lender,principal,limit,start,maturity",
        [f"{i},{U[b]},{lender},{p},{lim},2023-01-01,2026-01-01" for i, b, lender, p, lim, *_ in LOANS])
    csv("loan_status", "loan_id,month,outstanding,days_overdue,classification",
        [f"{i},{m},{o},{d},{c}" for i, _, _, _, _, m, o, d, c in LOANS]
        + [f"{i},{m},{o},0,normal" for i, m, o in EARLIER_STATUS])
    csv("ownership", "owner_id,owner_type,firm_uscc,share,start,end",
        [f"{_id(o, k)},{k},{U[f]},{sh},2022-01-01,{e}" for o, k, f, sh, e in OWNERSHIP])
    csv("financials", "uscc,period_end,published,total_assets,total_liabilities,equity,revenue,"
        "operating_cf,investing_cf,financing_cf", [
        f"{U['F']},2023-12-31,2024-04-30,9000,4000,5000,12000,300,-100,-50",
        f"{U['S1']},2022-12-31,2023-04-30,2000,1200,800,3000,,,",
        f"{U['M1']},2023-12-31,2024-04-30,900,750,150,1000,-20,-10,40",
        f"{U['M2']},2023-12-31,2024-04-30,500,450,50,600,,,",
    ])
    csv("signals", "uscc,month,electricity_kwh,orders", [f"{U['F']},2024-06,1000,500"] + [
        f"{U[n]},2024-{m + 1:02d},{kwh[m]},{orders[m]}"
        for n, (kwh, orders) in SIGNALS.items() for m in range(6)])
    return folder
