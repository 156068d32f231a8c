"""Earlier test vintages: the same protocol moved back one year at a time.

The main test cut is the last one whose label window the data cover. Each earlier
cut can serve as a test cut too, with the cut before it as validation and every cut
before that as training, as long as one training cut is left: on 60 months of data
(cuts at T-48, T-36, T-24, T-12) that is the test at T-24, trained on T-48 and
validated on T-36. A model that wins only in one year is a model of that year.

Vintages refit every candidate once (seed 0): they cost about one core run per
vintage, so the evaluation runs them on request (``--vintages``, or ``--full``).

>>> from datetime import date
>>> plan = CutPlan((date(2021, 12, 31), date(2022, 12, 31)), date(2023, 12, 31), date(2024, 12, 31))
>>> [(str(v.test), str(v.validation), [str(t) for t in v.train]) for v in earlier_plans(plan)]
[('2023-12-31', '2022-12-31', ['2021-12-31'])]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np

from gnn.bootstrap import DRAWS, interval, resample_counts, weighted_scores
from gnn.candidates import CANDIDATES
from gnn.metrics import scores
from gnn.protocol import Cut, CutPlan

__all__ = ["earlier_plans", "vintage_figures"]


def earlier_plans(plan: CutPlan) -> list[CutPlan]:
    """The plans of every earlier test vintage, latest first."""
    dates = [*plan.train, plan.validation]
    out = []
    for k in range(len(dates) - 1, 1, -1):
        out.append(CutPlan(tuple(dates[: k - 1]), dates[k - 1], dates[k]))
    return out


def vintage_figures(
    plan: CutPlan,
    cuts: Mapping[date, Cut],
    *,
    models: Sequence[str] | None = None,
    threads: int = 2,
    draws: int = DRAWS,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Per earlier vintage: its cuts, book, and each candidate's (of ``models``: default all) test
    figures with an AUC interval."""
    say = progress or (lambda _msg: None)
    out = []
    for p in earlier_plans(plan):
        train = [cuts[t] for t in p.train]
        val, test = cuts[p.validation], cuts[p.test]
        counts = resample_counts(len(test.y), draws=draws, seed=0)
        figures: dict[str, Any] = {}
        for name in models or list(CANDIDATES):
            say(f"vintage {p.test}: {name}")
            pd_test = CANDIDATES[name].fit(train, val, 0, threads).predict_pd(test)
            fig = scores(test.y, pd_test)
            figures[name] = {
                **{k: fig[k] for k in ("auc", "pr_auc", "ks", "brier", "ece")},
                "auc_ci95": list(interval(weighted_scores(test.y, pd_test, counts)["auc"])),
            }
        out.append(
            {
                "test": p.test.isoformat(),
                "validation": p.validation.isoformat(),
                "train": [t.isoformat() for t in p.train],
                "book": len(test.y),
                "defaults": int(np.nansum(test.y)),
                "seeds": 1,
                "models": figures,
            }
        )
    return out
