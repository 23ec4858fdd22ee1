"""A worker SIGKILLed in the middle of an eager continuation: the run still ends, each node once.

The continuing task holds one node at any moment (the one it computes, or the
one its last success kept), leased in the transaction that queued it. Killed,
it leaves that lease to go stale; the reaper (here in the test process, on
the workers' short clock) requeues the node as a new attempt and a fresh
worker finishes the run.
"""

import os
import signal
import time

import pytest

from server.runs.models import NodeRun
from tests.runs.test_continuation import node_tasks
from tests.support.chaos import _children
from tests.support.documents import chain
from tests.support.processes import FAST_RECOVERY, start_worker
from tests.support.recovery import (
    assert_each_node_succeeded_once,
    assert_requeued_once,
    finished_by_a_survivor,
    succeeded_nodes,
)
from tests.support.runs import start_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LENGTH = 60
ENV = {
    **FAST_RECOVERY,
    "AGENTLOOM_CONTINUATION_MAX_NODES": "1000",
    "AGENTLOOM_CONTINUATION_SLICE_S": "60",
}


@pytest.mark.parametrize("victim", ["worker", "pool-child"])
def test_a_worker_killed_mid_continuation_loses_nothing_and_repeats_nothing(
    api, fast_recovery, victim
):
    doomed = start_worker("eager-doomed", pool="prefork", concurrency=1, **ENV)
    # Stopped whatever fails: a doomed worker left alive would take later tests' tasks.
    try:
        run_id = start_run(api, chain(LENGTH, expression="$sum([1..20000])"))["id"]
        deadline = time.monotonic() + 60
        while len(succeeded_nodes(run_id)) < 10:
            assert time.monotonic() < deadline, "the chain did not get going"
            time.sleep(0.01)
        [pid] = _children(doomed.process.pid)
        assert node_tasks(doomed) == 1, "not one continuing task"
        if victim == "worker":
            doomed.kill()
        else:
            os.kill(pid, signal.SIGKILL)
        held = list(
            NodeRun.objects.filter(run_id=run_id, heartbeat_at__isnull=False, state="queued")
        )
        # Mid-continuation: the node computed or kept next is leased to the dead process.
        assert [n.worker.rsplit("#", 1)[1] for n in held] == [str(pid)]
        run = finished_by_a_survivor(run_id, "eager-survivor", ENV, timeout=120)
    finally:
        doomed.stop()
    assert_each_node_succeeded_once(run, ["input", *(f"n{i}" for i in range(LENGTH)), "output"])
    assert_requeued_once(run_id, [held[0].node_id])
