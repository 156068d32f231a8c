"""Top systemic firms on the hand-built platform (``_graph``): stress results, else ESRI."""

from __future__ import annotations

import pytest

from chainrisk.errors import InvalidQueryParameter
from contagion.esri import esri, snapshot_esri
from graph.runner import GraphRunner
from ingest.snapshot.from_graph import read_snapshot
from queries.systemic import ESRI_TOL, top_systemic
from tests.queries._graph import AS_OF, BANK, NAME, U
from tests.queries.conftest import published


def test_esri_on_the_snapshot_without_a_stress_run(platform: GraphRunner) -> None:
    got = top_systemic(platform, top=34, lenders=BANK)
    assert got.attrs["method"] == "esri" and "ESRI" in got.attrs["measure"]
    # the same numbers as contagion's ESRI on the snapshot, ordered
    from datetime import date

    snap = read_snapshot(platform, as_of=date.fromisoformat(AS_OF))
    sales = 4.0 * snap.firms["revenue"].to_numpy(dtype=float)
    reference = esri(snap.supply, snap.firms["sector"].to_numpy(), total_sales=sales,
                     total_inputs=0.75 * sales, exact=True, tol=ESRI_TOL)  # every firm, dense
    expected = dict(zip(snap.firms["uscc"], reference.esri, strict=True))
    assert got["impact"].tolist() == pytest.approx([expected[u] for u in got["uscc"]], abs=1e-5)
    # and the fast frontier (snapshot_esri) under-estimates them by about its tol, 1e-3, at most
    fast = dict(zip(snap.firms["uscc"], snapshot_esri(snap).esri, strict=True))
    assert all(-1e-9 <= expected[u] - fast[u] <= 5e-3 for u in got["uscc"])
    assert got["impact"].is_monotonic_decreasing
    # M1 trades with no one: its failure costs its own weight, sales 4 x 1000 of the network's
    # 68,450 (F 48,000, S1 12,000, M1 4,000, M2 2,400 from statements; without one, in-network
    # sales: B1 1000, S2 400, S3 300, S4 300, S7 50)
    m1 = got.set_index("uscc").loc[U["M1"]]
    assert m1["impact"] == pytest.approx(4000 / 68450) and m1["exposure"] == 400.0
    assert NAME[got["uscc"].iloc[0]] == "F" and got["rank"].iloc[0] == 1


def test_stress_results_written_back_come_first(platform: GraphRunner) -> None:
    with pytest.raises(InvalidQueryParameter, match="no current stress run"):
        top_systemic(platform, method="stress")
    rows = [{"uscc": U["S4"], "stress_systemic_impact": 0.3, "stress_default_prob": 0.2},
            {"uscc": U["B1"], "stress_systemic_impact": 0.1, "stress_default_prob": 0.05}]
    with published(platform, "stress", rows):
        got = top_systemic(platform, lenders=BANK)
        assert got.attrs["method"] == "stress" and got.attrs["run_as_of"] == AS_OF
        assert [(NAME[u], i, p) for u, i, p in got[["uscc", "impact", "stress_default_prob"]].values] == [
            ("S4", 0.3, 0.2), ("B1", 0.1, 0.05)]
        assert got["exposure"].tolist() == [100.0, 200.0]
        assert top_systemic(platform, method="esri", top=1).attrs["method"] == "esri"
