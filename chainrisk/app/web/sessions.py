"""Sessions, CSRF tokens and login throttling of the web page, kept in the credential store.

- **Secret**: 32 random bytes generated on first use and kept in ``<auth_db>.web-secret`` (created
  mode 0600 beside the store); there is no built-in default, so two installations never share one.
- **Session cookie**: ``<sid>.<mac>`` with ``mac = HMAC-SHA256(secret, "session|" + sid)``; the
  random ``sid`` is stored server-side only as its SHA-256, with the user, the session's CSRF
  token and the time it was last used. A session unused for ``idle`` seconds is gone; logout
  deletes it on the server, so a copied cookie dies with it.
- **CSRF**: forms carry ``HMAC-SHA256(secret, "csrf|" + id)`` of the (pre-login or login) session
  id; the page's JSON calls send the session's token in the ``X-CSRF-Token`` header, which a
  cross-site form cannot set.
- **Throttling**: failed logins are counted per user name and per client address; from the
  ``FREE_FAILURES``-th failure on, another try must wait ``2 ** (failures - FREE_FAILURES)``
  seconds (capped at 15 minutes). A success clears the user's count. A try is counted as a
  failure when it is admitted (:func:`claim_try`: the check and the count are one transaction),
  and a successful one is taken back (:func:`forgive_try`): checked first and counted after the
  password, parallel tries all passed the check before any of them counted.

>>> sign(b"k" * 32, "session", "abc") == sign(b"k" * 32, "session", "abc")
True
>>> unsign(b"k" * 32, "session", "abc." + sign(b"k" * 32, "session", "abc"))
'abc'
>>> unsign(b"k" * 32, "session", "abc.forged") is None
True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from chainrisk.app.auth.store import open_store
from chainrisk.errors import ConfigError

__all__ = [
    "FREE_FAILURES",
    "MAX_BACKOFF_S",
    "SESSIONS_DDL",
    "Session",
    "claim_try",
    "clear_failures",
    "create_session",
    "delete_session",
    "forgive_try",
    "load_secret",
    "record_failure",
    "retry_after",
    "secret_path",
    "sign",
    "touch_session",
    "unsign",
]

#: Failed logins allowed before each further try must wait.
FREE_FAILURES = 5
#: The longest wait between tries (seconds).
MAX_BACKOFF_S = 900.0

SESSIONS_DDL = """
CREATE TABLE IF NOT EXISTS web_sessions (
    sid_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created REAL NOT NULL,
    last_seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS web_login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last REAL NOT NULL
);
"""


def secret_path(auth_db: Path) -> Path:
    """Where the session secret lives: beside the credential store."""
    return Path(auth_db).with_name(Path(auth_db).name + ".web-secret")


def load_secret(auth_db: Path) -> bytes:
    """The session secret, generated (32 random bytes, file mode 0600) on first use."""
    path = secret_path(auth_db)
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: two processes starting at once cannot both write a secret
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(secrets.token_bytes(32).hex().encode())
        data = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read or create the web session secret: {exc}") from exc
    if len(data) < 32:
        raise ConfigError(f"{path}: the web session secret is shorter than 32 bytes")
    return data


def sign(secret: bytes, purpose: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` for ``purpose`` (hex)."""
    return hmac.new(secret, f"{purpose}|{value}".encode(), hashlib.sha256).hexdigest()


def unsign(secret: bytes, purpose: str, token: str | None) -> str | None:
    """The value of a ``value.mac`` token whose MAC is right, else ``None`` (constant-time check)."""
    if not token or "." not in token:
        return None
    value, _, mac = token.rpartition(".")
    return value if hmac.compare_digest(mac, sign(secret, purpose, value)) else None


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """A live session: its id (only in the cookie), user and CSRF token."""

    sid: str
    user: str
    csrf: str


def create_session(db: Path, user: str, *, now: float | None = None) -> Session:
    """A new session for ``user`` (the caller sets the cookie)."""
    t = time.time() if now is None else now
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with open_store(db, SESSIONS_DDL) as conn:
        conn.execute("INSERT INTO web_sessions VALUES (?, ?, ?, ?, ?)", (_hash(sid), user, csrf, t, t))
    return Session(sid=sid, user=user, csrf=csrf)


def touch_session(db: Path, sid: str, idle_s: float, *, now: float | None = None) -> Session | None:
    """The session ``sid`` if it was used within ``idle_s`` seconds (and mark it used now); an
    expired one is deleted and ``None`` returned."""
    t = time.time() if now is None else now
    with open_store(db, SESSIONS_DDL) as conn:
        conn.execute("DELETE FROM web_sessions WHERE last_seen < ?", (t - idle_s,))
        row = conn.execute("SELECT user, csrf FROM web_sessions WHERE sid_hash = ?", (_hash(sid),)).fetchone()
        if row is None:
            return None
        conn.execute("UPDATE web_sessions SET last_seen = ? WHERE sid_hash = ?", (t, _hash(sid)))
    return Session(sid=sid, user=row[0], csrf=row[1])


def delete_session(db: Path, sid: str) -> None:
    """End session ``sid`` on the server."""
    with open_store(db, SESSIONS_DDL) as conn:
        conn.execute("DELETE FROM web_sessions WHERE sid_hash = ?", (_hash(sid),))


def _wait(failures: int, last: float, now: float) -> float:
    if failures < FREE_FAILURES:
        return 0.0
    return max(0.0, last + min(MAX_BACKOFF_S, 2.0 ** (failures - FREE_FAILURES)) - now)


def _held_wait(conn: sqlite3.Connection, keys: list[str], t: float) -> float:
    # counts older than the longest wait are forgotten
    conn.execute("DELETE FROM web_login_failures WHERE last < ?", (t - 4 * MAX_BACKOFF_S,))
    rows = conn.execute(
        f"SELECT failures, last FROM web_login_failures WHERE key IN ({','.join('?' * len(keys))})", keys
    ).fetchall()
    return max([0.0, *(_wait(f, last, t) for f, last in rows)])


def _count(conn: sqlite3.Connection, keys: list[str], t: float) -> None:
    for key in keys:
        conn.execute(
            "INSERT INTO web_login_failures VALUES (?, 1, ?) "
            "ON CONFLICT(key) DO UPDATE SET failures = failures + 1, last = excluded.last",
            (key, t),
        )


def retry_after(db: Path, keys: list[str], *, now: float | None = None) -> float:
    """Seconds to wait before another login try for any of ``keys`` (``user:NAME``, ``addr:IP``)."""
    t = time.time() if now is None else now
    with open_store(db, SESSIONS_DDL) as conn:
        return _held_wait(conn, keys, t)


def record_failure(db: Path, keys: list[str], *, now: float | None = None) -> None:
    """Count one failed login against each of ``keys``."""
    t = time.time() if now is None else now
    with open_store(db, SESSIONS_DDL) as conn:
        _count(conn, keys, t)


def claim_try(db: Path, keys: list[str], *, now: float | None = None) -> float:
    """Admit one login try for ``keys``, counted at once as a failed one: ``0.0``; or, when the
    throttle says wait, the seconds to wait (nothing counted). A successful try is taken back
    with :func:`forgive_try`.

    The check and the count are one transaction (the store's ``BEGIN IMMEDIATE``), so of tries
    sent in parallel only as many pass as the throttle allows one after another.
    """
    t = time.time() if now is None else now
    with open_store(db, SESSIONS_DDL) as conn:
        wait = _held_wait(conn, keys, t)
        if wait == 0.0:
            _count(conn, keys, t)
    return wait


def forgive_try(db: Path, *, user: str, others: list[str]) -> None:
    """A try :func:`claim_try` admitted was a success: ``user``'s count is cleared, each of
    ``others`` (the address) loses the failure the try was counted as."""
    with open_store(db, SESSIONS_DDL) as conn:
        conn.execute("DELETE FROM web_login_failures WHERE key = ?", (user,))
        conn.executemany("UPDATE web_login_failures SET failures = failures - 1 WHERE key = ?",
                         [(k,) for k in others])
        conn.execute("DELETE FROM web_login_failures WHERE failures <= 0")


def clear_failures(db: Path, keys: list[str]) -> None:
    """Forget the failures of ``keys`` (after a successful login)."""
    with open_store(db, SESSIONS_DDL) as conn:
        conn.executemany("DELETE FROM web_login_failures WHERE key = ?", [(k,) for k in keys])
