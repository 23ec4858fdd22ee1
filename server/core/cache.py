"""Django's Redis cache with one client, and so one connection pool, per process.

Under ASGI Django makes a cache object per request (``caches`` is local to
the request's context), and Django's Redis cache gives each object a client
with a pool of its own: every request that touched the cache (a throttle, a
webhook's rate) opened a new Redis connection, and redis-py reads its
package's metadata to name each one. Sharing the client keeps the
connections open across requests; redis-py's pools are thread-safe.
"""

import threading
from typing import Any

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
