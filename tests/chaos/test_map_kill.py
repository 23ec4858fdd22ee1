"""Workers SIGKILLed during a `map`: every item still runs once, in one child run, in order.

A map's children are started and counted by whichever process ends a child
(the after-commit ``advance`` of the parent); a worker killed there, or in
the middle of a child's node, leaves a stale lease or a node no one advanced.
The reaper (in the test process, on the workers' short clock) requeues the one
and advances the other, and fresh workers finish the map.
"""

import time
from collections import Counter
from datetime import datetime

import pytest
from django.db.models import Q
from django.utils import timezone

from server.accounts.models import Workspace
from server.runs.models import NodeRun, Run, RunEvent
from tests.support.documents import node, one_step
from tests.support.processes import FAST_RECOVERY, start_worker
from tests.support.recovery import Reaper
from tests.support.runs import assert_log_is_sound, save_workflow, wait_for_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ITEMS = 60
# Each item does some CPU work (0.1-0.25 s, machine to machine), so a kill
# lands with children in flight. The workers allow an expression 10 s, not
# 1 s: on a loaded machine the work would otherwise time out and fail its item.
CHILD_WORK = "$sum([1..120000])"
WORKER_SETTINGS = {**FAST_RECOVERY, "AGENTLOOM_EXPRESSION_TIMEOUT_MS": "10000"}


def map_of_doubles(api) -> str:
    child = save_workflow(
        api,
        one_step(
            node("work", expression=f'{{"double": run.item * 2, "work": {CHILD_WORK}}}'),
            output="work.double",
            name="Double",
            inputs={"item": {"type": "number", "required": True}},
        ),
    )
    return save_workflow(
        api,
        one_step(
            node("fan", "map", workflow=child, items=f"[0..{ITEMS - 1}]", max_parallel=8),
            output="fan.output",
            name="Map under fire",
        ),
    )


def items_done(run_id: str) -> int:
    return Run.objects.filter(parent_run_id=run_id, state="succeeded").count()


def in_flight(run_id: str, since: datetime) -> int:
    """A child's slow node that the live worker (started at ``since``) holds.

    The node is a control node, held under a lease while queued. A lease the
    killed worker left stays until the reaper finds its heartbeat stale, and
    the quick input and output nodes are done before a kill lands: neither
    would make the next kill interrupt anything.
    """
    held = Q(state="running") | Q(state="queued", heartbeat_at__isnull=False)
    return NodeRun.objects.filter(
        held, run__parent_run_id=run_id, node_id="work", heartbeat_at__gte=since
    ).count()


def wait_to_kill(run_id: str, count: int, since: datetime) -> None:
    """Until ``count`` items are done and a child's node is running: the kill lands mid-work."""
    deadline = time.monotonic() + 60
    while items_done(run_id) < count or not in_flight(run_id, since):
        assert time.monotonic() < deadline, f"fewer than {count} items done"
        time.sleep(0.005)


def test_sigkills_during_a_map_lose_no_item_and_run_none_twice(api, owner, fast_recovery):
    Workspace.objects.filter(pk=owner[1].pk).update(max_running_runs=100)
    workflow_id = map_of_doubles(api)
    started = timezone.now()
    worker = start_worker("map-doomed", pool="prefork", concurrency=2, **WORKER_SETTINGS)
    response = api.post(f"/api/v1/workflows/{workflow_id}/runs/", {"inputs": {}}, format="json")
    assert response.status_code == 202, response.content
    run_id = response.json()["id"]
    try:
        with Reaper(interval=0.2):
            for done in (10, 30):
                wait_to_kill(run_id, done, started)
                worker.kill()
                started = timezone.now()
                worker = start_worker("map-next", pool="prefork", concurrency=2, **WORKER_SETTINGS)
            run = wait_for_run(run_id, timeout=180)
    finally:
        worker.stop()
    assert run.state == "succeeded", run.error
    assert run.output == {"output": [item * 2 for item in range(ITEMS)]}
    children = list(Run.objects.filter(parent_run_id=run_id).values_list("pk", "parent_step"))
    assert sorted(step for _, step in children) == list(range(ITEMS))
    for child_id, _ in children:
        assert_log_is_sound(child_id)
    assert_log_is_sound(run_id)
    lost = NodeRun.objects.filter(run__parent_run_id=run_id, lost_workers__gt=0)
    assert lost.count() >= 2, "no kill interrupted a child's node"
    reported = RunEvent.objects.filter(run_id=run_id, type="node.child")
    ends = Counter(
        e.data["index"] for e in reported if e.data["state"] in ("succeeded", "failed", "cancelled")
    )
    assert ends == Counter(range(ITEMS)), "an item's end reported twice or never"
    last = RunEvent.objects.filter(run_id=run_id, type="node.progress").order_by("seq").last()
    assert (last.data["done"], last.data["total"], last.data["failed"]) == (ITEMS, ITEMS, 0)
