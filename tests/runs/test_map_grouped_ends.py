"""A `map` node's child ends are grouped: a call that finds another advancing the node leaves them.

Its own module: its worker runs no reaper, whose sweep (every second) would
advance the waiting node too, and the module `worker` fixture of the other map
tests runs one. The lock is held here by another connection instead.
"""

import time

import pytest

from server.accounts.models import Workspace
from server.runs.models import NodeRun, Run
from server.runs.publisher import run_events_committed
from server.runs.services import flow_nodes
from tests.runs.test_map_node import children_of, run, save
from tests.support.documents import document, edge, node, slow_agent
from tests.support.processes import start_worker
from tests.support.runs import assert_log_is_sound, events_of, wait_for_run
from tests.support.services import holding_advisory_lock

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_without_reaper(owner):
    Workspace.objects.filter(pk=owner[1].pk).update(max_running_runs=200)
    process = start_worker("map-ends", concurrency=8)
    yield process
    process.stop()


def advancing(run_id: str, node_id: str):
    """Another connection holds the node's advance lock, as a call advancing it would."""
    return holding_advisory_lock(f"agentloom:advance:{run_id}:{node_id}")


def test_ends_found_while_another_call_advances_are_left_to_it(api, worker_without_reaper):
    """Grouped ends: a call finding the node advanced returns; the holder looks again for all."""
    slow = save(api, slow_agent(1500, name="Slow item", inputs={"item": {"type": "number"}}))
    root_map = document(
        [
            node("fan", "map", workflow=slow, items="[1..6]", max_parallel=6),
            node("output", "output"),
        ],
        [edge("fan", "output")],
        name="Root map",
    )
    # The node waits from the run's start, and this process misses its
    # node.waiting: only the calls below advance it.
    run_events_committed.disconnect(dispatch_uid="runs.flow_nodes")
    try:
        run_id = run(api, save(api, root_map))
    finally:
        run_events_committed.connect(flow_nodes.on_run_events, dispatch_uid="runs.flow_nodes")
    with advancing(run_id, "fan"):
        flow_nodes.advance(run_id, "fan")
        assert children_of(run_id) == []
    flow_nodes.advance(run_id, "fan")
    assert len(children_of(run_id)) == 6
    with advancing(run_id, "fan"):
        deadline = time.monotonic() + 30
        while Run.objects.filter(parent_run_id=run_id, state="succeeded").count() < 6:
            assert time.monotonic() < deadline, "the children never ended"
            time.sleep(0.05)
        # The workers' calls after each end found the lock taken and left the ends.
        time.sleep(0.5)
        assert not Run.objects.filter(parent_run_id=run_id, reported_to_parent=True).exists()
        assert NodeRun.objects.get(run_id=run_id, node_id="fan").state == "waiting"
    flow_nodes.advance(run_id, "fan")
    finished = wait_for_run(run_id)
    assert finished.state == "succeeded", finished.error
    assert len(finished.output["output"]["fan"]) == 6
    ends = [e.data for e in events_of(run_id) if e.type == "node.child"]
    assert sorted(d["index"] for d in ends if d["state"] == "succeeded") == list(range(6))
    assert_log_is_sound(run_id)
