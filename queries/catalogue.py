"""The catalogue of named queries: one :class:`NamedQuery` per question the library asks the graph.

Each entry holds its Cypher text (a literal: labels, relationship types and property
names are the schema's, ``graph.schema`` and the contract's table -> graph map, which
``tests/queries/test_catalogue.py`` checks token by token), its typed parameters, the
columns it returns, a timeout, a row cap and its documentation. Values reach the
server only as ``$parameters``.

Reading as of a date
--------------------
Every query reads the graph as it stood on ``$as_of`` (default: the latest ``as_of``
of a committed ingest run, :func:`latest_as_of`). A dated link (``SUPPLIES``,
``GUARANTEES``) counts when

.. math:: start \\le as\\_of \\;\\wedge\\; (end = \\varnothing \\vee end > as\\_of)

the snapshot's rule (``docs/data-model.md``); a fact node counts from the day it could
be known (a statement from ``published``, a loan from ``start``, a loan status or a
signal from its ``month``), and the latest such fact is the one read. Dates come back
as ISO text (``toString``), so every answer is plain Python and JSON.

Running one::

    frame = run_query(runner, "firm_search", {"q": "Beta"})
    frame = run_query(runner, "classification_mismatch", {"as_of": "2024-06-30"})

>>> sorted(CATALOGUE)[:3]
['all_firm_details', 'bank_borrowers', 'book_firms']
>>> CATALOGUE["supply_upstream_hop"].param("frontier").type
'list[str]'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, LiteralString

import pandas as pd

from chainrisk.errors import InvalidQueryParameter
from graph.protocol import QueryRunner
from ingest.uscc import validate as valid_uscc

__all__ = [
    "ACTIVE_GUARANTEE",
    "ACTIVE_SUPPLY",
    "CATALOGUE",
    "FIRM_BATCH",
    "NamedQuery",
    "Param",
    "ParamType",
    "bind",
    "frame_document",
    "jsonable",
    "latest_as_of",
    "records",
    "resolve_as_of",
    "run_for_firms",
    "run_query",
]

ParamType = Literal["str", "uscc", "int", "float", "date", "bool", "list[str]"]

#: The activity rule of a dated link ``r`` (documented above); written into each text as a literal.
ACTIVE_SUPPLY: LiteralString = "r.start <= $as_of AND (r.end IS NULL OR r.end > $as_of)"
ACTIVE_GUARANTEE: LiteralString = ACTIVE_SUPPLY


@dataclass(frozen=True)
class Param:
    """A typed query parameter.

    ``default`` is used when the caller gives none (``None`` with ``required=False``
    means the parameter is null, or for ``as_of`` the latest ingested date);
    ``min``/``max`` bound numbers (inclusive).
    """

    name: str
    type: ParamType
    doc: str
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None

    def coerce(self, value: Any) -> Any:
        """``value`` (a Python value, or text from a command line) as this parameter's type."""
        if value is None:
            if self.required:
                raise InvalidQueryParameter(f"parameter {self.name!r} is required")
            return self.default
        try:
            out = _coerce(self.type, value)
        except (TypeError, ValueError) as exc:
            raise InvalidQueryParameter(f"parameter {self.name!r}: {exc}") from exc
        number = isinstance(out, int | float) and not isinstance(out, bool)
        low = self.min is not None and out < self.min
        if number and (low or (self.max is not None and out > self.max)):
            raise InvalidQueryParameter(
                f"parameter {self.name!r} must lie in [{self.min}, {self.max}], got {out}"
            )
        return out


def _coerce(kind: ParamType, value: Any) -> Any:
    if kind == "str":
        return str(value)
    if kind == "uscc":
        return valid_uscc(str(value))
    if kind == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"expected a whole number, got {value!r}")
        return int(value)
    if kind == "float":
        out = float(value)
        if not math.isfinite(out):
            raise ValueError(f"expected a finite number, got {value!r}")
        return out
    if kind == "date":
        if isinstance(value, date):
            return value if type(value) is date else value.date()  # type: ignore[attr-defined]
        return date.fromisoformat(str(value))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes"):
            return True
        if text in ("0", "false", "no"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    # list[str]: a list, or comma-separated text
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


@dataclass(frozen=True)
class NamedQuery:
    """One named, documented, parameterised query.

    Attributes
    ----------
    name : str
    text : LiteralString
        The Cypher; values only as ``$parameters``.
    params : tuple of Param
    columns : tuple of str
        The columns it returns, in order.
    doc : str
        What it answers, in a credit officer's or analyst's words.
    timeout_s : float
        Server-side transaction timeout.
    row_cap : int
        At most this many rows are read back (the stream stops there).
    """

    name: str
    text: LiteralString
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    doc: str
    timeout_s: float = 30.0
    row_cap: int = 100_000
    tags: tuple[str, ...] = field(default=())

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


_AS_OF = Param("as_of", "date", "the date the graph is read at (default: the latest ingested as_of)")
_LENDERS = Param("lenders", "list[str]", "lender ids that make up the bank (empty: every lender)", default=[])
_FRONTIER = Param("frontier", "list[str]", "USCCs of the firms one hop nearer the focal firm", required=True)

_HOP_COLUMNS = ("near", "far", "kind", "value")


def _q(*parts: LiteralString) -> LiteralString:
    return " ".join(parts)


#: Per firm ``f``: the columns of ``firm_details`` (``all_firm_details`` reads them for every firm).
_FIRM_DETAILS: LiteralString = _q(
    "WITH f,",
    "  COLLECT { MATCH (f)-[:REPORTED]->(x:Financials) WHERE x.published <= $as_of",
    "    RETURN x ORDER BY x.published DESC, x.period_end DESC LIMIT 1 }[0] AS fin,",
    "  COLLECT { MATCH (f)-[:HAS_SIGNAL]->(g:Signal) WHERE g.month <= $as_of",
    "    RETURN g.month ORDER BY g.month DESC LIMIT 1 }[0] AS signal_month,",
    "  COLLECT { MATCH (f)-[:BORROWED]->(:Loan)-[:HAS_STATUS]->(s:LoanStatus)",
    "    WHERE s.month <= $as_of",
    "    RETURN s.month ORDER BY s.month DESC LIMIT 1 }[0] AS status_month,",
    "  COLLECT { MATCH (:Current {family: 'risk'})-[:POINTS_TO]->(run:Run)",
    "    MATCH (f)-[:HAS_RESULT]->(x:Result {run_id: run.run_id}) RETURN x LIMIT 1 }[0] AS risk,",
    "  COLLECT { MATCH (:Current {family: 'stress'})-[:POINTS_TO]->(run:Run)",
    "    MATCH (f)-[:HAS_RESULT]->(x:Result {run_id: run.run_id}) RETURN x LIMIT 1 }[0] AS stress",
    "RETURN f.uscc AS uscc, f.name AS name, f.industry AS industry, f.region AS region,",
    "  coalesce(f.external, false) AS external,",
    "  toString(fin.published) AS statement_published, toString(fin.period_end) AS statement_period,",
    "  toString(signal_month) AS signal_month, toString(status_month) AS loan_status_month,",
    "  risk.risk_pd AS risk_pd, risk.risk_tier AS risk_tier, toString(risk.as_of) AS risk_as_of,",
    "  stress.stress_default_prob AS stress_default_prob,",
    "  stress.stress_systemic_impact AS stress_systemic_impact",
)
_DETAIL_COLUMNS = ("uscc", "name", "industry", "region", "external", "statement_published",
                   "statement_period", "signal_month", "loan_status_month", "risk_pd", "risk_tier",
                   "risk_as_of", "stress_default_prob", "stress_systemic_impact")


_QUERIES: tuple[NamedQuery, ...] = (
    NamedQuery(
        name="ingested_as_of",
        text="MATCH (r:Run {kind: 'ingest', status: 'committed'}) RETURN toString(max(r.as_of)) AS as_of",
        params=(),
        columns=("as_of",),
        doc="The latest as_of of a committed ingest run: the default date every query reads at.",
        row_cap=1,
    ),
    NamedQuery(
        name="ingest_state",
        text=_q(
            "MATCH (r:Run {kind: 'ingest', status: 'committed'})",
            "WITH toString(max(r.as_of)) AS as_of, count(r) AS runs, max(r.run_id) AS latest",
            "RETURN as_of, runs, latest,",
            "  COLLECT { MATCH (:Current {family: 'risk'})-[:POINTS_TO]->(x:Run) RETURN x.run_id }[0]",
            "  AS risk_run,",
            "  COLLECT { MATCH (:Current {family: 'stress'})-[:POINTS_TO]->(x:Run) RETURN x.run_id }[0]",
            "  AS stress_run",
        ),
        params=(),
        columns=("as_of", "runs", "latest", "risk_run", "stress_run"),
        doc="The latest as_of of a committed ingest run, the number of such runs and the greatest run id, "
            "and the current risk and stress runs: what the graph's data is, as far as caches of it are "
            "concerned (a new ingest, or a new current run, changes it).",
        row_cap=1,
    ),
    NamedQuery(
        name="supply_network",
        text=_q(
            "MATCH (s:Firm)-[r:SUPPLIES]->(b:Firm) WHERE", ACTIVE_SUPPLY,
            "RETURN s.uscc AS source, b.uscc AS target, sum(r.annual_value) AS value",
        ),
        params=(_AS_OF,),
        columns=("source", "target", "value"),
        doc="Every active supply link, the annual value summed per (supplier, buyer): the supply network "
            "that chain walks run over in this process (queries.chaincache).",
        timeout_s=300.0,
        row_cap=50_000_000,
    ),
    NamedQuery(
        name="book_firms",
        text=_q(
            "MATCH (f:Firm)-[:BORROWED]->(l:Loan) WHERE l.start <= $as_of RETURN f.uscc AS uscc",
            "UNION",
            "MATCH (f:Firm)-[r:GUARANTEES]->(:Firm) WHERE", ACTIVE_GUARANTEE, "RETURN f.uscc AS uscc",
        ),
        params=(_AS_OF,),
        columns=("uscc",),
        doc="Firms with a loan started by the date or an active guarantee given to a firm: the only firms "
            "whose firm_exposure row is not all zeros (every other firm's is 0, with no loan class).",
        timeout_s=120.0,
        row_cap=50_000_000,
    ),
    NamedQuery(
        name="firm_search",
        text=_q(
            "MATCH (f:Firm) WHERE f.uscc STARTS WITH toUpper($q) OR toLower(f.name) CONTAINS toLower($q)",
            "RETURN f.uscc AS uscc, f.name AS name, f.industry AS industry, f.region AS region,",
            "coalesce(f.external, false) AS external ORDER BY uscc LIMIT $limit",
        ),
        params=(Param("q", "str", "a USCC prefix or part of a name", required=True),
                Param("limit", "int", "rows at most", default=50, min=1, max=1000)),
        columns=("uscc", "name", "industry", "region", "external"),
        doc="Firms whose USCC starts with q or whose name contains q (case-insensitive).",
        row_cap=1000,
    ),
    NamedQuery(
        name="supply_upstream_hop",
        text=_q(
            "UNWIND $frontier AS near MATCH (t:Firm {uscc: near})",
            "MATCH (t)<-[r:SUPPLIES]-(s:Firm) WHERE", ACTIVE_SUPPLY,
            "RETURN near, s.uscc AS far, 'firm' AS kind, sum(r.annual_value) AS value",
        ),
        params=(_FRONTIER, _AS_OF),
        columns=_HOP_COLUMNS,
        doc="One breadth-first step upstream: the active suppliers (far) of each frontier firm (near) and "
            "the annual value they supply it (summed per pair; near's rows sum to its active inputs).",
        tags=("chain",),
    ),
    NamedQuery(
        name="supply_downstream_hop",
        text=_q(
            "UNWIND $frontier AS near MATCH (t:Firm {uscc: near})",
            "MATCH (t)-[r:SUPPLIES]->(s:Firm) WHERE", ACTIVE_SUPPLY,
            "RETURN near, s.uscc AS far, 'firm' AS kind, sum(r.annual_value) AS value",
        ),
        params=(_FRONTIER, _AS_OF),
        columns=_HOP_COLUMNS,
        doc="One breadth-first step downstream: the active buyers (far) of each frontier firm (near) and "
            "the annual value it sells them (summed per pair; near's rows sum to its active sales).",
        tags=("chain",),
    ),
    NamedQuery(
        name="guarantor_hop",
        text=_q(
            "UNWIND $frontier AS near MATCH (t:Firm {uscc: near})<-[r:GUARANTEES]-(g:Firm|Person)",
            "WHERE", ACTIVE_GUARANTEE,
            "RETURN near, coalesce(g.uscc, g.person_id) AS far,",
            "CASE WHEN g:Person THEN 'person' ELSE 'firm' END AS kind, sum(r.amount) AS value",
        ),
        params=(_FRONTIER, _AS_OF),
        columns=_HOP_COLUMNS,
        doc="One step along guarantees towards guarantors: who (firm or person) guarantees each frontier "
            "firm, and the active guaranteed amount.",
        tags=("chain",),
    ),
    NamedQuery(
        name="guaranteed_hop",
        text=_q(
            "UNWIND $frontier AS near MATCH (t:Firm {uscc: near})-[r:GUARANTEES]->(b:Firm)",
            "WHERE", ACTIVE_GUARANTEE,
            "RETURN near, b.uscc AS far, 'firm' AS kind, sum(r.amount) AS value",
        ),
        params=(_FRONTIER, _AS_OF),
        columns=_HOP_COLUMNS,
        doc="One step along guarantees towards borrowers: whose loans each frontier firm guarantees, "
            "and the active guaranteed amount.",
        tags=("chain",),
    ),
    NamedQuery(
        name="firm_exposure",
        text=_q(
            "UNWIND $usccs AS u MATCH (f:Firm {uscc: u})",
            "CALL (f) {",
            "  OPTIONAL MATCH (f)-[:BORROWED]->(l:Loan) WHERE l.start <= $as_of",
            "  WITH l, COLLECT { MATCH (l)-[:HAS_STATUS]->(s:LoanStatus) WHERE s.month <= $as_of",
            "    RETURN s ORDER BY s.month DESC LIMIT 1 } AS st",
            "  WITH l, st[0] AS s, (size($lenders) = 0 OR l.lender IN $lenders) AS ours",
            "  WITH l, s, ours, coalesce(s.outstanding, l.principal, 0.0) AS bal",
            "  RETURN",
            "    sum(CASE WHEN l IS NOT NULL AND ours THEN bal ELSE 0.0 END) AS outstanding,",
            "    sum(CASE WHEN l IS NOT NULL AND ours AND l.`limit` IS NOT NULL",
            "        AND (l.maturity IS NULL OR l.maturity > $as_of) AND l.`limit` > bal",
            "        THEN l.`limit` - bal ELSE 0.0 END) AS undrawn,",
            "    sum(CASE WHEN l IS NOT NULL THEN bal ELSE 0.0 END) AS balance_all,",
            "    count(CASE WHEN ours THEN l END) AS bank_loans,",
            "    max(CASE WHEN ours THEN s.month END) AS bank_status_month,",
            "    max(s.month) AS status_month,",
            "    max(CASE s.classification WHEN 'normal' THEN 0 WHEN 'special_mention' THEN 1",
            "        WHEN 'substandard' THEN 2 WHEN 'doubtful' THEN 3 WHEN 'loss' THEN 4 END) AS worst_rank",
            "}",
            "CALL (f) {",
            "  OPTIONAL MATCH (f)-[r:GUARANTEES]->(:Firm) WHERE", ACTIVE_GUARANTEE,
            "  OPTIONAL MATCH (gl:Loan {loan_id: r.loan_id})",
            "  RETURN sum(CASE WHEN size($lenders) = 0 OR gl.lender IN $lenders THEN r.amount ELSE 0.0 END)",
            "    AS guarantees_given",
            "}",
            "WITH f, outstanding, undrawn, balance_all, bank_loans, bank_status_month, status_month,",
            "  worst_rank, guarantees_given,",
            "  COLLECT { MATCH (f)-[:REPORTED]->(x:Financials) WHERE x.published <= $as_of",
            "    RETURN x ORDER BY x.published DESC, x.period_end DESC LIMIT 1 }[0] AS fin",
            "RETURN f.uscc AS uscc, outstanding, undrawn, outstanding + undrawn AS exposure,",
            "  guarantees_given, balance_all, bank_loans, worst_rank, fin.equity AS equity,",
            "  toString(status_month) AS status_month",
        ),
        params=(Param("usccs", "list[str]", "the firms", required=True), _AS_OF, _LENDERS),
        columns=("uscc", "outstanding", "undrawn", "exposure", "guarantees_given", "balance_all",
                 "bank_loans", "worst_rank", "equity", "status_month"),
        doc="Per firm, as of the date: the bank's outstanding balance (latest status by then; the "
            "principal when none yet), undrawn limits of live loans (limit - outstanding, not below 0), "
            "exposure = outstanding + undrawn, the active guarantees the firm gave on the bank's loans, "
            "its balance with every lender, the worst five-category rank of its loans (0 normal .. 4 "
            "loss) and the equity of its latest published statement.",
        timeout_s=60.0,
        row_cap=1_000_000,
    ),
    NamedQuery(
        name="firm_details",
        text=_q(
            "UNWIND $usccs AS u MATCH (f:Firm {uscc: u})",
            _FIRM_DETAILS,
        ),
        params=(Param("usccs", "list[str]", "the firms", required=True), _AS_OF),
        columns=_DETAIL_COLUMNS,
        doc="Per firm: name, industry, region; the dates of its latest statement (published by the "
            "date), signal and loan status; the current risk run's PD and tier and the current stress "
            "run's default probability and systemic impact, where those runs exist.",
        timeout_s=60.0,
        row_cap=10_000,
    ),
    NamedQuery(
        name="all_firm_details",
        # firm_details for every firm in one stream (queries.details.DetailsTable): no $usccs list to
        # send and match, and one round trip instead of one a batch
        text=_q(
            "MATCH (f:Firm)",
            _FIRM_DETAILS,
        ),
        params=(_AS_OF,),
        columns=_DETAIL_COLUMNS,
        doc="firm_details for every firm of the graph at once: what a process keeps in memory so that "
            "a page's or a portfolio answer's details are lookups (queries.details.DetailsTable).",
        timeout_s=600.0,
        row_cap=50_000_000,
    ),
    NamedQuery(
        name="firm_risk",
        text=_q(
            "MATCH (f:Firm {uscc: $firm})",
            "MATCH (:Current {family: 'risk'})-[:POINTS_TO]->(run:Run)",
            "MATCH (f)-[:HAS_RESULT]->(x:Result {run_id: run.run_id})",
            "RETURN f.uscc AS uscc, x.risk_pd AS risk_pd, x.risk_tier AS risk_tier,",
            "  x.risk_reasons AS risk_reasons, x.risk_suggested_class AS risk_suggested_class,",
            "  x.risk_pd_change AS risk_pd_change, x.risk_segment AS risk_segment,",
            "  x.risk_model_version AS risk_model_version, run.run_id AS run_id,",
            "  toString(run.as_of) AS risk_as_of",
        ),
        params=(Param("firm", "uscc", "the firm", required=True),),
        columns=("uscc", "risk_pd", "risk_tier", "risk_reasons", "risk_suggested_class", "risk_pd_change",
                 "risk_segment", "risk_model_version", "run_id", "risk_as_of"),
        doc="The firm's labels in the current risk run: PD, tier, reasons (strongest first), the "
            "suggested five-category class, the change of PD since the previous run, the model; no row "
            "when no risk run is current or the firm was not scored.",
        row_cap=1,
    ),
    NamedQuery(
        name="guarantee_links",
        text=_q(
            "MATCH (g:Firm|Person)-[r:GUARANTEES]->(b:Firm) WHERE", ACTIVE_GUARANTEE,
            "WITH CASE WHEN g:Person THEN 'person' ELSE 'firm' END AS kind,",
            "  coalesce(g.uscc, g.person_id) AS guarantor, b.uscc AS borrower, r.amount AS amount",
            "RETURN kind, guarantor, borrower, sum(amount) AS amount, count(*) AS links",
            "ORDER BY guarantor, borrower",
        ),
        params=(_AS_OF,),
        columns=("kind", "guarantor", "borrower", "amount", "links"),
        doc="Every active guarantee, summed per (guarantor, borrower): the guarantee network.",
        timeout_s=120.0,
        row_cap=5_000_000,
    ),
    NamedQuery(
        name="classification_mismatch",
        text=_q(
            "MATCH (f:Firm)-[:BORROWED]->(l:Loan) WHERE l.start <= $as_of",
            "WITH f, l, COLLECT { MATCH (l)-[:HAS_STATUS]->(s:LoanStatus) WHERE s.month <= $as_of",
            "  RETURN s ORDER BY s.month DESC LIMIT 1 }[0] AS s",
            "WITH f, l, s,",
            "  CASE s.classification WHEN 'normal' THEN 0 WHEN 'special_mention' THEN 1",
            "    WHEN 'substandard' THEN 2 WHEN 'doubtful' THEN 3 WHEN 'loss' THEN 4 END AS rank,",
            "  CASE WHEN s.days_overdue > 360 THEN 4 WHEN s.days_overdue > 270 THEN 3",
            "    WHEN s.days_overdue > 90 THEN 2 WHEN s.days_overdue > 0 THEN 1 ELSE 0 END AS floor",
            "WHERE s IS NOT NULL AND rank < floor",
            "RETURN f.uscc AS uscc, l.loan_id AS loan_id, l.lender AS lender, toString(s.month) AS month,",
            "  s.days_overdue AS days_overdue, s.classification AS classification,",
            "  ['normal', 'special_mention', 'substandard', 'doubtful', 'loss'][floor] AS at_least",
            "ORDER BY floor - rank DESC, uscc, loan_id",
        ),
        params=(_AS_OF,),
        columns=("uscc", "loan_id", "lender", "month", "days_overdue", "classification", "at_least"),
        doc="Loans whose latest five-category class is better than days overdue allow (rules in force "
            "since 2023-07-01: overdue -> special mention, > 90 days substandard, > 270 doubtful, "
            "> 360 loss). Flagged, never corrected: the lender's class stays as reported.",
        timeout_s=120.0,
    ),
)

_SOURCE = Param("source", "uscc", "USCC of the first firm", required=True)
_TARGET = Param("target", "uscc", "USCC of the second firm", required=True)
_HOPS = Param("hops", "int", "links on a path at most", default=4, min=1, max=5)
_MAX_PATHS = Param("max_paths", "int", "paths at most", default=100, min=1, max=1000)
_PATH_NODES: LiteralString = _q(
    "[n IN nodes(p) | {id: coalesce(n.uscc, n.person_id),",
    "  party: CASE WHEN n:Person THEN 'person' ELSE 'firm' END}] AS nodes,",
)

_WINDOW = Param("window", "int", "months in each of the two windows compared", default=3, min=1, max=12)
#: Per firm ``f``: each signal's mean over the last $window months up to $as_of (``*_now``) and over
#: the $window months before (``*_before``), from the monthly Signal facts known by then.
_SIGNAL_WINDOWS: LiteralString = _q(
    "CALL (f) {",
    "  WITH $as_of - duration({months: $window}) AS mid, $as_of - duration({months: 2 * $window}) AS lo",
    "  OPTIONAL MATCH (f)-[:HAS_SIGNAL]->(g:Signal) WHERE g.month > lo AND g.month <= $as_of",
    "  WITH g, g.month > mid AS now",
    "  RETURN avg(CASE WHEN now THEN g.electricity_kwh END) AS kwh_now,",
    "    avg(CASE WHEN NOT now THEN g.electricity_kwh END) AS kwh_before,",
    "    avg(CASE WHEN now THEN g.equipment_utilization END) AS util_now,",
    "    avg(CASE WHEN NOT now THEN g.equipment_utilization END) AS util_before,",
    "    avg(CASE WHEN now THEN g.orders END) AS orders_now,",
    "    avg(CASE WHEN NOT now THEN g.orders END) AS orders_before,",
    "    avg(CASE WHEN now THEN g.invoices END) AS invoices_now,",
    "    avg(CASE WHEN NOT now THEN g.invoices END) AS invoices_before",
    "}",
    "WITH *, [x IN [['electricity', kwh_now, kwh_before], ['utilisation', util_now, util_before],",
    "    ['orders', orders_now, orders_before], ['invoices', invoices_now, invoices_before]]",
    "  WHERE x[1] IS NOT NULL AND x[2] > 0 | [x[0], x[1] / x[2] - 1.0]] AS changes",
)
_SIGNAL_COLUMNS: LiteralString = _q(
    "[x IN changes WHERE x[0] = 'electricity' | x[1]][0] AS electricity_change,",
    "[x IN changes WHERE x[0] = 'utilisation' | x[1]][0] AS utilisation_change,",
    "[x IN changes WHERE x[0] = 'orders' | x[1]][0] AS orders_change,",
    "[x IN changes WHERE x[0] = 'invoices' | x[1]][0] AS invoices_change,",
)

#: Portfolio questions (paths, connected clients, concentration, early warning, prospects).
_PORTFOLIO_QUERIES: tuple[NamedQuery, ...] = (
    NamedQuery(
        name="supply_paths",
        # a quantified path pattern: the activity rule prunes the breadth-first search itself;
        # the quantifier is a literal (Cypher takes no parameter there), $hops cuts it
        text=_q(
            "MATCH p = ALL SHORTEST (a:Firm {uscc: $source})",
            "  (()-[r:SUPPLIES]->() WHERE", ACTIVE_SUPPLY, "){1,5} (b:Firm {uscc: $target})",
            "WHERE size(r) <= $hops",
            "RETURN size(r) AS length,", _PATH_NODES,
            "  [x IN r | {from: startNode(x).uscc, to: endNode(x).uscc, uid: x.uid, value: x.annual_value,",
            "    start: toString(x.start), end: toString(x.end)}] AS links",
            "LIMIT $max_paths",
        ),
        params=(_SOURCE, _TARGET, _HOPS, _MAX_PATHS, _AS_OF),
        columns=("length", "nodes", "links"),
        doc="The shortest supply paths from source down to target (source supplies ... supplies target) "
            "over links active on the date, at most hops long; each link with its annual value.",
        row_cap=1000,
    ),
    NamedQuery(
        name="guarantee_paths",
        text=_q(
            "MATCH p = ALL SHORTEST (a:Firm {uscc: $source})",
            "  (()-[r:GUARANTEES]-() WHERE", ACTIVE_GUARANTEE, "){1,5} (b:Firm {uscc: $target})",
            "WHERE size(r) <= $hops",
            "RETURN size(r) AS length,", _PATH_NODES,
            "  [x IN r | {from: coalesce(startNode(x).uscc, startNode(x).person_id), to: endNode(x).uscc,",
            "    uid: x.uid, amount: x.amount, loan_id: x.loan_id, start: toString(x.start),",
            "    end: toString(x.end)}] AS links",
            "LIMIT $max_paths",
        ),
        params=(_SOURCE, _TARGET, _HOPS, _MAX_PATHS, _AS_OF),
        columns=("length", "nodes", "links"),
        doc="The shortest guarantee paths between two firms, either way along each guarantee, persons "
            "included as links (a person guaranteeing both firms is a path of 2); each link with its "
            "guarantor, borrower, amount and loan.",
        row_cap=1000,
    ),
    NamedQuery(
        name="ownership_links",
        text=_q(
            "MATCH (o:Firm|Person)-[r:OWNS]->(f:Firm)",
            "WHERE (r.start IS NULL OR r.start <= $as_of) AND (r.end IS NULL OR r.end > $as_of)",
            "WITH CASE WHEN o:Person THEN 'person' ELSE 'firm' END AS kind,",
            "  coalesce(o.uscc, o.person_id) AS owner,",
            "  f.uscc AS firm, sum(r.share) AS share",
            "WHERE share >= $min_share",
            "RETURN kind, owner, firm, share ORDER BY owner, firm",
        ),
        params=(Param("min_share", "float", "the least share held (0.5: control)", default=0.5, min=0.0,
                      max=1.0), _AS_OF),
        columns=("kind", "owner", "firm", "share"),
        doc="Who (firm or person) holds at least min_share of which firm on the date (shares summed per "
            "pair; a holding with no start was held since before the data begin).",
        timeout_s=120.0,
        row_cap=5_000_000,
    ),
    NamedQuery(
        name="bank_borrowers",
        text=_q(
            "MATCH (f:Firm)-[:BORROWED]->(l:Loan) WHERE l.start <= $as_of",
            "  AND (size($lenders) = 0 OR l.lender IN $lenders)",
            "RETURN DISTINCT f.uscc AS uscc ORDER BY uscc",
        ),
        params=(_AS_OF, _LENDERS),
        columns=("uscc",),
        doc="Every firm with a loan from the bank (lenders; empty: any lender) started by the date.",
        timeout_s=120.0,
        row_cap=5_000_000,
    ),
    NamedQuery(
        name="portfolio_loans",
        text=_q(
            "MATCH (f:Firm)-[:BORROWED]->(l:Loan) WHERE l.start <= $as_of",
            "  AND (size($lenders) = 0 OR l.lender IN $lenders)",
            "WITH f, l, COLLECT { MATCH (l)-[:HAS_STATUS]->(s:LoanStatus) WHERE s.month <= $as_of",
            "  RETURN s ORDER BY s.month DESC LIMIT 1 }[0] AS s",
            "WITH f, l, coalesce(s.outstanding, l.principal, 0.0) AS bal",
            "WITH f, l.lender AS lender, sum(bal) AS outstanding,",
            "  sum(CASE WHEN l.`limit` IS NOT NULL AND (l.maturity IS NULL OR l.maturity > $as_of)",
            "      AND l.`limit` > bal THEN l.`limit` - bal ELSE 0.0 END) AS undrawn",
            "WITH f, lender, outstanding, undrawn,",
            "  COLLECT { MATCH (f)-[:REPORTED]->(x:Financials) WHERE x.published <= $as_of",
            "    RETURN x ORDER BY x.published DESC, x.period_end DESC LIMIT 1 }[0] AS fin",
            "RETURN f.uscc AS uscc, lender, outstanding, undrawn, outstanding + undrawn AS exposure,",
            "  f.region AS region, f.industry AS industry, fin.operating_cf AS operating_cf,",
            "  fin.investing_cf AS investing_cf, fin.financing_cf AS financing_cf,",
            "  COUNT { MATCH (f)<-[r:SUPPLIES]-(:Firm) WHERE", ACTIVE_SUPPLY, "} AS suppliers,",
            "  COUNT { MATCH (f)-[r:SUPPLIES]->(:Firm) WHERE", ACTIVE_SUPPLY, "} AS buyers",
            "ORDER BY uscc, lender",
        ),
        params=(_AS_OF, _LENDERS),
        columns=("uscc", "lender", "outstanding", "undrawn", "exposure", "region", "industry", "operating_cf",
                 "investing_cf", "financing_cf", "suppliers", "buyers"),
        doc="The bank's book per (firm, lender) as of the date: outstanding (latest status; the principal "
            "when none yet), undrawn limits, exposure; the firm's region, industry, the cash flows of its "
            "latest published statement (lifecycle stage) and its active suppliers and buyers (chain "
            "position).",
        timeout_s=120.0,
        row_cap=5_000_000,
    ),
    NamedQuery(
        name="early_warning",
        text=_q(
            "MATCH (f:Firm) WHERE EXISTS { MATCH (f)-[:HAS_SIGNAL]->(:Signal) }",
            _SIGNAL_WINDOWS,
            "WITH f, changes, [x IN changes WHERE x[1] <= -$min_fall | x[0]] AS falling",
            "WHERE size(falling) > 0",
            "CALL (f) {",
            "  WITH $as_of - duration({months: $window}) AS mid",
            "  OPTIONAL MATCH (f)-[:BORROWED]->(l:Loan) WHERE l.start <= $as_of",
            "  WITH l, mid,",
            "    COLLECT { MATCH (l)-[:HAS_STATUS]->(s:LoanStatus) WHERE s.month <= $as_of",
            "      RETURN s.outstanding ORDER BY s.month DESC LIMIT 1 }[0] AS now_bal,",
            "    COLLECT { MATCH (l)-[:HAS_STATUS]->(s:LoanStatus) WHERE s.month <= mid",
            "      RETURN s.outstanding ORDER BY s.month DESC LIMIT 1 }[0] AS then_bal",
            "  RETURN sum(CASE WHEN l IS NULL THEN 0.0 ELSE coalesce(now_bal, l.principal, 0.0) END)",
            "      AS borrowing_now,",
            "    sum(CASE WHEN l.start <= mid THEN coalesce(then_bal, l.principal, 0.0) ELSE 0.0 END)",
            "      AS borrowing_before,",
            "    sum(CASE WHEN l IS NOT NULL AND (size($lenders) = 0 OR l.lender IN $lenders)",
            "      THEN coalesce(now_bal, l.principal, 0.0) ELSE 0.0 END) AS bank_outstanding",
            "}",
            "WITH f, changes, falling, borrowing_now, borrowing_before, bank_outstanding,",
            "  CASE WHEN borrowing_before > 0 THEN borrowing_now / borrowing_before - 1.0 END",
            "    AS borrowing_growth",
            "WHERE (borrowing_before > 0 AND borrowing_growth >= $min_growth)",
            "  OR (borrowing_before = 0 AND borrowing_now > 0)",
            "RETURN f.uscc AS uscc, falling,", _SIGNAL_COLUMNS,
            "  borrowing_before, borrowing_now, borrowing_growth, bank_outstanding",
            "ORDER BY size(falling) DESC, coalesce(borrowing_growth, 1e308) DESC, uscc",
        ),
        params=(_AS_OF, _WINDOW, _LENDERS,
                Param("min_fall", "float", "a signal falls when its mean drops by at least this share",
                      default=0.1, min=0.0, max=1.0),
                Param("min_growth", "float", "borrowing grows when it rises by at least this share",
                      default=0.1, min=0.0)),
        columns=("uscc", "falling", "electricity_change", "utilisation_change", "orders_change",
                 "invoices_change", "borrowing_before", "borrowing_now", "borrowing_growth",
                 "bank_outstanding"),
        doc="Firms whose electricity, equipment utilisation, orders or invoices fell (the mean of the "
            "last window months against the window before, by at least min_fall) while their "
            "borrowing from every lender grew (outstanding now against window months ago, by at least "
            "min_growth, or from nothing), most falling signals first, then the fastest growth.",
        timeout_s=120.0,
    ),
    NamedQuery(
        name="signal_trends",
        text=_q(
            "UNWIND $usccs AS u MATCH (f:Firm {uscc: u})",
            _SIGNAL_WINDOWS,
            "RETURN f.uscc AS uscc,", _SIGNAL_COLUMNS,
            "  CASE WHEN size(changes) > 0 THEN reduce(t = 0.0, x IN changes | t + x[1]) / size(changes)",
            "  END AS signal_change",
        ),
        params=(Param("usccs", "list[str]", "the firms", required=True), _AS_OF, _WINDOW),
        columns=("uscc", "electricity_change", "utilisation_change", "orders_change", "invoices_change",
                 "signal_change"),
        doc="Per firm: the relative change of each signal's mean (last window months against the window "
            "before) and their average (signal_change; null without two windows of signals).",
        timeout_s=60.0,
    ),
    NamedQuery(
        name="good_borrowers",
        text=_q(
            "MATCH (b:Firm)-[:BORROWED]->(l:Loan) WHERE l.start <= $as_of",
            "  AND (size($lenders) = 0 OR l.lender IN $lenders)",
            "WITH b, l, COLLECT { MATCH (l)-[:HAS_STATUS]->(s:LoanStatus) WHERE s.month <= $as_of",
            "  RETURN s ORDER BY s.month DESC LIMIT 1 }[0] AS s",
            "WITH b, max(CASE WHEN s.classification <> 'normal' OR s.days_overdue > 0 THEN 1 ELSE 0 END)",
            "  AS bad",
            "WHERE bad = 0 AND NOT EXISTS { MATCH (b)-[:HAS_EVENT]->(e:Event)",
            "  WHERE e.date <= $as_of AND e.type IN ['default', 'bankruptcy'] }",
            "RETURN b.uscc AS uscc ORDER BY uscc",
        ),
        params=(_AS_OF, _LENDERS),
        columns=("uscc",),
        doc="The bank's good borrowers on the date: every loan from the bank normal and not overdue at its "
            "latest status (the principal's loan counts when no status yet), no default or bankruptcy.",
        timeout_s=120.0,
        row_cap=5_000_000,
    ),
    NamedQuery(
        name="supply_neighbour_hop",
        text=_q(
            "UNWIND $frontier AS near MATCH (t:Firm {uscc: near})-[r:SUPPLIES]-(c:Firm) WHERE", ACTIVE_SUPPLY,
            "WITH near, c, sum(r.annual_value) AS value",
            "RETURN near, c.uscc AS far, value,",
            "  coalesce(c.external, false)",
            "  OR EXISTS { MATCH (c)-[:BORROWED]->(k:Loan) WHERE k.start <= $as_of",
            "    AND (size($lenders) = 0 OR k.lender IN $lenders) }",
            "  OR EXISTS { MATCH (c)-[:HAS_EVENT]->(e:Event)",
            "    WHERE e.date <= $as_of AND e.type IN ['default', 'bankruptcy'] } AS excluded",
        ),
        params=(_FRONTIER, _AS_OF, _LENDERS),
        columns=("near", "far", "value", "excluded"),
        doc="One step along active supply links either way from each frontier firm: its trade partners "
            "(far), the trade value, and whether the partner is no prospect (external, a borrower of the "
            "bank, or defaulted).",
        timeout_s=120.0,
        row_cap=5_000_000,
    ),
    NamedQuery(
        name="firm_revenue",
        text=_q(
            "MATCH (f:Firm)",
            "OPTIONAL MATCH (f)-[:REPORTED]->(x:Financials) WHERE x.published <= $as_of",
            "WITH f, x ORDER BY x.period_end DESC, x.published DESC",
            # a one-element list per statement, so a statement without revenue is kept (as null)
            "WITH f, collect([x.revenue])[0][0] AS revenue",
            "RETURN f.uscc AS uscc, coalesce(f.external, false) AS external, revenue ORDER BY uscc",
        ),
        params=(_AS_OF,),
        columns=("uscc", "external", "revenue"),
        doc="Every firm, whether it is an external counterparty, and the quarterly revenue of its latest "
            "statement published by the date (latest period, then latest publication; the snapshot's "
            "rule): what ESRI weighs firms by (queries.systemic).",
        timeout_s=120.0,
        row_cap=50_000_000,
    ),
    NamedQuery(
        name="non_prospects",
        text=_q(
            "MATCH (c:Firm) WHERE c.external = true RETURN c.uscc AS uscc",
            "UNION",
            "MATCH (c:Firm)-[:BORROWED]->(k:Loan) WHERE k.start <= $as_of",
            "  AND (size($lenders) = 0 OR k.lender IN $lenders) RETURN c.uscc AS uscc",
            "UNION",
            "MATCH (c:Firm)-[:HAS_EVENT]->(e:Event)",
            "  WHERE e.date <= $as_of AND e.type IN ['default', 'bankruptcy'] RETURN c.uscc AS uscc",
        ),
        params=(_AS_OF, _LENDERS),
        columns=("uscc",),
        doc="Every firm that is no prospect on the date: an external counterparty, a borrower of the "
            "bank (a loan started by then) or a firm with a default or bankruptcy by then "
            "(supply_neighbour_hop's excluded, for the whole graph at once).",
        timeout_s=120.0,
        row_cap=50_000_000,
    ),
    NamedQuery(
        name="loan_worst_class",
        text=_q(
            "MATCH (f:Firm)-[:BORROWED]->(l:Loan) WHERE l.start <= $as_of",
            "WITH f, COLLECT { MATCH (l)-[:HAS_STATUS]->(s:LoanStatus) WHERE s.month <= $as_of",
            "  RETURN s ORDER BY s.month DESC LIMIT 1 }[0] AS s",
            "WITH f, max(CASE s.classification WHEN 'normal' THEN 0 WHEN 'special_mention' THEN 1",
            "  WHEN 'substandard' THEN 2 WHEN 'doubtful' THEN 3 WHEN 'loss' THEN 4 END) AS worst_rank",
            "WHERE worst_rank IS NOT NULL",
            "RETURN f.uscc AS uscc, worst_rank ORDER BY uscc",
        ),
        params=(_AS_OF,),
        columns=("uscc", "worst_rank"),
        doc="Per firm with a loan from any lender started by the date: the worst five-category rank of "
            "its loans at their latest status (0 normal .. 4 loss; firm_exposure's worst_rank with "
            "every lender, for the whole graph at once).",
        timeout_s=120.0,
        row_cap=50_000_000,
    ),
    NamedQuery(
        name="current_risk_pd",
        text=_q(
            "MATCH (:Current {family: 'risk'})-[:POINTS_TO]->(run:Run)",
            "MATCH (f:Firm)-[:HAS_RESULT]->(x:Result {run_id: run.run_id})",
            "RETURN f.uscc AS uscc, x.risk_pd AS risk_pd ORDER BY uscc",
        ),
        params=(),
        columns=("uscc", "risk_pd"),
        doc="Every firm's PD in the current risk run (no rows when none is current).",
        timeout_s=120.0,
        row_cap=50_000_000,
    ),
    NamedQuery(
        name="stress_impacts",
        text=_q(
            "MATCH (:Current {family: 'stress'})-[:POINTS_TO]->(run:Run)",
            "MATCH (f:Firm)-[:HAS_RESULT]->(x:Result {run_id: run.run_id})",
            "WHERE x.stress_systemic_impact IS NOT NULL",
            "RETURN f.uscc AS uscc, x.stress_systemic_impact AS impact,",
            "  x.stress_default_prob AS stress_default_prob, run.run_id AS run_id,",
            "  toString(run.as_of) AS run_as_of",
            "ORDER BY impact DESC, uscc LIMIT $top",
        ),
        params=(Param("top", "int", "firms at most", default=20, min=1, max=100_000),),
        columns=("uscc", "impact", "stress_default_prob", "run_id", "run_as_of"),
        doc="The firms with the largest systemic impact (ESRI) in the current stress run, with their "
            "stressed default probability; empty when no stress run wrote impacts back.",
    ),
)

#: Every named query by name.
CATALOGUE: dict[str, NamedQuery] = {q.name: q for q in (*_QUERIES, *_PORTFOLIO_QUERIES)}


def latest_as_of(runner: QueryRunner) -> date | None:
    """The latest ``as_of`` of a committed ingest run, or ``None`` when nothing was ingested."""
    rows = runner.read(CATALOGUE["ingested_as_of"].text)
    value = rows[0]["as_of"] if rows else None
    return date.fromisoformat(value) if value else None


def resolve_as_of(runner: QueryRunner, as_of: date | str | None) -> date:
    """``as_of`` as a date; when ``None``, the latest ingested as_of (today if nothing was ingested)."""
    if as_of is not None:
        day: date = _AS_OF.coerce(as_of)
        return day
    return latest_as_of(runner) or date.today()


def bind(runner: QueryRunner, query: NamedQuery, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` checked against ``query``'s parameters: unknown names refused, types coerced,
    defaults filled, ``as_of`` resolved to the latest ingested date when not given."""
    known = {p.name for p in query.params}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidQueryParameter(
            f"query {query.name!r} has no parameter(s) {unknown}; it takes {sorted(known) or 'none'}"
        )
    out = {p.name: p.coerce(values.get(p.name)) for p in query.params}
    if "as_of" in out:
        out["as_of"] = resolve_as_of(runner, out["as_of"])
    return out


def run_query(runner: QueryRunner, name: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Run the named query; a frame with its declared columns, at most ``row_cap`` rows.

    The rows are streamed and the stream stops at the cap, so a query that would return
    millions never reaches this process whole. ``frame.attrs`` holds ``as_of`` (when the
    query reads at a date) and ``truncated``.
    """
    query = CATALOGUE.get(name)
    if query is None:
        raise InvalidQueryParameter(f"no query named {name!r}; known: {', '.join(sorted(CATALOGUE))}")
    bound = bind(runner, query, params or {})
    chunks = runner.read_chunks(query.text, bound, chunk_size=query.row_cap + 1, timeout=query.timeout_s)
    try:
        first = next(chunks, None)
    finally:
        chunks.close()  # type: ignore[attr-defined]
    frame = first if first is not None else pd.DataFrame(columns=list(query.columns))
    truncated = len(frame) > query.row_cap
    frame = frame.iloc[: query.row_cap].reset_index(drop=True)
    for col in query.columns:
        if col not in frame.columns:
            frame[col] = pd.Series(dtype=object)
    frame = frame[list(query.columns)]
    frame.attrs["truncated"] = truncated
    if "as_of" in bound:
        frame.attrs["as_of"] = bound["as_of"].isoformat()
    return frame


#: Firms per query when a named query runs over a list of USCCs (a hub's chain goes in pieces).
FIRM_BATCH = 5000


def run_for_firms(
    runner: QueryRunner, name: str, usccs: Sequence[str], params: Mapping[str, Any]
) -> pd.DataFrame:
    """Run the named query (one that takes ``$usccs``) over ``usccs`` in pieces of :data:`FIRM_BATCH`;
    one frame with its declared columns. ``params`` are passed as given (already bound)."""
    q = CATALOGUE[name]
    frames = []
    for i in range(0, len(usccs), FIRM_BATCH):
        piece = list(usccs[i : i + FIRM_BATCH])
        part = runner.read_frame(q.text, {**params, "usccs": piece}, timeout=q.timeout_s)
        if not part.empty:
            frames.append(part)
    if not frames:
        return pd.DataFrame(columns=list(q.columns))
    return pd.concat(frames, ignore_index=True)


def jsonable(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as a JSON-ready dict: numpy scalars as Python, NaN as ``None``.

    >>> jsonable({"a": float("nan"), "b": 1})
    {'a': None, 'b': 1}
    """
    out: dict[str, Any] = {}
    for k, v in row.items():
        if hasattr(v, "item") and not isinstance(v, list | dict):  # a numpy scalar
            v = v.item()
        out[str(k)] = None if (isinstance(v, float) and v != v) or v is pd.NA else v
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as JSON-ready dicts (see :func:`jsonable`).

    Column by column (``Series.tolist`` gives Python scalars), since ``DataFrame.to_dict`` boxes
    value by value: a third of an API exposure page's time.

    >>> records(pd.DataFrame({"a": [1, 2], "b": [0.5, float("nan")]}))
    [{'a': 1, 'b': 0.5}, {'a': 2, 'b': None}]
    """
    names = [str(c) for c in frame.columns]
    columns = [frame.iloc[:, i].tolist() for i in range(len(names))]
    return [jsonable(dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]


def frame_document(frame: pd.DataFrame) -> dict[str, Any]:
    """A ranked frame's one JSON document: its ``attrs`` (``as_of``, ``stale_before``, the method
    or window it was computed with) and its rows, ``{**frame.attrs, "rows": records(frame)}``.

    What ``chainrisk systemic|warning|prospects --json`` prints and ``GET /portfolio/...`` answers.

    >>> f = pd.DataFrame({"uscc": ["A"], "rank": [1]})
    >>> f.attrs["as_of"] = "2024-06-30"
    >>> frame_document(f)
    {'as_of': '2024-06-30', 'rows': [{'uscc': 'A', 'rank': 1}]}
    """
    return {**{str(k): v for k, v in frame.attrs.items()}, "rows": records(frame)}
