"""The Celery application.

Tasks carry ids only (a claim check); the truth is in the database. Delivery
is at least once: ``acks_late`` with ``task_reject_on_worker_lost`` gives a
killed worker's task back to the queue, and prefetch 1 keeps a worker from
sitting on tasks another could run. Every task is written to be idempotent.
"""

import gc
import os
from typing import TYPE_CHECKING

from celery import Celery
from celery.signals import (
    celeryd_after_setup,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
    worker_ready,
)
from kombu import Exchange, Queue

from server import broker_compat, queues

if TYPE_CHECKING:
    from celery.apps.worker import Worker

broker_compat.install()

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

app = Celery("agentloom")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_store_errors_even_if_ignored=False,
    task_serializer="json",
    accept_content=["json"],
    # Each queue on its own exchange and key: a bare Queue("agents.0") would be
    # bound to the default queue's exchange and receive the reaper's tasks too.
    task_queues=[
        Queue(name, Exchange(name, type="direct"), routing_key=name) for name in queues.all_queues()
    ],
    task_default_queue=queues.MAINTENANCE,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    # django-celery-beat's scheduler behind the leader lease: any number of beats, one sends.
    beat_scheduler="server.runs.scheduler:LeaderScheduler",
    # Celery's Django fixup would otherwise close every database connection
    # before and after each task, so each node would pay for a new Postgres
    # connection; _recycle_database_connections below returns it to the pool.
    CELERY_DB_REUSE_MAX=1_000_000_000,
    # No task has a rate limit: skip the bookkeeping for it on every message.
    worker_disable_rate_limits=True,
)
# Tasks are imported by the worker at start; web processes publish by name only,
# so the server never imports the Celery side (docs/architecture.md).
app.autodiscover_tasks(["workers.runtime"], related_name="tasks")


@app.on_after_finalize.connect
def _schedule_maintenance(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    runs, triggers = settings.AGENTLOOM_RUNS, settings.AGENTLOOM_TRIGGERS
    # (entry, task, every so many seconds, how long a sent one stays worth running)
    jobs = [
        ("reap-stale-nodes", "agentloom.reap", runs["reaper_interval_s"], 60),
        ("resume-rollbacks", "agentloom.resume_rollbacks", runs["reaper_interval_s"], 60),
        ("fire-schedules", "agentloom.fire_schedules", triggers["fire_interval_s"], 10),
        ("send-notifications", "agentloom.send_notifications", triggers["fire_interval_s"], 10),
        (
            "delete-expired-runs",
            "agentloom.delete_expired_runs",
            settings.AGENTLOOM_RETENTION["interval_s"],
            60,
        ),
    ]
    sender.conf.beat_schedule = {
        entry: {
            "task": task,
            "schedule": every,
            "options": {"queue": queues.MAINTENANCE, "expires": expires},
        }
        for entry, task, every, expires in jobs
    }


@celeryd_after_setup.connect
def _read_whole_pools(sender: str, instance: "Worker", **kwargs: object) -> None:
    """``-Q control`` names a pool: the worker reads all of its queues (server/queues.py).

    So the deployment names the two pools only, and the number of shards is
    one setting that publishers and workers read alike.
    """
    selected = instance.app.amqp.queues
    selected.select(queues.expand_pools(selected.consume_from))


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(**kwargs: object) -> None:
    """Give the task's connection back to the pool, as Django does after each request."""
    from django.db import close_old_connections

    close_old_connections()


@worker_ready.connect
@worker_process_init.connect
def _freeze_startup_objects(**kwargs: object) -> None:
    """Keep the collector off everything loaded at start (see server/asgi.py).

    A full collection walks every object; in a worker that pauses the thread
    that publishes committed events to the websockets.
    """
    gc.freeze()


@worker_init.connect
def _serve_metrics(**kwargs: object) -> None:
    """Every worker serves its process group's metrics (server/ops/multiproc.py)."""
    from django.conf import settings

    # The settings choose the metrics directory, which must precede prometheus_client.
    settings.METRICS_DIR  # noqa: B018
    from server.ops.metrics import serve_worker_metrics

    serve_worker_metrics()
