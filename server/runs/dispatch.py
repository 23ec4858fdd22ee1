"""Publishing node tasks, and the stop signal running nodes watch.

Tasks are published by name with ids only, so the web process never imports
the worker's code. On Redis they are pushed in one pipelined round trip:
Celery's ``apply_async`` costs about a millisecond per message (it also reads
the exchange's bindings from Redis every time), which would dominate a hop
between two quick nodes and make a fan-out of a thousand nodes wait a second
before the first one starts. The message is the one Celery itself builds
(``as_task_v2``), in the envelope kombu's Redis transport reads; node tasks
always go straight to their queue's list. Other brokers (the embedded
in-process one) go through ``send_task``.

The stop signal lives in the cache (Redis when distributed, process memory
when embedded): a running node polls it between tokens, which is much cheaper
than asking the database, and the database stays the truth (a lost signal
only delays the stop until the node's next heartbeat).
"""

import base64
import json
import logging
import uuid
from functools import cache

import redis
from django.conf import settings
from django.core.cache import cache as django_cache

from server.runs.journal import NodeTask
from workers.app import app

logger = logging.getLogger(__name__)

EXECUTE_NODE_TASK = "agentloom.execute_node"
_STOP_KEY = "agentloom:run-stopped:{}"
_STOP_TTL_S = 24 * 3600


def _kombu_redis_message(task: NodeTask) -> str:
    task_id = str(uuid.uuid4())
    headers, properties, body, _ = app.amqp.as_task_v2(
        task_id,
        EXECUTE_NODE_TASK,
        args=(task.run_id, task.node_id),
        countdown=task.countdown_s or None,
        ignore_result=True,
    )
    encoded_body = base64.b64encode(json.dumps(body).encode()).decode()
    return json.dumps(
        {
            "body": encoded_body,
            "content-encoding": "utf-8",
            "content-type": "application/json",
            "headers": headers,
            "properties": {
                **properties,
                "delivery_mode": 2,
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
                "delivery_info": {"exchange": task.queue, "routing_key": task.queue},
            },
        }
    )


@cache
def _redis_broker() -> redis.Redis | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    return redis.Redis.from_url(url)


def send_node_tasks(tasks: list[NodeTask]) -> None:
    if not tasks:
        return
    broker = _redis_broker()
    if broker is None:
        with app.producer_or_acquire() as producer:
            for task in tasks:
                app.send_task(
                    EXECUTE_NODE_TASK,
                    args=[task.run_id, task.node_id],
                    queue=task.queue,
                    countdown=task.countdown_s or None,
                    producer=producer,
                )
        return
    pipeline = broker.pipeline(transaction=False)
    for task in tasks:
        pipeline.lpush(task.queue, _kombu_redis_message(task))
    pipeline.execute()


def signal_run_stopped(run_id: str) -> None:
    django_cache.set(_STOP_KEY.format(run_id), True, _STOP_TTL_S)


def run_stop_signalled(run_id: str) -> bool:
    try:
        return bool(django_cache.get(_STOP_KEY.format(run_id)))
    except Exception:
        logger.warning("stop signal unavailable for run %s", run_id, exc_info=True)
        return False
