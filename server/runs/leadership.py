"""Leases: at most one holder of a named job at a time, for a TTL, renewed while held.

Beat needs one (several replicas may run, one sends the schedule,
server/runs/scheduler.py), and so do a reaper pass (two at once would each
act on what the other is repairing) and a retention pass. A holder that dies stops renewing and
loses the lease when its TTL runs out; the next claimant takes it then.

Why Redis and not Postgres:

* Beat is useless without Redis (it is the broker), so a lease there fails
  together with the ability to act on it: a beat cut off from Redis neither
  leads nor sends, and one that reaches Redis can do both.
* Redis's own clock expires the key (``PX``), so the clocks of the beat hosts
  never enter into it.
* A row lease needs a table, a migration and a database write every few
  seconds from every replica; an advisory lock is held by one pooled
  connection, and a host cut off from the network keeps it until TCP gives up,
  which can be far longer than a minute.

The embedded mode has no Redis and one process: its beat and its reaper
threads share a lease held in that process's memory, with the same rules.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Protocol

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

BEAT = "beat"
REAPER_PASS = "reaper-pass"
RETENTION_PASS = "retention-pass"

_KEY = "agentloom:lease:{}"
_POLL_S = 0.05

# KEYS: the lease. ARGV: the claimant, the TTL in ms. 1 when the claimant holds it now.
_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class _Store(Protocol):
    def claim(self, key: str, holder: str, ttl_ms: int) -> bool: ...
    def release(self, key: str, holder: str) -> None: ...
    def holder(self, key: str) -> str | None: ...


class _RedisStore:
    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._claim = self._redis.register_script(_CLAIM)
        self._release = self._redis.register_script(_RELEASE)

    def claim(self, key: str, holder: str, ttl_ms: int) -> bool:
        return bool(self._claim(keys=[key], args=[holder, ttl_ms]))

    def release(self, key: str, holder: str) -> None:
        self._release(keys=[key], args=[holder])

    def holder(self, key: str) -> str | None:
        value = self._redis.get(key)
        return value.decode() if isinstance(value, bytes) else None


class _ProcessStore:
    """The embedded mode's leases: one process, so its memory is the shared place."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._leases: dict[str, tuple[str, float]] = {}

    def claim(self, key: str, holder: str, ttl_ms: int) -> bool:
        now = time.monotonic()
        with self._lock:
            current, expires = self._leases.get(key, (holder, now))
            if current != holder and expires > now:
                return False
            self._leases[key] = (holder, now + ttl_ms / 1000)
            return True

    def release(self, key: str, holder: str) -> None:
        with self._lock:
            if self._leases.get(key, ("", 0.0))[0] == holder:
                del self._leases[key]

    def holder(self, key: str) -> str | None:
        with self._lock:
            current, expires = self._leases.get(key, ("", 0.0))
            return current if expires > time.monotonic() else None


@cache
def _store() -> _Store:
    return _RedisStore(settings.REDIS_URL) if settings.REDIS_URL else _ProcessStore()


class Lease:
    """One claimant's view of a named lease."""

    def __init__(self, name: str, ttl_s: float | None = None) -> None:
        self.name = name
        self.ttl_s = ttl_s if ttl_s is not None else settings.AGENTLOOM_RUNS["leader_lease_ttl_s"]
        self.holder = f"{socket.gethostname()}#{os.getpid()}#{uuid.uuid4().hex[:8]}"
        self._key = _KEY.format(name)

    def claim(self) -> bool:
        """Take the lease if it is free or expired, or extend it if already ours.

        False while someone else holds it, and when Redis cannot be reached:
        whoever cannot renew must stop acting as the holder.
        """
        try:
            return _store().claim(self._key, self.holder, max(1, int(self.ttl_s * 1000)))
        except redis.RedisError:
            logger.warning("lease %s: cannot reach Redis", self.name, exc_info=True)
            return False

    def claim_within(self, wait_s: float) -> bool:
        """Claim, trying again until ``wait_s`` has passed."""
        deadline = time.monotonic() + wait_s
        while not self.claim():
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)
        return True

    def release(self) -> None:
        """Give the lease up now (if still ours), so the next claimant need not wait out the TTL."""
        try:
            _store().release(self._key, self.holder)
        except redis.RedisError:
            logger.warning("lease %s: cannot reach Redis to release it", self.name, exc_info=True)

    def current_holder(self) -> str | None:
        try:
            return _store().holder(self._key)
        except redis.RedisError:
            return None


@contextmanager
def holding(lease: Lease, wait_s: float = 0.0) -> Iterator[bool]:
    """Hold ``lease`` for the block, renewed in the background; yields whether it was claimed.

    Renewing every third of the TTL keeps a block that lasts longer than the
    TTL covered, while a process killed mid-block loses it one TTL later.
    """
    if not lease.claim_within(wait_s):
        yield False
        return
    done = threading.Event()
    renewer = threading.Thread(
        target=_renew_until, args=(lease, done), name=f"lease-{lease.name}", daemon=True
    )
    renewer.start()
    try:
        yield True
    finally:
        done.set()
        renewer.join()
        lease.release()


def _renew_until(lease: Lease, done: threading.Event) -> None:
    while not done.wait(lease.ttl_s / 3):
        if not lease.claim():
            logger.warning("lease %s: lost while held by %s", lease.name, lease.holder)
