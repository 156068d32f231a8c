"""A firm's own features as of a snapshot date: statements, platform signals, loans, events.

Everything comes from the :class:`~ingest.snapshot.Snapshot` at ``t``, which holds
nothing published, started or observed after ``t``; so do the features. Missing
values stay ``NaN`` (trees split on them; linear models impute), and every feature
is a ratio, a log or a count, so firms of different sizes compare.

===========================  =================================================================
feature                      definition
===========================  =================================================================
log_assets, log_revenue      log(1 + x) of the latest statement published by t
leverage                     total liabilities / total assets
equity_ratio                 equity / total assets
asset_turnover               revenue / total assets
ocf_to_assets, icf_, fcf_    operating, investing, financing cash flow / total assets
statement_age_years          years from the statement's period end to t (NaN without one)
has_statement                1 when a statement was published by t
age_years                    years since founding
log_employees, log_capital   log(1 + employees), log(1 + registered capital)
size_rank                    micro 0, small 1, medium 2, large 3
lifecycle_*                  one-hot of the Dickinson stage (start-up ... decline, unknown)
guarantee_ratio              guarantees given / equity, capped at 10 (10 for equity <= 0)
log_guarantees_given         log(1 + guarantees given)
n_loans                      loans running at t (started, not matured, not repaid)
debt_to_assets               the outstanding sum of the firm's loans at t / total assets
max_days_overdue             worst current days overdue over the firm's loans
worst_class_rank             worst current five-category class (normal 0 ... loss 4)
class_flagged                1 when a loan's class disagrees with its days overdue
events_12m, lawsuits_12m     adverse events (any non-default type / lawsuits and enforcement) in 12 months
elec_trend                   mean electricity of the last 3 months / the 9 before, minus 1
elec_vs_peak                 last 3 months' mean / the 12-month peak
elec_yoy                     last 12 months' sum / the 12 before, minus 1
util_last, util_vs_peers     utilisation, last 3 months; minus the median of its industry at t
orders_trend, invoices_trend as elec_trend, for orders and invoices
recv_days_change             receivable days, last month minus 12 months before
months_observed              months of signals by t
===========================  =================================================================

>>> from datetime import date
>>> from ingest.snapshot import assemble_snapshot
>>> firms = pd.DataFrame({"uscc": ["A"], "name": ["a"], "founded": ["2014-06-30"]})
>>> x = firm_features(assemble_snapshot({"firms": firms}, as_of=date(2024, 6, 30)))
>>> float(x.loc[0, "age_years"]).__round__(1), int(x.loc[0, "has_statement"])
(10.0, 0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gnn.labels import running_loans
from ingest.default_definition import DEFAULT_EVENT_TYPES
from ingest.snapshot import Snapshot
from ingest.tables import CLASSIFICATIONS, EVENT_TYPES, SIZE_CLASSES

__all__ = ["LIFECYCLE_STAGES", "firm_features"]

LIFECYCLE_STAGES: tuple[str, ...] = ("start-up", "growth", "mature", "shake-out", "decline", "unknown")
_SIZE_RANK = {c: i for i, c in enumerate(SIZE_CLASSES)}
_CLASS_RANK = {c: i for i, c in enumerate(CLASSIFICATIONS)}
# adverse events: every contract event type but the defaults themselves and the neutral ones
_NEUTRAL_EVENTS = frozenset({"management_change", "other"})
_ADVERSE = tuple(e for e in EVENT_TYPES if e not in DEFAULT_EVENT_TYPES | _NEUTRAL_EVENTS)
_YEAR_DAYS = 365.25


def _div(a: pd.Series | np.ndarray, b: pd.Series | np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype="float64")
    b = np.asarray(b, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((b != 0) & np.isfinite(b), a / b, np.nan)
    return out


def _years(later: pd.Timestamp, earlier: pd.Series) -> np.ndarray:
    days = (later - pd.to_datetime(earlier)).dt.days
    return np.asarray(days, dtype="float64") / _YEAR_DAYS


def firm_features(snapshot: Snapshot) -> pd.DataFrame:
    """One row per row of ``snapshot.firms`` (same order), numeric columns only (see the module table)."""
    f = snapshot.firms
    t = pd.Timestamp(snapshot.as_of)
    assets = f["total_assets"].to_numpy(dtype="float64")
    x = pd.DataFrame(index=f.index)
    x["log_assets"] = np.log1p(f["total_assets"].clip(lower=0))
    x["log_revenue"] = np.log1p(f["revenue"].clip(lower=0))
    x["leverage"] = _div(f["total_liabilities"], assets)
    x["equity_ratio"] = _div(f["equity"], assets)
    x["asset_turnover"] = _div(f["revenue"], assets)
    for src, dst in (("operating_cf", "ocf"), ("investing_cf", "icf"), ("financing_cf", "fcf")):
        x[f"{dst}_to_assets"] = _div(f[src], assets)
    x["statement_age_years"] = _years(t, f["period_end"])
    x["has_statement"] = f["period_end"].notna().astype("float64")
    x["age_years"] = _years(t, f["founded"])
    x["log_employees"] = np.log1p(
        pd.to_numeric(f["employees"], errors="coerce").astype("float64").clip(lower=0)
    )
    x["log_capital"] = np.log1p(f["registered_capital"].astype("float64").clip(lower=0))
    x["size_rank"] = f["size_class"].map(_SIZE_RANK).astype("float64")
    stage = f["lifecycle_stage"].fillna("unknown")
    for s in LIFECYCLE_STAGES:
        x[f"lifecycle_{s.replace('-', '_')}"] = (stage == s).astype("float64")
    ratio = f["guarantee_ratio"].astype("float64")
    x["guarantee_ratio"] = ratio.where(~np.isinf(ratio), 10.0).clip(upper=10.0)
    x["log_guarantees_given"] = np.log1p(f["external_guarantees"].astype("float64").clip(lower=0))
    x = x.join(_loan_features(snapshot, assets))
    x = x.join(_event_features(snapshot, t))
    x = x.join(_signal_features(snapshot, t))
    return x.reset_index(drop=True).astype("float64")


def _loan_features(snapshot: Snapshot, assets: np.ndarray) -> pd.DataFrame:
    n = snapshot.n
    loans = snapshot.loans
    out = pd.DataFrame(index=pd.RangeIndex(n))
    if loans.empty:
        for c in ("n_loans", "debt_to_assets", "max_days_overdue", "worst_class_rank", "class_flagged"):
            out[c] = 0.0 if c in ("n_loans", "class_flagged") else np.nan
        return out
    b = loans["borrower"].to_numpy(dtype=np.int64)
    g = pd.DataFrame(
        {
            "b": b,
            "outstanding": pd.to_numeric(loans["outstanding"], errors="coerce"),
            "days": pd.to_numeric(loans["days_overdue"], errors="coerce"),
            "rank": loans["classification"].map(_CLASS_RANK),
            "flag": (loans["classification_flag"].fillna("") != "").astype("float64"),
        }
    ).groupby("b")
    # loans *running* at t, not every loan started by t: a count of all loans ever taken only
    # grows with the data's history, so its distribution drifts from one cut to the next
    running = pd.Series(running_loans(loans, snapshot.as_of), index=loans.index)
    out["n_loans"] = running.groupby(b).sum().reindex(out.index).fillna(0).astype("float64")
    out["debt_to_assets"] = _div(g["outstanding"].sum(min_count=1).reindex(out.index), assets)
    out["max_days_overdue"] = g["days"].max().reindex(out.index)
    out["worst_class_rank"] = g["rank"].max().reindex(out.index)
    out["class_flagged"] = g["flag"].max().reindex(out.index).fillna(0.0)
    return out


def _event_features(snapshot: Snapshot, t: pd.Timestamp) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(snapshot.n))
    ev = snapshot.events
    out["events_12m"] = 0.0
    out["lawsuits_12m"] = 0.0
    if ev.empty:
        return out
    recent = ev[(pd.to_datetime(ev["date"]) > t - pd.DateOffset(months=12)).to_numpy()]
    adverse = recent[recent["type"].isin(_ADVERSE).to_numpy()]
    out["events_12m"] = adverse.groupby("firm").size().reindex(out.index).fillna(0).astype("float64")
    legal = adverse[adverse["type"].isin(("lawsuit", "enforcement", "dishonest_debtor")).to_numpy()]
    out["lawsuits_12m"] = legal.groupby("firm").size().reindex(out.index).fillna(0).astype("float64")
    return out


_SIGNAL_COLUMNS = (
    "elec_trend",
    "elec_vs_peak",
    "elec_yoy",
    "util_last",
    "util_vs_peers",
    "orders_trend",
    "invoices_trend",
    "recv_days_change",
    "months_observed",
)


def _window_mean(s: pd.DataFrame, col: str, lo: int, hi: int) -> pd.Series:
    """Per firm, the mean of ``col`` over months ``lo <= age < hi`` (age 0: the last observed month)."""
    m = s[(s["age"] >= lo) & (s["age"] < hi)]
    return m.groupby("firm")[col].mean()


def _trend(s: pd.DataFrame, col: str) -> pd.Series:
    return _window_mean(s, col, 0, 3) / _window_mean(s, col, 3, 12).replace(0, np.nan) - 1.0


def _signal_features(snapshot: Snapshot, t: pd.Timestamp) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(snapshot.n), columns=list(_SIGNAL_COLUMNS), dtype="float64")
    sig = snapshot.signals
    if sig.empty:
        out["months_observed"] = 0.0
        return out
    last = pd.Period(t, "M") - (0 if t.is_month_end else 1)  # the last month observed at t
    months = pd.PeriodIndex(pd.to_datetime(sig["month"]), freq="M")
    age = (last.ordinal - months.asi8).astype(np.int64)
    s = sig.assign(age=age)
    s = s[(s["age"] >= 0) & (s["age"] < 24)]
    out["elec_trend"] = _trend(s, "electricity_kwh")
    peak = s[s["age"] < 12].groupby("firm")["electricity_kwh"].max()
    out["elec_vs_peak"] = _window_mean(s, "electricity_kwh", 0, 3) / peak.replace(0, np.nan)
    year = s[s["age"] < 12].groupby("firm")["electricity_kwh"].sum(min_count=1)
    prior = s[s["age"] >= 12].groupby("firm")["electricity_kwh"].sum(min_count=1)
    out["elec_yoy"] = year / prior.replace(0, np.nan) - 1.0
    util = _window_mean(s, "equipment_utilization", 0, 3)
    out["util_last"] = util
    industry = snapshot.firms["industry"].fillna("")
    peers = pd.DataFrame({"u": util.reindex(out.index), "ind": industry.to_numpy()})
    out["util_vs_peers"] = peers["u"] - peers.groupby("ind")["u"].transform("median")
    out["orders_trend"] = _trend(s, "orders")
    out["invoices_trend"] = _trend(s, "invoices")
    now = s[s["age"] == 0].groupby("firm")["receivable_days"].mean()
    then = s[s["age"] == 12].groupby("firm")["receivable_days"].mean()
    out["recv_days_change"] = now - then
    out["months_observed"] = s[s["age"] < 12].groupby("firm").size().reindex(out.index).fillna(0)
    return out.astype("float64").replace([np.inf, -np.inf], np.nan)
