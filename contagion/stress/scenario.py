"""Stress scenarios: a YAML file, validated, with errors that name the file and line.

A scenario says what hits the portfolio (shocks, equity haircuts, macro factor
shifts), how the contagion layers transmit it, how the bank's loss is counted
and how many Monte Carlo runs to draw. The schema is documented field by field
in ``docs/scenarios.md``; :class:`Scenario` is its pydantic model.

Line numbers survive validation: :func:`parse_scenario` composes the YAML node
tree, records the 1-based line of every mapping key and sequence item by path,
and maps the location of a pydantic error back onto that table. Models keep
the line of the mapping they came from in :attr:`ScenarioPart.line`, so checks
that need the snapshot (a shock that selects no firm) also name the line.

Codes are kept as written: an unquoted ``region: 010000`` is not read as an
octal integer but as the string ``"010000"``.

>>> s = parse_scenario('''
... name: demo
... shocks:
...   - firms: ["91350100M000100Y43"]
... ''', file="demo.yaml")
>>> s.shocks[0].firms, s.shocks[0].line
(['91350100M000100Y43'], 4)
>>> parse_scenario("name: demo\\nruns: -5\\n", file="demo.yaml")
Traceback (most recent call last):
...
chainrisk.errors.ScenarioError: demo.yaml:2: runs: Input should be greater than or equal to 1
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from chainrisk.errors import ScenarioError
from contagion.multilayer import SUPPLY_REPLACEMENT_MONTHS

__all__ = [
    "CONNECTED_GROUP_LIMIT",
    "DEFAULT_RHO_GLOBAL",
    "DEFAULT_RHO_REGION",
    "DEFAULT_RHO_SECTOR",
    "LAYERS",
    "REMOVED_KEYS",
    "SINGLE_CLIENT_LIMIT",
    "TOP_K_MEASURES",
    "ConcentrationParameters",
    "ContagionParameters",
    "CopulaParameters",
    "DebtRankParameters",
    "DefaultStockParameters",
    "EquityHaircut",
    "LossParameters",
    "MacroShock",
    "PDParameters",
    "PDSource",
    "SamplingParameters",
    "Scenario",
    "ScenarioPart",
    "Shock",
    "SupplyParameters",
    "TopK",
    "load_scenario",
    "parse_scenario",
    "scenario_hash",
]

#: Contagion layers of :func:`contagion.multilayer.build_layers`.
LAYERS: tuple[str, ...] = ("supply", "guarantee", "trade_credit")

#: Measures a ``top_k`` shock may rank firms by (largest first).
TOP_K_MEASURES: tuple[str, ...] = (
    "out_strength",  # supply sold into the network (row sum of supply)
    "in_strength",  # supply bought from the network (column sum of supply)
    "guarantees_given",  # row sum of the guarantee matrix
    "guarantees_received",  # column sum of the guarantee matrix
    "revenue",
    "total_assets",
    "equity",
    "employees",
    "external_guarantees",
    "guarantee_ratio",
    "bank_exposure",  # the bank's exposure at default to the firm
    "pd",  # the firm's default probability as used by the copula
)

Measure = Literal[
    "out_strength",
    "in_strength",
    "guarantees_given",
    "guarantees_received",
    "revenue",
    "total_assets",
    "equity",
    "employees",
    "external_guarantees",
    "guarantee_ratio",
    "bank_exposure",
    "pd",
]

Path_ = tuple[str | int, ...]


# ----------------------------------------------------------------------------- YAML with lines
class _RawInt(int):
    """An integer scalar that remembers its source text (codes such as ``010000``)."""

    raw: str

    def __new__(cls, value: int, raw: str) -> _RawInt:
        obj = super().__new__(cls, value)
        obj.raw = raw
        return obj


def _code(value: Any) -> Any:
    """A code written without quotes becomes the text it was written as."""
    if isinstance(value, bool):
        return value
    if isinstance(value, _RawInt):
        return value.raw
    if isinstance(value, int):
        return str(value)
    return value


def _load_with_lines(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    """Parse YAML; return the data and ``path -> 1-based line`` for every key and item."""
    loader = yaml.SafeLoader(text)
    lines: dict[Path_, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines

        def convert(n: yaml.Node, path: Path_) -> Any:
            if isinstance(n, yaml.MappingNode):
                out: dict[Any, Any] = {}
                for key_node, value_node in n.value:
                    key = _code(loader.construct_object(key_node, deep=True))
                    if isinstance(key, dict | list):
                        raise ScenarioError("a mapping key must be a scalar", file=file,
                                            line=key_node.start_mark.line + 1)
                    if key in out:
                        raise ScenarioError(f"duplicate key {key!r}", file=file,
                                            line=key_node.start_mark.line + 1)
                    lines[(*path, key)] = key_node.start_mark.line + 1
                    out[key] = convert(value_node, (*path, key))
                return out
            if isinstance(n, yaml.SequenceNode):
                items = []
                for i, item in enumerate(n.value):
                    lines[(*path, i)] = item.start_mark.line + 1
                    items.append(convert(item, (*path, i)))
                return items
            value = loader.construct_object(n, deep=True)
            if isinstance(value, int) and not isinstance(value, bool):
                return _RawInt(value, str(n.value))
            return value

        lines[()] = node.start_mark.line + 1
        return convert(node, ()), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioError(
            f"not valid YAML: {exc.problem or exc}", file=file, line=mark.line + 1 if mark else None
        ) from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(f"not valid YAML: {exc}", file=file) from exc
    finally:
        loader.dispose()


# ----------------------------------------------------------------------------- models
class ScenarioPart(BaseModel):
    """Base of every scenario model: unknown keys are errors; remembers its line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    _line: int | None = PrivateAttr(default=None)

    @property
    def line(self) -> int | None:
        """1-based line of this part in the scenario file (``None`` when built in code)."""
        return self._line


def _codes(value: Any) -> Any:
    if isinstance(value, list):
        return [_code(v) for v in value]
    return _code(value)


class TopK(ScenarioPart):
    """The ``k`` firms with the largest ``by`` (ties: first row first; NaN never selected)."""

    k: int = Field(ge=1)
    by: Measure


class Shock(ScenarioPart):
    """Initial distress on a set of firms; ``distress: 1`` (the default) shocks them into default.

    Exactly one selector: ``firms`` (USCC list), ``region`` / ``industry`` / ``sector``
    (a code or list of codes, matched as prefixes), ``top_k`` or ``all: true``.
    """

    firms: list[str] | None = None
    region: list[str] | None = None
    industry: list[str] | None = None
    sector: list[str] | None = None
    top_k: TopK | None = None
    all: bool | None = None
    distress: float = Field(1.0, ge=0.0, le=1.0)

    @field_validator("firms", "region", "industry", "sector", mode="before")
    @classmethod
    def _as_list(cls, v: Any) -> Any:
        v = _codes(v)
        return [v] if isinstance(v, str) else v

    @field_validator("firms")
    @classmethod
    def _upper(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else [u.strip().upper() for u in v]

    @model_validator(mode="after")
    def _one_selector(self) -> Shock:
        chosen = [n for n in _SELECTORS if getattr(self, n) not in (None, False)]
        if len(chosen) != 1:
            raise ValueError(
                f"a shock needs exactly one selector of {', '.join(_SELECTORS)}; got {chosen or 'none'}"
            )
        return self


_SELECTORS: tuple[str, ...] = ("firms", "region", "industry", "sector", "top_k", "all")


class EquityHaircut(ScenarioPart):
    """An equity loss of ``fraction`` on the selected firms (an initial DebtRank distress).

    Selectors as for :class:`Shock` except ``top_k``.
    """

    region: list[str] | None = None
    industry: list[str] | None = None
    sector: list[str] | None = None
    firms: list[str] | None = None
    all: bool | None = None
    fraction: float = Field(ge=0.0, le=1.0)

    @field_validator("firms", "region", "industry", "sector", mode="before")
    @classmethod
    def _as_list(cls, v: Any) -> Any:
        v = _codes(v)
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_selector(self) -> EquityHaircut:
        names = ("firms", "region", "industry", "sector", "all")
        chosen = [n for n in names if getattr(self, n) not in (None, False)]
        if len(chosen) != 1:
            raise ValueError(
                f"a haircut needs exactly one selector of {', '.join(names)}; got {chosen or 'none'}"
            )
        if self.firms is not None:
            object.__setattr__(self, "firms", [u.strip().upper() for u in self.firms])
        return self


def _shift_map(v: Any) -> Any:
    if isinstance(v, dict):
        return {_code(k): val for k, val in v.items()}
    return v


class MacroShock(ScenarioPart):
    """Shifts of the copula's latent factors, in standard deviations (negative = adverse).

    ``global`` shifts the factor common to all firms; ``sector`` keys are sector
    labels; ``region`` keys are region codes, each matching every region factor
    whose code starts with it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    global_: float = Field(0.0, alias="global")
    sector: dict[str, float] = Field(default_factory=dict)
    region: dict[str, float] = Field(default_factory=dict)

    @field_validator("sector", "region", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        return _shift_map(v)


#: Default copula loadings. Their sum, 0.15, is a firm's systematic share of asset variance: the
#: Basel IRB corporate correlation at PD 1 % (0.193) less the SME adjustment for 5 m EUR turnover
#: (0.04), i.e. 0.153 (BCBS 2006 para. 272-273; the band is 0.08-0.24 over PD and firm size).
#: Most of it is common to all firms (the business cycle), a little more is shared within a
#: sector or a province; see docs/scenarios.md.
DEFAULT_RHO_GLOBAL = 0.10
DEFAULT_RHO_SECTOR = 0.03
DEFAULT_RHO_REGION = 0.02


class CopulaParameters(ScenarioPart):
    """Factor loadings of the Gaussian copula: ``rho_global + rho_sector + rho_region < 1``."""

    rho_global: float = Field(DEFAULT_RHO_GLOBAL, ge=0.0, lt=1.0)
    rho_sector: float = Field(DEFAULT_RHO_SECTOR, ge=0.0, lt=1.0)
    rho_region: float = Field(DEFAULT_RHO_REGION, ge=0.0, lt=1.0)
    #: Digits of the region code that make one region factor (2 province, 4 prefecture, 6 county).
    region_digits: int = Field(2, ge=1, le=6)

    @model_validator(mode="after")
    def _sum_below_one(self) -> CopulaParameters:
        if self.rho_global + self.rho_sector + self.rho_region >= 1.0:
            raise ValueError("rho_global + rho_sector + rho_region must be below 1")
        return self


class SupplyParameters(ScenarioPart):
    """The supply layer of :func:`contagion.multilayer.build_layers`."""

    #: Equity lost per unit of yearly supply flow to or from a failed partner (contribution margin).
    margin: float = Field(0.1, ge=0.0, le=1.0)


class DebtRankParameters(ScenarioPart):
    """Which impact matrix the differential DebtRank runs on."""

    #: ``uncapped``: :math:`W_{ij} = E_{ij}/e_i` (Bardoscia et al. 2015, the matrix of the
    #: differential DebtRank); ``capped``: :math:`\min(1, E_{ij}/e_i)` (Battiston et al. 2012).
    matrix: Literal["capped", "uncapped"] = "uncapped"


class ContagionParameters(ScenarioPart):
    """Per-layer transmission and the parameters of the multi-layer DebtRank."""

    transmission: dict[str, float] = Field(
        default_factory=lambda: {"supply": 1.0, "guarantee": 1.0, "trade_credit": 1.0}
    )
    #: Loss rate on trade credit owed by a defaulted firm and on any claim against a defaulted
    #: guarantor (it pays ``1 - loss_rate`` of its calls); the loss rate of a guarantee whose
    #: covered debt is not in the data.
    loss_rate: float = Field(0.45, ge=0.0, le=1.0)
    default_threshold: float = Field(1.0, gt=0.0, le=1.0)
    #: Share k of a firm's distance to default that distress 1 removes: the firm defaults in a run
    #: when its latent variable falls below :math:`\Phi^{-1}(PD)(1 - k h)` (Merton; see
    #: :mod:`contagion.stress.distress`). 0 switches the mapping off (default only at the threshold).
    distress_sensitivity: float = Field(1.0, ge=0.0)
    #: How the defaults drawn from the PDs pass distress on (:mod:`contagion.stress.baseline`):
    #: ``excess`` only their share beyond the PDs' expectation in a run (the PDs already contain
    #: the calm year's contagion), ``all`` in full, ``none`` not at all.
    from_pd_defaults: Literal["excess", "all", "none"] = "excess"
    #: Months a firm takes to replace a failed buyer or supplier: the supply layer puts that many
    #: twelfths of the partner's yearly margin at stake (:func:`contagion.multilayer.build_layers`;
    #: 12 = the whole year, the engine before).
    supply_replacement_months: float = SUPPLY_REPLACEMENT_MONTHS
    supply: SupplyParameters = Field(default_factory=lambda: SupplyParameters.model_validate({}))
    debtrank: DebtRankParameters = Field(default_factory=lambda: DebtRankParameters.model_validate({}))
    tol: float = Field(1e-9, gt=0.0)
    max_rounds: int = Field(1000, ge=1)

    @field_validator("transmission")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(v) - set(LAYERS))
        if unknown:
            raise ValueError(f"unknown layer {unknown[0]!r}; layers are {', '.join(LAYERS)}")
        bad = {k: x for k, x in v.items() if not x >= 0.0}
        if bad:
            raise ValueError(f"transmission must be >= 0, got {bad}")
        return {layer: float(v.get(layer, 1.0)) for layer in LAYERS}

    @field_validator("supply_replacement_months")
    @classmethod
    def _months(cls, v: float) -> float:
        if not 0.0 < v <= 12.0:  # also rejects NaN
            raise ValueError(f"must lie in (0, 12] months (the time a firm takes to replace a failed "
                             f"buyer or supplier; 12 = the partner's whole year is lost), got {v!r}")
        return float(v)


#: Where PDs come from (see :mod:`contagion.stress.pd_source`).
PDSource = Literal["auto", "risk_run", "history", "snapshot", "class_table"]


class PDParameters(ScenarioPart):
    """Where the PDs come from, and the class table that is the fallback and the calibration's prior."""

    #: ``auto``: the risk run's PDs when one is given, else the platform's history, else the
    #: snapshot's ``pd`` column, else the class table; any other value insists on that source.
    source: PDSource = "auto"
    #: A risk run whose ``as_of`` is further than this from the snapshot date is refused.
    max_age_days: int = Field(31, ge=0)
    #: Apply the scenario's macro shifts on top of point-in-time PDs (they already carry the
    #: current cycle; through-the-cycle and history-calibrated PDs are always shifted).
    shift_point_in_time: bool = False
    #: PD floor (Basel: 0.03 %, CRE32.38).
    floor: float = Field(0.0003, ge=0.0, le=1.0)
    #: Weight of the class-table prior in firm-years when calibrating from history.
    prior_weight: float = Field(100.0, ge=0.0)
    #: Yearly cohorts of history the calibration reads (the CLI builds one past snapshot per year).
    history_years: int = Field(5, ge=1, le=30)
    normal: float = Field(0.01, ge=0.0, le=1.0)
    special_mention: float = Field(0.05, ge=0.0, le=1.0)
    substandard: float = Field(0.30, ge=0.0, le=1.0)
    doubtful: float = Field(0.60, ge=0.0, le=1.0)
    loss: float = Field(1.0, ge=0.0, le=1.0)
    #: Firms with no loan (or no usable classification).
    no_loan: float = Field(0.02, ge=0.0, le=1.0)
    #: Use the snapshot's ``pd`` column where it is finite (source ``auto`` or ``snapshot``).
    use_snapshot_pd: bool = True


class DefaultStockParameters(ScenarioPart):
    """The firms in default at the snapshot date (see :mod:`contagion.stress.default_stock`)."""

    #: Replay them as shocks of distress 1 (their loans are never new stress loss either way).
    replay: bool = False


class LossParameters(ScenarioPart):
    """How the bank's loss is counted (see :mod:`contagion.stress.loss`)."""

    #: Credit conversion factor applied to the undrawn part of a limit.
    ccf: float = Field(0.40, ge=0.0, le=1.0)
    #: LGD when a loan gives neither ``lgd`` nor usable collateral.
    default_lgd: float = Field(0.45, ge=0.0, le=1.0)
    #: Multiplier on what a person guarantor pays of its call (0: person guarantees recover nothing).
    person_recovery: float = Field(0.30, ge=0.0, le=1.0)
    #: Multiplier on what a firm guarantor pays of its call (0: firm guarantees recover nothing).
    firm_recovery: float = Field(1.0, ge=0.0, le=1.0)
    #: LGD floor of the unsecured part of a loan (Basel A-IRB floor for unsecured corporate, CRE32.16).
    lgd_floor_unsecured: float = Field(0.25, ge=0.0, le=1.0)
    #: LGD floor of the secured part (Basel A-IRB: 10 % for real estate and receivables, CRE32.17).
    lgd_floor_secured: float = Field(0.10, ge=0.0, le=1.0)
    #: Downturn LGD: raise each loan's LGD with its borrower's PD under the scenario's macro shifts
    #: (a Frye-Jacobs LGD function; see :mod:`contagion.stress.loss`).
    downturn_lgd: bool = False
    #: Overrides of the collateral haircuts (type -> fraction of value lost).
    collateral_haircuts: dict[str, float] = Field(default_factory=dict)

    @field_validator("collateral_haircuts")
    @classmethod
    def _fractions(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not 0.0 <= x <= 1.0}
        if bad:
            raise ValueError(f"collateral haircuts must lie in [0, 1], got {bad}")
        return {k.strip().lower(): float(x) for k, x in v.items()}


class SamplingParameters(ScenarioPart):
    """Importance sampling of the global factor (see :mod:`contagion.stress.importance`)."""

    #: ``auto``: on when the copula has a global factor (``rho_global > 0``); ``on`` insists
    #: (an error without a global factor); ``off``: plain Monte Carlo.
    importance: Literal["auto", "off", "on"] = "auto"
    #: The tail level the tilt aims at; the tilted mean is Phi^-1(1 - level).
    level: float = Field(0.999, gt=0.5, lt=1.0)
    #: Share of runs drawn from the tilted factor (the rest keep the plain one: a defensive mixture).
    share: float = Field(0.5, gt=0.0, lt=1.0)
    #: Explicit mean of the tilted global factor (overrides ``level``; negative is adverse).
    shift: float | None = Field(None, lt=0.0)

    @field_validator("importance", mode="before")
    @classmethod
    def _yaml_bool(cls, v: Any) -> Any:
        # YAML 1.1 reads an unquoted on / off as a boolean
        return {True: "on", False: "off"}.get(v, v) if isinstance(v, bool) else v


#: China's large-exposure limits (CBIRC, "Measures for the Administration of Large Exposures
#: of Commercial Banks", Order 2018 No. 1): a non-interbank single client at most 15 % and a
#: group of connected non-interbank clients at most 20 % of tier-1 capital; the same defaults
#: as ``queries.connected`` (the loans-to-one-client cap of 10 % of net capital is checked there).
SINGLE_CLIENT_LIMIT = 0.15
CONNECTED_GROUP_LIMIT = 0.20


class ConcentrationParameters(ScenarioPart):
    """Large exposures against the bank's capital (see :mod:`contagion.stress.concentration`)."""

    #: The bank's tier-1 capital in the snapshot's currency; ``None``: shares of capital not shown.
    tier1_capital: float | None = Field(None, gt=0.0)
    single_limit: float = Field(SINGLE_CLIENT_LIMIT, gt=0.0, le=1.0)
    group_limit: float = Field(CONNECTED_GROUP_LIMIT, gt=0.0, le=1.0)
    #: Single names and groups listed.
    top_n: int = Field(20, ge=1)
    #: An owner holding at least this share of two firms connects them (control).
    control_share: float = Field(0.5, gt=0.0, le=1.0)


_P = TypeVar("_P", bound=ScenarioPart)


def _default(cls: type[_P]) -> Callable[[], _P]:
    return lambda: cls.model_validate({})


class Scenario(ScenarioPart):
    """A validated stress scenario (see ``docs/scenarios.md``)."""

    name: str
    description: str = ""
    as_of: date | None = None
    runs: int = Field(1000, ge=1)
    seed: int = Field(0, ge=0)
    #: Lender ids that make up the bank; empty means every lender. ``None`` leaves it to the caller:
    #: :func:`~contagion.stress.run_stress` then takes every lender, the ``chainrisk stress`` command
    #: and the demo ``CHAINRISK_BANK_LENDERS``.
    bank_lenders: list[str] | None = None
    shocks: list[Shock] = Field(default_factory=list)
    equity_haircuts: list[EquityHaircut] = Field(default_factory=list)
    macro: MacroShock = Field(default_factory=_default(MacroShock))
    copula: CopulaParameters = Field(default_factory=_default(CopulaParameters))
    contagion: ContagionParameters = Field(default_factory=_default(ContagionParameters))
    default_probability: PDParameters = Field(default_factory=_default(PDParameters))
    loss: LossParameters = Field(default_factory=_default(LossParameters))
    default_stock: DefaultStockParameters = Field(default_factory=_default(DefaultStockParameters))
    sampling: SamplingParameters = Field(default_factory=_default(SamplingParameters))
    concentration: ConcentrationParameters = Field(default_factory=_default(ConcentrationParameters))

    @field_validator("bank_lenders", mode="before")
    @classmethod
    def _lenders(cls, v: Any) -> Any:
        v = _codes(v)
        return [v] if isinstance(v, str) else v

    @field_validator("name", "description", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return _code(v)


# ----------------------------------------------------------------------------- entry points
#: Keys scenario files once had that no longer mean anything, with what replaced them: a file
#: that still sets one fails with this message (at its line) rather than being silently ignored.
REMOVED_KEYS: dict[tuple[str, ...], str] = {
    ("default_probability", "defaulted"): (
        "removed: firms in default at the snapshot date are the bank's default stock, with PD 1 and no "
        "new default, reported apart (summary.json -> default_stock) and never booked as stress loss; "
        "'default_stock: {replay: true}' replays them as shocks"),
}


def _attach_lines(obj: Any, path: Path_, lines: dict[Path_, int]) -> None:
    """Give every model its line: the line of the key or item it was written under."""
    if isinstance(obj, ScenarioPart):
        obj._line = lines.get(path, lines.get(()))
        for name in type(obj).model_fields:
            _attach_lines(getattr(obj, name), (*path, name), lines)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            _attach_lines(item, (*path, i), lines)


def _error_line(loc: Path_, lines: dict[Path_, int]) -> int | None:
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def _internal(part: str) -> bool:
    return part.startswith("function-") or part == "[key]"


def _loc_text(loc: Path_) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_scenario(text: str, *, file: str = "<scenario>") -> Scenario:
    """Validate scenario YAML ``text``; ``file`` names it in errors.

    Raises
    ------
    ScenarioError
        Invalid YAML, a duplicate key, or a value the schema rejects; the error
        carries ``file`` and the 1-based ``line``.
    """
    data, lines = _load_with_lines(text, file)
    if not isinstance(data, dict):
        raise ScenarioError("a scenario must be a YAML mapping with at least a 'name'", file=file,
                            line=lines.get(()))
    for key, why in REMOVED_KEYS.items():
        if key in lines:
            raise ScenarioError(f"{'.'.join(key)}: {why}", file=file, line=lines[key])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and _internal(p)))
        where = _loc_text(loc)
        msg = first["msg"].removeprefix("Value error, ")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ScenarioError(f"{where + ': ' if where else ''}{msg}{more}", file=file,
                            line=_error_line(loc, lines)) from None
    _attach_lines(scenario, (), lines)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate the scenario file at ``path`` (see :func:`parse_scenario`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario: {exc.strerror or exc}", file=str(p)) from exc
    return parse_scenario(text, file=str(p))


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the canonical scenario: sorted-key JSON of every field, defaults included.

    >>> a = parse_scenario("name: x\\nruns: 10\\n")
    >>> b = parse_scenario("runs: 10\\nname: x\\ncopula: {rho_sector: 0.03}\\n")
    >>> scenario_hash(a) == scenario_hash(b)
    True
    """
    canonical = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def iter_parts(scenario: Scenario) -> Iterator[ScenarioPart]:
    """Every shock and haircut, in file order (for checks against a snapshot)."""
    yield from scenario.shocks
    yield from scenario.equity_haircuts
