"""The read routes of the HTTP API: firms, chain exposure, circles, named queries, analysts' Cypher.

Each route is a thin call into the query library (the same functions the CLI calls), run in
FastAPI's thread pool, so a slow chain does not hold up other requests. Answers state the
``as_of`` they read at; firm answers carry the dates of the latest statement, signal and loan
status with their stale flags (older than six months at ``as_of``).

Roles (``docs/api.md``): every key reads; only ``analyst`` keys send Cypher, at most
:data:`~chainrisk.app.api.security.CYPHER_AT_ONCE` at once per key.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from chainrisk.app.api.errors import ApiError, JsonAnswer, json_bytes
from chainrisk.app.api.security import ANALYSTS, EVERYONE, Caller, api_state, require
from chainrisk.errors import UnknownFirm

__all__ = ["router"]

router = APIRouter()

_Uscc = Annotated[str, Path(description="A unified social credit code (18 characters, GB 32100-2015).")]
_AsOf = Annotated[date | None, Query(description="Read the graph at this date (default: the latest "
                                                 "ingested as_of).")]
_Reader = Annotated[Caller, Depends(require(*EVERYONE))]
_Analyst = Annotated[Caller, Depends(require(*ANALYSTS))]

#: A firm's data dates and stale flags, as every answer that shows the firm carries them.
_DATES = ("statement_published", "statement_period", "statement_stale", "signal_month", "signal_stale",
          "loan_status_month", "loan_status_stale", "stale")


def _uscc(text: str) -> str:
    """The code upper-cased, or ``InvalidUSCC`` (422, naming the expected check character)."""
    from ingest.uscc import validate

    return validate(text)


@router.get("/firms", tags=["firms"])
def search_firms(
    request: Request, _: _Reader,
    q: Annotated[str, Query(min_length=1, max_length=200, description="A USCC prefix or part of a name.")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    """Firms whose USCC starts with ``q`` or whose name contains it (case-insensitive), each with
    the dates of its latest statement, signal and loan status and their stale flags at ``as_of``."""
    from queries.catalogue import records, resolve_as_of, run_query
    from queries.chaincache import details_of
    from queries.details import stale_before

    runner = api_state(request).runner()
    # one row past the limit tells whether there are more (the catalogue's limit stops at 1,000)
    frame = run_query(runner, "firm_search", {"q": q, "limit": min(limit + 1, 1000)})
    more = len(frame) > limit or len(frame) == 1000
    found = records(frame.iloc[:limit])
    # every answer states the date it reads at, and each firm's data dates (an officer sees what is stale)
    day = resolve_as_of(runner, None)
    details = details_of(runner, [str(f["uscc"]) for f in found], day)
    firms = [{**f, **{k: details.get(str(f["uscc"]), {}).get(k) for k in _DATES}} for f in found]
    return JsonAnswer({"q": q, "as_of": day.isoformat(), "stale_before": stale_before(day).isoformat(),
                       "firms": firms, "truncated": more})


@router.get("/firms/{uscc}", tags=["firms"])
def firm_card(request: Request, _: _Reader, uscc: _Uscc, as_of: _AsOf = None) -> Response:
    """One firm: its risk labels (PD, tier, reasons) where a risk run is current, the current stress
    run's results, the bank's exposure, and how old its data is at ``as_of``."""
    from queries.catalogue import jsonable, resolve_as_of, run_for_firms, run_query
    from queries.chaincache import details_of
    from queries.details import STALE_MONTHS, months_before

    code = _uscc(uscc)
    st = api_state(request)
    runner = st.runner()
    day = resolve_as_of(runner, as_of)
    details = details_of(runner, [code], day).get(code)
    if details is None:
        raise UnknownFirm(f"no firm with USCC {code} in the graph")
    risk = run_query(runner, "firm_risk", {"firm": code})
    exposure = run_for_firms(runner, "firm_exposure", [code],
                             {"as_of": day, "lenders": list(st.settings.bank_lenders)})
    d = jsonable(details)
    from ingest.tables import CLASSIFICATIONS

    money = jsonable(exposure.iloc[0].to_dict()) if len(exposure) else {}
    rank = money.pop("worst_rank", None)
    money["worst_class"] = CLASSIFICATIONS[int(rank)] if rank is not None else None
    money.pop("uscc", None)
    r = jsonable(risk.iloc[0].to_dict()) if len(risk) else None
    return JsonAnswer({
        "uscc": code, "name": d["name"], "industry": d["industry"], "region": d["region"],
        "external": d["external"], "as_of": day.isoformat(),
        "stale_before": months_before(day, STALE_MONTHS).isoformat(),
        "risk": None if r is None else {
            "pd": r["risk_pd"], "tier": r["risk_tier"], "reasons": list(r["risk_reasons"] or []),
            "suggested_class": r["risk_suggested_class"], "pd_change": r["risk_pd_change"],
            "segment": r["risk_segment"], "model_version": r["risk_model_version"],
            "run_id": r["run_id"], "as_of": r["risk_as_of"],
        },
        "stress": None if d["stress_default_prob"] is None else {
            "default_prob": d["stress_default_prob"], "systemic_impact": d["stress_systemic_impact"]},
        "data": {k: d[k] for k in _DATES},
        "exposure": money,
    })


@router.get("/firms/{uscc}/exposure", tags=["firms"])
def firm_exposure(
    request: Request, _: _Reader, uscc: _Uscc, as_of: _AsOf = None,
    hops: Annotated[int, Query(description="Steps along each chain (1 to 5).")] = 3,
    direction: Literal["both", "upstream", "downstream"] = "both",
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """One page of the firm's chain exposure (``queries.exposure.chain_exposure``): upstream,
    downstream, guarantors and guaranteed, with counts and whole-chain totals on every page."""
    from queries.exposure import rendered_page

    code = _uscc(uscc)
    st = api_state(request)
    # the page's JSON is kept with the walked chain and sent again as it is; the ingest state is
    # read at most once a second (docs/queries.md, "Speed")
    body = rendered_page(st.runner(), code, _page_json, hops=hops, direction=direction, as_of=as_of,
                         page=page, page_size=page_size, max_state_age_s=STATE_MAX_AGE_S)
    return Response(body, media_type=JsonAnswer.media_type)


#: How old the graph's ingest state may be when a chain page is answered (seconds).
STATE_MAX_AGE_S = 1.0


def _page_json(page: Any) -> bytes:
    # module level: rendered_page keys the kept bytes by this function
    return json_bytes(page.to_dict())


@router.get("/firms/{uscc}/paths", tags=["firms"])
def firm_paths(
    request: Request, _: _Reader, uscc: _Uscc,
    to: Annotated[str, Query(description="The other firm (USCC): how is this firm exposed to it?")],
    as_of: _AsOf = None,
    hops: Annotated[int, Query(description="Longest path searched (1 to 5).")] = 4,
    relations: Annotated[str, Query(description="supply, guarantee or both, comma separated.")]
    = "supply,guarantee",
) -> Response:
    """The shortest supply paths (both ways) and guarantee paths between two firms, with the
    amount on each link (``queries.paths.paths_between``)."""
    from queries.paths import paths_between

    source, target = _uscc(uscc), _uscc(to)
    wanted = tuple(r.strip() for r in relations.split(",") if r.strip())
    answer = paths_between(api_state(request).runner(), source, target, hops=hops, as_of=as_of,
                           relations=wanted)
    return JsonAnswer(answer)


@router.get("/circles", tags=["guarantees"])
def circles(
    request: Request, _: _Reader, as_of: _AsOf = None,
    firm: Annotated[str | None, Query(description="Only the group and circles this firm (USCC) is in.")]
    = None,
) -> Response:
    """Guarantee groups and circles (担保圈), typed and graded (``queries.circles.guarantee_circles``)."""
    from queries.circles import guarantee_circles

    code = _uscc(firm) if firm is not None else None
    doc = guarantee_circles(api_state(request).runner(), as_of=as_of).to_dict()
    if code is not None:
        for part in ("groups", "circles"):
            doc[part] = [g for g in doc[part] if code in g["members"]]
        shown = {m for part in ("groups", "circles") for g in doc[part] for m in g["members"]}
        doc["firms"] = {u: d for u, d in doc["firms"].items() if u in shown}
        doc["firm"] = code
    return JsonAnswer(doc)


@router.get("/queries", tags=["queries"])
def list_queries(_: _Reader) -> Response:
    """The catalogue of named queries, with their typed parameters and columns."""
    from queries.catalogue import CATALOGUE

    return JsonAnswer({"queries": [
        {"name": q.name, "doc": q.doc, "columns": list(q.columns), "row_cap": q.row_cap,
         "params": [{"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                     "doc": p.doc} for p in q.params]}
        for q in CATALOGUE.values()]})


@router.get("/queries/{name}", tags=["queries"])
def named_query(request: Request, _: _Reader, name: str) -> Response:
    """Run a named query; its parameters are query-string values (``?as_of=2024-06-30``; a
    ``list[str]`` parameter repeated or comma-separated), checked against their declared types."""
    from queries.catalogue import CATALOGUE, run_query

    query = CATALOGUE.get(name)
    if query is None:
        raise ApiError(404, "UnknownQuery", f"no query named {name!r}; GET /queries lists them")
    params: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        params[key] = values if len(values) > 1 else values[0]
    frame = run_query(api_state(request).runner(), name, params)
    return JsonAnswer({"query": name, "as_of": frame.attrs.get("as_of"),
                       "truncated": frame.attrs.get("truncated"),
                       "columns": [str(c) for c in frame.columns],
                       "rows": [list(r) for r in frame.itertuples(index=False)]})


class CypherRequest(BaseModel):
    """An analyst's read-only query; values only as ``parameters``."""

    query: str = Field(min_length=1, description="Read-only Cypher (checked in layers: docs/queries.md).")
    parameters: dict[str, Any] = Field(default_factory=dict)
    max_rows: int = Field(10_000, ge=1, le=100_000, description="Rows read at most.")
    timeout_s: float = Field(30.0, gt=0, le=300, description="Seconds before the server aborts it.")


@router.post("/cypher", tags=["queries"])
def cypher(request: Request, caller: _Analyst, body: Annotated[CypherRequest, Body()]) -> Response:
    """Run an analyst's read-only Cypher (``queries.adhoc.run_cypher``), logged with the key's name and
    id; ``{"columns": [...], "rows": [[...]], "truncated": ...}``. At most two at once per key (429)."""
    from queries.adhoc import run_cypher

    st = api_state(request)
    with st.cypher_slots.hold(caller.id):
        frame = run_cypher(st.runner(), body.query, body.parameters, max_rows=body.max_rows,
                           timeout_s=body.timeout_s, user=caller.audit_name,
                           log_path=st.settings.query_log)
    return JsonAnswer({"columns": [str(c) for c in frame.columns],
                       "rows": [list(r) for r in frame.itertuples(index=False)],
                       "truncated": bool(frame.attrs.get("truncated"))})
