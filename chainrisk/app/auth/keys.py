"""API keys of the HTTP API: issued once, stored hashed, compared in constant time.

A key reads ``cr_<id>_<secret>``: ``id`` is a short public prefix (8 hex characters) that
names the key in lists, logs and the audit trail, ``secret`` 32 random bytes
(:func:`secrets.token_urlsafe`). Only the SHA-256 of the whole key is stored, in the
credential store (``settings.auth_db``, :func:`chainrisk.app.auth.store.open_store`), never the
key itself; :func:`create_key` returns it once.

Why a plain SHA-256 and not a slow password hash: a key carries 256 random bits, so there is
no dictionary to try against a stolen hash, and every API call checks one.

Roles limit what a key may call (``docs/api.md``): ``officer`` reads firms, chains, circles
and named queries; ``analyst`` may also send read-only Cypher; ``operator`` may also start
stress jobs.

>>> import tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "auth.sqlite"
>>> issued = create_key(db, "analyst", name="ana")
>>> check_key(db, issued.key).name
'ana'
>>> issued.key in db.read_bytes().decode("latin-1")
False
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from chainrisk.app.auth.store import open_store
from chainrisk.errors import ChainriskError

__all__ = [
    "DDL",
    "ROLES",
    "IssuedKey",
    "KeyInfo",
    "KeyRefused",
    "Role",
    "UnknownKey",
    "check_key",
    "create_key",
    "list_keys",
    "revoke_key",
]

Role = Literal["officer", "analyst", "operator"]
ROLES: tuple[Role, ...] = ("officer", "analyst", "operator")

DDL = """
CREATE TABLE IF NOT EXISTS api_keys (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL CHECK (role IN ('officer', 'analyst', 'operator')),
    hash      TEXT NOT NULL,
    created   TEXT NOT NULL,
    expires   TEXT,
    revoked   TEXT,
    last_used TEXT
);
"""

_KEY = re.compile(r"^cr_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
#: A hash no key has: an unknown id is compared against it, so it costs what a known one does.
_NO_HASH = "0" * 64
#: ``last_used`` is written at most this often per key (each write takes the store's lock).
_TOUCH_EVERY = timedelta(minutes=1)


class KeyRefused(ChainriskError):
    """A presented API key that does not open the API; ``reason`` is missing, unknown, expired or revoked."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


class UnknownKey(ChainriskError, LookupError):
    """No API key with that id in the credential store."""


@dataclass(frozen=True)
class KeyInfo:
    """What the store knows of a key: never its secret nor its hash."""

    id: str
    name: str
    role: Role
    created: str
    expires: str | None
    revoked: str | None
    last_used: str | None

    def state(self, now: datetime | None = None) -> str:
        """``active``, ``expired`` or ``revoked`` at ``now``."""
        if self.revoked:
            return "revoked"
        if self.expires and datetime.fromisoformat(self.expires) <= (now or _now()):
            return "expired"
        return "active"

    def to_dict(self, now: datetime | None = None) -> dict[str, Any]:
        return {**asdict(self), "state": self.state(now)}


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: ``key`` is shown this once and stored nowhere."""

    key: str
    info: KeyInfo


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _info(row: sqlite3.Row | tuple[Any, ...]) -> KeyInfo:
    i, name, role, created, expires, revoked, last_used = row
    return KeyInfo(id=i, name=name, role=role, created=created, expires=expires, revoked=revoked,
                   last_used=last_used)


_COLUMNS = "id, name, role, created, expires, revoked, last_used"


def create_key(path: Path, role: str, *, name: str | None = None, expires_days: float | None = None,
               now: datetime | None = None) -> IssuedKey:
    """Issue a key of ``role`` (optionally expiring after ``expires_days``); the key is returned once.

    Raises:
        ValueError: an unknown role, or ``expires_days`` not positive.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if expires_days is not None and not expires_days > 0:
        raise ValueError(f"expires_days must be positive, got {expires_days}")
    t = now or _now()
    expires = (t + timedelta(days=expires_days)).isoformat() if expires_days is not None else None
    with open_store(path, DDL) as conn:
        while True:  # 8 hex characters: a clash is rare, and simply drawn again
            key_id = secrets.token_hex(4)
            if conn.execute("SELECT 1 FROM api_keys WHERE id = ?", (key_id,)).fetchone() is None:
                break
        key = f"cr_{key_id}_{secrets.token_urlsafe(32)}"
        label = name or f"{role}-{key_id}"
        conn.execute(
            "INSERT INTO api_keys (id, name, role, hash, created, expires) VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, label, role, _digest(key), t.isoformat(), expires),
        )
    return IssuedKey(key=key, info=KeyInfo(id=key_id, name=label, role=role,
                                           created=t.isoformat(), expires=expires, revoked=None,
                                           last_used=None))


def list_keys(path: Path) -> list[KeyInfo]:
    """Every key, oldest first (revoked and expired ones included, with their state)."""
    with open_store(path, DDL) as conn:
        rows = conn.execute(f"SELECT {_COLUMNS} FROM api_keys ORDER BY created, id").fetchall()
    return [_info(r) for r in rows]


def revoke_key(path: Path, key_id: str, *, now: datetime | None = None) -> KeyInfo:
    """Revoke the key ``key_id`` (at once for every later request); revoking twice keeps the first date.

    Raises:
        UnknownKey: no key with that id.
    """
    with open_store(path, DDL) as conn:
        conn.execute("UPDATE api_keys SET revoked = coalesce(revoked, ?) WHERE id = ?",
                     ((now or _now()).isoformat(), key_id))
        row = conn.execute(f"SELECT {_COLUMNS} FROM api_keys WHERE id = ?", (key_id,)).fetchone()
    if row is None:
        raise UnknownKey(f"no API key with id {key_id!r} (see: chainrisk keys list)")
    return _info(row)


def check_key(path: Path, presented: str | None, *, now: datetime | None = None) -> KeyInfo:
    """The key's record when ``presented`` is an active key; else :class:`KeyRefused`.

    The hash comparison is :func:`hmac.compare_digest`, made for an unknown id too, so the
    time taken does not tell whether a prefix exists.
    """
    if not presented:
        raise KeyRefused("an API key is required in the X-API-Key header", reason="missing")
    m = _KEY.match(presented)
    key_id = m.group(1) if m else ""
    t = now or _now()
    with open_store(path, DDL) as conn:
        row = conn.execute(f"SELECT {_COLUMNS}, hash FROM api_keys WHERE id = ?", (key_id,)).fetchone()
        stored = row[-1] if row is not None else _NO_HASH
        matches = hmac.compare_digest(_digest(presented), stored)
        if row is None or not matches:
            raise KeyRefused("unknown API key", reason="unknown")
        info = _info(row[:-1])
        state = info.state(t)
        if state != "active":
            raise KeyRefused(f"API key {info.id} is {state}", reason=state)
        if info.last_used is None or datetime.fromisoformat(info.last_used) + _TOUCH_EVERY <= t:
            conn.execute("UPDATE api_keys SET last_used = ? WHERE id = ?", (t.isoformat(), info.id))
    return info
