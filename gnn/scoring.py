"""Score a snapshot with a trained model, and write the scores back to the graph as a ``risk`` run.

:func:`score` gives one row per scored firm:

===================  =====================================================================
column               meaning
===================  =====================================================================
uscc                 the firm
segment              ``book``: a platform firm with a loan running at ``as_of``, not in
                     default (:func:`gnn.labels.bank_book`); ``prospect``: every other
                     platform firm not in default at ``as_of``
pd                   calibrated 12-month PD (floored at 0.03%)
tier                 master-scale tier 1..6 (:func:`gnn.tiers.tier_of`)
suggested_class      the five-category class the PD suggests, never better than the floor
                     the firm's worst current days overdue imply (2023 rules); a
                     suggestion: the lender's official class on the loan is never touched
reasons              reason codes (a list of strings; empty until a reasons function is given)
model_version        the model's version (``<name>-<as_of>-<hash>``)
as_of                the snapshot date
pd_change            pd minus the same firm's pd in the previous run (NaN where none)
===================  =====================================================================

Firms in default at ``as_of`` and external counterparties (known only from links) are
not scored.

From the graph, :func:`publish_scores` writes the frame as one ``risk`` run through
:func:`graph.runs.publish` (``Result`` nodes with ``risk_pd``, ``risk_tier``,
``risk_suggested_class``, ``risk_reasons``, ...; earlier runs stay), and
:func:`previous_from_graph` reads the current run's PDs for ``pd_change``. An analyst
reads the current labels with::

    MATCH (:Current {family: 'risk'})-[:POINTS_TO]->(run:Run)
    MATCH (f:Firm)-[:HAS_RESULT]->(r:Result {run_id: run.run_id})
    RETURN f.uscc, r.risk_pd, r.risk_tier, r.risk_suggested_class, r.risk_reasons
    ORDER BY r.risk_pd DESC
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chainrisk.errors import DataError
from gnn.candidates import RiskModel
from gnn.labels import bank_book
from gnn.model_store import TrainedModel
from gnn.protocol import Cut, cut_of
from gnn.tiers import CLASSES, suggested_class, tier_of
from graph.protocol import QueryRunner
from graph.runs import Run, current_results, publish
from ingest.snapshot import Snapshot

__all__ = [
    "SCORE_COLUMNS",
    "ReasonsFunction",
    "arrears_floor",
    "previous_from_graph",
    "publish_scores",
    "read_previous",
    "score",
    "scoring_cut",
    "write_back_rows",
]

SCORE_COLUMNS: tuple[str, ...] = (
    "uscc",
    "segment",
    "pd",
    "tier",
    "suggested_class",
    "reasons",
    "model_version",
    "as_of",
    "pd_change",
)

#: (model, cut) -> reason codes per firm of the cut (``gnn.reasons.reasons_for`` fits)
ReasonsFunction = Callable[[RiskModel, Cut], list[list[str]]]


def scoring_cut(snapshot: Snapshot, *, lenders: frozenset[str] | None = None) -> tuple[Cut, np.ndarray]:
    """The cut of every firm to score at the snapshot date, and whether each is in the book.

    Rows: the bank's book, then every other platform firm not in default (prospects), in
    the snapshot's (USCC) order.
    """
    f = snapshot.firms
    book = bank_book(snapshot, lenders)
    live = ~f["external"].to_numpy(dtype=bool) & ~f["defaulted"].to_numpy(dtype=bool)
    rows = np.flatnonzero(book | live)
    return cut_of(snapshot, rows), book[rows]


def arrears_floor(snapshot: Snapshot, rows: np.ndarray) -> np.ndarray:
    """The class floor the worst current days overdue of each firm's loans imply ("normal" without loans).

    Each loan's floor (``min_classification`` of its latest status by ``as_of``) comes from the
    snapshot; a loan whose latest status shows nothing outstanding is repaid and does not count.
    """
    loans = snapshot.loans
    rank = {c: i for i, c in enumerate(CLASSES)}
    out = np.zeros(snapshot.n, dtype=int)
    if len(loans):
        owed = ~(pd.to_numeric(loans["outstanding"], errors="coerce") <= 0).to_numpy()
        who = loans["borrower"].to_numpy(dtype=np.int64)
        r = np.array([rank.get(str(c), 0) for c in loans["min_classification"].tolist()], dtype=int)
        keep = owed & (who >= 0)
        np.maximum.at(out, who[keep], r[keep])
    return np.asarray(CLASSES, dtype=object)[out[np.asarray(rows, dtype=np.int64)]]


def _as_previous(previous: pd.DataFrame | pd.Series | Mapping[str, float] | None) -> pd.Series:
    if previous is None:
        return pd.Series(dtype="float64")
    if isinstance(previous, pd.DataFrame):
        if not {"uscc", "pd"} <= set(previous.columns):
            raise DataError("previous scores need the columns 'uscc' and 'pd'")
        s = pd.Series(previous["pd"].to_numpy(dtype="float64"), index=previous["uscc"].astype(str))
    else:
        s = pd.Series(previous, dtype="float64")
    return s[~s.index.duplicated(keep="last")]


def score(
    model: TrainedModel | RiskModel,
    snapshot_or_cut: Snapshot | Cut,
    *,
    reasons: ReasonsFunction | None = None,
    previous: pd.DataFrame | pd.Series | Mapping[str, float] | None = None,
    lenders: frozenset[str] | None = None,
) -> pd.DataFrame:
    """Score every firm of the book and every live prospect (module docstring for the columns).

    Parameters
    ----------
    model : a saved/trained model (its feature schema is checked) or any fitted candidate
    snapshot_or_cut : a snapshot (the book and the prospects are scored) or a cut (its rows)
    reasons : ``(model, cut) -> list of reason lists``; ``None``: empty lists
    previous : the previous run's PDs (a frame with ``uscc``, ``pd``, or uscc -> pd) for ``pd_change``
    lenders : the bank's lender ids for the book (``None``: every lender)
    """
    if isinstance(snapshot_or_cut, Cut):
        cut = snapshot_or_cut
        in_book = bank_book(cut.snapshot, lenders)[cut.rows]
    else:
        cut, in_book = scoring_cut(snapshot_or_cut, lenders=lenders)
    pd_ = np.asarray(model.predict_pd(cut), dtype="float64")
    if len(pd_) != len(cut.uscc):
        raise DataError(f"the model gave {len(pd_)} PDs for {len(cut.uscc)} firms")
    fitted = model.model if isinstance(model, TrainedModel) else model
    version = model.version if isinstance(model, TrainedModel) else model.name
    codes = reasons(fitted, cut) if reasons is not None else [[] for _ in range(len(pd_))]
    if len(codes) != len(pd_):
        raise DataError(f"the reasons function gave {len(codes)} lists for {len(pd_)} firms")
    prev = _as_previous(previous)
    uscc = pd.Series(cut.uscc, dtype=object)
    change = pd_ - uscc.map(prev).to_numpy(dtype="float64", na_value=np.nan)
    return pd.DataFrame(
        {
            "uscc": uscc,
            "segment": pd.Series(np.where(in_book, "book", "prospect"), dtype=object),
            "pd": pd_,
            "tier": tier_of(pd_).astype("int64"),
            "suggested_class": pd.Series(
                suggested_class(pd_, floor=arrears_floor(cut.snapshot, cut.rows)), dtype=object
            ),
            "reasons": pd.Series([list(map(str, c)) for c in codes], dtype=object),
            "model_version": pd.Series([version] * len(pd_), dtype=object),
            "as_of": pd.Series([cut.as_of] * len(pd_), dtype=object),
            "pd_change": change,
        },
        columns=list(SCORE_COLUMNS),
    )


def read_previous(path: str | Path) -> pd.Series:
    """The PDs of an earlier ``score --out`` file (Parquet or CSV), uscc -> pd."""
    p = Path(path)
    try:
        frame = pd.read_csv(p) if p.suffix.lower() == ".csv" else pd.read_parquet(p)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read the previous scores {p}: {exc}") from exc
    return _as_previous(frame)


def previous_from_graph(runner: QueryRunner) -> pd.Series:
    """The PDs of the current ``risk`` run in the graph, uscc -> pd (empty when none)."""
    rows = [r for r in current_results(runner, "risk") if r.get("risk_pd") is not None]
    return pd.Series({r["uscc"]: float(r["risk_pd"]) for r in rows}, dtype="float64")


def write_back_rows(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    """The ``risk_*`` result properties of each scored firm (NaN dropped: Neo4j stores no NaN)."""
    for row in frame.to_dict("records"):
        change = float(row["pd_change"])
        yield {
            "uscc": row["uscc"],
            "risk_pd": float(row["pd"]),
            "risk_tier": int(row["tier"]),
            "risk_suggested_class": str(row["suggested_class"]),
            "risk_reasons": [str(r) for r in row["reasons"]],
            "risk_segment": str(row["segment"]),
            "risk_model_version": str(row["model_version"]),
            "risk_pd_change": None if math.isnan(change) else change,
        }


def _finite(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def publish_scores(
    runner: QueryRunner,
    frame: pd.DataFrame,
    model: TrainedModel,
    *,
    as_of: date,
    on_batch: Callable[[int], None] | None = None,
) -> Run:
    """Write ``frame`` as a committed ``risk`` run (earlier runs stay; this one becomes current)."""
    parameters = {
        "model_version": model.version,
        "model": model.name,
        "pd_type": model.pd_type,
        "as_of": as_of.isoformat(),
        "model_as_of": model.as_of.isoformat(),
        "payload_sha256": model.payload_sha256,
    }
    summary = {
        "firms": len(frame),
        "book": int((frame["segment"] == "book").sum()),
        "prospects": int((frame["segment"] == "prospect").sum()),
        "mean_pd_book": _finite(frame.loc[frame["segment"] == "book", "pd"].mean()),
        "tiers": {str(k): int(v) for k, v in frame["tier"].value_counts().sort_index().items()},
    }
    return publish(
        runner,
        kind="risk-score",
        family="risk",
        parameters=parameters,
        as_of=as_of,
        firm_rows=write_back_rows(frame),
        summary=summary,
        on_batch=on_batch,
    )
