"""Where node tasks wait and which workers read them: the queue topology, in one place.

Two pools of workers: ``agents`` runs model calls (threads waiting on the
network), ``control`` runs everything else (short CPU-bound Python). With one
Redis list per pool, a workspace that queued fifty thousand nodes put every
other workspace's next node behind all of them: a three-node run waited
minutes (docs/benchmarks.md, fairness).

So on Redis each pool is ``AGENTLOOM_QUEUE_SHARDS`` lists, ``control.0`` …
``control.N-1``, and a worker started for a pool (``-Q control``) reads all of
them. kombu's Redis transport asks for a worker's lists in one BRPOP and moves
the list it was just served from to the end of its order
(``kombu.utils.scheduling.round_robin_cycle``), so a worker with a free slot
takes from the non-empty lists in turn: a backlog in one list holds another
list's next task for one task per slot, however long the backlog is.

A workspace publishes each pool's tasks to one list, the one it is assigned:
its flood stays in that list, and its nodes still use every idle slot (a
worker takes from it whenever the other lists are empty). A workspace with no
live assignment gets the list that costs least: its queued tasks plus the
workspaces assigned to it, so a flood that starts does not join a small
workspace whose list happens to be empty at that instant. The assignment
lives in Redis for ``ASSIGNMENT_TTL_S`` and is renewed by every lookup; each
process keeps what it looked up for ``_LOCAL_TTL_S``, which is shorter, so
all processes publish a busy workspace's tasks to the same list and a
publish stays one pipelined round trip (dispatch.py). A workspace that
publishes nothing for the TTL may be assigned elsewhere next time, which is
harmless: tasks carry ids only and are idempotent.

The reaper has a list of its own, ``maintenance``, which every control worker
also reads: a control backlog delays recovery by one task, not by the
backlog.

Any other broker (the embedded in-process one) keeps one queue per pool, named
after it: one process serves every workspace there, and the assignment needs
Redis.
"""

import random
import time
from collections.abc import Iterable
from functools import cache

import redis
from django.conf import settings
from redis.commands.core import Script

AGENTS = "agents"
CONTROL = "control"
POOLS = (AGENTS, CONTROL)
MAINTENANCE = "maintenance"

ASSIGNMENT_TTL_S = 60
_LOCAL_TTL_S = 5.0
_LOCAL_MAX = 4096
_ASSIGNMENT_KEY = "agentloom:queue-shard:{}:{}"
_ASSIGNED_KEY = "agentloom:queue-shard-workspaces:{}"

# KEYS: the workspace's assignment, the pool's lists, each list's assigned
# workspaces (a sorted set scored by expiry). ARGV: the TTL, the list to start
# comparing from (ties go to a random one: Redis seeds Lua's random the same
# for every call), the workspace. Returns the list's index.
_ASSIGN = """
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[1])
local n = (#KEYS - 1) / 2
local shard = tonumber(redis.call('GET', KEYS[1]))
if shard == nil or shard >= n then
  local best
  shard = nil
  for k = 0, n - 1 do
    local i = (tonumber(ARGV[2]) + k) % n
    local assigned = KEYS[2 + n + i]
    redis.call('ZREMRANGEBYSCORE', assigned, '-inf', now)
    local cost = redis.call('LLEN', KEYS[2 + i]) + redis.call('ZCARD', assigned)
    if best == nil or cost < best then
      shard, best = i, cost
    end
  end
end
redis.call('SET', KEYS[1], shard, 'EX', ttl)
redis.call('ZADD', KEYS[2 + n + shard], now + ttl, ARGV[3])
return shard
"""

_assignments: dict[tuple[str, str], tuple[str, float]] = {}


def sharded() -> bool:
    return str(settings.CELERY_BROKER_URL).startswith(("redis://", "rediss://"))


def shards(pool: str) -> list[str]:
    """The queues one pool's node tasks are published to."""
    if not sharded():
        return [pool]
    return [f"{pool}.{i}" for i in range(settings.AGENTLOOM_RUNS["queue_shards"])]


def worker_queues(pool: str) -> list[str]:
    """What a worker of the pool reads: all its shards, and the reaper's queue for control."""
    return [*shards(pool), *([MAINTENANCE] if pool == CONTROL else [])]


def all_queues() -> list[str]:
    return [*shards(AGENTS), *shards(CONTROL), MAINTENANCE]


def expand_pools(selected: Iterable[str]) -> list[str]:
    """A worker's ``-Q`` list with each pool name replaced by that pool's queues."""
    expanded: list[str] = []
    for name in selected:
        for queue in worker_queues(name) if name in POOLS else [name]:
            if queue not in expanded:
                expanded.append(queue)
    return expanded


def shard_for(client: redis.Redis, pool: str, workspace_id: str) -> str:
    """The queue a workspace's tasks of this pool go to (assigned when it has none)."""
    now = time.monotonic()
    known = _assignments.get((pool, workspace_id))
    if known is not None and known[1] > now:
        return known[0]
    names = shards(pool)
    keys = [_ASSIGNMENT_KEY.format(pool, workspace_id), *names]
    keys += [_ASSIGNED_KEY.format(name) for name in names]
    index = _assign_script(client)(
        keys=keys, args=[ASSIGNMENT_TTL_S, random.randrange(len(names)), workspace_id]
    )
    if len(_assignments) >= _LOCAL_MAX:
        _forget_expired(now)
    _assignments[(pool, workspace_id)] = (names[int(index)], now + _LOCAL_TTL_S)
    return names[int(index)]


def _forget_expired(now: float) -> None:
    # A copy: other threads of this process publish while it is read.
    for key, (_, until) in list(_assignments.items()):
        if until <= now:
            _assignments.pop(key, None)
    if len(_assignments) >= _LOCAL_MAX:
        _assignments.clear()


@cache
def _assign_script(client: redis.Redis) -> Script:
    return client.register_script(_ASSIGN)
