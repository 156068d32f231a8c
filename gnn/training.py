"""Train the shipped risk model on what was known by a date, from a dataset folder or the graph.

``train(source, as_of)`` is the bank's use of the out-of-time protocol
(:mod:`gnn.protocol`) with no test year:

1. every table row dated after ``as_of`` is dropped first (:func:`tables_known_by`: the
   contract's ``known_from`` column of each table, monthly figures at the end of their
   month) and link ends after ``as_of`` are forgotten, so nothing later can leak even
   when the data run longer;
2. the **validation** cut is ``as_of`` minus 12 months, so its label window ends at
   ``as_of``; the **training** cuts are the years before it (at most 4, each with a year
   of history before it; :func:`gnn.protocol.plan_training`), so every label window
   ends by ``as_of``;
3. every candidate of :data:`gnn.candidates.CANDIDATES` (or the subset asked for) is
   fitted on the training cuts, stopped and calibrated on the validation cut;
4. the shipped model is the graph-aware candidate with the best validation Brier score (the
   best of all when none of those asked for is graph-aware; the card says so).

The result is a :class:`gnn.model_store.TrainedModel` with its model card; save it
with :func:`gnn.model_store.save_model`.

Example::

    from gnn.training import train
    from gnn.model_store import save_model
    trained = train("out/platform", date(2024, 12, 31), seed=7)
    save_model(trained, "var/models/current")
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from chainrisk import __version__
from chainrisk.errors import ConfigError, DataError
from gnn.baselines import PD_FLOOR
from gnn.candidates import CANDIDATES, RiskModel, select_shipped
from gnn.labels import HORIZON_MONTHS
from gnn.metrics import scores
from gnn.model_store import (
    FeatureSchema,
    TrainedModel,
    calibration_of,
    git_commit,
    model_version,
    package_versions,
    payload_of,
)
from gnn.protocol import Cut, TrainingPlan, build_cut, data_start, plan_training
from graph.protocol import QueryRunner
from ingest.default_definition import observed_on
from ingest.manifest import read_manifest
from ingest.snapshot import read_dataset_tables
from ingest.snapshot.assemble import normalize_table
from ingest.snapshot.from_graph import ingested_currency, read_graph_tables
from ingest.tables import TABLES

__all__ = ["PD_TYPE", "dataset_hash", "tables_known_by", "train", "train_from_graph", "training_cuts"]

#: What the PDs are; the stress engine reads this statement from the card.
PD_TYPE = "point-in-time"
PD_TYPE_REASON = (
    "calibrated (Platt) on the latest labelled year, the 12 months ending at the as-of date, so the PDs "
    "carry that year's default rate and move with the cycle; they are not through-the-cycle averages"
)

INTENDED_USE = (
    "Ranking and pricing the 12-month default risk of a bank's SME borrowers and platform prospects, "
    "with their supply, guarantee, trade-credit and ownership neighbourhood, as an input to a credit "
    "officer's review, watch lists and stress tests. Not an automated credit decision; the lender's "
    "official five-category classification stays the lender's."
)

LIMITS: tuple[str, ...] = (
    "Validation metrics are measured on the cut the calibration was fitted on, so they flatter "
    "calibration; the out-of-time test of the same protocol is `chainrisk evaluate`.",
    "Trained on the bank's book (platform firms with a loan running at each cut, not in default); "
    "prospects without a loan are scored by the same model, outside the population it was fitted on.",
    "Point-in-time PDs: when next year's default rate drifts from the validation year's, the PDs are "
    "biased by about that ratio until the model is retrained (yearly, on the newest labelled year).",
    "Firms already in default at the as-of date are not scored; external counterparties only enter "
    "through their links.",
    "The payload is a pickle: load only model folders your own pipeline wrote.",
)

Progress = Callable[[str], None]


def tables_known_by(
    tables: Mapping[str, pd.DataFrame], as_of: date
) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """The tables as they were known at ``as_of``, and how many rows each lost.

    A row is dropped when its table's ``known_from`` date (published, start, observed ...)
    is after ``as_of``; a monthly figure is known at the end of its month. Link ends
    after ``as_of`` are forgotten (the link was open then). Rows without the date are
    kept, as the snapshot assembly keeps them.

    >>> ev = pd.DataFrame({"uscc": ["A", "B"], "type": ["default"] * 2,
    ...                    "date": pd.to_datetime(["2024-01-05", "2024-03-01"])})
    >>> known, dropped = tables_known_by({"events": ev}, date(2024, 1, 31))
    >>> known["events"]["uscc"].tolist(), dropped
    (['A'], {'events': 1})
    """
    t = pd.Timestamp(as_of)
    out: dict[str, pd.DataFrame] = {}
    dropped: dict[str, int] = {}
    for name, frame in tables.items():
        spec = TABLES.get(name)
        if spec is None or frame is None:
            out[name] = frame
            continue
        f = frame
        col = spec.known_from
        if col is not None and col in f.columns and len(f):
            when = pd.to_datetime(f[col], errors="coerce")
            kind = next(c.kind for c in spec.columns if c.name == col)
            if kind == "month":
                when = observed_on(when)
            keep = ~(when > t).to_numpy()
            dropped[name] = int((~keep).sum())
            f = f[keep]
        if "end" in f.columns and len(f):
            end = pd.to_datetime(f["end"], errors="coerce")
            later = (end > t).to_numpy()
            if later.any():
                f = f.copy()
                f.loc[later, "end"] = pd.NaT
        out[name] = f.reset_index(drop=True)
    return out, {k: v for k, v in dropped.items() if v}


def dataset_hash(tables: Mapping[str, pd.DataFrame]) -> str:
    """A SHA-256 of the tables' contract columns, each sorted by its key (row order and extra
    columns do not count)."""
    h = hashlib.sha256()
    for name in sorted(tables):
        if name not in TABLES:
            continue
        spec = TABLES[name]
        frame = normalize_table(name, tables[name])
        frame = frame.sort_values(list(spec.key), kind="stable", na_position="first").reset_index(drop=True)
        h.update(f"{name}:{','.join(map(str, frame.columns))}:{len(frame)};".encode())
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy(dtype=np.uint64).tobytes())
    return h.hexdigest()


def _data_end(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp | None:
    ends = [
        observed_on(pd.to_datetime(tables[n]["month"])).max()
        for n in ("signals", "loan_status")
        if n in tables and len(tables[n])
    ]
    return max(ends) if ends else None


def training_cuts(
    tables: Mapping[str, pd.DataFrame], as_of: date, *, currency: str = "CNY"
) -> tuple[TrainingPlan, list[Cut], Cut]:
    """The training and validation cuts of ``tables`` (already known by ``as_of``)."""
    end = _data_end(tables)
    if end is not None and end < pd.Timestamp(as_of) - pd.Timedelta(days=31):
        raise DataError(
            f"the monthly data end at {end.date()}, more than a month before the as-of date {as_of}: "
            "the validation year's defaults would be incomplete; train as of the data's end instead"
        )
    plan = plan_training(data_start(tables), as_of)
    train_cuts = [build_cut(tables, t, currency=currency) for t in plan.train]
    return plan, train_cuts, build_cut(tables, plan.validation, currency=currency)


def train(
    source: str | Path | Mapping[str, pd.DataFrame],
    as_of: date,
    *,
    seed: int = 0,
    threads: int = 2,
    candidates: Sequence[str] | None = None,
    progress: Progress | None = None,
    currency: str | None = None,
    source_description: str | None = None,
) -> TrainedModel:
    """Fit the candidates on what was known by ``as_of`` and return the shipped one with its card.

    Parameters
    ----------
    source : dataset folder, or table name -> frame (as ``read_dataset_tables`` / ``read_graph_tables`` give)
    as_of : date
        The training date: nothing dated after it is read; the validation labels end at it.
    seed, threads : int
        Passed to every candidate's fit (same inputs and seed, same model).
    candidates : names from :data:`gnn.candidates.CANDIDATES` (default: all)
    progress : called with a short message at each step
    currency : money unit (default: the manifest's, else CNY)
    source_description : how the card names the data (default: the folder's name)
    """
    say = progress or (lambda _msg: None)
    t0 = time.monotonic()
    names = list(candidates or CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise ConfigError(f"unknown candidate models {unknown}; known: {sorted(CANDIDATES)}")
    if isinstance(source, str | Path):
        say(f"reading {Path(source).name}")
        manifest = read_manifest(Path(source))
        tables: Mapping[str, pd.DataFrame] = read_dataset_tables(source)
        currency = currency or manifest.currency
        described = (
            source_description or f"dataset folder {Path(source).name} (manifest as_of {manifest.as_of})"
        )
    else:
        tables = source
        described = source_description or "tables given in memory"
    currency = currency or "CNY"
    known, dropped = tables_known_by(tables, as_of)
    say("building the training and validation cuts")
    plan, train_cuts, val = training_cuts(known, as_of, currency=currency)

    fitted: dict[str, RiskModel] = {}
    metrics: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    val_pds: dict[str, list[np.ndarray]] = {}
    for name in names:
        say(f"fitting {name}")
        t1 = time.monotonic()
        fitted[name] = CANDIDATES[name].fit(train_cuts, val, seed, threads)
        seconds[name] = round(time.monotonic() - t1, 2)
        val_pds[name] = [np.asarray(fitted[name].predict_pd(val), dtype="float64")]
        metrics[name] = scores(val.y, val_pds[name][0])
    selection = select_shipped(val.y, val_pds, seed=seed)
    shipped = selection.shipped
    model = fitted[shipped]
    payload = payload_of(model)
    version = model_version(shipped, as_of, payload)
    schema = FeatureSchema.of_cut(val)
    p_val = model.predict_pd(val)
    calibration = {
        **calibration_of(model),
        "fitted_on": plan.validation.isoformat(),
        "validation_default_rate": float(np.mean(val.y)) if len(val.y) else math.nan,
        "validation_mean_pd": float(np.mean(p_val)) if len(p_val) else math.nan,
    }
    y_train = np.concatenate([c.y for c in train_cuts])
    card: dict[str, Any] = {
        "model": {
            "name": shipped,
            "version": version,
            "description": CANDIDATES[shipped].description,
            "graph_aware": CANDIDATES[shipped].graph_aware,
            # B4: the read-out set kept on validation (one or two hops), with the numbers
            "readouts": getattr(model, "readouts_because", None),
            # B2: whether the chain features were kept on validation, with the numbers
            "chain_features": getattr(model, "chain_because", None) or None,
        },
        "as_of": as_of.isoformat(),
        "horizon_months": HORIZON_MONTHS,
        "pd_type": PD_TYPE,
        "pd_type_reason": PD_TYPE_REASON,
        "pd_floor": PD_FLOOR,
        "training_data": {
            "source": described,
            "content_sha256": dataset_hash(known),
            "currency": currency,
            "data_start": data_start(known).isoformat(),
            "rows": {n: len(f) for n, f in sorted(known.items()) if f is not None},
            "rows_dropped_after_as_of": dropped,
        },
        "cuts": {"train": [t.isoformat() for t in plan.train], "validation": plan.validation.isoformat()},
        "sizes": {
            "train": [
                {"cut": c.as_of.isoformat(), "firms": len(c.y), "defaults": int(np.sum(c.y))}
                for c in train_cuts
            ],
            "train_firms": len(y_train),
            "train_defaults": int(y_train.sum()),
            "validation_firms": len(val.y),
            "validation_defaults": int(np.sum(val.y)),
        },
        "candidates": {
            n: {
                "description": CANDIDATES[n].description,
                "graph_aware": CANDIDATES[n].graph_aware,
                "validation": metrics[n],
                "fit_seconds": seconds[n],
            }
            for n in names
        },
        "shipped": shipped,
        "selection": selection.because,
        "selection_challenges": selection.to_dict()["challenges"],
        "features": schema.to_dict(),
        "calibration": calibration,
        "intended_use": INTENDED_USE,
        "limits": list(LIMITS),
        "seed": seed,
        "threads": threads,
        "trained_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "training_seconds": round(time.monotonic() - t0, 1),
        "software": {"chainrisk": __version__, "git_commit": git_commit(), "packages": package_versions()},
    }
    return TrainedModel(model, shipped, version, as_of, schema, calibration, card, payload)


def train_from_graph(runner: QueryRunner, as_of: date, **kwargs: Any) -> TrainedModel:
    """:func:`train` on the tables read back from Neo4j as of ``as_of`` (``kwargs`` as for it).

    The graph holds every table the labels need (events, loans and their monthly statuses),
    read back as the files' validated frames (:func:`ingest.snapshot.read_graph_tables`).
    """
    progress: Progress = kwargs.get("progress") or (lambda _msg: None)
    progress("reading the tables from Neo4j")
    tables = read_graph_tables(runner, as_of=as_of)
    kwargs.setdefault("currency", ingested_currency(runner))
    kwargs.setdefault("source_description", f"the Neo4j graph read as of {as_of}")
    return train(tables, as_of, **kwargs)
