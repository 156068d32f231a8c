"""The snapshot in one place: what is known as of a date, in memory, for models.

- :mod:`ingest.snapshot.model`       the :class:`Snapshot` type (frames and sparse matrices)
- :mod:`ingest.snapshot.assemble`    normalised tables -> :class:`Snapshot` (the as-of rules)
- :mod:`ingest.snapshot.from_files`  a dataset folder -> :class:`Snapshot`, without a server
- :mod:`ingest.snapshot.from_graph`  Neo4j -> :class:`Snapshot`, through the ``graph`` seam

Both routes end in :func:`assemble_snapshot`, so a folder and the graph loaded from
it give equal snapshots.
"""

from ingest.snapshot.assemble import assemble_snapshot, supply_shares
from ingest.snapshot.from_files import build_snapshot, read_dataset_tables
from ingest.snapshot.from_graph import read_graph_tables, read_snapshot
from ingest.snapshot.model import FIRM_COLUMNS, GUARANTEE_COLUMNS, LOAN_COLUMNS, Snapshot

__all__ = [
    "FIRM_COLUMNS",
    "GUARANTEE_COLUMNS",
    "LOAN_COLUMNS",
    "Snapshot",
    "assemble_snapshot",
    "build_snapshot",
    "read_dataset_tables",
    "read_graph_tables",
    "read_snapshot",
    "supply_shares",
]
