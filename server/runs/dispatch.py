"""Publishing node tasks, and the stop signal running nodes watch.

Tasks are published by name, with ids only, so the web process never imports
the worker's code. The stop signal lives in the cache (Redis when distributed,
process memory when embedded): a running node polls it between tokens, which
is much cheaper than asking the database, and the database stays the truth
(a lost signal only delays the stop until the node's next heartbeat).
"""

import logging

from django.core.cache import cache

from server.runs.journal import NodeTask
from workers.app import app

logger = logging.getLogger(__name__)

EXECUTE_NODE_TASK = "agentloom.execute_node"
_STOP_KEY = "agentloom:run-stopped:{}"
_STOP_TTL_S = 24 * 3600


def send_node_tasks(tasks: list[NodeTask]) -> None:
    with app.producer_or_acquire() as producer:
        for task in tasks:
            app.send_task(
                EXECUTE_NODE_TASK,
                args=[task.run_id, task.node_id],
                queue=task.queue,
                countdown=task.countdown_s or None,
                producer=producer,
            )


def signal_run_stopped(run_id: str) -> None:
    cache.set(_STOP_KEY.format(run_id), True, _STOP_TTL_S)


def run_stop_signalled(run_id: str) -> bool:
    try:
        return bool(cache.get(_STOP_KEY.format(run_id)))
    except Exception:
        logger.warning("stop signal unavailable for run %s", run_id, exc_info=True)
        return False
