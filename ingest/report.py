"""What an ingest did, per table and in total, and how it reports progress.

One report type (:class:`IngestReport` of :class:`TableReport`) and one progress
protocol (:class:`Progress`) for every consumer of a dataset (the Bolt load, the
offline import, the snapshot from files): the dataset stream
(:class:`ingest.dataset.DatasetStream`) fills ``read``, ``quarantined``,
``warnings`` and ``seconds``; a sink fills what it wrote.

>>> r = IngestReport(dataset="d", source="p", as_of=date(2024, 6, 30), mode="full", run_id=None)
>>> r.tables["supply"] = TableReport("supply", read=3, created=2, quarantined=1)
>>> r.totals()["created"], r.changes, r.to_dict()["totals"]["read"]
(2, 2, 3)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

__all__ = ["IngestReport", "Progress", "TableReport"]


class Progress(Protocol):
    """What a dataset's consumer tells a progress display (the CLI's rich bars)."""

    def start(self, table: str, total: int | None) -> None:
        """A table begins; ``total`` is an estimate of its rows, or ``None``."""

    def advance(self, table: str, rows: int) -> None:
        """``rows`` more rows of ``table`` were validated (and written)."""

    def finish(self, table: str) -> None:
        """The table is done."""


@dataclass
class TableReport:
    """What ingest did to one table.

    ``created`` is what the issue calls *loaded*: facts new to the graph.
    ``externals`` counts counterparties created as ``Firm {external: true}``.
    ``closed`` counts links a ``full`` load ended because the dataset dropped them.
    """

    table: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    externals: int = 0
    closed: int = 0
    #: Properties the table's writes set (0 when nothing changed).
    properties_set: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        """Rows that passed validation (created + updated + unchanged)."""
        return self.created + self.updated + self.unchanged


@dataclass
class IngestReport:
    """The outcome of one ingest: per-table counts plus the run's identity."""

    dataset: str
    source: str
    as_of: date
    mode: str
    run_id: str | None
    dry_run: bool = False
    bulk: bool = False
    quarantine_dir: str = ""
    tables: dict[str, TableReport] = field(default_factory=dict)
    seconds: float = 0.0

    def _sum(self, name: str) -> int:
        return int(sum(getattr(t, name) for t in self.tables.values()))

    @property
    def quarantined(self) -> int:
        """Rows quarantined over all tables."""
        return self._sum("quarantined")

    @property
    def changes(self) -> int:
        """Facts created, updated or closed, plus externals created (0: the graph did not change)."""
        return sum(self._sum(n) for n in ("created", "updated", "closed", "externals"))

    @property
    def properties_set(self) -> int:
        return self._sum("properties_set")

    def totals(self) -> dict[str, int]:
        """Sums over tables of each count."""
        names = ("read", "created", "updated", "unchanged", "quarantined", "externals", "closed")
        return {n: self._sum(n) for n in names}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (stored as the ingest run's summary)."""
        return {
            "dataset": self.dataset,
            "source": self.source,
            "as_of": self.as_of.isoformat(),
            "mode": self.mode,
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "bulk": self.bulk,
            "seconds": round(self.seconds, 3),
            "totals": self.totals(),
            "tables": {k: {**asdict(v), "seconds": round(v.seconds, 3)} for k, v in self.tables.items()},
        }
