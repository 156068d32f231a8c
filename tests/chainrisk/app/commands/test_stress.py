"""The ``chainrisk stress`` command (:mod:`chainrisk.app.commands.stress`): options, sources, bank lenders."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from chainrisk.app.commands import stress

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "scenarios" / "regional_downturn.yaml"


def _app() -> typer.Typer:
    app = typer.Typer()
    stress.register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps "stress" a subcommand
        """Nothing."""

    return app


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(_app(), ["stress", "--help"])
    assert result.exit_code == 0
    assert "Example: chainrisk stress examples/scenarios/" in result.output


def test_needs_exactly_one_source() -> None:
    from chainrisk.errors import ConfigError

    result = CliRunner().invoke(_app(), ["stress", str(EXAMPLE)])
    assert isinstance(result.exception, ConfigError)


class _Stop(Exception):
    """Raised by the stand-in of run_stress once it has seen its arguments."""


@pytest.mark.parametrize(
    ("scenario_lenders", "options", "want"),
    [
        ("", [], ["FROM_SETTINGS"]),  # nothing given: the settings
        ("bank_lenders: [FROM_SCENARIO]\n", [], ["FROM_SCENARIO"]),  # the scenario's beats the settings
        ("bank_lenders: []\n", [], []),  # an explicit empty list: every lender
        ("bank_lenders: [FROM_SCENARIO]\n", ["--bank-lender", "A", "--bank-lender", "B"], ["A", "B"]),
    ],
)
def test_bank_lenders_resolved_at_the_edge(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scenario_lenders: str,
    options: list[str],
    want: list[str],
) -> None:
    import contagion.stress
    from chainrisk.settings import get_settings
    from tests.contagion.stress.conftest import build_snapshot

    seen: dict[str, object] = {}

    def fake_run_stress(snapshot: object, scenario: object, **kw: object) -> object:
        seen.update(kw)
        raise _Stop

    monkeypatch.setattr(stress, "_inputs", lambda *a, **k: (build_snapshot(), [], None))
    monkeypatch.setattr(contagion.stress, "run_stress", fake_run_stress)
    monkeypatch.setenv("CHAINRISK_BANK_LENDERS", "FROM_SETTINGS")
    get_settings.cache_clear()
    spec = tmp_path / "s.yaml"
    spec.write_text("name: t\n" + scenario_lenders)
    try:
        result = CliRunner().invoke(
            _app(), ["stress", str(spec), "--dataset", str(tmp_path), "--no-esri", *options]
        )
    finally:
        get_settings.cache_clear()
    assert isinstance(result.exception, _Stop), result.output
    assert seen["bank_lenders"] == want


def test_json_prints_one_document_with_the_tail_figures(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from tests.contagion.stress.conftest import build_snapshot

    monkeypatch.setattr(stress, "_inputs", lambda *a, **k: (build_snapshot(), [], None))
    spec = tmp_path / "s.yaml"
    spec.write_text("name: t\nbank_lenders: [BANK]\n")
    result = CliRunner().invoke(
        _app(), ["stress", str(spec), "--dataset", str(tmp_path), "--no-esri", "--runs", "200", "--json",
                 "--out", str(tmp_path / "out"), "--capital", "1000", "--reverse-loss", "5%",
                 "--sweep", "copula.rho_global=0.05:0.15:2"],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # exactly one JSON document, nothing else on stdout
    m = doc["measures"]
    for key in ("EL", "VaR_95", "ES_95", "VaR_99", "ES_99", "VaR_99.9", "ES_99.9"):
        assert m[key]["value"] is not None and "se" in m[key], key
    assert doc["concentration"]["tier1_capital"] == 1000.0 and "hhi" in doc["concentration"]
    assert doc["reverse_stress"]["threshold"] == pytest.approx(50.0)
    assert [r["value"] for r in doc["sweep"]["table"]] == [0.05, 0.15]
    assert {"sweep", "tornado", "report", "firms", "summary"} <= set(doc["outputs"])
    assert (tmp_path / "out" / "tornado.png").exists()


def test_reverse_loss_share_needs_capital(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chainrisk.errors import ConfigError
    from tests.contagion.stress.conftest import build_snapshot

    monkeypatch.setattr(stress, "_inputs", lambda *a, **k: (build_snapshot(), [], None))
    spec = tmp_path / "s.yaml"
    spec.write_text("name: t\n")
    result = CliRunner().invoke(_app(), ["stress", str(spec), "--dataset", str(tmp_path), "--no-esri",
                                         "--reverse-loss", "10%"])
    assert isinstance(result.exception, ConfigError) and "capital" in str(result.exception)


@pytest.mark.parametrize(("options", "keyword", "want"), [
    ([], "max_kept_bytes", 4 * 2**30), (["--max-kept-gib", "0.5"], "max_kept_bytes", 2**29),
    (["--max-kept-gib", "0"], "max_kept_bytes", None),
    ([], "baseline_runs", None), (["--baseline-runs", "7"], "baseline_runs", 7),
    (["--baseline-runs", "0"], "baseline_runs", 0),
])
def test_run_options_reach_run_stress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str],
                                      keyword: str, want: int | None) -> None:
    import contagion.stress
    from tests.contagion.stress.conftest import build_snapshot

    seen: dict[str, object] = {}

    def fake_run_stress(snapshot: object, scenario: object, **kw: object) -> object:
        seen.update(kw)
        raise _Stop

    monkeypatch.setattr(stress, "_inputs", lambda *a, **k: (build_snapshot(), [], None))
    monkeypatch.setattr(contagion.stress, "run_stress", fake_run_stress)
    spec = tmp_path / "s.yaml"
    spec.write_text("name: t\nbank_lenders: []\n")
    result = CliRunner().invoke(_app(), ["stress", str(spec), "--dataset", str(tmp_path), "--no-esri",
                                         *options])
    assert isinstance(result.exception, _Stop), result.output
    assert seen[keyword] == want


def test_text_output_splits_el_over_the_calm_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.contagion.stress.conftest import SCENARIO, build_snapshot

    monkeypatch.setattr(stress, "_inputs", lambda *a, **k: (build_snapshot(), [], None))
    spec = tmp_path / "s.yaml"
    spec.write_text(SCENARIO + "bank_lenders: [BANK]\n")
    options = ["--no-esri", "--runs", "200", "--baseline-runs", "100", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(_app(), ["stress", str(spec), "--dataset", str(tmp_path), *options])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith("EL = PDs' expectation"))
    assert "calm year: 100 runs" in line
