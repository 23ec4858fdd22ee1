"""Schedule fire delay: from a slot's time to its run's ``run.started`` event (goal p99 ≤ 2 s).

Usage: .venv/bin/python -m bench.trigger_bench [--schedules 20] [--minutes 1]

What is measured: ``--schedules`` schedules with the cron ``* * * * *`` (the
finest the product has: five fields, minutes), all due at the same minute
slots, for ``--minutes`` slots. The real beat, inside the control worker as
``serve`` runs it, sends the firing job every
``AGENTLOOM_SCHEDULE_FIRE_INTERVAL_S`` (1 s); the control and agents workers run
the runs (input → transformer → output). Each firing is one sample: the
``run.started`` event's time minus the slot. All schedules of a slot are due at
once, so one pass fires them one after another: a burst, harder than the same
number of slots one minute apart (``--schedules 1 --minutes 20`` measures
those, in 20 minutes). The delay is split into slot → firing row (beat's tick,
the job's trip through the maintenance queue, the schedules fired before it in
the pass) and firing row → ``run.started``. Overlap is ``allow``, so a run not
finished by the next slot skips nothing.
"""

import argparse
import os
import statistics
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

# A database of its own (the harness drops and recreates it), read at import.
os.environ.setdefault("AGENTLOOM_BENCH_DB", "agentloom_bench_triggers")

from bench.harness import deployment, percentile


def _figures(label: str, seconds: list[float]) -> str:
    return (
        f"{label}: p50 {statistics.median(seconds):.3f} s, p99 {percentile(seconds, 99):.3f} s, "
        f"max {max(seconds):.3f} s (n={len(seconds)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schedules", type=int, default=20)
    parser.add_argument("--minutes", type=int, default=1)
    args = parser.parse_args()
    bench = deployment()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from server.runs.models import RunEvent
    from server.triggers.models import ScheduleFiring
    from server.triggers.schedules import create_schedule
    from server.workflows.services import create_workflow
    from tests.support.documents import document, edge, node
    from tests.support.processes import start_worker

    user = get_user_model().objects.get(pk=bench.user_id)
    workflow = create_workflow(
        user=user,
        workspace_id=uuid.UUID(bench.workspace_id),
        document=document(
            [node("in", "input"), node("double", expression="run.n * 2"), node("out", "output")],
            [edge("in", "double"), edge("double", "out")],
            inputs={"n": {"type": "number", "default": 1}},
        ),
    )
    processes = [
        start_worker(
            "control",
            queues="control",
            pool="prefork",
            concurrency=2,
            loglevel="WARNING",
            beat=True,
        ),
        start_worker("agents", queues="agents", pool="threads", concurrency=16, loglevel="WARNING"),
    ]
    try:
        schedules = [
            create_schedule(
                user=user,
                workflow=workflow,
                # allow: a run a slow machine has not finished yet skips no slot.
                fields={"cron": "* * * * *", "inputs": {"n": i}, "overlap": "allow"},
            )
            for i in range(args.schedules)
        ]
        first = min(s.next_fire_at for s in schedules if s.next_fire_at is not None)
        last = first + timedelta(minutes=args.minutes - 1)
        print(
            f"{args.schedules} schedules, slots {first:%H:%M} to {last:%H:%M} UTC "
            f"({args.minutes} slot(s)); waiting…",
            flush=True,
        )
        expected = args.schedules * args.minutes
        deadline = last + timedelta(seconds=30)
        started = RunEvent.objects.filter(type="run.started", run__workflow=workflow)
        while timezone.now() < deadline and started.count() < expected:
            time.sleep(0.5)
        firings = list(ScheduleFiring.objects.filter(slot__lte=last).order_by("slot"))
    finally:
        for process in processes:
            process.stop()
    started_at = dict(
        RunEvent.objects.filter(
            type="run.started", run_id__in=[f.run_id for f in firings]
        ).values_list("run_id", "ts")
    )
    outcomes = Counter(f.outcome for f in firings)
    # (slot, firing row written, run.started) of each firing that started its run
    fired = [
        (f.slot, f.created_at, started_at[f.run_id])
        for f in firings
        if f.run_id is not None and f.run_id in started_at
    ]
    print(f"firings {len(firings)} {dict(outcomes)}, with run.started {len(fired)}")
    if not fired:
        raise SystemExit("no firing started a run")
    to_firing = [(row - slot).total_seconds() for slot, row, _ in fired]
    to_started = [(began - row).total_seconds() for _, row, began in fired]
    total = [(began - slot).total_seconds() for slot, _, began in fired]
    first_of_slot: dict[datetime, float] = {}
    for (slot, _, _), delay in zip(fired, to_firing, strict=True):
        first_of_slot[slot] = min(delay, first_of_slot.get(slot, delay))
    print(_figures("slot -> run.started", total))
    print(_figures("  slot -> firing row", to_firing))
    print(_figures("  slot -> the slot's first firing row", list(first_of_slot.values())))
    print(_figures("  firing row -> run.started", to_started))
    with open("/proc/loadavg") as load:
        print(f"load average: {load.read().strip()}")


if __name__ == "__main__":
    main()
