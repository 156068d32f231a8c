"""Streaming collection: only the tail runs' firm losses are kept, and every figure is unchanged."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from chainrisk.errors import ModelError
from contagion.stress import StressPrecisionWarning, StressResult, parse_scenario, run_stress
from contagion.stress.collect import RunCollector, tail_lower_bound
from contagion.stress.montecarlo import EULER_LEVEL, prepare, simulate_block
from contagion.stress.tail_stats import weighted_var

from .conftest import SCENARIO, build_snapshot


def _run(sampling: str, keep_runs_above: float | None) -> StressResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        spec = parse_scenario(f"name: keep\nruns: 600\nseed: 3\nsampling: {{importance: {sampling}}}\n")
        return run_stress(build_snapshot(), spec, progress=False, bank_lenders=["BANK"], block_size=50,
                          keep_runs_above=keep_runs_above)


@pytest.mark.parametrize("sampling", ["off", "on"])
def test_keeping_only_the_tail_changes_no_figure(sampling: str) -> None:
    every = _run(sampling, -math.inf)
    tail = _run(sampling, None)
    # exact: the dropped runs' terms of the Euler sums were zeros
    pd.testing.assert_frame_equal(tail.firms, every.firms, check_exact=True)
    pd.testing.assert_frame_equal(tail.measures, every.measures, check_exact=True)
    pd.testing.assert_frame_equal(tail.loss_distribution, every.loss_distribution, check_exact=True)
    pd.testing.assert_frame_equal(tail.segments, every.segments, check_exact=True)
    assert tail.firms["es_contribution"].sum() == pytest.approx(tail.measure("ES", 0.99), rel=1e-12)
    # ... from far fewer columns: only runs at or beyond VaR 99 % keep theirs
    loss = tail.loss_distribution["loss"].to_numpy()
    var = tail.measure("VaR", 0.99)
    kept = set(tail.internals["kept_runs"].tolist())
    assert set(np.flatnonzero(loss > var).tolist()) <= kept <= set(np.flatnonzero(loss >= var).tolist())
    assert len(kept) < every.runs / 2
    assert tail.internals["run_firm_loss"].nnz < every.internals["run_firm_loss"].nnz
    assert tail.internals["run_firm_loss"].shape == every.internals["run_firm_loss"].shape
    assert tail.summary()["sampling"]["tail_runs_kept"] == len(kept) > 0


def test_the_bound_never_passes_the_final_var() -> None:
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(5, 400))
        loss = np.round(rng.exponential(1.0, n), int(rng.integers(0, 3)))  # rounding makes ties
        w = rng.exponential(1.0, n) if trial % 2 else np.ones(n)
        q = float(rng.choice([0.5, 0.9, 0.99]))
        var = weighted_var(loss, w, q)
        for seen in (n // 4, n // 2, n):
            assert tail_lower_bound(loss[:seen], w[:seen], float(w.sum()), q) < var


def test_blocks_in_any_order_fold_to_the_same_result() -> None:
    blocks = _blocks()

    def fold(order: list[int]) -> object:
        c = RunCollector(200, 200.0, EULER_LEVEL)
        for i in order:
            c.add(blocks[i])
        assert c.done == 200
        return c.finish()

    a, b = fold([0, 1, 2, 3, 4]), fold([3, 1, 4, 0, 2])
    for name in ("loss", "weight", "n_defaults"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for k, v in a.sums.items():  # type: ignore[attr-defined]
        np.testing.assert_array_equal(v, b.sums[k])  # type: ignore[attr-defined]
    assert (a.run_firm_loss != b.run_firm_loss).nnz == 0  # type: ignore[attr-defined]
    c = RunCollector(200, 200.0, EULER_LEVEL)
    c.add(blocks[1])
    with pytest.raises(RuntimeError, match="blocks missing"):
        c.finish()


def _blocks(runs: int = 200, size: int = 40) -> list[object]:
    model, _ = prepare(build_snapshot(equity=30.0), parse_scenario(SCENARIO), seed=42, bank_lenders=["BANK"])
    return [simulate_block(model, a, a + size) for a in range(0, runs, size)]


def test_the_kept_memory_bound_stops_the_run_where_it_would_pass() -> None:
    blocks = _blocks()
    free = RunCollector(200, 200.0, EULER_LEVEL, max_kept_bytes=None)
    sizes = []
    for b in blocks:
        free.add(b)  # type: ignore[arg-type]
        sizes.append(free.kept_bytes())
    peak = max(sizes)
    assert 0 < free.finish().kept_bytes <= peak
    # at the peak itself the run goes through, with the same figures
    at = RunCollector(200, 200.0, EULER_LEVEL, max_kept_bytes=peak)
    for b in blocks:
        at.add(b)  # type: ignore[arg-type]
    assert (at.finish().run_firm_loss != free.finish().run_firm_loss).nnz == 0
    # one byte less: the error comes at the first block whose columns pass it, not at the end
    tight = RunCollector(200, 200.0, EULER_LEVEL, max_kept_bytes=peak - 1)
    first_over = sizes.index(peak)
    for b in blocks[:first_over]:
        tight.add(b)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match=rf"max_kept_bytes = {peak - 1:,} B .*: raise the bound") as err:
        tight.add(blocks[first_over])  # type: ignore[arg-type]
    assert f"after {40 * (first_over + 1)} of 200 runs" in str(err.value)


def test_keeping_every_run_is_refused_from_the_first_block_when_it_would_pass_the_bound() -> None:
    blocks = _blocks()
    every = RunCollector(200, 200.0, EULER_LEVEL, keep_above=-math.inf, max_kept_bytes=None)
    for b in blocks:
        every.add(b)  # type: ignore[arg-type]
    total = every.finish().kept_bytes
    assert len(every.finish().kept_runs) == 200
    c = RunCollector(200, 200.0, EULER_LEVEL, keep_above=-math.inf, max_kept_bytes=total // 2)
    with pytest.raises(ModelError, match="keeping every run's firm losses would take about"):
        c.add(blocks[0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_kept_bytes"):
        RunCollector(200, 200.0, EULER_LEVEL, max_kept_bytes=-1)


def test_run_stress_passes_the_bound_on() -> None:
    spec = parse_scenario("name: keep\nruns: 200\nseed: 3\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StressPrecisionWarning)
        with pytest.raises(ModelError, match="max_kept_bytes"):
            run_stress(build_snapshot(), spec, progress=False, bank_lenders=["BANK"], block_size=50,
                       keep_runs_above=-math.inf, max_kept_bytes=64)
        res = run_stress(build_snapshot(), spec, progress=False, bank_lenders=["BANK"], block_size=50,
                         keep_runs_above=-math.inf, max_kept_bytes=None)
    assert res.internals["run_matrix_bytes"]["kept"] > 64
