"""An approval-waiting run's cost at rest: worker slots held and database rows written.

Usage: .venv/bin/python -m bench.approval_bench [--runs 20] [--window 60]

Against the real distributed topology (bench/harness.py's API and workers,
plus one worker running beat, so the reaper and the other periodic jobs scan
every few seconds as in production): starts ``--runs`` runs of input →
draft → approval → publish → output and waits until each waits for its
decision. Then, for ``--window`` seconds:

* worker slots held: the tasks the workers report as active (Celery's
  ``inspect().active()``), sampled every second, and the node runs of those
  runs that are queued, running or leased to a worker;
* rows written: ``n_tup_ins + n_tup_upd + n_tup_del`` of every table
  (``pg_stat_user_tables``), before and after the window, per table (each
  read 11 s after the moment it stands for, when every backend has reported).

Goal: 0 and 0. Last, every approval is approved through the API and the
time until every run has succeeded is printed (the runs do move on).
"""

import argparse
import logging
import os
import time
from collections import Counter
from typing import Any

# A database of its own (the harness drops and recreates it), read at import.
os.environ.setdefault("AGENTLOOM_BENCH_DB", "agentloom_bench_approval")

from bench.harness import deployment, start_processes, stop_processes

_STATS_DELAY_S = 11.0
# The tasks that run nodes (one, or a batch of one run's control nodes).
_NODE_TASKS = ("agentloom.execute_node", "agentloom.execute_nodes")
# What pg_stat_user_tables counts as a row written.
_WRITES = """
SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables
"""


def _approval_doc() -> dict[str, Any]:
    from tests.support.documents import document, edge, node

    return document(
        [
            node("input", "input"),
            node("draft", expression="'Post about ' & run.topic"),
            node("gate", "approval", message="Publish {{ draft }}?", timeout_s=3000),
            node("publish", expression="gate.input.draft"),
            node("output", "output"),
        ],
        [
            edge("input", "draft"),
            edge("draft", "gate", target_handle="draft"),
            edge("gate", "publish", label="approved"),
            edge("publish", "output"),
        ],
        inputs={"topic": {"type": "string", "required": True}},
    )


def _rows_written() -> dict[str, int]:
    from django.db import connection

    # An idle backend reports its counters up to 10 s late (PGSTAT_IDLE_INTERVAL):
    # wait that out, so the window counts what was written in it; then drop this
    # transaction's cached snapshot of them.
    time.sleep(_STATS_DELAY_S)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(_WRITES)
        return {name: int(count) for name, count in cursor.fetchall()}


def _active_tasks() -> Counter[str]:
    """The tasks the workers are running now, by name."""
    from server.celery import app

    replies = app.control.inspect(timeout=1.0).active() or {}
    return Counter(task["name"] for tasks in replies.values() for task in tasks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--window", type=float, default=60.0)
    args = parser.parse_args()

    deploy = deployment()
    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)

    from server.queues import MAINTENANCE
    from server.runs.models import NodeRun, Run, RunEvent
    from tests.support.processes import start_worker

    processes, base = start_processes()
    processes.append(
        start_worker("beat", queues=MAINTENANCE, concurrency=1, beat=True, loglevel="WARNING")
    )
    try:
        client = httpx.Client(
            base_url=base, headers={"Authorization": f"Token {deploy.token}"}, timeout=60
        )
        workflow = client.post("/api/v1/workflows/", json={"document": _approval_doc()})
        workflow_id = workflow.raise_for_status().json()["id"]
        run_ids = [
            client.post(f"/api/v1/workflows/{workflow_id}/runs/", json={"inputs": {"topic": "x"}})
            .raise_for_status()
            .json()["id"]
            for _ in range(args.runs)
        ]
        deadline = time.monotonic() + 120
        while NodeRun.objects.filter(node_id="gate", state="waiting").count() < args.runs:
            if time.monotonic() > deadline:
                raise SystemExit("the runs did not all reach their approval in 120 s")
            time.sleep(0.2)
        waiting = client.get("/api/v1/approvals/").raise_for_status().json()
        assert len(waiting) == args.runs, waiting

        events = RunEvent.objects.filter(run_id__in=run_ids).count()
        before = _rows_written()
        started = time.monotonic()
        samples = 0
        node_tasks = 0
        other_tasks: Counter[str] = Counter()
        while time.monotonic() - started < args.window:
            active = _active_tasks()
            running_nodes = sum(active.pop(name, 0) for name in _NODE_TASKS)
            node_tasks = max(node_tasks, running_nodes)
            other_tasks.update(active)
            samples += 1
            time.sleep(1.0)
        after = _rows_written()
        held = NodeRun.objects.filter(
            run_id__in=run_ids, state__in=("queued", "running", "retrying")
        ).count()
        written = {
            name: after[name] - before.get(name, 0)
            for name in after
            if after[name] != before.get(name, 0)
        }
        minutes = (time.monotonic() - started) / 60
        total = sum(written.values())
        print(f"{args.runs} runs waiting for an approval, over {minutes * 60:.0f} s:")
        print(
            f"  worker slots held by node tasks: max {node_tasks} in {samples} samples "
            f"(other tasks seen running: {dict(other_tasks)})"
        )
        print(f"  node runs queued, running or retrying: {held}")
        print(f"  rows written: {total} ({total / minutes:.1f} per minute) {written or ''}")
        events = RunEvent.objects.filter(run_id__in=run_ids).count() - events
        print(f"  events of the waiting runs written meanwhile: {events}")

        started = time.monotonic()
        for approval in waiting:
            client.post(
                f"/api/v1/runs/{approval['run']}/nodes/gate/decision/",
                json={"decision": "approve"},
            ).raise_for_status()
        while Run.objects.filter(pk__in=run_ids, state="succeeded").count() < args.runs:
            if time.monotonic() - started > 120:
                raise SystemExit("the approved runs did not all succeed in 120 s")
            time.sleep(0.1)
        elapsed = time.monotonic() - started
        print(f"  approved through the API: all {args.runs} runs succeeded {elapsed:.2f} s later")
    finally:
        stop_processes(processes)


if __name__ == "__main__":
    main()
