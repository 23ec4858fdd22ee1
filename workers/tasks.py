"""Celery tasks: ids in, the runner or the service does the work."""

import os

from celery import Task
from django.db import InterfaceError, OperationalError

from server.runs import services
from workers import node_runner
from workers.app import app


@app.task(
    name="agentloom.execute_node",
    bind=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=10,
    max_retries=8,
)
def execute_node(self: Task, run_id: str, node_id: str) -> None:
    """Run one node. Safe to deliver twice: the claim is a compare-and-set.

    A dropped database connection retries the task; whatever it had done is
    either committed (and the retry finds it done) or rolled back.
    """
    hostname = self.request.hostname or "worker"
    node_runner.run_node(run_id, node_id, worker=f"{hostname}#{os.getpid()}")


@app.task(name="agentloom.reap")
def reap() -> dict[str, int]:
    return vars(services.reap())
