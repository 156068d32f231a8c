"""A trained risk model on disk: its payload, feature schema, calibration and model card.

A saved model is one folder:

=====================  ==============================================================
file                   holds
=====================  ==============================================================
``model.pkl``          the fitted :class:`~gnn.candidates.RiskModel` (pickle; torch
                       modules pickle too), whatever candidate it is
``schema.json``        the feature schema: own and chain columns in order, and the
                       relations (supply, guarantee, ...) the training snapshot had
``calibration.json``   how raw scores became PDs (method, parameters, floor, fitted on)
``model_card.json``    the model card (name and version, data and its content hash, cuts,
                       sizes, every candidate's validation metrics, the choice, features,
                       limits, intended use, ``pd_type``, package versions, git commit)
                       and the payload's SHA-256
``MODEL_CARD.md``      the same card, short, for people
=====================  ==============================================================

Loading verifies the payload's SHA-256 **before** unpickling it, so a payload changed
after training is refused (:class:`~chainrisk.errors.ModelStoreError`). The checksum
guards against corruption and tampering of the payload alone: a pickle runs code when
loaded, so load only model folders you or your pipeline wrote.

A model scores only data with its feature schema: :meth:`TrainedModel.predict_pd`
checks the cut first and raises :class:`~chainrisk.errors.SchemaMismatch` naming the
missing, extra or reordered columns and relations.

The version is ``<name>-<as_of>-<first 8 hex digits of the payload's SHA-256>``.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
import platform
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from chainrisk.errors import ModelStoreError, SchemaMismatch
from gnn.baselines import Calibrator
from gnn.candidates import RiskModel
from gnn.protocol import Cut
from ingest.snapshot import Snapshot

__all__ = [
    "CARD_JSON",
    "CARD_MD",
    "FeatureSchema",
    "TrainedModel",
    "calibration_of",
    "card_markdown",
    "git_commit",
    "load_model",
    "model_version",
    "package_versions",
    "payload_of",
    "relations_of",
    "save_model",
]

PAYLOAD = "model.pkl"
SCHEMA_JSON = "schema.json"
CALIBRATION_JSON = "calibration.json"
CARD_JSON = "model_card.json"
CARD_MD = "MODEL_CARD.md"
#: Bumped when the folder layout changes; loading refuses other formats.
FORMAT = 1

#: Packages whose versions the card records (distribution names).
PACKAGES: tuple[str, ...] = (
    "torch",
    "torch_geometric",
    "lightgbm",
    "scikit-learn",
    "pandas",
    "numpy",
    "scipy",
)


def relations_of(snapshot: Snapshot) -> tuple[str, ...]:
    """The firm-to-firm relations a snapshot holds at least one link of, in a fixed order."""
    have = {
        "supply": snapshot.supply.nnz > 0,
        "guarantee": snapshot.guarantees.nnz > 0,
        "receivable": snapshot.receivables.nnz > 0,
        "ownership": len(snapshot.ownership) > 0,
    }
    return tuple(name for name, present in have.items() if present)


def _diff(model: tuple[str, ...], data: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    missing = [c for c in model if c not in data]
    extra = [c for c in data if c not in model]
    common_m = [c for c in model if c in data]
    common_d = [c for c in data if c in model]
    reordered = [m for m, d in zip(common_m, common_d, strict=True) if m != d]
    return missing, extra, reordered


@dataclass(frozen=True)
class FeatureSchema:
    """The columns a model reads, in order, and the relations its training snapshot had."""

    own: tuple[str, ...]
    chain: tuple[str, ...]
    relations: tuple[str, ...]

    @classmethod
    def of_cut(cls, cut: Cut) -> FeatureSchema:
        return cls(
            tuple(map(str, cut.own.columns)), tuple(map(str, cut.chain.columns)), relations_of(cut.snapshot)
        )

    def to_dict(self) -> dict[str, list[str]]:
        return {"own": list(self.own), "chain": list(self.chain), "relations": list(self.relations)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureSchema:
        return cls(tuple(d["own"]), tuple(d["chain"]), tuple(d["relations"]))

    def check(self, cut: Cut, *, model: str = "the model") -> None:
        """Raise :class:`SchemaMismatch` unless ``cut`` has exactly this schema."""
        data = FeatureSchema.of_cut(cut)
        parts: list[str] = []
        missing: list[str] = []
        extra: list[str] = []
        reordered: list[str] = []
        for kind, mine, theirs in (("own", self.own, data.own), ("chain", self.chain, data.chain)):
            m, e, r = _diff(mine, theirs)
            missing += m
            extra += e
            reordered += r
            if m:
                parts.append(f"{kind} columns missing from the data: {m}")
            if e:
                parts.append(f"{kind} columns the model does not know: {e}")
            if r:
                parts.append(f"{kind} columns in another order: {r}")
        lost = [r for r in self.relations if r not in data.relations]
        new = [r for r in data.relations if r not in self.relations]
        if lost:
            parts.append(f"relations the model was trained with but the data lack: {lost}")
        if new:
            parts.append(f"relations the data have but the model was trained without: {new}")
        if parts:
            raise SchemaMismatch(
                f"the data at {cut.as_of} do not have {model}'s feature schema: " + "; ".join(parts),
                missing=tuple(missing + lost),
                extra=tuple(extra + new),
                reordered=tuple(reordered),
            )


@dataclass
class TrainedModel:
    """A fitted risk model with what it needs to be scored, stored and explained."""

    model: RiskModel
    name: str
    version: str
    as_of: date
    schema: FeatureSchema
    calibration: dict[str, Any]
    #: the model card (see the module docstring); JSON-ready
    card: dict[str, Any]
    #: the pickled model, exactly the bytes saved and hashed
    payload: bytes = field(repr=False, default=b"")

    @property
    def pd_type(self) -> str:
        return str(self.card.get("pd_type", "unknown"))

    @property
    def payload_sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()

    def predict_pd(self, cut: Cut) -> np.ndarray:
        """Calibrated PDs of the cut's firms, after checking the cut has this model's schema."""
        self.schema.check(cut, model=self.version)
        return np.asarray(self.model.predict_pd(cut), dtype="float64")


def payload_of(model: RiskModel) -> bytes:
    """The bytes a model is stored as (pickle protocol 5)."""
    return pickle.dumps(model, protocol=5)


def model_version(name: str, as_of: date, payload: bytes) -> str:
    """``<name>-<as_of>-<short hash>``.

    >>> model_version("B2", date(2024, 12, 31), b"x")
    'B2-2024-12-31-2d711642'
    """
    return f"{name}-{as_of.isoformat()}-{hashlib.sha256(payload).hexdigest()[:8]}"


def calibration_of(model: RiskModel) -> dict[str, Any]:
    """The calibration a model applies, as a JSON-ready dict (any candidate)."""
    cal = getattr(model, "calibrator", None)
    if cal is None:
        cal = getattr(getattr(model, "fitted", None), "calibrator", None)
    if isinstance(cal, Calibrator):
        return {
            "method": "platt",
            "formula": "pd = max(floor, sigmoid(a * logit(score) + b))",
            "a": cal.a,
            "b": cal.b,
            "floor": cal.floor,
        }
    if cal is not None and hasattr(cal, "to_dict"):
        return dict(cal.to_dict())
    return {"method": "unknown", "description": repr(cal) if cal is not None else "not exposed by the model"}


def package_versions() -> dict[str, str | None]:
    """Python's and the numerical packages' versions (``None`` when not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> str | None:
    """The commit of the checkout this code runs from, when it is one (else ``None``)."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = done.stdout.strip()
    return sha if len(sha) == 40 else None


def _clean(v: Any) -> Any:
    """JSON has no NaN: ``null``; numpy scalars become Python numbers."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, date):
        return v.isoformat()
    return v


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(
        json.dumps(_clean(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8"
    )


def card_markdown(card: dict[str, Any]) -> str:
    """A short human-readable model card."""
    m = card.get("model", {})
    data = card.get("training_data", {})
    sizes = card.get("sizes", {})
    lines = [
        f"# Model card: {m.get('version')}",
        "",
        f"- **Model**: {m.get('name')} ({m.get('description', '')})",
        f"- **As of**: {card.get('as_of')}; 12-month PD; **{card.get('pd_type')}**: "
        f"{card.get('pd_type_reason', '')}",
        f"- **Data**: {data.get('source')} (content SHA-256 {str(data.get('content_sha256'))[:16]}…)",
        f"- **Cuts**: training {', '.join(card.get('cuts', {}).get('train', []))}; "
        f"validation {card.get('cuts', {}).get('validation')}",
        f"- **Sizes**: training {sizes.get('train_firms')} firm-years "
        f"({sizes.get('train_defaults')} defaults); "
        f"validation {sizes.get('validation_firms')} firms ({sizes.get('validation_defaults')} defaults)",
        f"- **Choice**: {card.get('selection')}",
        "",
        "| candidate | graph-aware | val AUC | val PR-AUC | val Brier |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, c in card.get("candidates", {}).items():
        v = c.get("validation", {})

        def fmt(x: Any) -> str:
            return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"

        mark = " (shipped)" if name == card.get("shipped") else ""
        lines.append(
            f"| {name}{mark} | {'yes' if c.get('graph_aware') else 'no'} | {fmt(v.get('auc'))} | "
            f"{fmt(v.get('pr_auc'))} | {fmt(v.get('brier'))} |"
        )
    lines += ["", "## Intended use", "", str(card.get("intended_use", "")), "", "## Limits", ""]
    lines += [f"- {x}" for x in card.get("limits", [])]
    sw = card.get("software", {})
    lines += [
        "",
        "## Software",
        "",
        f"chainrisk {sw.get('chainrisk')}, commit {sw.get('git_commit')}; "
        + ", ".join(f"{k} {v}" for k, v in sw.get("packages", {}).items()),
        "",
    ]
    return "\n".join(lines)


def save_model(trained: TrainedModel, directory: str | Path) -> Path:
    """Write ``trained`` to ``directory`` (replacing a model saved there before) and return it.

    The files are written to a fresh folder next to it and swapped in, so a crash never
    leaves half a model. A non-empty folder that is not a saved model is refused.
    """
    directory = Path(directory)
    if directory.exists() and (
        not directory.is_dir() or (any(directory.iterdir()) and not (directory / CARD_JSON).exists())
    ):
        raise ModelStoreError(f"{directory} exists and is not a saved model; refusing to overwrite it")
    directory.parent.mkdir(parents=True, exist_ok=True)
    payload = trained.payload or payload_of(trained.model)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        (tmp / PAYLOAD).write_bytes(payload)
        _write_json(tmp / SCHEMA_JSON, trained.schema.to_dict())
        _write_json(tmp / CALIBRATION_JSON, trained.calibration)
        card = {
            **trained.card,
            "format": FORMAT,
            "payload": {
                "file": PAYLOAD,
                "format": "pickle",
                "bytes": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
            },
        }
        _write_json(tmp / CARD_JSON, card)
        (tmp / CARD_MD).write_text(card_markdown(_clean(card)), encoding="utf-8")
        if directory.exists():
            old = directory.with_name(f".{directory.name}.old-{uuid.uuid4().hex[:8]}")
            directory.rename(old)
            tmp.rename(directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return directory


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelStoreError(f"{path.parent} is not a saved model: {path.name} is missing") from exc
    except (OSError, ValueError) as exc:
        raise ModelStoreError(f"cannot read {path}: {exc}") from exc


def load_model(directory: str | Path, *, cut: Cut | None = None) -> TrainedModel:
    """Load a saved model, verifying its payload's SHA-256 first (and ``cut``'s schema when given).

    Raises
    ------
    ModelStoreError
        The folder is not a saved model, is of another format, or its payload fails the checksum.
    SchemaMismatch
        ``cut`` does not have the model's feature schema.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ModelStoreError(f"no saved model at {directory}")
    card = _read_json(directory / CARD_JSON)
    if card.get("format") != FORMAT:
        raise ModelStoreError(
            f"{directory} holds a model of format {card.get('format')!r}; expected {FORMAT}"
        )
    try:
        payload = (directory / PAYLOAD).read_bytes()
    except OSError as exc:
        raise ModelStoreError(f"cannot read the payload of {directory}: {exc}") from exc
    expected = str(card.get("payload", {}).get("sha256", ""))
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise ModelStoreError(
            f"the payload of {directory} fails its checksum (SHA-256 {actual[:12]}…, the card says "
            f"{expected[:12]}…): it changed after training; refusing to load it"
        )
    try:
        model = pickle.loads(payload)
    except Exception as exc:  # an unpickling error of any kind: the payload cannot be used here
        raise ModelStoreError(
            f"cannot unpickle the model in {directory}: {type(exc).__name__}: {exc}"
        ) from exc
    schema = FeatureSchema.from_dict(_read_json(directory / SCHEMA_JSON))
    calibration = _read_json(directory / CALIBRATION_JSON)
    info = card["model"]
    trained = TrainedModel(
        model,
        info["name"],
        info["version"],
        date.fromisoformat(card["as_of"]),
        schema,
        calibration,
        card,
        payload,
    )
    if cut is not None:
        schema.check(cut, model=trained.version)
    return trained
