"""Scorings and histories the monitor reads: score files, the graph's ``risk`` runs, dataset tables.

A *scoring* is one ``chainrisk score`` result: per firm the columns ``uscc, segment, pd,
tier, suggested_class, reasons, model_version, as_of, pd_change`` (at least ``uscc``,
``pd`` and ``tier``), from a Parquet file (``--out``) or a ``risk`` run of the graph,
whose ``risk_*`` result properties lose their prefix here. A *history* is a dataset's
tables as far as its data reach, from a folder or from the graph, for realised
defaults and feature snapshots.

>>> s = scoring_of(pd.DataFrame({"uscc": ["A"], "pd": [0.02], "tier": [3], "as_of": ["2024-12-31"]}),
...                source="example")
>>> str(s.as_of), s.describe()["firms"]
('2024-12-31', 1)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from chainrisk.errors import DataError
from graph.protocol import QueryRunner

__all__ = [
    "History",
    "Scoring",
    "dataset_history",
    "graph_history",
    "graph_scorings",
    "read_scoring",
    "scoring_of",
]

_REQUIRED = ("uscc", "pd", "tier")


@dataclass(frozen=True)
class Scoring:
    """One scoring of the portfolio: a frame in the score column contract, its date and origin."""

    scores: pd.DataFrame
    as_of: date
    model_version: str | None
    source: str

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "model_version": self.model_version,
            "firms": len(self.scores),
        }


@dataclass(frozen=True)
class History:
    """A dataset's tables as far as its data reach (``data_end``)."""

    tables: Mapping[str, pd.DataFrame]
    data_end: date
    currency: str = "CNY"


def _day(value: Any) -> date:
    ts = pd.Timestamp(str(value)[:10] if not isinstance(value, pd.Timestamp) else value)
    return date(ts.year, ts.month, ts.day)


def scoring_of(frame: pd.DataFrame, *, source: str, as_of: date | None = None) -> Scoring:
    """A :class:`Scoring` of a score frame; its date from ``as_of`` or its one ``as_of`` value."""
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: the scores lack column(s) {missing}; expected at least {list(_REQUIRED)}")
    if as_of is None:
        dates: Any = frame["as_of"].dropna().unique() if "as_of" in frame.columns else []
        if len(dates) != 1:
            raise DataError(f"{source}: the scores need exactly one as_of date, found {len(dates)}")
        as_of = _day(dates[0])
    versions: Any = frame["model_version"].dropna().unique() if "model_version" in frame.columns else []
    scores = frame.assign(pd=pd.to_numeric(frame["pd"], errors="coerce"))
    bad = scores["pd"].isna() | scores["tier"].isna() | ~scores["pd"].between(0.0, 1.0)
    if bad.any():
        raise DataError(f"{source}: {int(bad.sum())} firm(s) without a tier or a PD in [0, 1]")
    return Scoring(
        scores.assign(tier=scores["tier"].astype(int)).reset_index(drop=True),
        as_of,
        str(versions[0]) if len(versions) else None,
        source,
    )


def read_scoring(path: str | Path) -> Scoring:
    """A scoring written by ``chainrisk score --out FILE.parquet``."""
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read scores {path}: {exc}") from exc
    return scoring_of(frame, source=str(path))


def graph_scorings(runner: QueryRunner) -> tuple[Scoring, Scoring | None]:
    """The current ``risk`` run of the graph and the one it superseded (if any) as scorings."""
    from graph.runs import family_runs, run_results

    runs = family_runs(runner, "risk", limit=2)
    if not runs or runs[0]["status"] != "committed":
        raise DataError("the graph holds no committed risk run: run `chainrisk score` first")
    out: list[Scoring] = []
    for run in runs:
        rows = run_results(runner, run["run_id"], "risk")
        frame = pd.DataFrame([{k.removeprefix("risk_"): v for k, v in r.items()} for r in rows])
        if run["as_of"] is None:
            raise DataError(f"risk run {run['run_id']} has no as_of date")
        out.append(
            scoring_of(
                frame if len(frame) else pd.DataFrame(columns=list(_REQUIRED)),
                source=f"run {run['run_id']}",
                as_of=date.fromisoformat(run["as_of"]),
            )
        )
    return out[0], (out[1] if len(out) > 1 else None)


def dataset_history(path: str | Path) -> History:
    """A dataset folder's tables (validated as a load would) and its manifest's ``as_of``."""
    from ingest.manifest import read_manifest
    from ingest.snapshot import read_dataset_tables

    manifest = read_manifest(Path(path))
    return History(read_dataset_tables(path), manifest.as_of, manifest.currency)


def graph_history(runner: QueryRunner, *, today: date | None = None) -> History:
    """Everything the graph holds, up to the latest ingest's ``as_of`` (else ``today``)."""
    from graph.runs import latest_as_of
    from ingest.snapshot.from_graph import ingested_currency, read_graph_tables

    end = latest_as_of(runner, "ingest") or today or date.today()
    return History(read_graph_tables(runner, as_of=None), end, ingested_currency(runner))
