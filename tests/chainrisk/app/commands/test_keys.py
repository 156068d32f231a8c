"""``chainrisk keys create|list|revoke``: the key alone on stdout, one JSON document with --json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chainrisk.app.auth.keys import check_key
from chainrisk.app.cli import main
from chainrisk.settings import get_settings


@pytest.fixture()
def auth_db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "auth.sqlite"
    monkeypatch.setenv("CHAINRISK_AUTH_DB", str(path))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_create_list_revoke(auth_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--role", "analyst", "--name", "ana", "--expires-days", "30"]) == 0
    out = capsys.readouterr()
    key = out.out.strip()
    assert out.out == key + "\n" and key.startswith("cr_")  # the key alone on stdout
    assert key not in out.err and "not shown again" in out.err
    assert check_key(auth_db, key).name == "ana"
    assert main(["keys", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["keys"]
    assert [(k["name"], k["role"], k["state"]) for k in listed] == [("ana", "analyst", "active")]
    assert listed[0]["expires"] is not None and key not in json.dumps(listed)
    assert main(["keys", "revoke", listed[0]["id"]]) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["keys"][0]["state"] == "revoked"


def test_errors_are_one_line(auth_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "revoke", "ffffffff"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "ffffffff" in err and "\n" not in err
    assert main(["keys", "create", "--role", "admin"]) == 2
    assert capsys.readouterr().out == ""
