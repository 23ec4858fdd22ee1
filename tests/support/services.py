"""The machine's real services mid-test: restarting them, holding their locks."""

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]


def restart_redis() -> None:
    """Stop Redis without saving (everything in it is lost) and start it again."""
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False
    )
    time.sleep(0.3)
    subprocess.run(["bash", "deploy/local/ensure-services.sh"], check=True, cwd=ROOT)


def purge_maintenance_queue() -> None:
    """Drop the reap tasks a stopped beat left queued.

    They stay valid for a minute (their ``expires``); a worker of a later test
    reads the maintenance queue too, and would run reaper passes of its own
    alongside the ones that test makes.
    """
    from server.celery import app
    from server.queues import MAINTENANCE

    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(MAINTENANCE)


def purge_task_queues() -> None:
    """Drop every task left queued by earlier tests (node shards and maintenance).

    For a test that counts what its own worker receives: a run of an earlier
    test whose worker stopped leaves its tasks in the broker, and they would be
    delivered (and counted) here.
    """
    from server.celery import app
    from server.queues import all_queues

    with app.connection_for_write() as connection:
        for name in all_queues():
            connection.default_channel.queue_purge(name)


@contextmanager
def holding_advisory_lock(key: str) -> Iterator[None]:
    """Another connection holds this transaction-scoped advisory lock until the block ends.

    A connection of its own, not one of the process's pool: threads of the
    test may need every pooled connection while the lock is held.
    """
    database = connections["default"].settings_dict
    holder = psycopg.connect(
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
        autocommit=True,
    )
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])
        yield
        holder.execute("COMMIT")
    finally:
        holder.close()
