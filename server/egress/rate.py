"""A per-workspace request rate for outbound requests: a token bucket.

The bucket holds up to one window's worth of requests and refills at the
configured rate, so a workspace may burst, then settles to the rate. With
Redis the bucket is shared by every process and updated by one script (one
round trip, atomic, on Redis's clock); in the embedded default, where web
server and workers share one process, it lives in memory.
"""

from __future__ import annotations

import math
import threading
import time
from functools import cache

import redis
from django.conf import settings

from server.accounts.throttling import parse_rate
from server.egress.errors import EgressRateLimited

# KEYS[1]: the bucket; ARGV: refill per second, capacity. Returns the seconds to
# wait, "0" when a token was taken.
_TAKE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local refill, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * refill)
if tokens < 1 then
  return tostring((1 - tokens) / refill)
end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'at', now)
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / refill) + 1)
return '0'
"""


@cache
def _script() -> redis.commands.core.Script:
    return redis.Redis.from_url(settings.REDIS_URL).register_script(_TAKE)


class _LocalBuckets:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, refill: float, capacity: float) -> float:
        now = time.monotonic()
        with self._lock:
            tokens, at = self._state.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - at) * refill)
            if tokens < 1:
                return (1 - tokens) / refill
            self._state[key] = (tokens - 1, now)
            return 0.0


_local = _LocalBuckets()


def take_request_slot(workspace_id: str) -> None:
    """Take one request from the workspace's bucket, or raise ``EgressRateLimited``."""
    rate = settings.AGENTLOOM_EGRESS["rate_per_workspace"]
    count, period_s = parse_rate(rate)
    refill, capacity = count / period_s, float(count)
    key = f"agentloom:egress-rate:{workspace_id}"
    if settings.REDIS_URL:
        wait_s = float(_script()(keys=[key], args=[refill, capacity]))
    else:
        wait_s = _local.take(key, refill, capacity)
    if wait_s > 0:
        raise EgressRateLimited(
            f"the workspace's outbound request rate ({rate}) is used up", math.ceil(wait_s)
        )
