"""The Celery application.

Tasks carry ids only (a claim check); the truth is in the database. Delivery
is at least once: ``acks_late`` with ``task_reject_on_worker_lost`` gives a
killed worker's task back to the queue, and prefetch 1 keeps a worker from
sitting on tasks another could run. Every task is written to be idempotent.
"""

import gc
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready
from kombu import Exchange, Queue

from workers import broker_compat

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
    # Each queue on its own exchange and key: a bare Queue("agents") would be
    # bound to the default queue's exchange and receive every control task too.
    task_queues=[
        Queue("agents", Exchange("agents", type="direct"), routing_key="agents"),
        Queue("control", Exchange("control", type="direct"), routing_key="control"),
    ],
    task_default_queue="control",
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_scheduler="django_celery_beat.schedulers:DatabaseScheduler",
    # Celery's Django fixup would otherwise close every database connection
    # before and after each task, so each node would pay for a new Postgres
    # connection; _recycle_database_connections below returns it to the pool.
    CELERY_DB_REUSE_MAX=1_000_000_000,
    # No task has a rate limit: skip the bookkeeping for it on every message.
    worker_disable_rate_limits=True,
)
# Tasks are imported by the worker at start; web processes publish by name only.
app.autodiscover_tasks(["workers"], related_name="tasks")


@app.on_after_finalize.connect
def _schedule_reaper(sender: Celery, **kwargs: object) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = {
        "reap-stale-nodes": {
            "task": "agentloom.reap",
            "schedule": settings.AGENTLOOM_RUNS["reaper_interval_s"],
            "options": {"queue": "control", "expires": 60},
        }
    }


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
