"""Guarantee network (``ingest.generate.guarantees``) as written."""

from __future__ import annotations

from pathlib import Path

from ingest.generate import GenerationSummary
from tests.ingest.generate._helpers import read


def test_guarantee_network(big: tuple[Path, GenerationSummary]) -> None:
    out, s = big
    g = read(out, "guarantees")
    loans = read(out, "loans")
    assert s.mutual_guarantee_pairs >= 10
    assert s.guarantee_circles >= 3
    assert s.max_guarantor_degree >= 20
    assert set(g["guarantor_type"].to_pylist()) == {"firm", "person"}
    principal = dict(zip(loans["loan_id"].to_pylist(), loans["principal"].to_pylist(), strict=True))
    assert all(
        a <= principal[lid] + 1e-6
        for lid, a in zip(g["loan_id"].to_pylist(), g["amount"].to_pylist(), strict=True)
    )
