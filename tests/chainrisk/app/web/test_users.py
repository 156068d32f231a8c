import sqlite3

import pytest

from chainrisk.app.cli import main
from chainrisk.app.web.sessions import create_session, touch_session
from chainrisk.app.web.users import (
    SCRYPT_N,
    add_user,
    authenticate,
    hash_password,
    list_users,
    remove_user,
    verify_password,
)
from chainrisk.errors import ConfigError


def test_hash_is_salted_scrypt_with_its_parameters():
    a, b = hash_password("same password"), hash_password("same password")
    assert a != b  # a fresh salt each time
    scheme, n, r, p, salt, digest = a.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", SCRYPT_N, 8, 1)
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(digest)) == 32
    assert verify_password("same password", a) and verify_password("same password", b)
    assert not verify_password("same passwore", a)


def test_verify_refuses_garbage():
    assert not verify_password("x", "plain-text")
    assert not verify_password("x", "md5$1$1$1$00$00")


def test_store_holds_hashes_only(tmp_path):
    db = tmp_path / "auth.sqlite"
    add_user(db, "alice", "a long password 1")
    raw = sqlite3.connect(db).execute("SELECT name, password_hash FROM web_users").fetchall()
    assert raw[0][0] == "alice" and "a long password 1" not in raw[0][1]
    assert authenticate(db, "alice", "a long password 1")
    assert not authenticate(db, "alice", "a long password 2")
    assert not authenticate(db, "bob", "a long password 1")
    assert [u["name"] for u in list_users(db)] == ["alice"]
    with pytest.raises(ConfigError, match="exists"):
        add_user(db, "alice", "another long one")
    live = create_session(db, "alice")
    remove_user(db, "alice")
    assert list_users(db) == []
    assert touch_session(db, live.sid, 1800) is None  # removing a user ends their sessions
    with pytest.raises(ConfigError, match="no user"):
        remove_user(db, "alice")


def test_short_password_and_odd_name_refused(tmp_path):
    with pytest.raises(ConfigError, match="at least"):
        add_user(tmp_path / "a.sqlite", "alice", "short")
    with pytest.raises(ConfigError, match="user name"):
        add_user(tmp_path / "a.sqlite", "<b>", "a long password 1")


def test_cli_add_list_remove(tmp_path, monkeypatch, capsys):
    import io

    from chainrisk.settings import get_settings

    monkeypatch.setenv("CHAINRISK_AUTH_DB", str(tmp_path / "auth.sqlite"))
    get_settings.cache_clear()
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("a long password 1\n"))
        assert main(["users", "add", "carol", "--password-stdin"]) == 0
        assert authenticate(tmp_path / "auth.sqlite", "carol", "a long password 1")
        capsys.readouterr()
        assert main(["users", "list", "--json"]) == 0
        assert '"carol"' in capsys.readouterr().out
        assert main(["users", "remove", "carol"]) == 0
        assert main(["users", "remove", "carol"]) == 1
    finally:
        get_settings.cache_clear()
