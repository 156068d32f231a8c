"""The most systemic firms: whose failure would cost the network most, as of a date.

Two measures, and every answer says which it used (``method``, ``measure``):

- ``stress``: the systemic impact written back by the current stress run
  (``stress_systemic_impact``, the Economic Systemic Risk Index the Monte Carlo stress test
  computes; catalogue ``stress_impacts``), with the run's id and date and each firm's stressed
  default probability;
- ``esri``: where no stress run wrote impacts back, the same index computed here on the
  snapshot's supply matrix and revenues at ``as_of`` (``contagion.revenue_esri``'s model, Diem et
  al. 2022): the share of the network's output lost when the firm alone fails, weighted by sales,
  with its downstream (input shortage) and upstream (demand loss) parts. It reads only the active
  supply network (the chain cache's, ``queries.chaincache``) and each firm's latest revenue
  (``firm_revenue``), not the whole snapshot, and computes the index only for the firms that can
  be in the top (``contagion.esri_top``: an upper bound of every firm's index from one adjoint
  fixed point, then the dense reference iteration to ``ESRI_TOL`` on the firms by decreasing
  bound until no firm left can enter the top: the same list as computing every firm). The list
  is kept per ingest, date and ``top`` (``ChainCache.derived_value``), so only the first call
  pays for it; ``frame.attrs["esri_computed"]`` says how many firms were computed.

``method="auto"`` (the default) takes ``stress`` when the current stress run has impacts, else
``esri``. Each firm listed also carries the bank's exposure to it (outstanding + undrawn,
``firm_exposure``) and its details with stale flags.

Example::

    top = top_systemic(runner, top=20)
    top.attrs["method"], top[["uscc", "name", "impact", "exposure"]]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd
import scipy.sparse as sp

from chainrisk.errors import InvalidQueryParameter
from graph.protocol import QueryRunner
from queries.catalogue import resolve_as_of, run_for_firms, run_query
from queries.chaincache import CHAIN_CACHE, IngestState, details_of, ingest_state
from queries.details import stale_before, with_details

__all__ = ["ESRI_TOL", "METHODS", "top_systemic"]

METHODS = ("auto", "stress", "esri")
_MEASURES = {
    "stress": "stress_systemic_impact of the current stress run (ESRI, Diem et al. 2022)",
    "esri": "ESRI on the supply network at as_of, the top firms certified by upper bounds "
            "(contagion.esri_top, Diem et al. 2022)",
}


#: Convergence of the dense ESRI iteration for the listed firms (largest change in a round).
ESRI_TOL = 1e-5


def _esri_top(runner: QueryRunner, state: IngestState, day: date, top: int) -> pd.DataFrame:
    """The ``top`` platform firms by ESRI at ``day``, ranked: the chain cache's supply network and
    the firms' revenues (two set queries), then ``contagion.esri_top.top_esri``.

    The snapshot's supply matrix and revenues: a snapshot has every platform firm plus the
    external counterparties at the end of an active link of any kind; reading it whole (signals,
    statements, loans ...) is not needed, since ESRI reads only the supply matrix, each firm's
    revenue (total sales and inputs) and sectors, which the default linear essentialness ignores.
    A counterparty with no supply link and no statement has weight 0 and passes no loss on, so
    taking every Firm node instead changes no one's ESRI.
    """
    from contagion.esri_top import top_esri

    firms = run_query(runner, "firm_revenue", {"as_of": day})
    net = CHAIN_CACHE.network(runner, state, "supply", day)
    ids = pd.Index(firms["uscc"].astype(str))
    extra = pd.Index(net.ids.astype(str)).difference(ids)  # none on a graph built by ingest; kept safe
    ids = ids.append(extra)
    pos = ids.get_indexer(pd.Index(net.ids.astype(str)))
    src, dst, val = net.edges()
    n = len(ids)
    supply = sp.csr_matrix((val, (pos[src], pos[dst])), shape=(n, n))
    sales = 4.0 * np.concatenate((pd.to_numeric(firms["revenue"], errors="coerce").to_numpy(dtype=np.float64),
                                  np.full(len(extra), np.nan)))  # contagion.revenue_esri's rule
    external = np.concatenate((firms["external"].fillna(False).astype(bool).to_numpy(),
                               np.ones(len(extra), dtype=bool)))
    got = top_esri(supply, np.full(n, "", dtype=object), top, candidates=~external,  # not the bank's firms
                   total_sales=sales, total_inputs=0.75 * sales, tol=ESRI_TOL)
    frame = pd.DataFrame({"uscc": ids.to_numpy(dtype=object)[got.firms], "impact": got.esri,
                          "downstream_impact": got.downstream, "upstream_impact": got.upstream})
    frame.attrs["esri_computed"] = got.computed
    return frame


def _esri(runner: QueryRunner, day: date, top: int) -> pd.DataFrame:
    state = ingest_state(runner)
    # kept per ingest, date and length: certifying a longer list computes more firms
    ranked = CHAIN_CACHE.derived_value(runner, state, f"esri-top{top}", day,
                                       lambda: _esri_top(runner, state, day, top))
    out = ranked.iloc[:top].reset_index(drop=True).copy()
    out.attrs["esri_computed"] = ranked.attrs.get("esri_computed")
    return out


def top_systemic(
    runner: QueryRunner,
    *,
    as_of: date | str | None = None,
    top: int = 20,
    method: str = "auto",
    lenders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The ``top`` firms by systemic impact (module doc); ``frame.attrs`` holds ``method``,
    ``measure``, ``as_of`` (and ``run_id`` for ``stress``).

    Raises:
        InvalidQueryParameter: an unknown method, ``top`` below 1, ``stress`` asked without a stress
            run that wrote impacts.
    """
    if method not in METHODS:
        raise InvalidQueryParameter(f"method must be one of {list(METHODS)}, got {method!r}")
    if top < 1:
        raise InvalidQueryParameter(f"top must be at least 1, got {top}")
    day = resolve_as_of(runner, as_of)
    attrs: dict[str, object] = {"as_of": day.isoformat(), "stale_before": stale_before(day).isoformat()}
    frame = run_query(runner, "stress_impacts", {"top": top}) if method in ("auto", "stress") else None
    if frame is not None and not frame.empty:
        used = "stress"
        attrs.update(run_id=frame["run_id"].iloc[0], run_as_of=frame["run_as_of"].iloc[0])
        frame = frame.drop(columns=["run_id", "run_as_of"])
    elif method == "stress":
        raise InvalidQueryParameter("no current stress run wrote systemic impacts back; use method='esri'")
    else:
        used = "esri"
        frame = _esri(runner, day, top)
        attrs["esri_computed"] = frame.attrs.get("esri_computed")
    frame.insert(1, "rank", range(1, len(frame) + 1))
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    usccs = frame["uscc"].tolist()
    money = run_for_firms(runner, "firm_exposure", usccs, {"as_of": day, "lenders": bank})
    frame = frame.merge(money[["uscc", "outstanding", "undrawn", "exposure"]], on="uscc", how="left")
    frame = with_details(frame, details_of(runner, usccs, day))
    frame.attrs.update(attrs, method=used, measure=_MEASURES[used])
    return frame
