"""The query tests' hand-built platform (``tests.queries._graph``), with what the page adds.

Changes to that platform, all hand-checked in the tests that use them:

- firm ``B2`` is named ``<img src=x onerror=alert(1)>`` (a name from outside that must stay text);
- ``S3`` has a ``default`` event on 2024-03-01, so it is in default at ``AS_OF``
  (``M1`` is too: its loan is 100 days overdue in 2024-06);
- two committed ``risk`` runs: ``F`` goes from PD 0.02, tier 3, reasons [a, b] to PD 0.05,
  tier 4, reasons [b, c].
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date

import pytest

from graph.runner import GraphRunner
from graph.runs import publish
from ingest.load import load_dataset
from tests.queries._graph import AS_OF, U, write_platform

EVIL = "<img src=x onerror=alert(1)>"


def _rename(path, uscc: str, name: str) -> None:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        if row[0] == uscc:
            row[1] = name
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def _risk(runner: GraphRunner, pd_f: float, tier: int, reasons: list[str]) -> None:
    rows = [
        {
            "uscc": U["F"],
            "risk_pd": pd_f,
            "risk_tier": tier,
            "risk_suggested_class": "normal",
            "risk_reasons": reasons,
        },
        {
            "uscc": U["S1"],
            "risk_pd": 0.2,
            "risk_tier": 6,
            "risk_suggested_class": "substandard",
            "risk_reasons": [],
        },
    ]
    publish(
        runner,
        kind="risk-score",
        family="risk",
        parameters={"pd_f": pd_f},
        as_of=date(2024, 6, 30),
        firm_rows=rows,
    )


def _holds_platform(runner: GraphRunner) -> bool:
    """Whether the server holds exactly this platform (its firms, the renamed one, both risk runs)."""
    rows = runner.read(
        "MATCH (f:Firm) WITH count(f) AS firms, count(CASE WHEN f.name = $evil THEN 1 END) AS evil "
        "RETURN firms, evil, COUNT { MATCH (r:Run {family: 'risk'}) } AS runs, "
        "COUNT { MATCH (e:Event) } AS events",
        {"evil": EVIL},
    )
    return bool(rows) and rows[0] == {"firms": len(U), "evil": 1, "runs": 2, "events": 1}


@pytest.fixture(scope="module")
def web_graph(graph_runner: GraphRunner, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphRunner]:
    """The test server holding the page's platform (wiped and loaded once per module)."""
    from graph.schema import apply_schema
    from tests.conftest import _wipe

    if _holds_platform(graph_runner):  # the previous module of this folder loaded it: reuse
        yield graph_runner
        return
    _wipe(graph_runner)
    apply_schema(graph_runner)
    folder = write_platform(tmp_path_factory.mktemp("web") / "ds")
    _rename(folder / "firms.csv", U["B2"], EVIL)
    (folder / "events.csv").write_text(f"uscc,date,type\n{U['S3']},2024-03-01,default\n", encoding="utf-8")
    report = load_dataset(folder, runner=graph_runner)
    assert report.totals()["quarantined"] == 0
    _risk(graph_runner, 0.02, 3, ["a", "b"])
    _risk(graph_runner, 0.05, 4, ["b", "c"])
    yield graph_runner


__all__ = ["AS_OF", "EVIL", "U"]
