"""Publishing node tasks, and the stop signal running nodes watch.

Tasks are published by name with ids only, so the web process never imports
the worker's code. On Redis they are pushed in one pipelined round trip:
Celery's ``apply_async`` costs about a millisecond per message (it also reads
the exchange's bindings from Redis every time), which would dominate a hop
between two quick nodes and make a fan-out of a thousand nodes wait a second
before the first one starts. The message is the one Celery itself builds
(``as_task_v2``), in the envelope kombu's Redis transport reads; node tasks
always go straight to their queue's list. Which list is the workspace's shard
of the task's pool (server/queues.py); the run's workspace comes from
``pinned``, which every worker has already read for the node that just ran.
Other brokers (the embedded in-process one) go through ``send_task`` to the
pool's one queue.

A workspace's control nodes published together (a fan-out's branches, the
first nodes of a map's children; not http nodes, which wait on a remote
server) go as batch tasks of up to ``BATCH_NODES`` (run, node) pairs: a
delivery costs the Celery parent and the pool child a few milliseconds of
bookkeeping, several times what a no-op node costs, and a batch's nodes of one
run are recorded together (group commit, services/continuation.py). A batch
task leases the nodes it finds free and runs them as kept nodes; the rest is
as for single tasks (a lost message is re-sent per node by the reaper). With
eager continuation off there are no batches.

The stop signal lives in the cache (Redis when distributed, process memory
when embedded): a running node polls it between tokens, which is much cheaper
than asking the database, and the database stays the truth (a lost signal
only delays the stop until the node's next heartbeat).
"""

import base64
import json
import logging
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import redis
from django.conf import settings
from django.core.cache import cache as django_cache
from kombu.exceptions import OperationalError as KombuOperationalError

from server import queues
from server.celery import app
from server.runs import pinned
from server.runs.journal import NodeTask
from workers.engine.document import CONTROL_TYPES

logger = logging.getLogger(__name__)

EXECUTE_NODE_TASK = "agentloom.execute_node"
EXECUTE_NODES_TASK = "agentloom.execute_nodes"
# Nodes per batch task: enough that a delivery's cost is spread thin, few
# enough that a fan-out's batches spread over the pool and that one runs
# within the continuation's time slice.
BATCH_NODES = 25
ROLLBACK_TASK = "agentloom.roll_back"
ADVANCE_TASK = "agentloom.advance_node"
# What a publish raises when the broker (or, for the cache, Redis) is out of reach.
PUBLISH_ERRORS = (redis.RedisError, KombuOperationalError)
_STOP_KEY = "agentloom:run-stopped:{}"
_STOP_TTL_S = 24 * 3600


@dataclass(frozen=True)
class Message:
    """One task to publish: a node, or a batch of one workspace's control nodes."""

    name: str
    args: tuple[Any, ...]
    run_id: str
    pool: str
    countdown_s: float


def messages_for(tasks: list[NodeTask]) -> list[Message]:
    """Each task alone, but a workspace's control nodes due now, which go in batches."""
    config = settings.AGENTLOOM_RUNS
    # A task with no time slice runs one node: a batch would go back node by node.
    size = (
        min(BATCH_NODES, config["continuation_max_nodes"]) if config["continuation_slice_s"] else 1
    )
    messages: list[Message] = []
    batchable: dict[str, list[tuple[str, str]]] = {}
    for task in tasks:
        workspace = _batch_workspace(task) if size > 1 and not task.countdown_s else None
        if workspace is not None:
            batchable.setdefault(workspace, []).append((task.run_id, task.node_id))
        else:
            messages.append(
                Message(
                    EXECUTE_NODE_TASK,
                    (task.run_id, task.node_id),
                    task.run_id,
                    task.pool,
                    task.countdown_s,
                )
            )
    for nodes in batchable.values():
        # Batches of even size: a fan-out's last one is not a straggler of one node.
        n = len(nodes)
        count = -(-n // size)
        for batch in (nodes[i * n // count : (i + 1) * n // count] for i in range(count)):
            name, args = (
                (EXECUTE_NODE_TASK, batch[0]) if len(batch) == 1 else (EXECUTE_NODES_TASK, (batch,))
            )
            # The batch's shard is its workspace's: any of its runs names it.
            messages.append(Message(name, args, batch[0][0], queues.CONTROL, 0.0))
    return messages


def _batch_workspace(task: NodeTask) -> str | None:
    """The workspace of a control node a worker may run with others (``scheduling.continuable``).

    None for a node that goes alone: an agent or an http node, or one of a
    deleted run. Batches never mix workspaces, which have shards of their own.
    """
    if task.pool != queues.CONTROL:
        return None
    constants = pinned.run_constants(task.run_id)
    if constants is None or pinned.node_type(task.run_id, task.node_id) not in CONTROL_TYPES:
        return None
    return str(constants.workspace_id)


def _kombu_redis_message(message: Message, queue: str) -> str:
    task_id = str(uuid.uuid4())
    headers, properties, body, _ = app.amqp.as_task_v2(
        task_id,
        message.name,
        args=message.args,
        countdown=message.countdown_s or None,
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
                # kombu puts a message back (unacked, worker lost) through
                # this exchange's binding to the queue.
                "delivery_info": {"exchange": queue, "routing_key": queue},
            },
        }
    )


@cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _redis_broker() -> redis.Redis | None:
    # The client is cached per URL, the choice is not: a test that points the
    # broker elsewhere for a while must not leave later publishes unsharded.
    if not queues.sharded():
        return None
    return _redis_client(str(settings.CELERY_BROKER_URL))


def send_node_tasks(tasks: list[NodeTask]) -> None:
    if tasks:
        _publish(messages_for(tasks))


def send_advance(run_id: str, node_id: str) -> None:
    """The task that advances a waiting map or workflow node (services/flow_nodes.py).

    It goes to the end of the run's control shard, behind the children
    already queued there: those that end meanwhile are counted by it too.
    """
    _publish([Message(ADVANCE_TASK, (run_id, node_id), run_id, queues.CONTROL, 0.0)])


def _publish(messages: list[Message]) -> None:
    broker = _redis_broker()
    if broker is None:
        with app.producer_or_acquire() as producer:
            for message in messages:
                app.send_task(
                    message.name,
                    args=list(message.args),
                    queue=message.pool,
                    countdown=message.countdown_s or None,
                    producer=producer,
                )
        return
    pipeline = broker.pipeline(transaction=False)
    for message in messages:
        constants = pinned.run_constants(message.run_id)
        if constants is None:
            continue  # the run was deleted: its task would find nothing to run
        queue = queues.shard_for(broker, message.pool, str(constants.workspace_id))
        pipeline.lpush(queue, _kombu_redis_message(message, queue))
    pipeline.execute()


def send_rollback(run_id: str) -> None:
    """The durable task that sends a run's compensations (services/side_effects.py)."""
    app.send_task(ROLLBACK_TASK, args=[run_id], queue=queues.MAINTENANCE, ignore_result=True)


def broker_problem() -> str | None:
    """Why the broker cannot take a task right now, or None when it can (for /readyz)."""
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"broker: {exc.__class__.__name__}: {exc}"
    return None


def signal_run_stopped(run_id: str) -> None:
    django_cache.set(_STOP_KEY.format(run_id), True, _STOP_TTL_S)


def run_stop_signalled(run_id: str) -> bool:
    try:
        return bool(django_cache.get(_STOP_KEY.format(run_id)))
    except Exception:
        logger.warning("stop signal unavailable for run %s", run_id, exc_info=True)
        return False
