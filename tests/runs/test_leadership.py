"""One leader among beats, and reaper passes one at a time (server/runs/leadership.py).

Against the real Redis and Postgres: real beat and worker processes, and a
leader killed with SIGKILL (no chance to give its lease back).
"""

import ast
import itertools
import re
import sys
import threading
import time

import pytest

from server.accounts.models import Workspace
from server.runs.leadership import Lease, holding
from server.runs.models import Run, RunState
from server.workflows.models import Workflow, WorkflowVersion
from tests.support.processes import ManagedProcess, process_env, start_worker
from tests.support.services import purge_maintenance_queue

TTL_S = 3.0
# Each reaper pass goes through this many workspaces waiting for room, so a
# pass lasts a good part of a second while beat sends one every 0.2 s.
WAITING_WORKSPACES = 50

_TASK_DONE = re.compile(r"Task agentloom\.reap\[[^\]]+\] succeeded in [0-9.e-]+s: (\{.*\})")


def test_a_lease_has_one_holder_until_released_or_expired():
    first, second = Lease("test-one-holder", ttl_s=0.5), Lease("test-one-holder", ttl_s=0.5)
    assert first.claim()
    assert first.claim()  # renewing its own
    assert not second.claim()
    assert second.current_holder() == first.holder
    first.release()
    assert second.claim()
    time.sleep(0.6)  # second stops renewing: it expires
    assert first.claim()
    first.release()


def test_a_held_lease_is_renewed_past_its_ttl_and_given_back_at_the_end():
    holder, other = Lease("test-renewed", ttl_s=0.3), Lease("test-renewed", ttl_s=0.3)
    with holding(holder) as held:
        assert held
        deadline = time.monotonic() + 1.2  # four TTLs
        while time.monotonic() < deadline:
            assert not other.claim()
            time.sleep(0.05)
    assert other.claim()
    other.release()


def test_a_waiting_claimant_gets_the_lease_when_the_holder_is_done():
    holder, waiter = Lease("test-wait", ttl_s=5), Lease("test-wait", ttl_s=5)
    assert holder.claim()
    threading.Timer(0.3, holder.release).start()
    started = time.monotonic()
    with holding(waiter, wait_s=3) as held:
        assert held
    assert 0.25 < time.monotonic() - started < 2


def _start_beat(name: str) -> ManagedProcess:
    command = [sys.executable, "-m", "celery", "-A", "server.celery", "beat", "--loglevel", "INFO"]
    return ManagedProcess(name, command, process_env(**_FAST))


_FAST = {
    "AGENTLOOM_LEADER_LEASE_TTL_S": str(TTL_S),
    "AGENTLOOM_REAPER_INTERVAL_S": "0.2",
    "AGENTLOOM_RETENTION_INTERVAL_S": "3600",
}


def _slow_reaper_passes() -> None:
    """Workspaces with runs waiting for room that never comes: every pass visits each one."""
    owner = Workspace.objects.create(name="owner")
    workflow = Workflow.objects.create(workspace=owner, name="w", document={})
    version = WorkflowVersion.objects.create(workflow=workflow, number=1, document={})
    full = Workspace.objects.bulk_create(
        Workspace(name=f"full {i}", max_running_runs=0) for i in range(WAITING_WORKSPACES)
    )
    Run.objects.bulk_create(
        Run(workspace=ws, workflow=workflow, version=version, state=RunState.QUEUED) for ws in full
    )


def _passes(worker: ManagedProcess) -> list[dict[str, float]]:
    return [ast.literal_eval(m.group(1)) for m in _TASK_DONE.finditer(worker.log())]


def _sends(beat: ManagedProcess) -> int:
    return beat.log().count("Sending due task reap-stale-nodes")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_beats_one_leader_a_killed_leader_is_replaced_and_passes_never_overlap():
    _slow_reaper_passes()
    worker = start_worker("reaper", queues="maintenance", concurrency=4, **_FAST)
    beats = [_start_beat("beat-a"), _start_beat("beat-b")]
    try:
        for beat in beats:
            beat.wait_for_log("beat: ", timeout=60)
        time.sleep(4)
        leaders = [b for b in beats if "beat: leading as" in b.log()]
        assert len(leaders) == 1, [b.log()[-2000:] for b in beats]
        leader = leaders[0]
        follower = next(b for b in beats if b is not leader)
        assert "beat: waiting, the lease is held by" in follower.log()
        assert _sends(leader) > 5
        assert _sends(follower) == 0

        leader.kill()
        killed_at, killed_wall = time.monotonic(), time.time()
        follower.wait_for_log("beat: leading as", timeout=60)
        while _sends(follower) == 0:
            assert time.monotonic() - killed_at < 60, follower.log()[-3000:]
            time.sleep(0.05)
        took_over_s = time.monotonic() - killed_at
        # The lease outlives its dead holder by at most one TTL; the waiter looks every TTL/3.
        assert took_over_s < TTL_S * 1.34 + 2
        time.sleep(3)
    finally:
        for beat in beats:
            beat.stop()
        worker.stop()
        purge_maintenance_queue()

    passes = _passes(worker)
    ran = sorted((p["started_at"], p["finished_at"]) for p in passes if not p["skipped"])
    assert len(ran) >= 10, worker.log()[-3000:]
    assert sum(p["skipped"] for p in passes) > 0  # passes did contend for the lease
    for (_, previous_end), (start, _) in itertools.pairwise(ran):
        assert start >= previous_end, "two reaper passes overlapped"
    assert any(start > killed_wall for start, _ in ran)  # passes went on after the leader died
