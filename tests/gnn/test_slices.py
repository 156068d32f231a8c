"""Slice tables of the test book (``gnn.slices``) on a hand-made cut."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from gnn.metrics import auc
from gnn.protocol import Cut
from gnn.slices import SMALL_FIRMS, slice_groups, slice_table
from ingest.snapshot import assemble_snapshot


def _cut(n: int = 600, seed: int = 0) -> Cut:
    rng = np.random.default_rng(seed)
    firms = pd.DataFrame(
        {
            "uscc": [f"F{i:05d}" for i in range(n)],
            "name": [f"f{i}" for i in range(n)],
            "industry": rng.choice(["C3411", "C3484", "F5174"], n),
            "region": rng.choice(["310100", "330100", "330200"], n),
            "size_class": rng.choice(["micro", "small", "medium"], n, p=[0.6, 0.35, 0.05]),
        }
    )
    snap = assemble_snapshot({"firms": firms}, as_of=date(2024, 12, 31))
    rows = np.arange(n)
    y = (rng.random(n) < 0.1).astype(float)
    has = (rng.random(n) < 0.7).astype(float)
    own = pd.DataFrame({"has_statement": has})
    return Cut(snap.as_of, snap.firms["uscc"].to_numpy(), own, pd.DataFrame(index=own.index), y, snap, rows)


def test_groups_follow_the_snapshot_rows() -> None:
    cut = _cut()
    g = slice_groups(cut)
    firms = cut.snapshot.firms
    assert (g["size_class"].to_numpy() == firms["size_class"].to_numpy()).all()
    # provinces: 31 (Shanghai) and 33 (Zhejiang)
    assert set(g["region"]) == {"310000", "330000"}
    assert (
        (g["statements"] == "without statements").to_numpy() == (cut.own["has_statement"] == 0).to_numpy()
    ).all()


def test_slice_table_counts_defaults_and_measures() -> None:
    cut = _cut()
    rng = np.random.default_rng(1)
    p1 = np.clip(0.05 + 0.2 * cut.y * rng.random(len(cut.y)) + 0.1 * rng.random(len(cut.y)), 0, 1)
    p2 = np.clip(p1 + 0.01 * rng.random(len(cut.y)), 0, 1)
    table = slice_table(cut, {"A": [p1, p2], "B": [p1]})
    assert set(table) == {"size_class", "industry", "region", "statements"}
    groups = slice_groups(cut)
    for dim, rows in table.items():
        # every firm in exactly one group, the largest group first
        assert sum(r["firms"] for r in rows) == len(cut.y)
        assert sum(r["defaults"] for r in rows) == int(cut.y.sum())
        assert [r["firms"] for r in rows] == sorted((r["firms"] for r in rows), reverse=True)
        for r in rows:
            mask = (groups[dim] == r["group"]).to_numpy()
            assert r["default_rate"] == pytest.approx(cut.y[mask].mean())
            assert r["small"] == (r["firms"] < SMALL_FIRMS or r["defaults"] < 20)
            # model A: the mean over its two seeds; model B: its one seed
            want_a = np.mean([auc(cut.y[mask], p[mask]) for p in (p1, p2)])
            assert r["models"]["A"]["auc"] == pytest.approx(want_a, nan_ok=True)
            assert r["models"]["B"]["mean_pd"] == pytest.approx(p1[mask].mean())
    medium = next(r for r in table["size_class"] if r["group"] == "medium")
    assert medium["small"]  # about 30 firms


def test_many_industries_are_pooled() -> None:
    cut = _cut(n=400)
    firms = cut.snapshot.firms.copy()
    firms["industry"] = [f"C{i % 40:04d}" for i in range(len(firms))]
    snap = assemble_snapshot({"firms": firms.loc[:, ["uscc", "name", "industry"]]}, as_of=cut.as_of)
    cut.snapshot = snap
    g = slice_groups(cut)["industry"]
    assert g.nunique() == 16 and (g == "other").sum() == 25 * 10
