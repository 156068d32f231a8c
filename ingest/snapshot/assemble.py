"""Assemble a :class:`~ingest.snapshot.Snapshot` from normalised tables.

Two routes give the same snapshot for the same data because both end in
:func:`assemble_snapshot`: :mod:`ingest.snapshot.from_files` reads a dataset
folder (validating each table and skipping bad rows), :mod:`ingest.snapshot.from_graph`
reads Neo4j. :func:`assemble_snapshot` first coerces every input frame to the
contract dtypes, so either route may hand it plain frames.

Input frames (``tables[name]``) carry the canonical columns of
``ingest.tables.TABLES[name]`` with values normalised as ``ingest.validate``
does (USCCs upper case, money in yuan, ``month`` the first day of the month,
enums canonical). Optional columns may be absent (filled missing); extra
columns (``_row``, ``_file`` ...) are ignored; absent tables count as empty.
Required, per table:

- ``firms``: uscc, name (+ industry, sector, region, size_class, founded,
  employees, registered_capital, platform)
- ``financials``: uscc, period_end, published (+ the amounts)
- ``supply``: supplier_uscc, buyer_uscc, annual_value, start (+ end)
- ``receivables``: creditor_uscc, debtor_uscc, as_of, amount
- ``guarantees``: guarantor_id, borrower_uscc, amount, start (+ guarantor_type
  (default firm), loan_id, end)
- ``loans``: loan_id, borrower_uscc, lender, principal, start (+ the rest)
- ``loan_status``: loan_id, month, outstanding, days_overdue, classification
- ``events``: uscc, date, type; ``signals``: uscc, month;
  ``ownership``: owner_id, firm_uscc, share (+ owner_type, start, end)

What "as of T" keeps (nothing published, started or observed after T):

- financials published <= T, the latest ``period_end`` per firm;
- supply, guarantees, ownership active at T: start <= T (ownership: or no
  start) and (no end or end > T);
- loans started <= T; their latest status observed <= T, where month M is
  observed on its last day (``ingest.default_definition.observed_on``);
- events dated <= T; signals observed <= T; receivables the latest per
  (creditor, debtor) with as_of <= T.

Firms are every platform firm plus external counterparties: valid USCCs at an
end of a kept link (supply, guarantee, receivable, ownership, loan) but absent
from ``firms`` (``external=True``, their other fields missing). Rows are
sorted by USCC; matrices follow that order, duplicates summed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

from chainrisk.errors import SnapshotError
from ingest import parse
from ingest import uscc as uscc_mod
from ingest.classification import (
    borrower_20pct_flags,
    classification_flag,
    lender_10pct_flags,
    min_classification,
)
from ingest.default_definition import default_dates, observed_on
from ingest.lifecycle import lifecycle_stages
from ingest.snapshot.model import FIRM_COLUMNS, GUARANTEE_COLUMNS, LOAN_COLUMNS, Snapshot
from ingest.tables import TABLES
from ingest.validate import empty_good

__all__ = [
    "assemble_snapshot",
    "normalize_table",
    "sector_of",
    "supply_shares",
]

# GB/T 4754-2017: first two digits of the industry code (division) -> section letter
_SECTIONS: tuple[tuple[int, int, str], ...] = (
    (1, 5, "A"), (6, 12, "B"), (13, 43, "C"), (44, 46, "D"), (47, 50, "E"), (51, 52, "F"),
    (53, 60, "G"), (61, 62, "H"), (63, 65, "I"), (66, 69, "J"), (70, 70, "K"), (71, 72, "L"),
    (73, 75, "M"), (76, 79, "N"), (80, 82, "O"), (83, 83, "P"), (84, 85, "Q"), (86, 90, "R"),
    (91, 96, "S"), (97, 97, "T"),
)  # fmt: skip


def sector_of(industry: str | None) -> str | None:
    """The GB/T 4754-2017 section letter of an industry code.

    >>> sector_of("C3311"), sector_of("3311"), sector_of("5179"), sector_of(None)
    ('C', 'C', 'F', None)
    """
    if not industry:
        return None
    code = str(industry).strip().upper()
    if code[:1].isalpha():
        return code[:1]
    if len(code) >= 2 and code[:2].isdigit():
        div = int(code[:2])
        for lo, hi, letter in _SECTIONS:
            if lo <= div <= hi:
                return letter
    return None


# --------------------------------------------------------------------------- coercion
def _obj(s: pd.Series) -> pd.Series:
    return pd.Series([parse.to_text(v) for v in s.tolist()], index=s.index, dtype=object)


def normalize_table(name: str, frame: pd.DataFrame | None) -> pd.DataFrame:
    """Coerce ``frame`` to the contract columns and dtypes of table ``name``.

    Absent optional columns are filled missing (``guarantor_type``/``owner_type``
    with ``firm``); a missing required column raises :class:`SnapshotError`.
    """
    spec = TABLES[name]
    if frame is None or len(frame) == 0:
        return empty_good(spec).drop(columns=["_row", "_file"])
    frame = frame.reset_index(drop=True)
    cols: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in frame.columns:
            if col.required:
                raise SnapshotError(f"table {name!r} lacks required column {col.name!r}")
            cols[col.name] = parse.missing_value(col, frame.index)
            continue
        s = frame[col.name]
        if col.kind in ("date", "month"):
            d = pd.DatetimeIndex(pd.Series(s).astype("datetime64[ns]")).normalize()
            if col.kind == "month":
                d = pd.DatetimeIndex(d.to_period("M").to_timestamp())
            cols[col.name] = pd.Series(d, index=frame.index, dtype="datetime64[ns]")
        elif col.kind in ("money", "float"):
            cols[col.name] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif col.kind == "int":
            cols[col.name] = pd.to_numeric(s, errors="coerce").astype("Int64")
        elif col.kind == "bool":
            cols[col.name] = s.astype("boolean")
        else:
            t = _obj(s)
            if col.default is not None:
                t = t.where(t.notna(), col.default)
            cols[col.name] = t
    return pd.DataFrame(cols, index=frame.index)


def _active(frame: pd.DataFrame, t: pd.Timestamp, *, start_required: bool = True) -> pd.DataFrame:
    started = frame["start"] <= t
    if not start_required:
        started = started | frame["start"].isna()
    ongoing = frame["end"].isna() | (frame["end"] > t)
    return frame[(started & ongoing).to_numpy()]


def _latest(frame: pd.DataFrame, by: list[str], order: list[str]) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame.sort_values(by + order, kind="stable").drop_duplicates(by, keep="last")


def _rows(uscc: pd.Series, index: Mapping[str, int]) -> np.ndarray:
    return np.array([index.get(u, -1) if isinstance(u, str) else -1 for u in uscc.tolist()], dtype=np.int64)


def _matrix(n: int, rows: np.ndarray, cols: np.ndarray, data: pd.Series) -> sp.csr_matrix:
    vals = data.to_numpy(dtype="float64", na_value=0.0)
    keep = (rows >= 0) & (cols >= 0)
    m = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, n), dtype=np.float64)
    m.sum_duplicates()
    m.sort_indices()
    return m


# --------------------------------------------------------------------------- assembly
def assemble_snapshot(tables: Mapping[str, pd.DataFrame], *, as_of: date, currency: str = "CNY") -> Snapshot:
    """Assemble the snapshot as of ``as_of`` from normalised table frames.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Table name -> frame with the canonical columns (module docstring).
    as_of : date
    currency : str
        Currency of money amounts (all in yuan units of it).

    Returns
    -------
    Snapshot

    Raises
    ------
    SnapshotError
        An unknown table name, or a frame lacking a required column.
    """
    unknown = set(tables) - set(TABLES)
    if unknown:
        raise SnapshotError(f"unknown tables: {sorted(unknown)}")
    t = pd.Timestamp(as_of)
    tb = {name: normalize_table(name, tables.get(name)) for name in TABLES}

    fin = tb["financials"]
    fin = _latest(fin[(fin["published"] <= t).to_numpy()], ["uscc"], ["period_end", "published"])
    supply = _active(tb["supply"], t)
    guar = _active(tb["guarantees"], t)
    own = _active(tb["ownership"], t, start_required=False)
    rec = tb["receivables"]
    rec = _latest(rec[(rec["as_of"] <= t).to_numpy()], ["creditor_uscc", "debtor_uscc"], ["as_of"])
    loans = tb["loans"]
    loans = loans[(loans["start"] <= t).to_numpy()].drop_duplicates("loan_id")
    status_all = tb["loan_status"]
    status_all = status_all[(observed_on(status_all["month"]) <= t).to_numpy()]
    status_all = status_all[status_all["loan_id"].isin(loans["loan_id"]).to_numpy()]
    status = _latest(status_all, ["loan_id"], ["month"])
    events = tb["events"]
    events = events[(events["date"] <= t).to_numpy()]
    signals = tb["signals"]
    signals = signals[(observed_on(signals["month"]) <= t).to_numpy()]

    firms = _assemble_firms(tb["firms"], fin, supply, guar, rec, own, loans)
    index = {u: i for i, u in enumerate(firms["uscc"].tolist())}
    n = len(firms)

    sup_m = _matrix(
        n, _rows(supply["supplier_uscc"], index), _rows(supply["buyer_uscc"], index), supply["annual_value"]
    )
    firm_g = guar[(guar["guarantor_type"] == "firm").to_numpy()]
    gua_m = _matrix(
        n, _rows(firm_g["guarantor_id"], index), _rows(firm_g["borrower_uscc"], index), firm_g["amount"]
    )
    rec_m = _matrix(n, _rows(rec["creditor_uscc"], index), _rows(rec["debtor_uscc"], index), rec["amount"])

    # guarantees given, over equity (inf for non-positive equity, 0 when none given)
    given = np.asarray(gua_m.sum(axis=1)).ravel()
    equity = firms["equity"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(equity > 0, given / equity, np.inf)
    ratio = np.where(given == 0, 0.0, np.where(np.isnan(equity), np.nan, ratio))
    firms["external_guarantees"] = given
    firms["guarantee_ratio"] = ratio

    dd = default_dates(events, status_all, loans, as_of=as_of)
    # built through to_datetime, whatever dtype an empty result (nobody defaulted yet) comes in
    dates = dd.reindex(pd.Index(firms["uscc"], dtype=object)).to_numpy()
    firms["default_date"] = pd.Series(pd.to_datetime(dates, errors="coerce"), index=firms.index).astype(
        "datetime64[ns]"
    )
    firms["defaulted"] = firms["default_date"].notna().astype(bool)
    firms = firms.loc[:, list(FIRM_COLUMNS)]

    loan_frame = _assemble_loans(loans, status, index, currency)
    contracts = _assemble_guarantees(guar, index)
    return Snapshot(
        as_of=as_of,
        firms=firms,
        supply=sup_m,
        guarantees=gua_m,
        receivables=rec_m,
        loans=loan_frame,
        guarantee_contracts=contracts,
        events=_with_rows(events, ["uscc"], ["firm"], index, ["date", "uscc", "type"]),
        signals=_with_rows(signals, ["uscc"], ["firm"], index, ["uscc", "month"]),
        ownership=_with_rows(
            own, ["owner_id", "firm_uscc"], ["owner", "firm"], index, ["firm_uscc", "owner_id", "start"]
        ),
        currency=currency,
    )


def _assemble_firms(
    platform: pd.DataFrame,
    fin: pd.DataFrame,
    supply: pd.DataFrame,
    guar: pd.DataFrame,
    rec: pd.DataFrame,
    own: pd.DataFrame,
    loans: pd.DataFrame,
) -> pd.DataFrame:
    platform = platform.drop_duplicates("uscc", keep="first").copy()
    platform["external"] = False
    seen = pd.concat(
        [
            supply["supplier_uscc"],
            supply["buyer_uscc"],
            guar.loc[(guar["guarantor_type"] == "firm").to_numpy(), "guarantor_id"],
            guar["borrower_uscc"],
            rec["creditor_uscc"],
            rec["debtor_uscc"],
            own.loc[(own["owner_type"] == "firm").to_numpy(), "owner_id"],
            own["firm_uscc"],
            loans["borrower_uscc"],
        ],
        ignore_index=True,
    ).dropna()
    known = set(platform["uscc"].tolist())
    ext = sorted(u for u in set(seen.tolist()) - known if uscc_mod.is_valid(u) and u == u.upper())
    if ext:
        extra = normalize_table("firms", pd.DataFrame({"uscc": ext, "name": [None] * len(ext)}))
        extra["external"] = True
        platform = pd.concat([platform, extra], ignore_index=True)
    firms = platform.sort_values("uscc", kind="stable").reset_index(drop=True)
    firms["external"] = firms["external"].astype(bool)
    missing_sector = firms["sector"].isna() & firms["industry"].notna()
    if missing_sector.any():
        firms.loc[missing_sector, "sector"] = [sector_of(i) for i in firms.loc[missing_sector, "industry"]]
    fin_cols = [
        "period_end",
        "total_assets",
        "total_liabilities",
        "equity",
        "revenue",
        "operating_cf",
        "investing_cf",
        "financing_cf",
    ]
    firms = firms.merge(fin[["uscc", *fin_cols]], on="uscc", how="left", sort=False)
    firms["period_end"] = firms["period_end"].astype("datetime64[ns]")
    for c in fin_cols[1:]:
        firms[c] = firms[c].astype("float64")
    firms["lifecycle_stage"] = lifecycle_stages(
        firms["operating_cf"], firms["investing_cf"], firms["financing_cf"]
    )
    return firms


def _assemble_loans(
    loans: pd.DataFrame, status: pd.DataFrame, index: Mapping[str, int], currency: str
) -> pd.DataFrame:
    st = status.rename(columns={"month": "status_month"})[
        ["loan_id", "status_month", "outstanding", "days_overdue", "classification"]
    ]
    out = (
        loans.merge(st, on="loan_id", how="left").sort_values("loan_id", kind="stable").reset_index(drop=True)
    )
    out["borrower"] = _rows(out["borrower_uscc"], index)
    out["currency"] = out["currency"].where(out["currency"].notna(), currency).astype(object)
    out["status_month"] = out["status_month"].astype("datetime64[ns]")
    out["outstanding"] = out["outstanding"].astype("float64")
    out["days_overdue"] = out["days_overdue"].astype("Int64")
    out["classification"] = _obj(out["classification"])
    days = out["days_overdue"].astype("float64").tolist()
    out["min_classification"] = pd.Series(
        [min_classification(d) for d in days], index=out.index, dtype=object
    )
    flags = [classification_flag(c, d) for c, d in zip(out["classification"].tolist(), days, strict=True)]
    # borrower-level rules of the 2023 measure, appended to the loan's own flag
    for extra in (borrower_20pct_flags(out), lender_10pct_flags(out)):
        flags = ["; ".join(p for p in (f, e) if p) for f, e in zip(flags, extra.tolist(), strict=True)]
    out["classification_flag"] = pd.Series(flags, index=out.index, dtype=object)
    return out.loc[:, list(LOAN_COLUMNS)]


def _assemble_guarantees(guar: pd.DataFrame, index: Mapping[str, int]) -> pd.DataFrame:
    g = guar.sort_values(
        ["borrower_uscc", "guarantor_id", "loan_id", "start"], kind="stable", na_position="first"
    )
    g = g.reset_index(drop=True)
    is_firm = (g["guarantor_type"] == "firm").to_numpy()
    g["guarantor"] = np.where(is_firm, _rows(g["guarantor_id"], index), -1).astype(np.int64)
    g["borrower"] = _rows(g["borrower_uscc"], index)
    return g.loc[:, list(GUARANTEE_COLUMNS)]


def _with_rows(
    frame: pd.DataFrame, id_cols: list[str], row_cols: list[str], index: Mapping[str, int], order: list[str]
) -> pd.DataFrame:
    out = frame.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
    for src, dst in zip(id_cols, row_cols, strict=True):
        out[dst] = _rows(out[src], index)
    return out


def supply_shares(snapshot: Snapshot) -> pd.DataFrame:
    """Supply edges of ``snapshot`` with their shares.

    ``share_of_buyer_inputs`` = value / the buyer's total active purchases;
    ``share_of_supplier_sales`` = value / the supplier's total active sales
    (both over the firms and links in the snapshot).

    Returns
    -------
    DataFrame
        ``supplier, buyer`` (rows), ``supplier_uscc, buyer_uscc, annual_value,
        share_of_buyer_inputs, share_of_supplier_sales``, sorted by (supplier, buyer).
    """
    m = sp.coo_matrix(snapshot.supply)
    sales = np.asarray(snapshot.supply.sum(axis=1)).ravel()
    inputs = np.asarray(snapshot.supply.sum(axis=0)).ravel()
    order = np.lexsort((m.col, m.row))
    r, c, v = m.row[order].astype(np.int64), m.col[order].astype(np.int64), m.data[order]
    uscc = snapshot.firms["uscc"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        by_buyer = np.where(inputs[c] > 0, v / inputs[c], np.nan)
        by_supplier = np.where(sales[r] > 0, v / sales[r], np.nan)
    return pd.DataFrame(
        {
            "supplier": r,
            "buyer": c,
            "supplier_uscc": pd.Series(uscc[r], dtype=object),
            "buyer_uscc": pd.Series(uscc[c], dtype=object),
            "annual_value": v.astype("float64"),
            "share_of_buyer_inputs": by_buyer,
            "share_of_supplier_sales": by_supplier,
        }
    )
