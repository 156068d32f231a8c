"""The dataset manifest, ``dataset.yaml``.

Every dataset folder carries one manifest that says where the data come from,
the date they describe, whether they replace (``full``) or extend (``delta``)
what is already loaded, and the unit of money amounts.

Example ``dataset.yaml``::

    source: platform-fj-01
    as_of: 2024-06-30
    mode: full
    currency: CNY
    unit: 万元          # or yuan / 元 / wan_yuan / 10k_yuan
    tables:             # optional: explicit table -> file name
      supply: supply_links_2024.parquet

>>> m = Manifest(source="p1", as_of="2024-06-30", mode="full", unit="万元")
>>> m.unit, m.unit_factor
('wan_yuan', 10000.0)
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml

from chainrisk.errors import DatasetError

__all__ = ["MANIFEST_NAMES", "UNIT_ALIASES", "Manifest", "read_manifest"]

#: File names tried, in order, for the manifest of a dataset folder.
MANIFEST_NAMES: tuple[str, ...] = ("dataset.yaml", "dataset.yml")

#: Spellings accepted for the money unit (compared after strip + lower case).
UNIT_ALIASES: dict[str, str] = {
    "yuan": "yuan",
    "元": "yuan",
    "cny": "yuan",
    "rmb": "yuan",
    "人民币元": "yuan",
    "1": "yuan",
    "wan_yuan": "wan_yuan",
    "wan yuan": "wan_yuan",
    "wanyuan": "wan_yuan",
    "万元": "wan_yuan",
    "万": "wan_yuan",
    "10k_yuan": "wan_yuan",
    "10k yuan": "wan_yuan",
    "10000_yuan": "wan_yuan",
    "10000": "wan_yuan",
}

_UNIT_FACTORS: dict[str, float] = {"yuan": 1.0, "wan_yuan": 10_000.0}


class Manifest(pydantic.BaseModel):
    """What ``dataset.yaml`` declares about a dataset folder.

    Attributes
    ----------
    source : str
        Identifier of the source platform; stamped on every node and relationship.
    as_of : date
        The date the dataset describes (default date of snapshots built from it).
    mode : {"full", "delta"}
        ``full`` replaces what this source loaded before; ``delta`` adds to it.
    currency : str
        ISO currency of money amounts, default ``"CNY"``.
    unit : {"yuan", "wan_yuan"}
        Unit of money amounts in the files; aliases such as ``元``, ``万元`` and
        ``10k_yuan`` are accepted. Amounts are converted to yuan on validation.
    tables : dict of str to str, optional
        Explicit table name -> file name (relative to the dataset folder).
    """

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    source: str
    as_of: date
    mode: Literal["full", "delta"]
    currency: str = "CNY"
    unit: Literal["yuan", "wan_yuan"] = "yuan"
    tables: dict[str, str] | None = None

    @pydantic.field_validator("source")
    @classmethod
    def _source_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("source must not be blank")
        return v.strip()

    @pydantic.field_validator("currency")
    @classmethod
    def _currency_upper(cls, v: str) -> str:
        return v.strip().upper()

    @pydantic.field_validator("unit", mode="before")
    @classmethod
    def _unit_alias(cls, v: Any) -> Any:
        if isinstance(v, int | float) and not isinstance(v, bool):
            v = str(int(v))
        if isinstance(v, str):
            key = v.strip().lower()
            if key in UNIT_ALIASES:
                return UNIT_ALIASES[key]
        return v

    @pydantic.field_validator("mode", mode="before")
    @classmethod
    def _mode_lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @property
    def unit_factor(self) -> float:
        """Yuan per unit of the files' money amounts (1 or 10,000)."""
        return _UNIT_FACTORS[self.unit]


def read_manifest(dataset_dir: Path) -> Manifest:
    """Read and validate the manifest of ``dataset_dir``.

    Parameters
    ----------
    dataset_dir : Path
        The dataset folder; must hold ``dataset.yaml`` (or ``dataset.yml``).

    Returns
    -------
    Manifest

    Raises
    ------
    DatasetError
        The folder or manifest is missing, is not YAML, or a field is missing or
        invalid; the message names the file and the field.
    """
    dataset_dir = Path(dataset_dir)
    if not dataset_dir.is_dir():
        raise DatasetError(f"dataset folder {dataset_dir} does not exist or is not a folder")
    path = next((dataset_dir / n for n in MANIFEST_NAMES if (dataset_dir / n).is_file()), None)
    if path is None:
        raise DatasetError(f"{dataset_dir}: no manifest (expected {MANIFEST_NAMES[0]})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable YAML file: {exc}") from exc
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: expected a mapping of fields, got {type(raw).__name__}")
    try:
        return Manifest.model_validate(raw)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"field {'.'.join(str(p) for p in err['loc']) or '(root)'!r}: {err['msg']}"
            for err in exc.errors()
        )
        raise DatasetError(f"{path}: {problems}") from exc
