"""Small builders shared by the ingest tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ingest.manifest import Manifest
from ingest.reader import RawChunk
from ingest.tables import TABLES
from ingest.uscc import make
from ingest.validate import TableValidator, ValidatedChunk


def code(i: int, region: str = "350100") -> str:
    """A valid USCC for firm ``i``."""
    return make(f"91{region}MA0{i:05d}X")


def manifest(**kw: object) -> Manifest:
    base: dict[str, object] = {"source": "test", "as_of": "2024-06-30", "mode": "full"}
    base.update(kw)
    return Manifest.model_validate(base)


def write_manifest(folder: Path, **kw: object) -> Path:
    fields = {"source": "test", "as_of": "2024-06-30", "mode": "full", **kw}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.yaml").write_text("".join(f"{k}: {v}\n" for k, v in fields.items()), encoding="utf-8")
    return folder


def chunk(rows: list[dict[str, object]], *, first_row: int = 2, path: str = "t.csv") -> RawChunk:
    frame = pd.DataFrame(rows).astype(object)
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    return RawChunk(frame, first_row, Path(path))


def validate(
    table: str, rows: list[dict[str, object]], **manifest_kw: object
) -> tuple[ValidatedChunk, TableValidator]:
    v = TableValidator(TABLES[table], manifest(**manifest_kw), file=f"{table}.csv")
    return v.validate(chunk(rows)), v


def reasons(vc: ValidatedChunk) -> list[str]:
    return vc.quarantine["reason"].tolist()
