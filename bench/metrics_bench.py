"""The API's ``/metrics`` scrape time with many runs in the database (goal ≤ 50 ms).

Usage: .venv/bin/python -m bench.metrics_bench [--runs 10000] [--scrapes 200]

Writes ``--runs`` runs (all finished but ``ACTIVE_RUNS`` running, each with
three node runs), fills the broker's queues with a backlog, and
counts a few thousand transitions into the metric files, as a busy day would
leave them. Then scrapes ``/metrics`` of a real uvicorn API process (two
workers, as in production) over HTTP and reports the wall time of each
scrape, and the same with the rows tenfold to show the cost does not grow
with the history.
"""

import argparse
import os
import socket
import time
import urllib.request
from pathlib import Path

# A database of its own (the harness drops and recreates it), read at import.
os.environ.setdefault("AGENTLOOM_BENCH_DB", "agentloom_bench_metrics")

from bench.harness import deployment, summary

NODES_PER_RUN = 3
_CHUNK = 5000
_FINISHED = ["succeeded"] * 9 + ["failed"]
ACTIVE_RUNS = 200  # queued or running at once: bounded by the workspaces' limits, not the history


def _add_runs(workspace_id: str, count: int, active: int = 0) -> None:
    from django.db import connection
    from django.utils import timezone

    from server.runs.models import NodeRun, Run
    from server.workflows.models import Workflow, WorkflowVersion
    from tests.support.documents import chain

    doc = chain(NODES_PER_RUN)
    workflow = Workflow.objects.create(workspace_id=workspace_id, name="bench", document=doc)
    version = WorkflowVersion.objects.create(workflow=workflow, number=1, document=doc)
    now = timezone.now()
    for start in range(0, count, _CHUNK):
        runs = Run.objects.bulk_create(
            Run(
                workspace_id=workspace_id,
                workflow=workflow,
                version=version,
                state="running" if i < active else _FINISHED[i % len(_FINISHED)],
                started_at=now,
                finished_at=None if i < active else now,
                prompt_tokens=100,
                completion_tokens=50,
            )
            for i in range(start, min(count, start + _CHUNK))
        )
        NodeRun.objects.bulk_create(
            NodeRun(run=run, node_id=f"n{k}", node_type="transformer", state="succeeded")
            for run in runs
            for k in range(NODES_PER_RUN)
        )
    with connection.cursor() as cursor:  # the statistics autovacuum keeps in a live database
        cursor.execute("VACUUM ANALYZE runs_run")


class _Event:
    def __init__(self, kind: str, node_id: str = "", **data: object) -> None:
        self.type, self.node_id, self.data = kind, node_id, data


def _backlog() -> None:
    import redis
    from django.conf import settings

    from server import queues

    client = redis.Redis.from_url(settings.REDIS_URL)
    for index, name in enumerate(queues.all_queues()):
        client.lpush(name, *[b"{}"] * (10 * (index + 1)))


def _scrape_times(base: str, scrapes: int) -> list[float]:
    times = []
    for _ in range(10):  # warm both workers' connections and caches
        urllib.request.urlopen(f"{base}/metrics", timeout=10).read()
    for _ in range(scrapes):
        start = time.perf_counter()
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            body = response.read()
        times.append((time.perf_counter() - start) * 1000)
    assert b"agentloom_queue_depth" in body
    assert b"agentloom_runs_active" in body
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()

    deploy = deployment()
    from django.conf import settings

    from server.ops.metrics import count_events
    from server.runs.models import Run
    from tests.support.processes import start_asgi

    _add_runs(deploy.workspace_id, args.runs, active=ACTIVE_RUNS)
    _backlog()

    server, base = start_asgi(workers=2)

    # Counters in the API's metric files (its process group's directory, named
    # after the uvicorn supervisor, server/ops/multiproc.py), every label used.
    metrics_dir = (
        Path(settings.VAR_DIR) / "metrics" / f"{socket.gethostname()}-{server.process.pid}"
    )
    metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    for state in ("queued", "started", "succeeded", "failed", "cancelled"):
        count_events([_Event(f"run.{state}")] * 100, str)
    for kind in ("input", "transformer", "researcher", "output", "http"):
        done = _Event("node.succeeded", kind, duration_ms=120, usage={"prompt_tokens": 5})
        count_events([_Event("node.started", kind), done] * 100, lambda node_id: node_id)
    try:
        first = _scrape_times(base, args.scrapes)
        print(f"/metrics with {Run.objects.count()} runs: {summary(first)}")
        _add_runs(deploy.workspace_id, args.runs * 9)
        tenfold = _scrape_times(base, args.scrapes)
        print(f"/metrics with {Run.objects.count()} runs: {summary(tenfold)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
