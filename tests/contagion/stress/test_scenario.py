from __future__ import annotations

from pathlib import Path

import pytest

from chainrisk.errors import ScenarioError
from contagion.stress import load_scenario, parse_scenario, scenario_hash

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "scenarios"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("name: x\nruns: 0\n", 2, "runs"),
        ("name: x\nshocks:\n  - firms: [A]\n    region: '35'\n", 3, "exactly one selector"),
        ("name: x\nshocks:\n  - region: '35'\n  - top_k: {k: 3, by: nonsense}\n", 4, "top_k.by"),
        ("name: x\ncopula:\n  rho_sector: 0.7\n  rho_region: 0.4\n", 2, "below 1"),
        ("name: x\ncopula:\n  rho_global: 0.7\n  rho_sector: 0.2\n  rho_region: 0.2\n", 2, "below 1"),
        ("name: x\nequity_haircuts:\n  - all: true\n    fraction: 1.5\n", 4, "fraction"),
        ("name: x\nunknown_key: 1\n", 2, "Extra inputs"),
        ("name: x\nname: y\n", 2, "duplicate key"),
        ("name: x\nshocks: [\n", 3, "not valid YAML"),
        ("name: x\ncontagion:\n  transmission:\n    supply: 1\n    telepathy: 2\n", 3, "telepathy"),
        ("runs: 3\n", 1, "name"),
        ("name: x\ncontagion:\n  debtrank:\n    matrix: sideways\n", 4, "contagion.debtrank.matrix"),
        ("name: x\ncontagion:\n  supply: {margin: 1.5}\n", 3, "contagion.supply.margin"),
        ("name: x\ncontagion:\n  distress_sensitivity: -1\n", 3, "distress_sensitivity"),
        ("name: x\nloss:\n  lgd_floor_unsecured: 2\n", 3, "lgd_floor_unsecured"),
    ],
)
def test_errors_name_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, file="s.yaml")
    assert info.value.file == "s.yaml"
    assert info.value.line == line, str(info.value)
    assert fragment in str(info.value)
    assert str(info.value).startswith(f"s.yaml:{line}:")


def test_codes_keep_their_text_and_parts_their_line() -> None:
    text = "name: x\nshocks:\n  - region: 010000\n    distress: 0.4\nmacro:\n  region: {35: -2}\n"
    s = parse_scenario(text)
    assert s.shocks[0].region == ["010000"]
    assert s.shocks[0].line == 3
    assert s.macro.region == {"35": -2.0}


def test_hash_is_canonical() -> None:
    a = parse_scenario("name: x\nseed: 1\n")
    b = parse_scenario("seed: 1\nname: x\ncontagion: {loss_rate: 0.45}\n")
    c = parse_scenario("seed: 2\nname: x\n")
    assert scenario_hash(a) == scenario_hash(b) != scenario_hash(c)


def test_missing_file() -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario("/nonexistent/s.yaml")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_examples_validate(path: Path) -> None:
    s = load_scenario(path)
    assert s.name == path.stem


def test_copula_defaults_and_a_global_macro_shift() -> None:
    s = parse_scenario("name: x\nmacro:\n  global: -1.5\n  region: {35: -1}\n")
    assert s.macro.global_ == -1.5 and s.macro.region == {"35": -1.0}
    c = s.copula
    # the default loadings sum into the Basel IRB band for SMEs (0.08 - 0.24); province factors
    assert 0.08 <= c.rho_global + c.rho_sector + c.rho_region <= 0.24
    assert c.rho_global > c.rho_sector + c.rho_region and c.region_digits == 2


def test_a_removed_key_fails_with_what_replaced_it() -> None:
    text = "name: x\ndefault_probability:\n  normal: 0.02\n  defaulted: 0.8\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, file="old.yaml")
    assert info.value.line == 4
    assert str(info.value).startswith("old.yaml:4: default_probability.defaulted: removed:")
    assert "default stock" in str(info.value) and "default_stock: {replay: true}" in str(info.value)
    # every other key of the original schema still loads, with its meaning
    kept = ("name: x\nruns: 10\nseed: 1\nbank_lenders: []\nmacro: {sector: {C: -1}, region: {'35': -1}}\n"
            "copula: {rho_sector: 0.1, rho_region: 0.05, region_digits: 6}\n"
            "contagion: {transmission: {supply: 0}, loss_rate: 0.4, default_threshold: 0.9, tol: 1.0e-8, "
            "max_rounds: 50}\n"
            "default_probability: {normal: 0.02, special_mention: 0.1, substandard: 0.3, doubtful: 0.6, "
            "loss: 1.0, no_loan: 0.03, use_snapshot_pd: false}\n"
            "loss: {ccf: 0.5, default_lgd: 0.4, person_recovery: 0, firm_recovery: 0.5, "
            "collateral_haircuts: {real_estate: 0.3}}\n")
    s = parse_scenario(kept)
    assert s.contagion.transmission == {"supply": 0.0, "guarantee": 1.0, "trade_credit": 1.0}
    assert (s.loss.person_recovery, s.loss.firm_recovery) == (0.0, 0.5)
    assert s.copula.region_digits == 6 and s.default_probability.no_loan == 0.03


def test_contagion_and_loss_fields_and_their_defaults() -> None:
    d = parse_scenario("name: x\n")
    assert d.contagion.supply.margin == 0.1 and d.contagion.debtrank.matrix == "uncapped"
    assert d.contagion.distress_sensitivity == 1.0
    assert (d.loss.lgd_floor_unsecured, d.loss.lgd_floor_secured, d.loss.downturn_lgd) == (0.25, 0.10, False)
    s = parse_scenario("name: x\ncontagion:\n  supply: {margin: 0.05}\n  debtrank: {matrix: capped}\n"
                       "  distress_sensitivity: 0\nloss: {downturn_lgd: true}\n")
    assert s.contagion.supply.margin == 0.05 and s.contagion.debtrank.matrix == "capped"
    assert s.contagion.distress_sensitivity == 0.0 and s.loss.downturn_lgd
    assert scenario_hash(s) != scenario_hash(d)


def test_supply_replacement_months_default_range_and_error() -> None:
    assert parse_scenario("name: x\n").contagion.supply_replacement_months == 3.0
    whole = parse_scenario("name: x\ncontagion: {supply_replacement_months: 12}\n")
    assert whole.contagion.supply_replacement_months == 12.0
    assert scenario_hash(whole) != scenario_hash(parse_scenario("name: x\n"))
    for bad in ("0", "-2", "13", ".nan"):
        with pytest.raises(ScenarioError, match=r"s\.yaml:3: contagion\.supply_replacement_months: "
                                                r"must lie in \(0, 12\] months"):
            parse_scenario(f"name: x\ncontagion:\n  supply_replacement_months: {bad}\n", file="s.yaml")
