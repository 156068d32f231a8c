"""The shipped model's choice on the validation firms (``gnn.selection``, ``select_shipped``)."""

from __future__ import annotations

import numpy as np
import pytest

from gnn.candidates import select_shipped
from gnn.selection import choose


def _data(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels and a latent risk: ``y ~ Bernoulli(sigmoid(z - 3))``, about 7% defaults."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * z - 3.0)))).astype("float64")
    return y, z


def _pd(score: np.ndarray, rate: float = 0.07) -> np.ndarray:
    """A score turned into PDs with the right mean (rank kept)."""
    p = 1 / (1 + np.exp(-(score - 3.0)))
    return p * rate / p.mean()


def _noisy(z: np.ndarray, sd: float, seed: int) -> np.ndarray:
    return z + np.random.default_rng(seed).normal(scale=sd, size=len(z))


def test_a_clearly_better_richer_model_replaces_the_simpler_and_the_text_says_the_numbers() -> None:
    y, z = _data()
    weak, strong = _pd(_noisy(z, 2.0, 1)), _pd(_noisy(z, 0.3, 2))
    sel = choose(y, {"B2": [weak], "B4": [strong]}, ["B2", "B4"])
    assert sel.shipped == "B4"
    (c,) = sel.challenges
    assert c.won and c.delta_auc > c.se_auc > 0
    assert f"{c.delta_auc:+.4f}" in sel.because and f"{c.se_auc:.4f}" in sel.because
    assert sel.validation_auc["B4"] > sel.validation_auc["B2"]


def test_a_difference_within_one_paired_se_is_a_tie_and_keeps_the_simpler_model() -> None:
    y, z = _data()
    base = _noisy(z, 1.0, 1)
    # the richer model: the same scores and a whisper of noise (differences far below one SE)
    richer = _pd(base + np.random.default_rng(3).normal(scale=0.02, size=len(z)))
    sel = choose(y, {"B2": [_pd(base)], "B4": [richer]}, ["B2", "B4"])
    (c,) = sel.challenges
    assert abs(c.delta_auc) < c.se_auc
    assert sel.shipped == "B2" and not c.won and "the simpler model stays" in sel.because
    # the order decides which is "simpler": the same pair the other way round keeps B4
    assert choose(y, {"B2": [_pd(base)], "B4": [richer]}, ["B4", "B2"]).shipped == "B4"


def test_better_ranking_with_a_much_worse_brier_does_not_win() -> None:
    y, z = _data()
    simple = _pd(_noisy(z, 1.5, 1))
    # ranks better, but its PDs are far too high: the Brier guard keeps the simpler model
    rich = 0.3 + 0.5 * _pd(_noisy(z, 0.3, 2))
    sel = choose(y, {"B2": [simple], "B4": [rich]}, ["B2", "B4"])
    (c,) = sel.challenges
    assert c.delta_auc > c.se_auc and c.delta_brier > c.se_brier
    assert sel.shipped == "B2"


def test_challenges_run_simplest_first_against_the_incumbent() -> None:
    y, z = _data()
    b2 = _pd(_noisy(z, 1.5, 1))
    b3 = _pd(_noisy(z, 1.5, 1) + np.random.default_rng(5).normal(scale=0.02, size=len(z)))  # a tie with B2
    b4 = _pd(_noisy(z, 0.3, 2))
    sel = choose(y, {"B4": [b4], "B2": [b2], "B3": [b3]}, ["B2", "B3", "B4"])
    assert [(c.challenger, c.incumbent, c.won) for c in sel.challenges] == [
        ("B3", "B2", False),
        ("B4", "B2", True),
    ]
    assert sel.shipped == "B4"


def test_seeds_are_averaged_and_the_bootstrap_is_deterministic() -> None:
    y, z = _data()
    seeds = [_pd(_noisy(z, 1.0, s)) for s in range(3)]
    a = choose(y, {"B2": [_pd(_noisy(z, 1.2, 9))], "B3": seeds}, ["B2", "B3"], seed=4)
    b = choose(y, {"B2": [_pd(_noisy(z, 1.2, 9))], "B3": seeds}, ["B2", "B3"], seed=4)
    assert a == b
    from gnn.metrics import auc

    assert a.validation_auc["B3"] == pytest.approx(np.mean([auc(y, p) for p in seeds]))


def test_select_shipped_prefers_graph_aware_candidates() -> None:
    y, z = _data()
    # B1 (not graph-aware) ranks best, yet a graph-aware candidate ships
    preds = {"B1": [_pd(_noisy(z, 0.1, 1))], "B2": [_pd(_noisy(z, 1.0, 2))], "B3": [_pd(_noisy(z, 1.0, 3))]}
    sel = select_shipped(y, preds)
    assert sel.shipped in {"B2", "B3"} and sel.because.startswith(sel.shipped)
    # without a graph-aware candidate, the same rule among all, in registry order
    only = select_shipped(y, {"B0": [_pd(_noisy(z, 2.0, 4))], "B1": preds["B1"]})
    assert only.shipped == "B1"
    with pytest.raises(ValueError):
        choose(y, {}, ["B2"])
