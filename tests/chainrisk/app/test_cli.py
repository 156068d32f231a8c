"""The CLI is thin: every command documents a copy-pasteable example; errors are one line."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from chainrisk.app.cli import app, main


def _commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a group (typer's own click types are not click's)
            out += _commands(cmd, f"{prefix}{name} ")
        else:
            out.append((f"{prefix}{name}", cmd))
    return out


def test_every_command_has_help_with_an_example() -> None:
    root = typer.main.get_command(app)
    commands = _commands(root)
    assert len(commands) >= 5
    for name, cmd in commands:
        assert cmd.help and "Example: chainrisk " in cmd.help, f"`chainrisk {name}` lacks an example"


def test_domain_error_is_one_line_and_nonzero(monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")
    from chainrisk.settings import get_settings

    get_settings.cache_clear()
    try:
        code = main(["db", "init"])
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.startswith("error:") and "chainrisk db start" in err
    assert "Traceback" not in err


def test_usage_error_exit_code() -> None:
    assert main(["no-such-command"]) == 2
