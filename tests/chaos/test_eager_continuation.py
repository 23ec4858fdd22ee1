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
from tests.runs.test_recovery import Reaper
from tests.support.chaos import _children
from tests.support.documents import chain
from tests.support.processes import FAST_RECOVERY, start_worker
from tests.support.runs import assert_log_is_sound, events_of, start_run, wait_for_run

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LENGTH = 60
ENV = {
    **FAST_RECOVERY,
    "AGENTLOOM_CONTINUATION_MAX_NODES": "1000",
    "AGENTLOOM_CONTINUATION_SLICE_S": "60",
}


def succeeded(run_id: str) -> list[str]:
    return [e.node_id for e in events_of(run_id) if e.type == "node.succeeded"]


@pytest.mark.parametrize("victim", ["worker", "pool-child"])
def test_a_worker_killed_mid_continuation_loses_nothing_and_repeats_nothing(
    api, fast_recovery, victim
):
    doomed = start_worker("eager-doomed", pool="prefork", concurrency=1, **ENV)
    # Stopped whatever fails: a doomed worker left alive would take later tests' tasks.
    try:
        run_id = start_run(api, chain(LENGTH, expression="$sum([1..20000])"))["id"]
        deadline = time.monotonic() + 60
        while len(succeeded(run_id)) < 10:
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
        survivor = start_worker("eager-survivor", pool="prefork", concurrency=1, **ENV)
        try:
            with Reaper(interval=0.2):
                run = wait_for_run(run_id, timeout=120)
        finally:
            survivor.stop()
    finally:
        doomed.stop()
    assert run.state == "succeeded", run.error
    done = succeeded(run_id)
    assert sorted(done) == sorted(["input", *(f"n{i}" for i in range(LENGTH)), "output"])
    assert_log_is_sound(run_id)
    lost = NodeRun.objects.get(run_id=run_id, node_id=held[0].node_id)
    assert (lost.attempt, lost.lost_workers) == (2, 1)
    assert NodeRun.objects.filter(run_id=run_id, lost_workers__gt=0).count() == 1
