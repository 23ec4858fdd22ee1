"""Django's Redis cache with one client, and so one connection pool, per process.

Under ASGI Django makes a cache object per request (``caches`` is local to
the request's context), and Django's Redis cache gives each object a client
with a pool of its own: every request that touched the cache (a throttle, a
webhook's rate) opened a new Redis connection, and redis-py reads its
package's metadata to name each one. Sharing the client keeps the
connections open across requests; redis-py's pools are thread-safe.

``count_up`` is the counter of rate limits (a webhook's, the login
throttle's) on any cache, in one round trip on Redis.
"""

import threading
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[str, RedisCacheClient] = {}
_clients_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._client_key = repr((server, sorted(params.get("OPTIONS", {}).items())))

    @cached_property
    def _cache(self) -> Any:
        with _clients_lock:
            client = _clients.get(self._client_key)
            if client is None:
                # Django's own construction of the client, done once.
                client = _clients[self._client_key] = super()._cache
        return client

    def count_up(self, key: str, timeout: int) -> int:
        """``count_up`` in one round trip: made if missing, then incremented, atomically."""
        key = self.make_and_validate_key(key)
        pipeline = self._cache.get_client(key, write=True).pipeline(transaction=True)
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incr(key)
        _, count = pipeline.execute()
        return int(count)


def count_up(key: str, timeout: int) -> int:
    """One more on the counter at ``key``, made to live ``timeout`` s if missing: its count.

    Django's ``add`` then ``incr`` are three round trips to Redis (its
    ``incr`` first asks whether the key exists). Callers count on a key only
    while it is far from its end (a window's key lives longer than the
    window), so an increment never lands on an expired key.
    """
    backend = caches["default"]
    if isinstance(backend, SharedRedisCache):
        return backend.count_up(key, timeout)
    backend.add(key, 0, timeout=timeout)
    return int(backend.incr(key))
