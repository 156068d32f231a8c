"""Scoring (``gnn.scoring``): columns, segments, tiers, the arrears floor, pd_change, reasons."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainrisk.errors import DataError, SchemaMismatch
from gnn.labels import bank_book
from gnn.model_store import TrainedModel
from gnn.scoring import SCORE_COLUMNS, read_previous, score, write_back_rows
from gnn.tiers import CLASSES, tier_of
from ingest.snapshot import Snapshot, build_snapshot


@pytest.fixture(scope="module")
def snap(platform: Path, trained: TrainedModel) -> Snapshot:
    return build_snapshot(platform, as_of=trained.as_of)


@pytest.fixture(scope="module")
def scores(trained: TrainedModel, snap: Snapshot) -> pd.DataFrame:
    return score(trained, snap)


def test_columns_and_segments(scores: pd.DataFrame, snap: Snapshot, trained: TrainedModel) -> None:
    assert tuple(scores.columns) == SCORE_COLUMNS
    f = snap.firms.set_index("uscc")
    book = set(snap.firms["uscc"].to_numpy()[bank_book(snap)])
    live = set(f.index[~f["external"].to_numpy(dtype=bool) & ~f["defaulted"].to_numpy(dtype=bool)])
    assert set(scores.loc[scores["segment"] == "book", "uscc"]) == book
    assert set(scores.loc[scores["segment"] == "prospect", "uscc"]) == live - book
    assert scores["uscc"].is_unique and len(book) > 0 and len(live - book) > 0
    assert ((scores["pd"] >= 0.0003) & (scores["pd"] < 1)).all()
    assert scores["tier"].tolist() == tier_of(scores["pd"].to_numpy()).tolist()
    assert (scores["model_version"] == trained.version).all() and (scores["as_of"] == snap.as_of).all()
    assert scores["pd_change"].isna().all() and all(r == [] for r in scores["reasons"])


def test_suggested_class_is_never_better_than_the_arrears(trained: TrainedModel, snap: Snapshot) -> None:
    book_rows = np.flatnonzero(bank_book(snap))
    who = snap.firms["uscc"].iloc[book_rows[0]]
    loans = snap.loans.copy()
    mine = (loans["borrower"] == book_rows[0]).to_numpy()
    loans.loc[mine, "min_classification"] = "doubtful"  # as if 270+ days overdue
    frame = score(trained, dataclasses.replace(snap, loans=loans))
    row = frame.set_index("uscc").loc[who]
    assert row["suggested_class"] in ("doubtful", "loss")
    rank = {c: i for i, c in enumerate(CLASSES)}
    owed = loans[~(loans["outstanding"] <= 0).to_numpy()]  # a repaid loan has no current arrears
    floor = owed.groupby("borrower_uscc")["min_classification"].agg(lambda s: s.map(rank).fillna(0).max())
    got = frame.set_index("uscc")["suggested_class"].map(rank)
    common = got.index.intersection(floor.index)
    assert (got[common] >= floor[common]).all()


def test_pd_change_against_the_previous_run(
    trained: TrainedModel, snap: Snapshot, scores: pd.DataFrame, tmp_path: Path
) -> None:
    half = scores.iloc[::2]
    prev = half.assign(pd=half["pd"] - 0.01)
    prev.to_parquet(tmp_path / "prev.parquet")
    frame = score(trained, snap, previous=read_previous(tmp_path / "prev.parquet"))
    assert np.allclose(frame["pd_change"].iloc[::2], 0.01)
    assert frame["pd_change"].iloc[1::2].isna().all()
    rows = list(write_back_rows(frame.iloc[:2]))
    assert rows[0]["risk_pd_change"] == pytest.approx(0.01) and rows[1]["risk_pd_change"] is None
    assert set(rows[0]) == {
        "uscc",
        "risk_pd",
        "risk_tier",
        "risk_suggested_class",
        "risk_reasons",
        "risk_segment",
        "risk_model_version",
        "risk_pd_change",
    }
    with pytest.raises(DataError, match="'uscc' and 'pd'"):
        score(trained, snap, previous=pd.DataFrame({"firm": ["A"]}))


def test_reasons_come_from_the_given_function(trained: TrainedModel, snap: Snapshot) -> None:
    seen = {}

    def reasons(model: object, cut: object) -> list[list[str]]:
        seen["model"] = model
        return [[f"reason of {u}", "b", "c"] for u in cut.uscc]  # type: ignore[attr-defined]

    frame = score(trained, snap, reasons=reasons)
    assert seen["model"] is trained.model
    assert frame["reasons"].iloc[0] == [f"reason of {frame['uscc'].iloc[0]}", "b", "c"]
    with pytest.raises(DataError, match="reasons function"):
        score(trained, snap, reasons=lambda m, c: [["x"]])


def test_scoring_checks_the_feature_schema(trained: TrainedModel, snap: Snapshot) -> None:
    empty = dataclasses.replace(snap, ownership=snap.ownership.iloc[0:0])
    with pytest.raises(SchemaMismatch, match="ownership"):
        score(trained, empty)
