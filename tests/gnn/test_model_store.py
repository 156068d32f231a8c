"""Saved models (``gnn.model_store``): round trip, checksum, feature schema, model card."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from chainrisk.errors import ModelStoreError, SchemaMismatch
from gnn.model_store import CARD_JSON, CARD_MD, TrainedModel, load_model, save_model
from gnn.protocol import Cut
from gnn.scoring import scoring_cut
from ingest.snapshot import build_snapshot


@pytest.fixture(scope="module")
def cut(platform: Path, trained: TrainedModel) -> Cut:
    return scoring_cut(build_snapshot(platform, as_of=trained.as_of))[0]


@pytest.fixture(scope="module")
def saved(trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_model(trained, tmp_path_factory.mktemp("store") / "model")


def test_round_trip_gives_identical_pds(trained: TrainedModel, saved: Path, cut: Cut) -> None:
    loaded = load_model(saved, cut=cut)
    assert loaded.version == trained.version and loaded.name == trained.name
    assert loaded.payload_sha256 == trained.payload_sha256
    assert loaded.schema == trained.schema and loaded.calibration == trained.calibration
    p = loaded.predict_pd(cut)
    assert len(p) == len(cut.uscc) and np.array_equal(p, trained.predict_pd(cut))
    # saving over a saved model replaces it
    again = load_model(save_model(loaded, saved))
    assert np.array_equal(again.predict_pd(cut), p)


def test_card_states_what_a_bank_needs(trained: TrainedModel, saved: Path) -> None:
    card = json.loads((saved / CARD_JSON).read_text(encoding="utf-8"))
    assert card["model"]["version"] == trained.version
    assert trained.version.startswith(f"{trained.name}-{trained.as_of.isoformat()}-")
    assert card["pd_type"] == "point-in-time" and card["pd_type_reason"]
    assert len(card["training_data"]["content_sha256"]) == 64
    assert set(card["candidates"]) == {"B0", "B1"} and card["shipped"] in card["candidates"]
    for c in card["candidates"].values():
        assert set(c["validation"]) >= {"auc", "pr_auc", "brier", "ece"}
    assert card["selection"] and card["limits"] and card["intended_use"]
    assert all(c["incumbent"] in card["candidates"] for c in card["selection_challenges"])
    assert card["sizes"]["validation_defaults"] > 0 and card["sizes"]["train_firms"] > 0
    assert set(card["software"]["packages"]) >= {
        "python",
        "torch",
        "torch_geometric",
        "lightgbm",
        "pandas",
        "numpy",
    }
    assert card["features"]["own"] == list(trained.schema.own)
    assert card["calibration"]["method"] == "platt" and card["calibration"]["floor"] == 0.0003
    assert card["payload"]["sha256"] == trained.payload_sha256
    assert trained.version in (saved / CARD_MD).read_text(encoding="utf-8")


def test_tampered_payload_is_refused(trained: TrainedModel, tmp_path: Path) -> None:
    path = save_model(trained, tmp_path / "m")
    blob = bytearray((path / "model.pkl").read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    (path / "model.pkl").write_bytes(bytes(blob))
    with pytest.raises(ModelStoreError, match="checksum"):
        load_model(path)


def test_missing_or_foreign_folders_are_clear_errors(trained: TrainedModel, tmp_path: Path) -> None:
    with pytest.raises(ModelStoreError, match="no saved model"):
        load_model(tmp_path / "nothing")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(ModelStoreError, match="not a saved model"):
        save_model(trained, tmp_path / "notes")
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
    with pytest.raises(ModelStoreError, match=r"model_card\.json is missing"):
        load_model(tmp_path / "notes")


def test_schema_mismatch_names_the_columns(saved: Path, cut: Cut) -> None:
    loaded = load_model(saved)
    first, second = cut.own.columns[0], cut.own.columns[1]
    bad = dataclasses.replace(cut, own=cut.own.drop(columns=[first]).assign(made_up=0.0))
    with pytest.raises(SchemaMismatch) as err:
        loaded.predict_pd(bad)
    assert first in str(err.value) and "made_up" in str(err.value)
    assert err.value.missing == (first,) and err.value.extra == ("made_up",)
    with pytest.raises(SchemaMismatch):
        load_model(saved, cut=bad)

    cols = list(cut.own.columns)
    swapped = dataclasses.replace(cut, own=cut.own[[second, first, *cols[2:]]])
    with pytest.raises(SchemaMismatch, match="another order") as err:
        loaded.predict_pd(swapped)
    assert set(err.value.reordered) == {first, second}


def test_a_relation_the_model_knows_missing_from_the_data_is_a_mismatch(saved: Path, cut: Cut) -> None:
    loaded = load_model(saved)
    assert "ownership" in loaded.schema.relations  # the generator writes ownership
    snap = dataclasses.replace(cut.snapshot, ownership=cut.snapshot.ownership.iloc[0:0])
    with pytest.raises(SchemaMismatch, match="ownership") as err:
        loaded.predict_pd(dataclasses.replace(cut, snapshot=snap))
    assert err.value.missing == ("ownership",)
