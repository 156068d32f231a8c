import stat

import pytest

from chainrisk.app.auth.store import open_store
from chainrisk.errors import ConfigError


def test_store_is_owner_only_and_commits(tmp_path):
    path = tmp_path / "sub" / "auth.sqlite"
    with open_store(path, "CREATE TABLE IF NOT EXISTS k (v TEXT)") as conn:
        conn.execute("INSERT INTO k VALUES ('a')")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with open_store(path) as conn:
        assert conn.execute("SELECT v FROM k").fetchall() == [("a",)]


def test_failure_rolls_back(tmp_path):
    path = tmp_path / "auth.sqlite"
    with pytest.raises(RuntimeError), open_store(path, "CREATE TABLE IF NOT EXISTS k (v TEXT)") as conn:
        conn.execute("INSERT INTO k VALUES ('a')")
        raise RuntimeError("boom")
    with open_store(path) as conn:
        assert conn.execute("SELECT count(*) FROM k").fetchone() == (0,)


def test_not_a_database_is_an_error(tmp_path):
    path = tmp_path / "auth.sqlite"
    path.write_text("not sqlite")
    ddl = "CREATE TABLE IF NOT EXISTS k (v TEXT)"
    with pytest.raises(ConfigError, match="credential store"), open_store(path, ddl):
        pass
