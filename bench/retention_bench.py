"""Retention's figures: how fast old runs are deleted, and what that costs a live run.

Usage: .venv/bin/python -m bench.retention_bench [--runs 10000] [--live-runs 3]

Writes ``--runs`` finished runs past their workflow's retention, each with
three node runs and ten events, and one in ten with a stored artifact (the
embedded filesystem store), as a month of real runs would leave them. Then,
against the real distributed topology (the API and workers of
bench/harness.py):

* the live run alone: after one warm-up run, ``--live-runs`` streaming runs
  one after the other, each watched by a websocket; the time from each
  event's write to its receipt (as bench/live_bench.py measures it);
* the same runs again while the beat job's pass (``delete_expired_runs``,
  batches of ``AGENTLOOM_RETENTION_BATCH_RUNS``) deletes the old runs in
  this process, counting only events written while it deleted;
* runs deleted per second, and whether anything of them is left.
"""

import argparse
import asyncio
import os
import threading
import time
from datetime import timedelta
from typing import Any

# A database of its own (the harness drops and recreates it), read at import.
os.environ.setdefault("AGENTLOOM_BENCH_DB", "agentloom_bench_retention")

from bench.harness import deployment, percentile, start_processes, stop_processes
from bench.live_bench import _start_run, _streaming_doc, _watch

NODES_PER_RUN = 3
EVENTS_PER_RUN = 10
ARTIFACT_EVERY = 10
_CHUNK = 2000


def _old_runs(workspace_id: str, count: int) -> list[Any]:
    from django.utils import timezone

    from server.runs.models import NodeRun, Run, RunEvent
    from server.runs.outputs import store_output
    from server.workflows.models import Workflow, WorkflowVersion
    from tests.support.documents import chain

    doc = chain(NODES_PER_RUN)
    workflow = Workflow.objects.create(
        workspace_id=workspace_id, name="old", document=doc, retention_days=1
    )
    version = WorkflowVersion.objects.create(workflow=workflow, number=1, document=doc)
    finished = timezone.now() - timedelta(days=2)
    big = {"rows": ["x" * 100] * 800}  # above the 64 KiB inline limit
    ids: list[Any] = []
    for start in range(0, count, _CHUNK):
        runs = Run.objects.bulk_create(
            Run(
                workspace_id=workspace_id,
                workflow=workflow,
                version=version,
                state="succeeded",
                finished_at=finished,
                next_seq=EVENTS_PER_RUN + 1,
            )
            for _ in range(min(_CHUNK, count - start))
        )
        nodes, events = [], []
        for index, run in enumerate(runs, start):
            artifact = None
            if index % ARTIFACT_EVERY == 0:
                artifact = store_output(run.pk, "n0", 1, big).artifact
            nodes += [
                NodeRun(
                    run=run,
                    node_id=f"n{i}",
                    node_type="transformer",
                    state="succeeded",
                    output={"value": i} if artifact is None or i else None,
                    output_artifact=artifact if i == 0 else None,
                )
                for i in range(NODES_PER_RUN)
            ]
            events += [
                RunEvent(run=run, seq=seq, ts=finished, type="node.log", data={"message": "x" * 80})
                for seq in range(1, EVENTS_PER_RUN + 1)
            ]
        NodeRun.objects.bulk_create(nodes)
        RunEvent.objects.bulk_create(events, batch_size=5000)
        ids += [run.pk for run in runs]
    return ids


async def _live_latencies(base: str, token: str, runs: int) -> list[tuple[float, float]]:
    """(written at, ms to receipt) of every event of ``runs`` streaming runs, one after another."""
    import httpx

    deliveries: list[tuple[float, float]] = []
    headers = {"Authorization": f"Token {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(runs):
            run_id = await _start_run(client, _streaming_doc(4, 3000))
            _, delivered = await _watch(base, token, run_id)
            deliveries += delivered
    return deliveries


def _leftovers(run_ids: list[Any]) -> str:
    from django.core.files.storage import default_storage

    from server.runs.models import Artifact, NodeRun, Run, RunEvent

    rows = sum(
        model.objects.filter(**{field: run_ids}).count()
        for model, field in (
            (Run, "pk__in"),
            (NodeRun, "run_id__in"),
            (RunEvent, "run_id__in"),
            (Artifact, "run_id__in"),
        )
    )
    folders = sum(default_storage.exists(f"runs/{run_id}") for run_id in run_ids)
    return f"{rows} rows and {folders} artifact folders left"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--live-runs", type=int, default=3)
    args = parser.parse_args()

    deploy = deployment()
    from django.conf import settings
    from django.db import connection

    from server.runs.services.retention import delete_expired_runs

    started = time.perf_counter()
    run_ids = _old_runs(deploy.workspace_id, args.runs)
    print(
        f"wrote {args.runs} old runs ({NODES_PER_RUN} node runs, {EVENTS_PER_RUN} events each, "
        f"an artifact in one of {ARTIFACT_EVERY}) in {time.perf_counter() - started:.1f} s"
    )
    processes, base = start_processes()
    try:
        asyncio.run(_live_latencies(base, deploy.token, 1))  # warm-up: first imports, pools
        alone = asyncio.run(_live_latencies(base, deploy.token, args.live_runs))

        deleting: dict[str, float] = {}

        def delete() -> None:
            deleting["start"] = time.time()
            report = delete_expired_runs()
            deleting["end"] = time.time()
            deleting["deleted"] = report.deleted_runs
            deleting["batches"] = report.batches
            connection.close()

        deleter = threading.Thread(target=delete)
        deleter.start()
        during: list[tuple[float, float]] = []
        while deleter.is_alive():
            during += asyncio.run(_live_latencies(base, deploy.token, 1))
        deleter.join()
    finally:
        stop_processes(processes)

    seconds = deleting["end"] - deleting["start"]
    batch = settings.AGENTLOOM_RETENTION["batch_runs"]
    print(
        f"deleted {deleting['deleted']:.0f} runs in {deleting['batches']:.0f} batches of "
        f"≤{batch} in {seconds:.1f} s: {deleting['deleted'] / seconds:.0f} runs/s; "
        f"{_leftovers(run_ids)}"
    )
    overlapping = [ms for sent, ms in during if deleting["start"] <= sent <= deleting["end"]]
    alone_ms = [ms for _, ms in alone]
    for label, values in (("alone", alone_ms), ("during deletion", overlapping)):
        print(
            f"live run {label}: event written → received p50 {percentile(values, 50):.1f} ms, "
            f"p99 {percentile(values, 99):.1f} ms (n={len(values)})"
        )
    print(
        f"p99 during deletion / alone: "
        f"{percentile(overlapping, 99) / percentile(alone_ms, 99):.2f} (goal < 2)"
    )


if __name__ == "__main__":
    main()
