"""Celery tasks: ids in, the runner or the service does the work."""

import os
from typing import Any

from celery import Task

from server.celery import app
from server.runs.dispatch import send_rollback
from server.runs.services import flow_nodes, reaper, retention, side_effects
from server.triggers import notifications, schedules
from workers.runtime import node_runner

# Tasks that are safe to deliver twice run again, with backoff, when the
# database connection drops under them.
RETRIED_ON_DROPPED_CONNECTIONS: dict[str, Any] = {
    "autoretry_for": node_runner.RETRIED_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": 10,
    "max_retries": 8,
}


@app.task(name="agentloom.execute_node", bind=True, **RETRIED_ON_DROPPED_CONNECTIONS)
def execute_node(self: Task, run_id: str, node_id: str) -> None:
    """Run one node, then the control nodes it makes ready (eager continuation).

    Safe to deliver twice: the claim is a compare-and-set.

    A dropped database connection retries the task; whatever it had done is
    either committed (and the retry finds it done) or rolled back, and a
    control node's lease is given back for the retry.
    """
    hostname = self.request.hostname or "worker"
    node_runner.run_task(run_id, node_id, worker=f"{hostname}#{os.getpid()}")


@app.task(name="agentloom.execute_nodes", bind=True, **RETRIED_ON_DROPPED_CONNECTIONS)
def execute_nodes(self: Task, nodes: list[tuple[str, str]]) -> None:
    """Run a batch of (run id, node id) control nodes of one workspace (server/runs/dispatch.py).

    A run's nodes in the batch are recorded together.

    Safe to deliver twice: each node is leased by a compare-and-set, and a
    node already leased is left to its holder (or to the reaper).
    """
    hostname = self.request.hostname or "worker"
    node_runner.run_batch(nodes, worker=f"{hostname}#{os.getpid()}")


@app.task(name="agentloom.advance_node", **RETRIED_ON_DROPPED_CONNECTIONS)
def advance_node(run_id: str, node_id: str) -> None:
    """Count the ended children of a waiting map or workflow node and start the next ones."""
    flow_nodes.advance_requested(run_id, node_id)


@app.task(name="agentloom.reap")
def reap() -> dict[str, float]:
    return vars(reaper.reap())


@app.task(name="agentloom.delete_expired_runs")
def delete_expired_runs() -> dict[str, int]:
    return vars(retention.delete_expired_runs())


@app.task(name="agentloom.fire_schedules")
def fire_schedules() -> dict[str, int]:
    """Fire the due schedules; safe in any number of processes at once (one run per slot)."""
    return schedules.fire_due_schedules()


@app.task(name="agentloom.send_notifications")
def send_notifications() -> dict[str, int]:
    """Send the due notifications of ended runs (each claimed by one sender at a time)."""
    return notifications.send_due_notifications()


@app.task(name="agentloom.roll_back", **RETRIED_ON_DROPPED_CONNECTIONS)
def roll_back(run_id: str) -> None:
    """Send a run's requested compensations, newest first (services/side_effects.py).

    Safe to deliver twice: each compensation is taken by a compare-and-set lease.
    """
    while side_effects.compensate_next(run_id):
        pass


@app.task(name="agentloom.resume_rollbacks")
def resume_rollbacks() -> int:
    """Send the task again for rollbacks a lost task or a killed worker left behind."""
    stalled = side_effects.stalled_rollbacks()
    for run_id in stalled:
        send_rollback(run_id)
    return len(stalled)
