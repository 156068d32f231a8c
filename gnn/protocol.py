"""The out-of-time protocol: yearly cuts of one dataset, features at each cut, labels after it.

For a dataset whose data end at ``T`` (its manifest's ``as_of``), the cuts are
month ends one year apart: the **test** cut ``T - 12 months`` (its label window
ends at ``T``, so it is fully observed), the **validation** cut a year before, and
the **training** cuts every year before that, as long as a year of history
precedes them. Every training label window ends by the validation cut, and the
validation window ends by the test cut: no label is seen before its time.

Each cut is an as-of snapshot of the same tables (:func:`ingest.snapshot.assemble_snapshot`),
so features only see what was known at the cut; the labels (:func:`gnn.labels.default_within`)
are the only reads past it. Rows are the bank's book at the cut (:func:`gnn.labels.bank_book`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from chainrisk.errors import DataError
from gnn.features import firm_features
from gnn.graph_features import graph_features
from gnn.labels import HORIZON_MONTHS, bank_book, default_within
from ingest.manifest import read_manifest
from ingest.snapshot import Snapshot, assemble_snapshot, read_dataset_tables

__all__ = [
    "Cut",
    "CutPlan",
    "TrainingPlan",
    "build_cut",
    "cut_of",
    "load_cuts",
    "node_labels",
    "plan_cuts",
    "plan_training",
    "year_before",
]


@dataclass(frozen=True)
class CutPlan:
    """The cut dates of one evaluation."""

    train: tuple[date, ...]
    validation: date
    test: date


@dataclass(frozen=True)
class TrainingPlan:
    """The cut dates of one training run: no test cut, the validation window ends at ``as_of``."""

    train: tuple[date, ...]
    validation: date


@dataclass
class Cut:
    """The bank's book at one cut date: features (own and chain), labels, identities."""

    as_of: date
    uscc: np.ndarray
    own: pd.DataFrame
    chain: pd.DataFrame
    #: 1.0 for a first default within 12 months of ``as_of``; NaN where unknown (scoring)
    y: np.ndarray
    snapshot: Snapshot
    #: the cut's firms as rows of ``snapshot.firms`` (aligned with ``uscc``, ``own``, ``chain``)
    rows: np.ndarray
    #: own and chain features of every row of ``snapshot.firms`` (the graph models' node features)
    nodes: pd.DataFrame | None = None
    #: labels of every row of ``snapshot.firms``: 1/0 for live platform firms, NaN for firms in
    #: default at the cut, external counterparties, or when unknown (scoring)
    y_nodes: np.ndarray | None = None

    @property
    def both(self) -> pd.DataFrame:
        return pd.concat([self.own, self.chain], axis=1)


def _month_end(ts: pd.Timestamp) -> date:
    e = ts + pd.offsets.MonthEnd(0)
    return date(e.year, e.month, e.day)


def data_start(tables: Mapping[str, pd.DataFrame]) -> date:
    """The first month the monthly records cover (signals, loan statuses).

    Loan start dates are not used: a loan taken out years before the platform began
    recording says nothing about how far back the monthly history goes.
    """
    starts = []
    for name in ("signals", "loan_status"):
        frame = tables.get(name)
        if frame is not None and len(frame):
            starts.append(pd.to_datetime(frame["month"]).min())
    if not starts:
        raise DataError("the dataset has no monthly signals or loan statuses: nothing to cut")
    first = min(starts)
    return date(first.year, first.month, 1)


def year_before(t: date) -> date:
    """``t`` minus 12 months; a month end stays a month end.

    >>> year_before(date(2024, 2, 29)), year_before(date(2024, 6, 15))
    (datetime.date(2023, 2, 28), datetime.date(2023, 6, 15))
    """
    ts = pd.Timestamp(t)
    back = ts - pd.DateOffset(months=12)
    return _month_end(back) if ts.is_month_end else date(back.year, back.month, back.day)


def _train_before(validation: date, start: date, history_months: int, max_train: int) -> tuple[date, ...]:
    """Yearly training cuts before ``validation``, each with ``history_months`` of data before it."""
    earliest = pd.Timestamp(start) + pd.DateOffset(months=history_months) - pd.Timedelta(days=1)
    train: list[date] = []
    t = year_before(validation)
    while pd.Timestamp(t) >= earliest and len(train) < max_train:
        train.append(t)
        t = year_before(t)
    return tuple(sorted(train))


def plan_cuts(start: date, end: date, *, history_months: int = 12, max_train: int = 4) -> CutPlan:
    """Yearly cuts between ``start`` (first data month) and ``end`` (the data's as_of).

    >>> p = plan_cuts(date(2021, 1, 1), date(2025, 12, 31))
    >>> [str(t) for t in p.train], str(p.validation), str(p.test)
    (['2021-12-31', '2022-12-31'], '2023-12-31', '2024-12-31')
    """
    test = _month_end(
        pd.Timestamp(end)
        - pd.DateOffset(months=HORIZON_MONTHS)
        - pd.offsets.MonthEnd(0 if pd.Timestamp(end).is_month_end else 1)
    )
    validation = year_before(test)
    train = _train_before(validation, start, history_months, max_train)
    if not train:
        raise DataError(
            f"the data run from {start} to {end}: the protocol needs a year of history, a training year, "
            "a validation year and a test year (48 months or more)"
        )
    return CutPlan(train, validation, test)


def plan_training(start: date, as_of: date, *, history_months: int = 12, max_train: int = 4) -> TrainingPlan:
    """The cuts of a model trained on what was known by ``as_of``.

    The validation cut is ``as_of`` minus 12 months (its label window ends at ``as_of``);
    the training cuts are the years before it, as in :func:`plan_cuts`, so every label
    window ends by ``as_of``.

    >>> p = plan_training(date(2021, 1, 1), date(2024, 12, 31))
    >>> [str(t) for t in p.train], str(p.validation)
    (['2021-12-31', '2022-12-31'], '2023-12-31')
    """
    validation = year_before(as_of)
    train = _train_before(validation, start, history_months, max_train)
    if not train:
        raise DataError(
            f"the data run from {start} to {as_of}: training needs a year of history, a training year "
            "and a validation year before the as-of date (36 months or more)"
        )
    return TrainingPlan(train, validation)


def cut_of(
    snapshot: Snapshot,
    rows: np.ndarray | None = None,
    y: np.ndarray | None = None,
    *,
    y_nodes: np.ndarray | None = None,
) -> Cut:
    """The features of ``rows`` of a snapshot (default: the bank's book); ``y`` NaN when not given.

    ``y_nodes`` optionally labels every row of the snapshot (the graph model trains on every
    live platform firm, not only the book).
    """
    own = firm_features(snapshot)
    chain = graph_features(snapshot, own)
    if rows is None:
        rows = np.flatnonzero(bank_book(snapshot))
    rows = np.asarray(rows, dtype=np.int64)
    uscc = snapshot.firms["uscc"].to_numpy()[rows]
    labels = np.full(len(rows), np.nan) if y is None else np.asarray(y, dtype="float64")
    return Cut(
        snapshot.as_of,
        uscc,
        own.iloc[rows].reset_index(drop=True),
        chain.iloc[rows].reset_index(drop=True),
        labels,
        snapshot,
        rows,
        nodes=pd.concat([own, chain], axis=1),
        y_nodes=y_nodes,
    )


def node_labels(snapshot: Snapshot, defaulted: pd.Index) -> np.ndarray:
    """1/0 labels of every live platform firm of ``snapshot`` (NaN for the others).

    ``defaulted``: the USCCs of the firms whose first default falls in the label window.
    """
    f = snapshot.firms
    live = ~f["external"].to_numpy(dtype=bool) & ~f["defaulted"].to_numpy(dtype=bool)
    y = pd.Index(f["uscc"]).isin(defaulted).astype("float64")
    return np.where(live, y, np.nan)


def build_cut(tables: Mapping[str, pd.DataFrame], as_of: date, *, currency: str = "CNY") -> Cut:
    """Features of the bank's book at ``as_of`` and its 12-month default labels."""
    snap = assemble_snapshot(tables, as_of=as_of, currency=currency)
    rows = np.flatnonzero(bank_book(snap))
    uscc = snap.firms["uscc"].to_numpy()[rows]
    new = default_within(tables.get("events"), tables.get("loan_status"), tables.get("loans"), as_of=as_of)
    return cut_of(
        snap, rows, pd.Index(uscc).isin(new.index).astype("float64"), y_nodes=node_labels(snap, new.index)
    )


def load_cuts(dataset_dir: str | Path) -> tuple[CutPlan, dict[date, Cut]]:
    """Read a dataset folder once and build every cut of its protocol."""
    manifest = read_manifest(Path(dataset_dir))
    tables = read_dataset_tables(dataset_dir)
    plan = plan_cuts(data_start(tables), manifest.as_of)
    cuts = {
        t: build_cut(tables, t, currency=manifest.currency) for t in (*plan.train, plan.validation, plan.test)
    }
    return plan, cuts
