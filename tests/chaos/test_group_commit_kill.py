"""A worker SIGKILLed in the middle of a group commit: the run still ends, each node once.

Quick control nodes in a chain are recorded many to a transaction
(services/continuation.py, ``run_together``). Killed mid-group, the open
transaction rolls back with the dead connection: the nodes it recorded are
queued or pending again, and the one committed lease (on the first node of
the lost group) goes stale; the reaper requeues that node as a new attempt
and a fresh worker finishes the run, its log gapless.

A fan-out's branches go to workers in batch tasks (server/runs/dispatch.py),
each batch leased in one statement and recorded in groups. Killed mid-batch,
the batch's nodes not committed are leased to the dead process: each is
requeued once by the reaper, and the batch, if delivered again, leaves them.
"""

import os
import signal
import time

import pytest

from server.runs.models import NodeRun
from tests.chaos.test_eager_continuation import ENV
from tests.support.chaos import _children
from tests.support.documents import chain, fan_out
from tests.support.processes import start_worker
from tests.support.recovery import (
    assert_each_node_succeeded_once,
    assert_requeued_once,
    finished_by_a_survivor,
    succeeded_nodes,
)
from tests.support.runs import start_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LENGTH = 1500


@pytest.mark.parametrize("victim", ["worker", "pool-child"])
def test_a_worker_killed_mid_group_commit_loses_nothing_and_repeats_nothing(
    api, fast_recovery, victim
):
    doomed = start_worker("group-doomed", pool="prefork", concurrency=1, **ENV)
    try:
        run_id, held = _kill_mid_group(api, doomed, victim)
        run = finished_by_a_survivor(run_id, "group-survivor", ENV, timeout=120)
    finally:
        doomed.stop()
    assert_each_node_succeeded_once(run, ["input", *(f"n{i}" for i in range(LENGTH)), "output"])
    assert_requeued_once(run_id, [held[0].node_id])


def _kill_mid_group(api, doomed, victim: str) -> tuple[str, list[NodeRun]]:
    """Start the chain, kill the doomed worker well into it; the run and its leased nodes."""
    run_id = start_run(api, chain(LENGTH, expression="$sum([1..50])"))["id"]
    deadline = time.monotonic() + 60
    while len(succeeded_nodes(run_id)) < 100:
        assert time.monotonic() < deadline, "the chain did not get going"
        time.sleep(0.005)
    [pid] = _children(doomed.process.pid)
    if victim == "worker":
        doomed.kill()
    else:
        os.kill(pid, signal.SIGKILL)
    assert len(succeeded_nodes(run_id)) < LENGTH, "the chain ended before the kill"
    held = list(NodeRun.objects.filter(run_id=run_id, heartbeat_at__isnull=False, state="queued"))
    # The first node of the lost group is leased to the dead process, committed.
    assert [n.worker.rsplit("#", 1)[1] for n in held] == [str(pid)]
    ran = NodeRun.objects.filter(run_id=run_id, state="succeeded").values_list("worker", flat=True)
    assert {worker.rsplit("#", 1)[1] for worker in ran} == {str(pid)}
    return run_id, held


WIDTH = 600
# Batches of 25: the input's task keeps 25 branches, the rest go in 23 batch tasks.
BATCHED = {**ENV, "AGENTLOOM_CONTINUATION_MAX_NODES": "25"}


@pytest.mark.parametrize("victim", ["worker", "pool-child"])
def test_a_worker_killed_mid_batch_of_a_fan_out_loses_nothing_and_repeats_nothing(
    api, fast_recovery, victim
):
    doomed = start_worker("batch-doomed", pool="prefork", concurrency=1, **BATCHED)
    try:
        run_id = start_run(api, fan_out(WIDTH, expression="$sum([1..50])"))["id"]
        [pid] = _children(doomed.process.pid)
        deadline = time.monotonic() + 60
        # Killed while a batch is leased to it, well into the fan-out: the pool
        # child is stopped, and killed once it is seen holding a batch.
        while True:
            assert time.monotonic() < deadline, "the fan-out did not get going"
            if len(succeeded_nodes(run_id)) >= 150:
                os.kill(pid, signal.SIGSTOP)
                if held := _settled_lease(run_id, pid):
                    break
                os.kill(pid, signal.SIGCONT)
            time.sleep(0.002)
        if victim == "worker":
            doomed.kill()
        os.kill(pid, signal.SIGKILL)
        assert len(succeeded_nodes(run_id)) < WIDTH, "the fan-out ended before the kill"
        run = finished_by_a_survivor(run_id, "batch-survivor", BATCHED, timeout=180)
    finally:
        doomed.stop()
    assert_each_node_succeeded_once(run, ["input", *(f"w{i}" for i in range(WIDTH)), "output"])
    assert_requeued_once(run_id, held)


def _settled_lease(run_id: str, pid: int) -> list[str]:
    """The nodes leased to the stopped process ``pid``, read twice alike 50 ms apart.

    A commit it sent just before it stopped still lands: read before it does,
    the nodes it leases or records would be counted wrongly as held (a lease)
    or not held (a success). Empty if the two reads differ.
    """
    time.sleep(0.05)
    held = _leased_to(run_id, pid)
    time.sleep(0.05)
    return held if _leased_to(run_id, pid) == held else []


def _leased_to(run_id: str, pid: int) -> list[str]:
    """The nodes leased, not yet recorded, to the process ``pid``."""
    return [
        node_id
        for node_id, worker in NodeRun.objects.filter(
            run_id=run_id, heartbeat_at__isnull=False, state="queued"
        ).values_list("node_id", "worker")
        if worker.rsplit("#", 1)[1] == str(pid)
    ]
