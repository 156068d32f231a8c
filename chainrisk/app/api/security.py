"""Who may call what: API keys, roles, a per-key rate limit and the analysts' concurrency cap.

Every route but ``/health`` (and the docs) depends on :func:`require` with the roles allowed:
the ``X-API-Key`` header is checked against the credential store
(:func:`chainrisk.app.auth.keys.check_key`: missing, unknown, expired or revoked is 401), then
the key's token bucket (429 with ``Retry-After``), then its role (403).

Verified keys are kept for :data:`KEY_CACHE_S` seconds (:class:`KeyCache`): the store is a SQLite
file, and opening it for every request was a good part of a kept chain page's time. So a key
revoked with ``chainrisk keys revoke`` is refused at the latest :data:`KEY_CACHE_S` seconds later
(at once by a server started afterwards); an expiry date is checked on every request. Keys that
are refused are never kept: each such request asks the store again.

Rate limit: a token bucket per key (``settings.api_rate_per_s`` refilled a second, holding at
most ``settings.api_burst``). A request takes one token; with none left it is refused, and
``Retry-After`` gives the whole seconds until the next token,

.. math:: wait = \\lceil (1 - tokens) / rate \\rceil .

>>> b = TokenBuckets(rate=1.0, burst=2, clock=lambda: 0.0)
>>> b.take("k"), b.take("k"), b.take("k")
(0.0, 0.0, 1.0)
>>> s = Slots(2)
>>> s.acquire("k"), s.acquire("k"), s.acquire("k")
(True, True, False)
>>> c = KeyCache(5.0, clock=lambda: 0.0)
>>> c.get("cr_x") is None
True
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from chainrisk.app.api.errors import ApiError
from chainrisk.app.auth.keys import ROLES, KeyInfo, Role, check_key
from chainrisk.settings import Settings

__all__ = [
    "ANALYSTS",
    "EVERYONE",
    "KEY_CACHE_S",
    "OPERATORS",
    "ApiState",
    "Caller",
    "KeyCache",
    "Slots",
    "TokenBuckets",
    "api_state",
    "require",
]

EVERYONE: tuple[Role, ...] = ROLES
ANALYSTS: tuple[Role, ...] = ("analyst",)
OPERATORS: tuple[Role, ...] = ("operator",)
#: An analyst key's Cypher queries at once (the issue's cap).
CYPHER_AT_ONCE = 2
#: Seconds a verified key is kept: the longest a revocation takes to reach a running server.
KEY_CACHE_S = 5.0

_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", auto_error=False,
    description="An API key from `chainrisk keys create --role officer|analyst|operator`.",
)


class TokenBuckets:
    """A token bucket per key: ``rate`` tokens a second, at most ``burst`` held; thread-safe."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str) -> float:
        """Take one token: 0.0 when granted, else the seconds until one is due (nothing taken)."""
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


class KeyCache:
    """Keys verified against the store in the last ``ttl_s`` seconds; thread-safe.

    Held by the SHA-256 of the presented key (as the store holds them), never the key itself.
    An entry's expiry date is checked on every hit, so an expiring key is refused on time.
    """

    def __init__(self, ttl_s: float = KEY_CACHE_S, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000):
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[KeyInfo, datetime | None, float]] = {}

    @staticmethod
    def _digest(presented: str) -> str:
        return hashlib.sha256(presented.encode("utf-8")).hexdigest()

    def get(self, presented: str) -> KeyInfo | None:
        """The kept record of ``presented``, or ``None`` (never kept, kept too long ago, or expired)."""
        with self._lock:
            held = self._keys.get(self._digest(presented))
        if held is None:
            return None
        info, expires, when = held
        if self._clock() - when >= self.ttl_s:
            return None
        if expires is not None and expires <= datetime.now(UTC):
            return None  # the store says why (expired) when asked again
        return info

    def put(self, presented: str, info: KeyInfo) -> None:
        expires = datetime.fromisoformat(info.expires) if info.expires else None
        with self._lock:
            if len(self._keys) >= self.max_keys:
                self._keys.clear()  # bounded; the keys in use are verified again
            self._keys[self._digest(presented)] = (info, expires, self._clock())

    def check(self, store: Path, presented: str | None) -> KeyInfo:
        """:func:`~chainrisk.app.auth.keys.check_key` through this cache (refusals are not kept)."""
        if presented:
            hit = self.get(presented)
            if hit is not None:
                return hit
        info = check_key(store, presented)  # KeyRefused: 401
        if presented:
            self.put(presented, info)
        return info


class Slots:
    """At most ``n`` holders at once per key; a request past that is refused, never queued."""

    def __init__(self, n: int):
        self.n = n
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}

    def acquire(self, key: str) -> bool:
        with self._lock:
            if self._held.get(key, 0) >= self.n:
                return False
            self._held[key] = self._held.get(key, 0) + 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            left = self._held.get(key, 0) - 1
            if left > 0:
                self._held[key] = left
            else:
                self._held.pop(key, None)

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold a slot for the block, or raise a 429 :class:`ApiError` when all are taken."""
        if not self.acquire(key):
            raise ApiError(429, "TooManyConcurrentQueries",
                           f"at most {self.n} queries at once per API key; wait for one to finish",
                           headers={"Retry-After": "1"})
        try:
            yield
        finally:
            self.release(key)


@dataclass(frozen=True)
class Caller:
    """The key a request came with: ``id`` (the public prefix), ``name`` and ``role``."""

    id: str
    name: str
    role: Role

    @property
    def audit_name(self) -> str:
        """Who ran it, for the audit log: ``api:<name> (<id>)``."""
        return f"api:{self.name} ({self.id})"


@dataclass
class ApiState:
    """Everything the routes share: settings, the graph runner (opened on first use), limiters."""

    settings: Settings
    buckets: TokenBuckets
    cypher_slots: Slots = field(default_factory=lambda: Slots(CYPHER_AT_ONCE))
    keys: KeyCache = field(default_factory=KeyCache)
    jobs: Any = None  # chainrisk.app.api.jobs.StressJobs, set by create_app
    _runner: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def runner(self) -> Any:
        """The app's one :class:`graph.runner.GraphRunner` (its driver pools connections)."""
        with self._lock:
            if self._runner is None:
                from graph.runner import GraphRunner

                self._runner = GraphRunner.from_settings(self.settings)
            return self._runner

    def close(self) -> None:
        with self._lock:
            if self._runner is not None:
                self._runner.close()
                self._runner = None


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


def require(*roles: Role) -> Callable[..., Caller]:
    """A dependency admitting keys of ``roles`` (401, 429 and 403 as the module docstring says)."""
    allowed = roles or EVERYONE

    def dependency(request: Request, key: str | None = Security(_KEY_HEADER)) -> Caller:
        st = api_state(request)
        info = st.keys.check(st.settings.auth_db, key)  # KeyRefused: 401
        wait = st.buckets.take(info.id)
        if wait > 0:
            raise ApiError(429, "RateLimited",
                           f"API key {info.id} is over its rate of {st.buckets.rate:g} requests a second",
                           headers={"Retry-After": str(max(1, math.ceil(wait)))})
        if info.role not in allowed:
            raise ApiError(403, "Forbidden",
                           f"role {info.role!r} may not call {request.method} {request.url.path}; "
                           f"allowed: {', '.join(allowed)}")
        return Caller(id=info.id, name=info.name, role=info.role)

    return dependency
