from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from chainrisk.commands import stress

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "scenarios" / "regional_downturn.yaml"


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
