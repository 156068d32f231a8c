"""Users of the web page: names and scrypt password hashes in the credential store.

A password is stored as ``scrypt$n$r$p$salt$hash`` (salt and hash in hex): scrypt is
memory-hard (Percival, "Stronger key derivation via sequential memory-hard functions",
2009; RFC 7914), so each guess costs an attacker about ``128 * n * r`` bytes of memory
(16 MiB at ``n = 2**14, r = 8``) as well as time. Each user has a random 16-byte salt, and the
parameters travel with the hash, so they can be raised later without breaking old hashes.
Hashes are compared in constant time.

>>> h = hash_password("correct horse", n=2**4)
>>> h.startswith("scrypt$16$8$1$")
True
>>> verify_password("correct horse", h), verify_password("wrong", h)
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

from chainrisk.app.auth.store import open_store
from chainrisk.errors import ConfigError

__all__ = [
    "SCRYPT_N",
    "SCRYPT_P",
    "SCRYPT_R",
    "USERS_DDL",
    "add_user",
    "authenticate",
    "hash_password",
    "list_users",
    "remove_user",
    "verify_password",
]

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
#: Shortest password ``add_user`` accepts.
MIN_PASSWORD = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")

USERS_DDL = """
CREATE TABLE IF NOT EXISTS web_users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL
);
"""


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem above 128*n*r (OpenSSL's default cap is 32 MiB, just enough for n=2**14, r=8)
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * n * r + 1024 * 1024
    )


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """The storable scrypt hash of ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    return f"scrypt${n}${r}${p}${salt.hex()}${_scrypt(password, salt, n, r, p).hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison of the derived keys)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


#: Verified against when the user does not exist, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(f"user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


def add_user(db: Path, name: str, password: str, *, n: int = SCRYPT_N) -> None:
    """Create user ``name`` (an existing name is an error: remove it first).

    ``n`` is scrypt's cost (a power of 2); it is stored with the hash, so it can be raised later.
    """
    _check_name(name)
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"the password must have at least {MIN_PASSWORD} characters")
    digest = hash_password(password, n=n)
    with open_store(db, USERS_DDL) as conn:
        if conn.execute("SELECT 1 FROM web_users WHERE name = ?", (name,)).fetchone():
            raise ConfigError(f"user {name!r} exists already")
        conn.execute(
            "INSERT INTO web_users (name, password_hash, created) VALUES (?, ?, ?)",
            (name, digest, datetime.now(UTC).isoformat(timespec="seconds")),
        )


def list_users(db: Path) -> list[dict[str, str]]:
    """Every user as ``{"name", "created"}`` (never the hash), by name."""
    with open_store(db, USERS_DDL) as conn:
        rows = conn.execute("SELECT name, created FROM web_users ORDER BY name").fetchall()
    return [{"name": n, "created": c} for n, c in rows]


def remove_user(db: Path, name: str) -> None:
    """Delete user ``name`` and end their sessions (an unknown name is an error)."""
    from chainrisk.app.web.sessions import SESSIONS_DDL

    with open_store(db, USERS_DDL, SESSIONS_DDL) as conn:
        if conn.execute("DELETE FROM web_users WHERE name = ?", (name,)).rowcount == 0:
            raise ConfigError(f"no user named {name!r}")
        conn.execute("DELETE FROM web_sessions WHERE user = ?", (name,))


def authenticate(db: Path, name: str, password: str) -> bool:
    """Whether ``name`` exists and ``password`` is theirs."""
    with open_store(db, USERS_DDL) as conn:
        row = conn.execute("SELECT password_hash FROM web_users WHERE name = ?", (name,)).fetchone()
    ok = verify_password(password, row[0] if row else _DUMMY_HASH)
    return ok and row is not None
