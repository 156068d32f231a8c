"""Plain-language phrases for every model feature, with the firm's value written in.

Links to troubled counterparties read as sentences too (:func:`counterparty_sentence`).

Each feature of :mod:`gnn.features` and :mod:`gnn.graph_features` has an entry: a
phrase that states the firm's value as a fact ("electricity use down 34% over 3
months against the 9 before", "worst loan 95 days overdue") and the feature's
**risk direction**: ``+1`` when a higher value means more risk (days overdue,
leverage), ``-1`` when a lower one does (electricity trend, equity ratio), ``0``
when neither is clear (firm size in money, number of customers). A reason names a
feature as raising risk only when the model's contribution is positive *and* the
value sits on the risky side of the portfolio median (:mod:`gnn.reasons`), so the
phrase and the direction always agree. Features without an entry (a GNN's
embeddings) get a neutral generic phrase.

>>> feature_phrase("elec_trend", -0.34)
'electricity use down 34% over 3 months against the 9 before'
>>> feature_phrase("max_days_overdue", 95.0)
'worst loan 95 days overdue'
>>> feature_phrase("inputs_from_defaulted", 0.18)
'18% of its inputs come from suppliers in default'
>>> feature_phrase("log_assets", float("nan"))
'no financial statement published'
>>> money(3.21e7, "CNY")
'CNY 32.1m'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingest.snapshot import Snapshot
from ingest.tables import CLASSIFICATIONS, SIZE_CLASSES

__all__ = [
    "FEATURE_TEXTS",
    "FeatureText",
    "counterparty_sentence",
    "feature_phrase",
    "money",
    "risk_direction",
    "status_texts",
]


def money(amount: float, currency: str = "CNY") -> str:
    """An amount in thousands, millions or billions: ``CNY 32.1m``."""
    a = abs(amount)
    sign = "-" if amount < 0 else ""
    for unit, scale in (("bn", 1e9), ("m", 1e6), ("k", 1e3)):
        if a >= scale:
            return f"{currency} {sign}{a / scale:.1f}{unit}"
    return f"{currency} {sign}{a:.0f}"


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def _move(v: float) -> str:
    """``down 34%`` / ``up 12%`` / ``flat`` for a relative change."""
    if abs(v) < 0.005:
        return "flat"
    return f"{'down' if v < 0 else 'up'} {abs(100 * v):.0f}%"


def _trend(what: str) -> Callable[[float, str], str]:
    return lambda v, _: f"{what} {_move(v)} over 3 months against the 9 before"


def _count(one: str, many: str) -> Callable[[float, str], str]:
    return lambda v, _: f"{v:.0f} {one if round(v) == 1 else many}"


def _log_money(what: str) -> Callable[[float, str], str]:
    return lambda v, cur: f"{what} {money(math.expm1(v), cur)}"


@dataclass(frozen=True)
class FeatureText:
    """How one feature reads: its phrase, its risk direction, what a missing value means."""

    direction: int
    phrase: Callable[[float, str], str]
    missing: str


_NO_STATEMENT = "no financial statement published"


def _fin(direction: int, phrase: Callable[[float, str], str]) -> FeatureText:
    return FeatureText(direction, phrase, _NO_STATEMENT)


def _sig(direction: int, phrase: Callable[[float, str], str], what: str) -> FeatureText:
    return FeatureText(direction, phrase, f"no recent {what} data on the platform")


def _chain(direction: int, phrase: Callable[[float, str], str], missing: str) -> FeatureText:
    return FeatureText(direction, phrase, missing)


_LIFECYCLE_RISK = {"start_up": 1, "growth": -1, "mature": -1, "shake_out": 0, "decline": 1, "unknown": 0}


def _lifecycle(stage: str) -> FeatureText:
    words = stage.replace("_", "-")
    return FeatureText(
        _LIFECYCLE_RISK[stage],
        lambda v, _: (
            f"cash flows of a firm in {words} stage" if v >= 0.5 else f"cash flows not those of {words} stage"
        ),
        "no cash-flow statement",
    )


def _nbr(what: str, phrase: Callable[[float], str], direction: int) -> FeatureText:
    return FeatureText(direction, lambda v, _: f"trading partners' {what} {phrase(v)}", "no trading partners")


#: Every feature's phrase (own features first, then chain features).
FEATURE_TEXTS: dict[str, FeatureText] = {
    "log_assets": _fin(-1, _log_money("total assets")),
    "log_revenue": _fin(-1, _log_money("revenue")),
    "leverage": _fin(1, lambda v, _: f"liabilities {_pct(v)} of assets"),
    "equity_ratio": _fin(-1, lambda v, _: f"equity {_pct(v)} of assets"),
    "asset_turnover": _fin(-1, lambda v, _: f"revenue {v:.2f}× its assets"),
    "ocf_to_assets": _fin(-1, lambda v, _: f"operating cash flow {_pct(v)} of assets"),
    "icf_to_assets": _fin(0, lambda v, _: f"investing cash flow {_pct(v)} of assets"),
    "fcf_to_assets": _fin(0, lambda v, _: f"financing cash flow {_pct(v)} of assets"),
    "statement_age_years": _fin(1, lambda v, _: f"latest financial statement {v:.1f} years old"),
    "has_statement": FeatureText(
        -1, lambda v, _: "financial statements published" if v >= 0.5 else _NO_STATEMENT, _NO_STATEMENT
    ),
    "age_years": FeatureText(-1, lambda v, _: f"founded {v:.1f} years ago", "founding date unknown"),
    "log_employees": FeatureText(
        -1, lambda v, _: _count("employee", "employees")(math.expm1(v), _), "number of employees unknown"
    ),
    "log_capital": FeatureText(-1, _log_money("registered capital"), "registered capital unknown"),
    "size_rank": FeatureText(-1, lambda v, _: f"a {SIZE_CLASSES[round(v)]} firm", "size class unknown"),
    **{f"lifecycle_{s}": _lifecycle(s) for s in _LIFECYCLE_RISK},
    "guarantee_ratio": FeatureText(
        1,
        lambda v, _: (
            "gives guarantees of 10× its equity or more (or has no positive equity)"
            if v >= 10
            else f"gives guarantees of {v:.1f}× its equity"
        ),
        "guarantees given, equity unknown",
    ),
    "log_guarantees_given": FeatureText(1, _log_money("guarantees given"), "guarantees given unknown"),
    "n_loans": FeatureText(0, _count("running loan", "running loans"), "no running loans"),
    "debt_to_assets": FeatureText(
        1, lambda v, _: f"bank debt {_pct(v)} of assets", "bank debt against assets unknown"
    ),
    "max_days_overdue": FeatureText(
        1, lambda v, _: f"worst loan {v:.0f} days overdue", "no loan status on record"
    ),
    "worst_class_rank": FeatureText(
        1,
        lambda v, _: f"worst loan classified {CLASSIFICATIONS[round(v)].replace('_', ' ')}",
        "no loan classification on record",
    ),
    "class_flagged": FeatureText(
        1,
        lambda v, _: (
            "a loan's classification disagrees with its days overdue"
            if v >= 0.5
            else "loan classifications agree with days overdue"
        ),
        "no loan classification on record",
    ),
    "events_12m": FeatureText(
        1, _count("adverse event in 12 months", "adverse events in 12 months"), "no events on record"
    ),
    "lawsuits_12m": FeatureText(
        1,
        _count("lawsuit or enforcement in 12 months", "lawsuits or enforcements in 12 months"),
        "no events on record",
    ),
    "elec_trend": _sig(-1, _trend("electricity use"), "electricity"),
    "elec_vs_peak": _sig(
        -1, lambda v, _: f"electricity use at {_pct(v)} of its 12-month peak", "electricity"
    ),
    "elec_yoy": _sig(-1, lambda v, _: f"electricity use {_move(v)} on the year before", "electricity"),
    "util_last": _sig(-1, lambda v, _: f"equipment utilisation {_pct(v)} over 3 months", "utilisation"),
    "util_vs_peers": _sig(
        -1,
        lambda v, _: (
            f"equipment utilisation {_count('point', 'points')(abs(100 * v), _)} "
            f"{'below' if v < 0 else 'above'} its industry's median"
        ),
        "utilisation",
    ),
    "orders_trend": _sig(-1, _trend("orders"), "order"),
    "invoices_trend": _sig(-1, _trend("invoicing"), "invoice"),
    "recv_days_change": _sig(
        1,
        lambda v, _: f"receivable days {'up' if v >= 0 else 'down'} {abs(v):.0f} on a year before",
        "receivable-days",
    ),
    "months_observed": FeatureText(
        -1, lambda v, _: f"{v:.0f} of the last 12 months observed on the platform", "no platform signals"
    ),
    # chain features (gnn.graph_features)
    "sales_to_defaulted": _chain(
        1, lambda v, _: f"{_pct(v)} of its sales go to buyers in default", "no supply-chain sales on record"
    ),
    "inputs_from_defaulted": _chain(
        1,
        lambda v, _: f"{_pct(v)} of its inputs come from suppliers in default",
        "no supply-chain purchases on record",
    ),
    "guarantees_to_defaulted": _chain(
        1,
        lambda v, _: f"guarantees to borrowers in default {v:.1f}× its equity",
        "guarantees to borrowers in default, equity unknown",
    ),
    "sales_to_recent_defaults": _chain(
        1,
        lambda v, _: f"{_pct(v)} of its sales go to buyers that defaulted in the last 6 months",
        "no supply-chain sales on record",
    ),
    "inputs_from_recent_defaults": _chain(
        1,
        lambda v, _: f"{_pct(v)} of its inputs come from suppliers that defaulted in the last 6 months",
        "no supply-chain purchases on record",
    ),
    "guarantees_to_recent_defaults": _chain(
        1,
        lambda v, _: f"guarantees to borrowers that defaulted in the last 6 months {v:.1f}× its equity",
        "guarantees to recently defaulted borrowers, equity unknown",
    ),
    "receivables_from_defaulted": _chain(
        1,
        lambda v, _: f"{_pct(v)} of its trade receivables owed by debtors in default",
        "no trade receivables on record",
    ),
    "guarantors_defaulted": _chain(
        1,
        lambda v, _: f"{_pct(v)} of its guarantee cover from guarantors in default",
        "no firm guarantors on record",
    ),
    "log_sales": _chain(0, _log_money("supply-chain sales of"), ""),
    "log_inputs": _chain(0, _log_money("supply-chain purchases of"), ""),
    "log_receivables": _chain(0, _log_money("trade receivables of"), ""),
    "log_guarantees_received": _chain(0, _log_money("guaranteed by other firms for"), ""),
    "out_degree": _chain(0, _count("customer on the platform", "customers on the platform"), ""),
    "in_degree": _chain(0, _count("supplier on the platform", "suppliers on the platform"), ""),
    "guarantee_degree": _chain(1, _count("guarantee link", "guarantee links"), ""),
    "pagerank": _chain(0, lambda v, _: f"supply-chain centrality {v:.2f} (PageRank × firms)", ""),
    "guarantee_group_size": _chain(1, lambda v, _: f"in a guarantee group of {v:.0f} firms", ""),
    "nbr_leverage": _nbr("average leverage", _pct, 1),
    "nbr_elec_trend": _nbr("electricity use", lambda v: f"{_move(v)} over 3 months", -1),
    "nbr_util_vs_peers": _nbr("utilisation", lambda v: f"{100 * v:+.0f} points against their industries", -1),
    "nbr_orders_trend": _nbr("orders", lambda v: f"{_move(v)} over 3 months", -1),
    "nbr_max_days_overdue": _nbr("worst loans", lambda v: f"{v:.0f} days overdue on average", 1),
    "nbr_equity_ratio": _nbr("average equity", lambda v: f"{_pct(v)} of assets", -1),
    # B3: what the firm's chain adds to its log-odds, as the graph model reads it (no value)
    "gnn_neighbourhood": _chain(
        1,
        lambda v, _: "its supply and guarantee chain, as the graph model reads it",
        "its supply and guarantee chain, as the graph model reads it",
    ),
    # B4: the graph model's read-outs of the firm and its neighbourhood (gnn.stacking)
    "gnn_logit": _chain(1, lambda v, _: f"the graph model's own risk score {_pct(_sigmoid(v))}", ""),
    "gnn_buyers": _chain(
        1, lambda v, _: f"buyers the graph model rates risky ({_pct(v)} of sales, PD-weighted)", ""
    ),
    "gnn_suppliers": _chain(
        1, lambda v, _: f"suppliers the graph model rates risky ({_pct(v)} of inputs, PD-weighted)", ""
    ),
    "gnn_borrowers": _chain(
        1,
        lambda v, _: f"guarantees for borrowers the graph model rates risky ({v:.2f}× equity, PD-weighted)",
        "",
    ),
    "gnn_guarantors": _chain(
        1, lambda v, _: f"guarantors the graph model rates risky ({_pct(v)} of cover)", ""
    ),
    "gnn_debtors": _chain(
        1, lambda v, _: f"trade debtors the graph model rates risky ({_pct(v)} of receivables)", ""
    ),
    # B4, two hops: the same relation twice, exposures multiplied along the path
    "gnn_buyers_2hop": _chain(
        1, lambda v, _: f"buyers' buyers the graph model rates risky ({_pct(v)} of sales, chained)", ""
    ),
    "gnn_suppliers_2hop": _chain(
        1, lambda v, _: f"suppliers' suppliers the graph model rates risky ({_pct(v)} of inputs, chained)", ""
    ),
    "gnn_borrowers_2hop": _chain(
        1, lambda v, _: f"guarantee chains to borrowers the graph model rates risky ({v:.2f}, chained)", ""
    ),
    "gnn_guarantors_2hop": _chain(
        1, lambda v, _: f"guarantors' guarantors the graph model rates risky ({_pct(v)}, chained)", ""
    ),
    "gnn_debtors_2hop": _chain(
        1, lambda v, _: f"debtors' debtors the graph model rates risky ({_pct(v)}, chained)", ""
    ),
    "gnn_hood_mean": _chain(
        1, lambda v, _: f"firms within two links average a graph-model PD of {_pct(v)}", "no linked firms"
    ),
    "gnn_hood_max": _chain(
        1, lambda v, _: f"its riskiest counterparty has a graph-model PD of {_pct(v)}", "no linked firms"
    ),
}


def risk_direction(feature: str) -> int:
    """+1 when more of ``feature`` means more risk, -1 when less does, 0 when unclear or unknown."""
    entry = FEATURE_TEXTS.get(feature)
    return entry.direction if entry else 0


def feature_phrase(feature: str, value: float, currency: str = "CNY") -> str:
    """The phrase of ``feature`` at ``value`` (a missing value has its own phrase)."""
    entry = FEATURE_TEXTS.get(feature)
    known = value is not None and math.isfinite(value)
    if entry is None:
        return f"model input {feature} = {value:.3g}" if known else f"model input {feature} missing"
    if not known:
        return entry.missing or f"{feature.replace('_', ' ')} unknown"
    return entry.phrase(float(value), currency)


def _share(v: float) -> str:
    return "under 1%" if v < 0.01 else f"{100 * v:.0f}%"


def counterparty_sentence(
    relation: str, uscc: str, amount: float, exposure: float, status: str, via: str | None, currency: str
) -> str:
    """One link to a troubled counterparty, in words.

    >>> counterparty_sentence("guarantees", "91350100MA2XYZ0001", 3.2e6, 3.2, "in default since 2025-03",
    ...                       None, "CNY")
    'guarantees 3.2× its equity for 91350100MA2XYZ0001, in default since 2025-03'
    >>> counterparty_sentence("buys_from", "X", 1e5, 0.18, "with a PD of 23%", None, "CNY")
    'buys 18% of its inputs from X, with a PD of 23%'
    """
    known = exposure == exposure  # not NaN
    if relation == "guarantees":
        size = f"{exposure:.{1 if exposure >= 1 else 2}f}× its equity" if known else money(amount, currency)
        return f"guarantees {size} for {uscc}, {status}"
    if relation == "guaranteed_by":
        return (
            f"guaranteed by {uscc} for {money(amount, currency)} ({_share(exposure)} of its cover), {status}"
        )
    if relation == "sells_to":
        return f"sells {_share(exposure)} of its output to {uscc}, {status}"
    if relation == "buys_from":
        return f"buys {_share(exposure)} of its inputs from {uscc}, {status}"
    if relation == "owed_by":
        return (
            f"is owed {money(amount, currency)} of trade credit ({_share(exposure)} of its receivables) "
            f"by {uscc}, {status}"
        )
    if relation == "owes":
        return f"owes {money(amount, currency)} of trade credit to {uscc}, {status}"
    if relation == "owned_by":
        return f"{_share(exposure)} owned by {uscc}, {status}"
    if relation == "owns":
        return f"owns {_share(exposure)} of {uscc}, {status}"
    return f"shares the owner {via} with {uscc}, {status}"


def status_texts(snapshot: Snapshot, pd_all: np.ndarray, cps: np.ndarray) -> list[str]:
    """How each counterparty (snapshot rows ``cps``) is in trouble: its default month, else its PD."""
    dates = pd.to_datetime(snapshot.firms["default_date"]).to_numpy()[cps]
    out = []
    for d, p in zip(dates, pd_all[cps], strict=True):
        out.append(f"in default since {pd.Timestamp(d):%Y-%m}" if d == d else f"with a PD of {_share(p)}")
    return out
