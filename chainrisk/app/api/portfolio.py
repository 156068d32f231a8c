"""The portfolio questions of the HTTP API: ``GET /portfolio/{connected,concentration,systemic,warning,
prospects}``.

The bank's book as a whole, as ``chainrisk connected | concentration | systemic | warning |
prospects`` asks it: each route takes the command's options as typed query-string values (a bad
one is 422 before the graph is read), calls the same library function, and answers the document
the command's ``--json`` prints: the library object's ``to_dict()`` (connected clients,
concentration) or, for a ranked frame, ``queries.catalogue.frame_document`` (``{**attrs, "rows"}``).
Each answer states its ``as_of`` and ``stale_before``, and every firm in it its data's dates and
stale flags, as the library gives them. The bank is ``settings.bank_lenders``, as for the CLI.

Every key reads them (``docs/api.md``); they run in FastAPI's thread pool like the other read routes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from chainrisk.app.api.errors import JsonAnswer
from chainrisk.app.api.security import EVERYONE, Caller, api_state, require
from queries.concentration import DIMENSIONS

__all__ = ["BY_PATTERN", "MAX_TOP", "router"]

router = APIRouter(prefix="/portfolio", tags=["portfolio"])

_AsOf = Annotated[date | None, Query(description="Read the graph at this date (default: the latest "
                                                 "ingested as_of).")]
_Reader = Annotated[Caller, Depends(require(*EVERYONE))]

#: The most firms ``top`` may ask for: the systemic list certifies ESRI for more firms the longer it
#: is, and each length is kept apart in the chain cache.
MAX_TOP = 1000
#: ``by``: dimensions of ``queries.concentration.DIMENSIONS``, comma-separated (spaces allowed).
BY_PATTERN = r"^\s*({d})\s*(,\s*({d})\s*)*$".format(d="|".join(DIMENSIONS))


@router.get("/connected")
def connected(
    request: Request, _: _Reader,
    tier1: Annotated[float, Query(gt=0, allow_inf_nan=False,
                                  description="The bank's tier-1 capital (net), yuan.")],
    net_capital: Annotated[float | None, Query(
        gt=0, allow_inf_nan=False,
        description="The bank's net capital (资本净额), yuan: checks the 10% loan limit.")] = None,
    control_share: Annotated[float, Query(
        ge=0.0, le=1.0, allow_inf_nan=False, description="Least share held that ties an owner to a firm.")]
    = 0.5,
    undrawn_factor: Annotated[float, Query(
        ge=0.0, le=1.0, allow_inf_nan=False,
        description="Part of undrawn limits counted (credit conversion factor).")] = 1.0,
    as_of: _AsOf = None,
) -> Response:
    """Connected clients (集团客户 / 关联客户: control and guarantee groups) and the bank's exposure to each
    against the 2018 large-exposure limits (``queries.connected.connected_clients``)."""
    from queries.connected import connected_clients

    got = connected_clients(api_state(request).runner(), tier1_capital=tier1, net_capital=net_capital,
                            as_of=as_of, control_share=control_share, undrawn_factor=undrawn_factor)
    return JsonAnswer(got.to_dict())


@router.get("/concentration")
def concentration(
    request: Request, _: _Reader,
    by: Annotated[str, Query(pattern=BY_PATTERN, description="Dimensions, comma-separated: "
                             + ", ".join(DIMENSIONS) + ".")] = ",".join(DIMENSIONS),
    measure: Literal["exposure", "outstanding"] = "exposure",
    top_n: Annotated[int, Query(ge=1, description="Top-N share to report.")] = 5,
    as_of: _AsOf = None,
) -> Response:
    """Concentration of the bank's book by dimension: HHI, effective number, top-1 and top-N shares
    (``queries.concentration.concentration``)."""
    from queries.concentration import concentration as book_concentration

    dims = [d.strip() for d in by.split(",")]
    got = book_concentration(api_state(request).runner(), as_of=as_of, by=dims, measure=measure,
                             top_n=top_n)
    return JsonAnswer(got.to_dict())


@router.get("/systemic")
def systemic(
    request: Request, _: _Reader,
    top: Annotated[int, Query(ge=1, le=MAX_TOP, description="Firms to list.")] = 20,
    method: Annotated[Literal["auto", "stress", "esri"], Query(
        description="auto (the current stress run's impacts, else ESRI), stress or esri.")] = "auto",
    as_of: _AsOf = None,
) -> Response:
    """The most systemic firms (``queries.systemic.top_systemic``); ``method`` says which measure
    answered. ``stress`` without a stress run that wrote impacts back is 422."""
    from queries.catalogue import frame_document
    from queries.systemic import top_systemic

    got = top_systemic(api_state(request).runner(), as_of=as_of, top=top, method=method)
    return JsonAnswer(frame_document(got))


@router.get("/warning")
def warning(
    request: Request, _: _Reader,
    window: Annotated[int, Query(ge=1, le=12, description="Months in each window compared.")] = 3,
    min_fall: Annotated[float, Query(ge=0.0, le=1.0, allow_inf_nan=False,
                                     description="Least relative fall of a signal.")] = 0.1,
    min_growth: Annotated[float, Query(ge=0.0, allow_inf_nan=False,
                                       description="Least relative growth of borrowing.")] = 0.1,
    as_of: _AsOf = None,
) -> Response:
    """Early warning: firms whose electricity, utilisation, orders or invoices fall while their
    borrowing grows, ranked, with the figures (``queries.warning.early_warning``)."""
    from queries.catalogue import frame_document
    from queries.warning import early_warning

    got = early_warning(api_state(request).runner(), as_of=as_of, window=window, min_fall=min_fall,
                        min_growth=min_growth)
    return JsonAnswer(frame_document(got))


@router.get("/prospects")
def prospects(
    request: Request, _: _Reader,
    hops: Annotated[int, Query(ge=1, le=2, description="Supply links from a good borrower.")] = 1,
    top: Annotated[int, Query(ge=1, le=MAX_TOP, description="Prospects to list.")] = 100,
    as_of: _AsOf = None,
) -> Response:
    """Prospects: platform firms the bank does not lend to yet, near its good borrowers, by low risk
    (``queries.prospects.prospects``)."""
    from queries.catalogue import frame_document
    from queries.prospects import prospects as near_prospects

    got = near_prospects(api_state(request).runner(), as_of=as_of, hops=hops, top=top)
    return JsonAnswer(frame_document(got))
