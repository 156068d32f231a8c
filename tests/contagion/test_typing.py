"""The input types of :mod:`contagion.typing`: the snapshot protocol and the aliases."""

from __future__ import annotations

import datetime
import subprocess
import sys
from types import SimpleNamespace

import pandas as pd
import scipy.sparse as sp

import contagion.typing as ct
from contagion import build_layers
from contagion.typing import SnapshotLike

from .stress.conftest import build_snapshot

#: What the models read from a snapshot (multilayer.build_layers, esri.snapshot_esri, stress).
READ = {"as_of", "firms", "supply", "guarantees", "receivables", "loans", "guarantee_contracts", "n",
        "content_hash"}


def test_the_protocol_lists_exactly_what_the_models_read() -> None:
    members = {name for name in vars(SnapshotLike) if not name.startswith("_")}
    assert members == READ


def test_the_ingest_snapshot_satisfies_it() -> None:
    assert isinstance(build_snapshot(), SnapshotLike)


def test_a_partial_object_does_not() -> None:
    assert not isinstance(SimpleNamespace(firms=pd.DataFrame(), supply=sp.csr_matrix((0, 0))), SnapshotLike)


def test_any_object_with_the_attributes_will_do() -> None:
    z = sp.csr_matrix((2, 2))
    snap = SimpleNamespace(
        as_of=datetime.date(2024, 1, 1), firms=pd.DataFrame({"equity": [10.0, 10.0]}),
        supply=sp.csr_matrix([[0.0, 50.0], [0.0, 0.0]]), guarantees=z, receivables=z,
        loans=pd.DataFrame(), guarantee_contracts=pd.DataFrame(), n=2, content_hash=lambda: "h",
    )
    assert isinstance(snap, SnapshotLike)
    # margin 0.1 on 50 for the default 3 months, over equity 10: 0.1 x 50 x 3/12 / 10
    assert build_layers(snap)["supply"].toarray().tolist() == [[0.0, 0.125], [0.125, 0.0]]  # type: ignore[arg-type]


def test_aliases_are_exported() -> None:
    assert ct.__all__ == sorted(ct.__all__)
    for name in ct.__all__:
        assert getattr(ct, name) is not None


def test_importing_contagion_pulls_in_neither_ingest_nor_torch_nor_the_settings() -> None:
    code = (
        "import sys, contagion, contagion.stress, contagion.typing\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('ingest', 'torch') "
        "or m == 'chainrisk.settings')\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
