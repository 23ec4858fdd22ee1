"""Plain Celery on the same broker, for side-by-side figures.

A separate Celery app (its own queue and keys) with the product's delivery
settings (acks_late, prefetch 1), so the comparison isolates what Agentloom
adds: persisting every transition, events, readiness. It shares the bench's
Redis database (REDIS_URL, see bench/harness.py) under a key prefix of its
own, so benches given different databases do not empty each other's.

* ``chord_nodes_per_second``: chord(group(N no-op tasks), callback), two worker
  processes (prefork, concurrency 2), tasks per second from apply to callback.
* ``bare_hop_ms``: a chain of tasks where each publishes the next, the floor
  of one broker hop with these settings.
"""

import itertools
import os
import statistics
import time
from typing import TYPE_CHECKING

import redis
from celery import Celery, chord

if TYPE_CHECKING:
    from tests.support.processes import ManagedProcess

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/2")
PREFIX = "chordbench:"

app = Celery("chordbench", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    broker_transport_options={"global_keyprefix": PREFIX},
    result_backend_transport_options={"global_keyprefix": PREFIX},
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="chordbench",
    worker_hijack_root_logger=False,
)


@app.task(name="chordbench.noop")
def noop(index: int) -> int:
    return index


@app.task(name="chordbench.join")
def join(results: list[int]) -> int:
    return len(results)


@app.task(name="chordbench.hop", ignore_result=True)
def hop(remaining: int) -> None:
    redis.Redis.from_url(REDIS_URL).rpush(f"{PREFIX}hops", time.time())
    if remaining:
        hop.delay(remaining - 1)


def _worker() -> "ManagedProcess":
    import sys

    from tests.support.processes import ManagedProcess, process_env

    worker = ManagedProcess(
        "chord-worker",
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.chord_bench",
            "worker",
            "-Q",
            "chordbench",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        process_env(),
    )
    worker.wait_for_log(" ready.")
    return worker


def _forget_earlier_runs() -> None:
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{PREFIX}*"):
        client.delete(key)


def chord_nodes_per_second(width: int = 1000, runs: int = 3) -> float:
    _forget_earlier_runs()
    worker = _worker()
    try:
        rates = []
        for _ in range(runs):
            started = time.monotonic()
            result = chord(noop.s(i) for i in range(width))(join.s())
            assert result.get(timeout=300, interval=0.005) == width
            rates.append((width + 1) / (time.monotonic() - started))
        return statistics.median(rates)
    finally:
        worker.stop()


def bare_hop_ms(length: int = 200) -> list[float]:
    client = redis.Redis.from_url(REDIS_URL)
    client.delete(f"{PREFIX}hops")
    worker = _worker()
    try:
        hop.delay(length)
        deadline = time.monotonic() + 120
        while client.llen(f"{PREFIX}hops") < length + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        stamps = [float(s) for s in client.lrange(f"{PREFIX}hops", 0, -1)]
        return [(b - a) * 1000 for a, b in itertools.pairwise(stamps)]
    finally:
        worker.stop()


if __name__ == "__main__":
    from bench.harness import percentile

    hops = bare_hop_ms()
    median, p99 = statistics.median(hops), percentile(hops, 99)
    print(f"bare Celery hop (prefork -c2, acks_late): median {median:.2f}, p99 {p99:.2f} ms")
    print(
        f"chord(group(1000 no-op)) on two worker processes: {chord_nodes_per_second():.0f} tasks/s"
    )
