"""Training on what was known by a date (``gnn.training``): cuts, no leak, the shipped choice."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainrisk.errors import ConfigError, DataError
from gnn.candidates import TabularModel
from gnn.labels import window_end
from gnn.model_store import TrainedModel
from gnn.protocol import plan_training, year_before
from gnn.training import dataset_hash, tables_known_by, train, training_cuts
from ingest.manifest import read_manifest
from ingest.snapshot import read_dataset_tables


def test_every_label_window_ends_by_as_of(trained: TrainedModel) -> None:
    cuts = trained.card["cuts"]
    validation = date.fromisoformat(cuts["validation"])
    assert validation == year_before(trained.as_of) and window_end(validation) == trained.as_of
    train_cuts = [date.fromisoformat(t) for t in cuts["train"]]
    assert train_cuts and all(window_end(t) <= validation for t in train_cuts)
    assert len(train_cuts) <= 4


def test_too_short_a_history_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="36 months"):
        plan_training(date(2023, 1, 1), date(2024, 12, 31))


def _plant_future(tables: dict[str, pd.DataFrame], t0: date) -> tuple[dict[str, pd.DataFrame], int]:
    """Rows dated after ``t0`` in every dated table, and open links ended after it."""
    later = pd.Timestamp(t0) + pd.Timedelta(days=20)
    next_month = pd.Timestamp(t0) + pd.offsets.MonthBegin(1)
    firms = tables["firms"]["uscc"].tolist()
    loans = tables["loans"]["loan_id"].tolist()
    n = len(firms)
    planted = {
        "events": pd.DataFrame({"uscc": firms, "date": later, "type": "default"}),
        "loan_status": pd.DataFrame(
            {
                "loan_id": loans,
                "month": next_month,
                "outstanding": 1e6,
                "days_overdue": 200,
                "classification": "doubtful",
            }
        ),
        "supply": pd.DataFrame(
            {"supplier_uscc": firms, "buyer_uscc": firms[1:] + firms[:1], "annual_value": 1e9, "start": later}
        ),
        "financials": pd.DataFrame(
            {
                "uscc": firms,
                "period_end": pd.Timestamp(t0),
                "published": later,
                "total_assets": 1.0,
                "total_liabilities": 100.0,
                "equity": -99.0,
            }
        ),
        "signals": pd.DataFrame({"uscc": firms, "month": next_month, "electricity_kwh": 0.0}),
        "loans": pd.DataFrame(
            {
                "loan_id": [f"FUTURE-{i}" for i in range(n)],
                "borrower_uscc": firms,
                "lender": "BANK",
                "principal": 1e6,
                "start": later,
            }
        ),
        "receivables": pd.DataFrame(
            {"creditor_uscc": firms, "debtor_uscc": firms[2:] + firms[:2], "as_of": later, "amount": 1e8}
        ),
        "guarantees": pd.DataFrame(
            {"guarantor_id": firms, "borrower_uscc": firms[3:] + firms[:3], "amount": 1e9, "start": later}
        ),
        "ownership": pd.DataFrame(
            {"owner_id": firms, "firm_uscc": firms[4:] + firms[:4], "share": 0.9, "start": later}
        ),
    }
    out = {
        name: pd.concat([frame, planted[name]], ignore_index=True) if name in planted else frame.copy()
        for name, frame in tables.items()
    }
    for name in ("supply", "guarantees", "ownership"):  # links open at t0 "end" right after it
        f = out[name]
        f.loc[f["end"].isna() & ~(f["start"] > pd.Timestamp(t0)), "end"] = later
    return out, sum(len(f) for f in planted.values())


def test_rows_dated_after_as_of_change_nothing(platform: Path) -> None:
    tables = read_dataset_tables(platform)
    t0 = year_before(read_manifest(platform).as_of)  # the data run a year past t0 already
    planted, n_planted = _plant_future(tables, t0)
    known, dropped = tables_known_by(planted, t0)
    known_base, dropped_base = tables_known_by(tables, t0)
    assert sum(dropped.values()) - sum(dropped_base.values()) == n_planted
    assert dataset_hash(known) == dataset_hash(known_base)

    _, cuts, val = training_cuts(known, t0)
    _, cuts_base, val_base = training_cuts(known_base, t0)
    for a, b in zip([*cuts, val], [*cuts_base, val_base], strict=True):
        assert a.as_of == b.as_of and np.array_equal(a.uscc, b.uscc) and np.array_equal(a.y, b.y)
        pd.testing.assert_frame_equal(a.both, b.both)

    # the same rows dated inside the validation year would change it: the check above has teeth
    early, _ = _plant_future(tables, t0 - pd.Timedelta(days=60))
    _, _, val_early = training_cuts(tables_known_by(early, t0)[0], t0)
    assert val_early.y.sum() > val_base.y.sum()

    kw = {"seed": 3, "threads": 1, "candidates": ["B0", "B1"]}
    clean = train(tables, t0, **kw)
    leaked = train(planted, t0, **kw)
    assert leaked.version == clean.version and leaked.payload == clean.payload
    for name, c in clean.card["candidates"].items():
        assert leaked.card["candidates"][name]["validation"] == pytest.approx(c["validation"], nan_ok=True)
    assert np.array_equal(leaked.predict_pd(val_base), clean.predict_pd(val_base))


def test_link_ends_after_as_of_are_forgotten() -> None:
    supply = pd.DataFrame(
        {
            "supplier_uscc": ["A", "B"],
            "buyer_uscc": ["C", "C"],
            "annual_value": [1.0, 2.0],
            "start": pd.to_datetime(["2020-01-01", "2020-01-01"]),
            "end": pd.to_datetime(["2023-06-30", "2024-03-31"]),
        }
    )
    known, dropped = tables_known_by({"supply": supply}, date(2023, 12, 31))
    assert known["supply"]["end"].isna().tolist() == [False, True] and dropped == {}


def test_dataset_hash_ignores_row_order_and_extra_columns() -> None:
    ev = pd.DataFrame(
        {
            "uscc": ["A", "B"],
            "date": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "type": ["default", "lawsuit"],
        }
    )
    shuffled = ev.iloc[::-1].assign(_row=[7, 3])
    assert dataset_hash({"events": ev}) == dataset_hash({"events": shuffled})
    assert dataset_hash({"events": ev}) != dataset_hash({"events": ev.assign(type=["default", "default"])})


def test_bad_requests_are_clear_errors(platform: Path) -> None:
    with pytest.raises(ConfigError, match="B9"):
        train(platform, date(2024, 12, 31), candidates=["B9"])
    beyond = read_manifest(platform).as_of + pd.DateOffset(months=6)
    with pytest.raises(DataError, match="before the as-of date"):
        train(platform, beyond.date(), candidates=["B0"])


def test_a_trained_b2_card_says_whether_the_chain_features_were_kept(platform: Path) -> None:
    """B2 alone (the only graph-aware candidate, so it ships): its card carries the validation choice."""
    b2 = train(platform, read_manifest(platform).as_of, seed=0, threads=1, candidates=["B2"])
    said = b2.card["model"]["chain_features"]
    assert b2.name == "B2" and isinstance(said, str)
    assert said.startswith(("chain features kept", "chain features dropped")) and "validation AUC" in said
    # the schema holds the chain columns either way; the kept trees read them only when kept
    assert isinstance(b2.model, TabularModel) and b2.schema.chain
    assert said.startswith("chain features kept") == b2.model.chain
