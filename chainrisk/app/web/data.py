"""What the web page shows, built from the query library: firm cards, neighbourhoods, groups, CSV.

Every answer is plain JSON-ready data that states the ``as_of`` it reads at; every firm in it
carries the dates of its latest statement, signal and loan status and ``stale`` flags (older
than six months at ``as_of``; :mod:`queries.exposure`).

- :func:`firm_card`: the firm's details, the current risk run's PD, tier, suggested class and
  reasons, and what changed since the previous risk run (PD, tier, class, reasons added and
  dropped), read from the ``Result`` nodes of the two latest ``risk`` runs (:mod:`graph.runs`).
- :func:`neighbourhood`: supply and guarantee neighbours within 1..3 hops, walked breadth-first
  with the catalogue's hop queries; a firm with more than ``cap`` new neighbours shows the
  ``cap`` largest (by trade value or amount) and one ``+N more`` node. Nodes carry their risk
  tier; firms in default at ``as_of`` (the one definition, :mod:`ingest.default_definition`)
  are flagged, and the links along the shortest drawn path from the focal firm to each are
  marked ``default_path``. Persons (natural-person guarantors) are parties of the walk too: a
  person reached at hop ``h`` is expanded at hop ``h + 1`` to every firm whose loans it guarantees
  (:data:`PERSON_GUARANTEED_HOP`), so a person guaranteeing two firms links them in the drawing,
  two hops apart, as in :mod:`queries.paths` (a person between two firms is a path of 2).
- :func:`guarantee_group`: the firm's guarantee group (weakly connected component, persons
  included) with its circles, typed and measured by :func:`queries.circles.analyse_guarantees`.
- :func:`exposure_csv`: the whole chain exposure as CSV for the credit file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date
from typing import Any, LiteralString

import networkx as nx
import pandas as pd

from chainrisk.errors import InvalidQueryParameter, UnknownFirm
from graph.protocol import QueryRunner
from graph.runs import family_runs
from ingest.default_definition import DEFAULT_EVENT_TYPES, DEFAULT_OVERDUE_DAYS, default_dates
from queries.catalogue import (
    ACTIVE_GUARANTEE,
    CATALOGUE,
    jsonable,
    records,
    resolve_as_of,
    run_for_firms,
    run_query,
)
from queries.catalogue import Param as _Param
from queries.chaincache import details_of
from queries.circles import analyse_guarantees
from queries.details import STALE_MONTHS, months_before
from queries.exposure import SECTIONS, chain

__all__ = [
    "MAX_GRAPH_HOPS",
    "MAX_NODES",
    "PERSON_GUARANTEED_HOP",
    "RELATIONS",
    "exposure_csv",
    "firm_card",
    "firm_rows",
    "guarantee_group",
    "neighbourhood",
]

MAX_GRAPH_HOPS = 3
#: Nodes after which a drawing takes no more parties (only ``+N more`` nodes).
MAX_NODES = 2000
#: Relation filters of the drawing -> the hop queries (catalogue) walked for each, and the link
#: direction: ``in`` means the neighbour points at the nearer firm (supplier, guarantor).
RELATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "supply": (("supply_upstream_hop", "in"), ("supply_downstream_hop", "out")),
    "guarantee": (("guarantor_hop", "in"), ("guaranteed_hop", "out")),
}
_EDGE_TYPE = {"supply": "SUPPLIES", "guarantee": "GUARANTEES"}
#: One step from persons (``near``: ``person_id``) to the firms whose loans they guarantee, with the
#: active amount: the catalogue's ``guaranteed_hop`` for a frontier of persons.
PERSON_GUARANTEED_HOP: LiteralString = (
    "UNWIND $frontier AS near MATCH (p:Person {person_id: near})-[r:GUARANTEES]->(b:Firm) "
    "WHERE " + ACTIVE_GUARANTEE + " "
    "RETURN near, b.uscc AS far, 'firm' AS kind, sum(r.amount) AS value"
)

RESULTS_OF_RUNS: LiteralString = (
    "MATCH (f:Firm {uscc: $uscc})-[:HAS_RESULT]->(r:Result) WHERE r.run_id IN $runs "
    "RETURN r.run_id AS run_id, r.risk_pd AS risk_pd, r.risk_tier AS risk_tier, "
    "r.risk_suggested_class AS risk_suggested_class, r.risk_reasons AS risk_reasons, "
    "toString(r.as_of) AS as_of"
)
#: Default facts per firm (events of a default type, statuses more than 90 days overdue) up to
#: ``as_of``; :func:`ingest.default_definition.default_dates` decides.
DEFAULT_FACTS: LiteralString = (
    "UNWIND $usccs AS u MATCH (f:Firm {uscc: u}) "
    "RETURN f.uscc AS uscc, "
    "COLLECT { MATCH (f)-[:HAS_EVENT]->(e:Event) WHERE e.type IN $types AND e.date <= $as_of "
    "  RETURN toString(e.date) } AS events, "
    "COLLECT { MATCH (f)-[:BORROWED]->(l:Loan)-[:HAS_STATUS]->(s:LoanStatus) "
    "  WHERE s.days_overdue > $days AND s.month <= $as_of "
    "  RETURN {loan_id: l.loan_id, month: toString(s.month), days_overdue: s.days_overdue} } AS late"
)


def _uscc(value: str) -> str:
    uscc: str = _Param("uscc", "uscc", "", required=True).coerce(value)
    return uscc


def firm_rows(runner: QueryRunner, usccs: Sequence[str], as_of: date) -> dict[str, dict[str, Any]]:
    """Per firm: the catalogue's ``firm_details`` plus ``*_stale`` flags (``None`` where there is
    no such data) and ``stale`` (any of them true): :func:`queries.details.firm_details`, looked
    up in the process's details table when one is held (``queries.chaincache.details_of``)."""
    return details_of(runner, list(usccs), as_of)


def _defaulted(runner: QueryRunner, usccs: Sequence[str], as_of: date) -> dict[str, str]:
    """USCC -> first default date (ISO) for the firms of ``usccs`` in default at ``as_of``."""
    if not usccs:
        return {}
    rows = runner.read(
        DEFAULT_FACTS,
        {
            "usccs": list(usccs),
            "as_of": as_of,
            "types": sorted(DEFAULT_EVENT_TYPES),
            "days": DEFAULT_OVERDUE_DAYS,
        },
    )
    events = pd.DataFrame(
        [{"uscc": r["uscc"], "type": "default", "date": d} for r in rows for d in r["events"]],
        columns=["uscc", "type", "date"],
    )
    late = [{**x, "borrower_uscc": r["uscc"]} for r in rows for x in r["late"]]
    status = pd.DataFrame(late, columns=["loan_id", "month", "days_overdue", "borrower_uscc"])
    dates = default_dates(
        events,
        status[["loan_id", "month", "days_overdue"]],
        status[["loan_id", "borrower_uscc"]],
        as_of=as_of,
    )
    return {str(k): v.date().isoformat() for k, v in dates.items()}


def firm_card(runner: QueryRunner, uscc: str, *, as_of: date | str | None = None) -> dict[str, Any]:
    """One firm: details, dates, risk, and the changes since the previous risk run."""
    u = _uscc(uscc)
    day = resolve_as_of(runner, as_of)
    rows = firm_rows(runner, [u], day)
    if u not in rows:
        raise UnknownFirm(f"no firm with USCC {u} in the graph")
    runs = family_runs(runner, "risk", limit=2)
    results = {
        r["run_id"]: r for r in runner.read(RESULTS_OF_RUNS, {"uscc": u, "runs": [r["run_id"] for r in runs]})
    }
    current = results.get(runs[0]["run_id"]) if runs else None
    previous = results.get(runs[1]["run_id"]) if len(runs) > 1 else None
    return {
        "as_of": day.isoformat(),
        "stale_before": months_before(day, STALE_MONTHS).isoformat(),
        "firm": rows[u],
        "defaulted": _defaulted(runner, [u], day).get(u),
        "risk": _risk(current, runs[0] if runs else None),
        "changes": _changes(current, previous, runs[1] if len(runs) > 1 else None),
    }


def _risk(result: dict[str, Any] | None, run: dict[str, Any] | None) -> dict[str, Any] | None:
    if result is None or run is None:
        return None
    return {
        "run_id": run["run_id"],
        "run_as_of": run["as_of"],
        "pd": result["risk_pd"],
        "tier": result["risk_tier"],
        "suggested_class": result["risk_suggested_class"],
        "reasons": list(result["risk_reasons"] or []),
    }


def _changes(
    current: dict[str, Any] | None, previous: dict[str, Any] | None, prev_run: dict[str, Any] | None
) -> dict[str, Any] | None:
    """What moved between the previous risk run and the current one (``None``: no previous run)."""
    if prev_run is None:
        return None
    if previous is None or current is None:
        return {
            "previous_run_id": prev_run["run_id"],
            "previous_as_of": prev_run["as_of"],
            "note": "not scored in both runs",
        }
    now_r, before_r = list(current["risk_reasons"] or []), list(previous["risk_reasons"] or [])
    pd_now, pd_before = current["risk_pd"], previous["risk_pd"]
    return {
        "previous_run_id": prev_run["run_id"],
        "previous_as_of": prev_run["as_of"],
        "pd_before": pd_before,
        "pd_now": pd_now,
        "pd_change": None if pd_now is None or pd_before is None else pd_now - pd_before,
        "tier_before": previous["risk_tier"],
        "tier_now": current["risk_tier"],
        "class_before": previous["risk_suggested_class"],
        "class_now": current["risk_suggested_class"],
        "reasons_added": [r for r in now_r if r not in before_r],
        "reasons_dropped": [r for r in before_r if r not in now_r],
    }


def neighbourhood(
    runner: QueryRunner,
    uscc: str,
    *,
    hops: int = 1,
    relations: Sequence[str] = ("supply", "guarantee"),
    cap: int = 25,
    max_nodes: int = MAX_NODES,
    as_of: date | str | None = None,
) -> dict[str, Any]:
    """The drawing's nodes and edges around ``uscc`` (see the module docstring).

    At most ``cap`` new neighbours of each firm are drawn, and parties stop being added once the
    drawing holds ``max_nodes`` nodes; the rest are counted in one ``+N more`` node per firm, so a
    hub's 3 hops stay drawable; links among drawn parties beyond the walk's own tree are drawn up to
    ``max_nodes`` of them too (``links_left_out`` counts the rest).

    Returns ``{"as_of", "focal", "hops", "nodes": [...], "edges": [...], "truncated": n}``; a node
    is ``{"id", "kind": firm|person|more, "label", "distance", "tier", "defaulted", ...dates}``.
    """
    u = _uscc(uscc)
    if not isinstance(hops, int) or not 1 <= hops <= MAX_GRAPH_HOPS:
        raise InvalidQueryParameter(f"hops must be a whole number from 1 to {MAX_GRAPH_HOPS}, got {hops!r}")
    unknown = sorted(set(relations) - set(RELATIONS))
    if unknown or not relations:
        raise InvalidQueryParameter(f"relations must be some of {sorted(RELATIONS)}, got {list(relations)}")
    if not 1 <= cap <= 1000:
        raise InvalidQueryParameter(f"cap must lie in [1, 1000], got {cap}")
    day = resolve_as_of(runner, as_of)
    if not runner.read("MATCH (f:Firm {uscc: $u}) RETURN f.uscc AS u", {"u": u}):
        raise UnknownFirm(f"no firm with USCC {u} in the graph")

    nodes: dict[str, dict[str, Any]] = {u: {"id": u, "kind": "firm", "distance": 0}}
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    parent: dict[str, str] = {}
    frontier = [u]
    persons: list[str] = []  # persons reached at the previous hop: expanded to the firms they guarantee
    truncated = 0
    cross = dropped = 0  # links among drawn parties beyond the walk's tree: drawn, and left out
    for hop in range(1, hops + 1):
        found: dict[str, list[tuple[str, str, str, str, float]]] = {}  # near -> (far, kind, rel, dir, value)
        steps = [
            (CATALOGUE[q].text, CATALOGUE[q].timeout_s, frontier, rel, d)
            for rel in relations
            for q, d in RELATIONS[rel]
            if frontier
        ]
        if persons:
            steps.append(
                (PERSON_GUARANTEED_HOP, CATALOGUE["guaranteed_hop"].timeout_s, persons, "guarantee", "out")
            )
        for text, timeout, near_ids, rel, direction in steps:
            for r in runner.read(text, {"frontier": near_ids, "as_of": day}, timeout=timeout):
                found.setdefault(r["near"], []).append(
                    (r["far"], r["kind"], rel, direction, float(r["value"] or 0.0))
                )
        nxt: list[str] = []
        nxt_persons: list[str] = []
        for near in [*frontier, *persons]:
            links = sorted(found.get(near, []), key=lambda x: (-x[4], x[0]))
            fresh = list(dict.fromkeys(x[0] for x in links if x[0] not in nodes))  # largest link first
            room = max(0, max_nodes - len(nodes) - 1)  # one place kept for the "+N more" node
            shown = set(fresh[: min(cap, room)])
            hidden = len(fresh) - len(shown)
            for far, kind, rel, direction, value in links:
                if far not in nodes and far not in shown:
                    continue
                if far not in nodes:
                    nodes[far] = {"id": far, "kind": kind, "distance": hop}
                    parent[far] = near
                    (nxt if kind == "firm" else nxt_persons).append(far)
                src, dst = (far, near) if direction == "in" else (near, far)
                key = (src, dst, rel)
                # links to a party just added always; links among parties already drawn (a hub's
                # 3 hops hold tens of thousands) only while the drawing has room for them
                tree = parent.get(far) == near
                if key not in edges and (tree or cross < max_nodes):
                    edges[key] = {"source": src, "target": dst, "type": _EDGE_TYPE[rel], "value": value}
                    cross += 0 if tree else 1
                elif key not in edges:
                    dropped += 1
            if hidden:
                more = f"more:{near}:{hop}"
                nodes[more] = {
                    "id": more,
                    "kind": "more",
                    "distance": hop,
                    "label": f"+{hidden} more",
                    "hidden": hidden,
                }
                edges[(near, more, "more")] = {"source": near, "target": more, "type": "MORE", "value": 0.0}
                truncated += hidden
        frontier, persons = sorted(set(nxt)), sorted(set(nxt_persons))
        if not frontier and not persons:
            break
    firms = [k for k, v in nodes.items() if v["kind"] == "firm"]
    details = firm_rows(runner, firms, day)
    defaulted = _defaulted(runner, firms, day)
    on_path: set[str] = set()
    for f in defaulted:
        x = f
        while x in parent:  # walk the BFS tree back to the focal firm: a shortest drawn path
            on_path.add(x)
            x = parent[x]
    for k, node in nodes.items():
        d = details.get(k, {})
        node.setdefault("label", d.get("name") or (f"person {k}" if node["kind"] == "person" else k))
        node.update(
            {
                "tier": d.get("risk_tier"),
                "pd": d.get("risk_pd"),
                "defaulted": defaulted.get(k),
                "on_default_path": k in on_path or (k == u and bool(on_path)),
                "stale": d.get("stale"),
                "statement_published": d.get("statement_published"),
                "statement_stale": d.get("statement_stale"),
                "signal_month": d.get("signal_month"),
                "signal_stale": d.get("signal_stale"),
                "loan_status_month": d.get("loan_status_month"),
                "loan_status_stale": d.get("loan_status_stale"),
            }
        )
    for e in edges.values():
        s, t = e["source"], e["target"]
        e["default_path"] = (parent.get(s) == t and s in on_path) or (parent.get(t) == s and t in on_path)
    return {
        "as_of": day.isoformat(),
        "stale_before": months_before(day, STALE_MONTHS).isoformat(),
        "focal": u,
        "hops": hops,
        "relations": list(relations),
        "cap": cap,
        "nodes": [jsonable(n) for n in nodes.values()],
        "edges": list(edges.values()),
        "truncated": truncated,
        "links_left_out": dropped,
    }


def guarantee_group(
    runner: QueryRunner, uscc: str, *, as_of: date | str | None = None, lenders: Sequence[str] | None = None
) -> dict[str, Any]:
    """The guarantee group holding ``uscc`` and its circles (``group`` is ``None`` when the firm
    gives and receives no active guarantee)."""
    u = _uscc(uscc)
    day = resolve_as_of(runner, as_of)
    links = run_query(runner, "guarantee_links", {"as_of": day})
    g = nx.Graph()
    for kind, a, b in zip(links["kind"], links["guarantor"], links["borrower"], strict=True):
        g.add_edge((str(kind), str(a)), ("firm", str(b)))
    base = {"as_of": day.isoformat(), "stale_before": months_before(day, STALE_MONTHS).isoformat(), "firm": u}
    if ("firm", u) not in g:
        return {**base, "group": None, "circles": [], "members": []}
    comp = nx.node_connected_component(g, ("firm", u))
    firm_ids = {x[1] for x in comp if x[0] == "firm"}
    mine = links[links["borrower"].isin(firm_ids)].reset_index(drop=True)
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    facts = run_for_firms(runner, "firm_exposure", sorted(firm_ids), {"as_of": day, "lenders": bank})
    net = analyse_guarantees(mine, facts, as_of=day).to_dict()
    details = firm_rows(runner, sorted(firm_ids), day)
    members = [details.get(f, {"uscc": f}) for f in sorted(firm_ids)]
    return {
        **base,
        "group": net["groups"][0] if net["groups"] else None,
        "circles": net["circles"],
        "members": members,
    }


_CSV_COLUMNS = (
    "section",
    "uscc",
    "person_id",
    "name",
    "party",
    "distance",
    "trade_value",
    "share",
    "amount",
    "outstanding",
    "undrawn",
    "exposure",
    "guarantees_given",
    "worst_class",
    "risk_pd",
    "risk_tier",
    "statement_published",
    "signal_month",
    "loan_status_month",
    "stale",
)


def _cell(value: Any) -> Any:
    # a name from outside that starts like a formula must not run in a spreadsheet (CSV injection)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def exposure_csv(runner: QueryRunner, uscc: str, *, hops: int = 3, as_of: date | str | None = None) -> str:
    """The whole chain exposure of ``uscc`` as CSV: a header line stating the firm and as_of, then
    one row per party and list."""
    whole = chain(runner, uscc, hops=hops, as_of=as_of)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "# chain exposure of",
            whole.firm,
            _cell(whole.name or ""),
            "as_of",
            whole.as_of.isoformat(),
            "hops",
            whole.hops,
            "stale_before",
            months_before(whole.as_of, STALE_MONTHS).isoformat(),
        ]
    )
    w.writerow(_CSV_COLUMNS)
    for page in whole.pages(runner):
        for section in SECTIONS:
            for row in records(getattr(page, section)):
                w.writerow([_cell(section if c == "section" else row.get(c)) for c in _CSV_COLUMNS])
    return buf.getvalue()
