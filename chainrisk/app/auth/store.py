"""The credential store: one SQLite file, created owner-only, opened per use.

Each module that keeps credentials (API keys, users, sessions) declares its tables
with ``CREATE TABLE IF NOT EXISTS`` and passes that DDL to :func:`open_store`, so the
file needs no separate migration step and every table lives in the same 0600 file.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "auth.sqlite"
>>> with open_store(path, "CREATE TABLE IF NOT EXISTS t (x INTEGER)") as conn:
...     _ = conn.execute("INSERT INTO t VALUES (1)")
>>> oct(path.stat().st_mode & 0o777)
'0o600'
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chainrisk.errors import ConfigError

__all__ = ["open_store"]


def _create_private(path: Path) -> None:
    # O_CREAT with mode 0600 sets the mode at creation, so there is no window in
    # which another user could open a world-readable file (the umask only narrows it).
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


@contextmanager
def open_store(path: Path, *ddl: str) -> Iterator[sqlite3.Connection]:
    """Open (creating if needed) the store at ``path``, run ``ddl``, commit on success.

    The connection is closed on exit; a failure inside the block rolls back.
    """
    path = Path(path)
    try:
        if not path.exists():
            _create_private(path)
        conn = sqlite3.connect(path, timeout=10.0, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError(f"{path}: cannot open the credential store: {exc}") from exc
    try:
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 10000")
            for statement in ddl:
                conn.executescript(statement)
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"{path}: not a usable credential store: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
