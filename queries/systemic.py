"""The most systemic firms: whose failure would cost the network most, as of a date.

Two measures, and every answer says which it used (``method``, ``measure``):

- ``stress``: the systemic impact written back by the current stress run
  (``stress_systemic_impact``, the Economic Systemic Risk Index the Monte Carlo stress test
  computes; catalogue ``stress_impacts``), with the run's id and date and each firm's stressed
  default probability;
- ``esri``: where no stress run wrote impacts back, the same index computed here on the
  in-memory snapshot at ``as_of`` (``ingest.read_snapshot`` then ``contagion.snapshot_esri``,
  Diem et al. 2022): the share of the network's output lost when the firm alone fails, weighted by
  sales, with its downstream (input shortage) and upstream (demand loss) parts. It reads the whole
  graph, so it takes seconds on a large platform.

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

import pandas as pd

from chainrisk.errors import InvalidQueryParameter
from graph.protocol import QueryRunner
from queries.catalogue import resolve_as_of, run_for_firms, run_query
from queries.details import firm_details, stale_before, with_details

__all__ = ["METHODS", "top_systemic"]

METHODS = ("auto", "stress", "esri")
_MEASURES = {
    "stress": "stress_systemic_impact of the current stress run (ESRI, Diem et al. 2022)",
    "esri": "ESRI computed on the snapshot at as_of (contagion.snapshot_esri, Diem et al. 2022)",
}


def _esri(runner: QueryRunner, day: date, top: int) -> pd.DataFrame:
    from contagion.esri import snapshot_esri
    from ingest.snapshot.from_graph import read_snapshot

    snap = read_snapshot(runner, as_of=day)
    result = snapshot_esri(snap)
    frame = pd.DataFrame({"uscc": snap.firms["uscc"].astype(str), "impact": result.esri,
                          "downstream_impact": result.downstream, "upstream_impact": result.upstream})
    if "external" in snap.firms.columns:  # counterparties outside the platform are not the bank's firms
        frame = frame[~snap.firms["external"].fillna(False).astype(bool).to_numpy()]
    frame = frame.sort_values(["impact", "uscc"], ascending=[False, True], kind="stable")
    return frame.iloc[:top].reset_index(drop=True)


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
    frame.insert(1, "rank", range(1, len(frame) + 1))
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    usccs = frame["uscc"].tolist()
    money = run_for_firms(runner, "firm_exposure", usccs, {"as_of": day, "lenders": bank})
    frame = frame.merge(money[["uscc", "outstanding", "undrawn", "exposure"]], on="uscc", how="left")
    frame = with_details(frame, firm_details(runner, usccs, day))
    frame.attrs.update(attrs, method=used, measure=_MEASURES[used])
    return frame
