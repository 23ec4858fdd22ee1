"""Keep a worker alive through a Redis restart (kombu 5.7 with redis-py 8).

When the broker connection drops while tasks are in flight, Celery closes the
connection, sometimes twice. The first close clears the transport's
``client``; the second closes the Redis channel again, whose close tries to
put unacknowledged messages back on the queue through a fresh connection
built from that ``client``, and fails with ``AttributeError``. Celery does not
count an ``AttributeError`` as a connection error, so the worker exits with
"Unrecoverable error" instead of reconnecting.

We make that one case raise Redis' ``ConnectionError``, which kombu and
Celery already handle: the close is skipped and the consumer reconnects, as
for any broker outage. Nothing is lost by skipping the restore: a Redis
restart has already dropped those messages, node tasks are idempotent, and
the reaper re-sends every node whose task went missing.
"""

from typing import Any

import redis
from kombu.transport import redis as redis_transport

_original_connparams = getattr(redis_transport.Channel, "_connparams")  # noqa: B009 - private


def _connparams(self: Any, asynchronous: bool = False) -> Any:
    if self.connection.client is None:
        raise redis.exceptions.ConnectionError("the broker connection was already closed")
    return _original_connparams(self, asynchronous)


def install() -> None:
    setattr(redis_transport.Channel, "_connparams", _connparams)  # noqa: B010 - private
