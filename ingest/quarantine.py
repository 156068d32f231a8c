"""Write quarantined rows where a person can read them.

Each table's bad values go to ``<directory>/<table>.quarantine.csv`` (UTF-8 with
a BOM so spreadsheet programs show Chinese text), columns ``file, row, field,
value, reason`` (see ``ingest.validate``). Files are appended chunk by chunk, so
memory stays bounded; a run starts by removing the files of the tables it writes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest.validate import QUARANTINE_COLUMNS

__all__ = ["QuarantineWriter", "read_quarantine"]


class QuarantineWriter:
    """Append quarantine frames to one CSV per table.

    Parameters
    ----------
    directory : Path
        Created when missing.

    Attributes
    ----------
    counts : dict of str to int
        Records written per table.
    """

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.counts: dict[str, int] = {}

    def path(self, table: str) -> Path:
        """Where the records of ``table`` go."""
        return self.directory / f"{table}.quarantine.csv"

    def write(self, table: str, frame: pd.DataFrame) -> int:
        """Append ``frame``'s records for ``table``; returns how many were written."""
        path = self.path(table)
        first = table not in self.counts
        if first:
            path.unlink(missing_ok=True)
            self.counts[table] = 0
        if frame.empty:
            return 0
        frame.loc[:, list(QUARANTINE_COLUMNS)].to_csv(
            path,
            mode="w" if first or not path.exists() else "a",
            header=first or not path.exists(),
            index=False,
            encoding="utf-8-sig" if first or not path.exists() else "utf-8",
        )
        self.counts[table] += len(frame)
        return len(frame)


def read_quarantine(path: Path) -> pd.DataFrame:
    """Read a file written by :class:`QuarantineWriter` (values as ``str``)."""
    return pd.read_csv(path, dtype={"row": "int64"}, keep_default_na=False, encoding="utf-8-sig").astype(
        {"file": object, "field": object, "value": object, "reason": object}
    )
