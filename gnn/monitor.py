"""Monitoring a risk model in use: back-test, stability, watchlist and one verdict (``chainrisk monitor``).

Inputs (:mod:`gnn.scorings`) are *scorings*, per firm the columns of ``chainrisk score
--out`` from Parquet files or the graph's ``risk`` runs (the current one and the one it
superseded), and the *history* of a dataset (its tables, as far as its data reach), from a
folder or the graph, for the realised defaults and the feature snapshots.

- **Back-test** (:mod:`gnn.backtest`): the current scoring when the data reach past its
  date, else the previous one; firms of one segment (the bank's book by default).
- **Stability** (:mod:`gnn.stability`): PSI of the PDs, previous scoring -> current, and of
  every model feature (:func:`gnn.features.firm_features` and
  :func:`gnn.graph_features.graph_features`) between the snapshots at the reference date (the
  previous scoring's, else a year before the current one) and the current scoring's date.
- **Watchlist** (:mod:`gnn.watchlist`): firms whose tier worsened.

**Verdict**, the first rule that holds (PSIs flagged ``small_sample`` do not count):

1. ``investigate``: the PDs' PSI, or a feature's, is above 0.25: the population moved,
   and recalibrating a model on inputs it has not seen would hide that;
2. ``recalibrate``: a tier is red, two or more are amber, or the portfolio's mean PD lies
   outside the Jeffreys 95% interval of its observed default rate;
3. ``watch``: one amber tier, or a PSI of 0.10 to 0.25;
4. ``calibrated and stable``: back-tested, and none of the above;
   ``stable, not back-tested`` when no data follow either scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from chainrisk.errors import DataError
from gnn.backtest import AMBER_AT, RED_AT, backtest, observed_window
from gnn.features import firm_features
from gnn.graph_features import graph_features
from gnn.labels import bank_book
from gnn.scorings import History, Scoring
from gnn.stability import PSI_SHIFTED, PSI_WATCH, feature_psi, score_psi
from gnn.watchlist import watchlist
from ingest.default_definition import default_dates
from ingest.snapshot import Snapshot, assemble_snapshot

__all__ = ["SEGMENTS", "monitor", "verdict"]

#: Segments the monitor can restrict to (``all``: every scored firm).
SEGMENTS: tuple[str, ...] = ("book", "prospect", "all")


def _population(snap: Snapshot, segment: str) -> np.ndarray:
    """Rows of ``snap.firms`` in ``segment``: the book, platform firms outside it, or all platform firms."""
    platform = ~snap.firms["external"].to_numpy(dtype=bool)
    if segment == "all":
        return np.flatnonzero(platform)
    book = bank_book(snap)
    return np.flatnonzero(book if segment == "book" else platform & ~book)


class _Snapshots:
    """Snapshots of one history, assembled once per date."""

    def __init__(self, history: History) -> None:
        self.history = history
        self._cache: dict[date, Snapshot] = {}

    def at(self, day: date) -> Snapshot:
        if day not in self._cache:
            self._cache[day] = assemble_snapshot(
                self.history.tables, as_of=day, currency=self.history.currency
            )
        return self._cache[day]

    def features(self, day: date, segment: str) -> pd.DataFrame:
        snap = self.at(day)
        own = firm_features(snap)
        both = pd.concat([own, graph_features(snap, own)], axis=1)
        return both.iloc[_population(snap, segment)].reset_index(drop=True)


def _segment(s: Scoring, segment: str, snaps: _Snapshots | None) -> tuple[pd.DataFrame, str | None]:
    """The firms of ``segment`` in a scoring: by its ``segment`` column, else by the book at its date."""
    f = s.scores
    if segment == "all":
        return f, None
    if "segment" in f.columns:
        return f[f["segment"] == segment].reset_index(drop=True), None
    if snaps is None:
        return f, f"{s.source} has no segment column and no data to find the book: all its firms are used"
    snap = snaps.at(s.as_of)
    book = set(snap.firms["uscc"].to_numpy()[_population(snap, "book")])
    inside = f["uscc"].isin(book)
    return f[inside if segment == "book" else ~inside].reset_index(drop=True), None


def monitor(
    current: Scoring,
    previous: Scoring | None = None,
    history: History | None = None,
    *,
    segment: str = "book",
    reference_as_of: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Back-test, stability, watchlist and verdict as one JSON-ready dict (module docstring)."""
    if segment not in SEGMENTS:
        raise DataError(f"unknown segment {segment!r}; expected one of {list(SEGMENTS)}")
    say = progress or (lambda _msg: None)
    snaps = _Snapshots(history) if history is not None else None
    notes: list[str] = []
    cur, note = _segment(current, segment, snaps)
    notes += [note] if note else []
    prev = None
    if previous is not None:
        prev, note = _segment(previous, segment, snaps)
        notes += [note] if note else []

    bt: dict[str, Any] | None = None
    if history is None:
        notes.append("no dataset: no back-test and no feature stability")
    else:
        target = next(
            (
                p
                for p in ((current, cur), (previous, prev))
                if p[0] is not None and history.data_end > p[0].as_of
            ),
            None,
        )
        if target is None:
            notes.append(f"the data end at {history.data_end}, not after any scoring's date: no back-test")
        else:
            say("back-testing against realised defaults")
            scoring, frame = target
            assert scoring is not None and frame is not None
            t = history.tables
            first = default_dates(
                t.get("events"), t.get("loan_status"), t.get("loans"), as_of=history.data_end
            )
            bt = {
                "scoring": "current" if scoring is current else "previous",
                "scored_as_of": scoring.as_of.isoformat(),
                **backtest(frame, first, observed_window(scoring.as_of, history.data_end)),
            }
            if bt["window"]["partial"]:
                notes.append(
                    f"the label window is {bt['window']['fraction']:.0%} observed: PDs are scaled to it"
                )

    stability: dict[str, Any] = {"score": None, "features": None}
    if prev is not None:
        stability["score"] = score_psi(prev["pd"].to_numpy(), cur["pd"].to_numpy())
    if snaps is not None:
        ref = reference_as_of or (
            previous.as_of
            if previous is not None
            else (pd.Timestamp(current.as_of) - pd.DateOffset(months=12)).date()
        )
        if ref >= current.as_of:
            raise DataError(f"the reference date {ref} is not before the current scoring's {current.as_of}")
        say(f"feature stability {ref} -> {current.as_of}")
        table = feature_psi(snaps.features(ref, segment), snaps.features(current.as_of, segment))
        stability.update(
            reference_as_of=ref.isoformat(),
            current_as_of=current.as_of.isoformat(),
            features=table.to_dict(orient="records"),
        )

    result: dict[str, Any] = {
        "current": current.describe(),
        "previous": previous.describe() if previous is not None else None,
        "segment": segment,
        "data_end": history.data_end.isoformat() if history is not None else None,
        "backtest": bt,
        "stability": stability,
        "watchlist": watchlist(cur, prev) if prev is not None else None,
        "notes": notes,
        "thresholds": {
            "psi_watch": PSI_WATCH,
            "psi_shifted": PSI_SHIFTED,
            "amber_at": AMBER_AT,
            "red_at": RED_AT,
        },
    }
    result["verdict"], result["verdict_reasons"] = verdict(result)
    return result


def verdict(result: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The verdict of a :func:`monitor` result and the findings behind it (module docstring)."""
    stab = result["stability"]
    psis = ([stab["score"]] if stab["score"] else []) + list(stab["features"] or [])
    counted = [r for r in psis if not r["small_sample"]]
    shifted = [f"{r['feature']} PSI {r['psi']:.2f}" for r in counted if r["verdict"] == "shifted"]
    watched = [f"{r['feature']} PSI {r['psi']:.2f}" for r in counted if r["verdict"] == "watch"]
    bt = result["backtest"]
    red = [f"tier {r['tier']} red" for r in bt["tiers"] if r["light"] == "red"] if bt else []
    amber = [f"tier {r['tier']} amber" for r in bt["tiers"] if r["light"] == "amber"] if bt else []
    off = []
    if bt and bt["portfolio"]["firms"] and not bt["portfolio"]["calibrated"]:
        p = bt["portfolio"]
        off = [
            f"portfolio mean PD {p['mean_pd']:.2%} outside the observed rate's 95% interval "
            f"{p['rate_ci95'][0]:.2%}-{p['rate_ci95'][1]:.2%}"
        ]
    if shifted:
        return "investigate", ["shifted: " + ", ".join(shifted)]
    if red or len(amber) >= 2 or off:
        return "recalibrate", red + (amber if len(amber) >= 2 else []) + off
    if amber or watched:
        return "watch", amber + (["on watch: " + ", ".join(watched)] if watched else [])
    if bt is None:
        return "stable, not back-tested", []
    return "calibrated and stable", []
