"""API keys: issued once, stored as a hash only, compared in constant time, revocable, expiring."""

from __future__ import annotations

import hmac
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from chainrisk.app.auth import keys as keys_mod
from chainrisk.app.auth.keys import KeyRefused, UnknownKey, check_key, create_key, list_keys, revoke_key

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_only_a_hash_and_the_public_id_are_stored(tmp_path: Path) -> None:
    db = tmp_path / "auth.sqlite"
    issued = create_key(db, "officer", name="desk", now=T0)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    secret = issued.key.split("_", 2)[2]
    assert issued.key.startswith(f"cr_{issued.info.id}_") and len(secret) == 43  # 32 bytes, base64url
    raw = db.read_bytes()
    assert issued.key.encode() not in raw and secret.encode() not in raw
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT hash FROM api_keys").fetchone()
    assert stored not in (issued.key, secret) and len(stored) == 64  # a SHA-256, hex
    listed = [k.to_dict() for k in list_keys(db)]
    assert listed == [{"id": issued.info.id, "name": "desk", "role": "officer", "created": T0.isoformat(),
                       "expires": None, "revoked": None, "last_used": None, "state": "active"}]
    assert "hash" not in listed[0] and issued.key not in str(listed)


def test_check_admits_an_active_key_and_refuses_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "auth.sqlite"
    good = create_key(db, "analyst", now=T0)
    assert check_key(db, good.key, now=T0).role == "analyst"
    assert list_keys(db)[0].last_used == T0.isoformat()
    bad = [None, "", "cr_00000000_" + "A" * 43, good.key[:-1] + ("A" if good.key[-1] != "A" else "B"),
           "not a key", good.key + "x"]
    reasons = []
    for presented in bad:
        with pytest.raises(KeyRefused) as caught:
            check_key(db, presented, now=T0)
        reasons.append(caught.value.reason)
    assert reasons == ["missing", "missing", "unknown", "unknown", "unknown", "unknown"]


def test_expiry_and_revocation(tmp_path: Path) -> None:
    db = tmp_path / "auth.sqlite"
    short = create_key(db, "officer", expires_days=1, now=T0)
    assert short.info.expires == (T0 + timedelta(days=1)).isoformat()
    check_key(db, short.key, now=T0 + timedelta(hours=23))
    with pytest.raises(KeyRefused) as caught:
        check_key(db, short.key, now=T0 + timedelta(days=1))
    assert caught.value.reason == "expired"
    other = create_key(db, "operator", now=T0)
    info = revoke_key(db, other.info.id, now=T0 + timedelta(hours=1))
    assert info.revoked == (T0 + timedelta(hours=1)).isoformat()
    assert revoke_key(db, other.info.id, now=T0 + timedelta(hours=5)).revoked == info.revoked  # first date
    with pytest.raises(KeyRefused) as caught:
        check_key(db, other.key, now=T0 + timedelta(hours=2))
    assert caught.value.reason == "revoked"
    states = {k.id: k.state(T0 + timedelta(days=2)) for k in list_keys(db)}
    assert states == {short.info.id: "expired", other.info.id: "revoked"}
    with pytest.raises(UnknownKey):
        revoke_key(db, "ffffffff")


def test_hashes_are_compared_in_constant_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "auth.sqlite"
    issued = create_key(db, "officer")
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_mod.hmac, "compare_digest", spy)
    check_key(db, issued.key)
    with pytest.raises(KeyRefused):
        check_key(db, "cr_00000000_" + "A" * 43)  # an unknown id is compared too
    assert len(calls) == 2 and all(len(a) == len(b) == 64 for a, b in calls)


def test_bad_role_and_expiry_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="role"):
        create_key(tmp_path / "a.sqlite", "admin")
    with pytest.raises(ValueError, match="expires_days"):
        create_key(tmp_path / "a.sqlite", "officer", expires_days=0)
