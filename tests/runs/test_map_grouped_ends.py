"""A `map` node's child ends are grouped: into the advance task already queued, or into the call
that is advancing the node.

Its own module: its worker runs no reaper, whose sweep (every second) would
advance the waiting node too, and the module `worker` fixture of the other map
tests runs one. The lock is held here by another connection instead, and a
queued advance is stood for by its request in the cache.
"""

import socket
import time

import pytest
from django.core.cache import cache

from server.accounts.models import Workspace
from server.runs.models import NodeRun, Run
from server.runs.publisher import run_events_committed
from server.runs.services import flow_nodes
from tests.runs.test_map_node import children_of
from tests.support.documents import document, edge, node, slow_agent
from tests.support.processes import start_worker
from tests.support.recovery import Reaper
from tests.support.runs import (
    assert_log_is_sound,
    events_of,
    save_workflow,
    start_run,
    wait_for_run,
)
from tests.support.services import holding_advisory_lock

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_without_reaper(owner):
    Workspace.objects.filter(pk=owner[1].pk).update(max_running_runs=200)
    process = start_worker("map-ends", concurrency=8)
    yield process
    process.stop()


def six_slow_items(api) -> str:
    """A run of a map over six slow children, all started; this process missed its node.waiting."""
    slow = save_workflow(
        api, slow_agent(1500, name="Slow item", inputs={"item": {"type": "number"}})
    )
    root_map = document(
        [
            node("fan", "map", workflow=slow, items="[1..6]", max_parallel=6),
            node("output", "output"),
        ],
        [edge("fan", "output")],
        name="Root map",
    )
    run_events_committed.disconnect(dispatch_uid="runs.flow_nodes")
    try:
        run_id = start_run(api, root_map)["id"]
    finally:
        run_events_committed.connect(flow_nodes.on_run_events, dispatch_uid="runs.flow_nodes")
    return run_id


def queued_advance(run_id: str, node_id: str) -> str:
    """An advance of the node asked for and not begun (its task queued, or lost): its key."""
    key = flow_nodes.advance_request_key(run_id, node_id)
    assert cache.add(key, 1, timeout=60)
    return key


def wait_for_ended_children(run_id: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while Run.objects.filter(parent_run_id=run_id, state="succeeded").count() < count:
        assert time.monotonic() < deadline, "the children never ended"
        time.sleep(0.05)
    time.sleep(0.5)  # what the workers do after each end is done by now


def assert_waiting_with_no_end_reported(run_id: str) -> None:
    assert not Run.objects.filter(parent_run_id=run_id, reported_to_parent=True).exists()
    assert NodeRun.objects.get(run_id=run_id, node_id="fan").state == "waiting"


def assert_finished_with_six_items(run_id: str) -> None:
    finished = wait_for_run(run_id)
    assert finished.state == "succeeded", finished.error
    assert len(finished.output["output"]["fan"]) == 6
    ends = [e.data for e in events_of(run_id) if e.type == "node.child"]
    assert sorted(d["index"] for d in ends if d["state"] == "succeeded") == list(range(6))
    assert_log_is_sound(run_id)


def test_ends_while_an_advance_is_queued_are_all_counted_by_it(api, worker_without_reaper):
    """The children's ends queue no task of their own: the one queued counts them in one call."""
    run_id = six_slow_items(api)
    flow_nodes.advance(run_id, "fan")
    key = queued_advance(run_id, "fan")
    wait_for_ended_children(run_id, 6)
    assert_waiting_with_no_end_reported(run_id)
    flow_nodes.advance_requested(run_id, "fan")  # what the queued task does
    assert cache.get(key) is None, "ends after this advance began must ask for another"
    assert_finished_with_six_items(run_id)
    progress = [e.data["done"] for e in events_of(run_id) if e.type == "node.progress"]
    assert progress == [0, 6]


def test_an_advance_lost_with_its_task_is_made_by_the_sweep(api, worker_without_reaper):
    run_id = six_slow_items(api)
    flow_nodes.advance(run_id, "fan")
    queued_advance(run_id, "fan")  # and never delivered
    wait_for_ended_children(run_id, 6)
    assert_waiting_with_no_end_reported(run_id)
    assert flow_nodes.sweep() == 1
    assert_finished_with_six_items(run_id)


def test_with_redis_out_of_reach_an_end_advances_at_once(
    api, worker_without_reaper, settings, fast_recovery
):
    """No advance task can be queued: the end advances the node itself, as before tasks.

    The node's end is committed; the task of the node after it, which the
    broker could not take either, is sent again by the reaper.
    """
    run_id = six_slow_items(api)
    flow_nodes.advance(run_id, "fan")
    key = queued_advance(run_id, "fan")
    wait_for_ended_children(run_id, 6)
    cache.delete(key)
    reachable = settings.CELERY_BROKER_URL
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed.getsockname()[1]}/0"
    flow_nodes.request_advance(run_id, "fan")
    assert cache.get(key) is None
    assert Run.objects.filter(parent_run_id=run_id, reported_to_parent=True).count() == 6
    assert NodeRun.objects.get(run_id=run_id, node_id="fan").state == "succeeded"
    settings.CELERY_BROKER_URL = reachable
    with Reaper(interval=0.2):
        assert_finished_with_six_items(run_id)


def advancing(run_id: str, node_id: str):
    """Another connection holds the node's advance lock, as a call advancing it would."""
    return holding_advisory_lock(f"agentloom:advance:{run_id}:{node_id}")


def test_ends_found_while_another_call_advances_are_left_to_it(api, worker_without_reaper):
    """Grouped ends: a call finding the node advanced returns; the holder looks again for all."""
    run_id = six_slow_items(api)
    with advancing(run_id, "fan"):
        flow_nodes.advance(run_id, "fan")
        assert children_of(run_id) == []
    flow_nodes.advance(run_id, "fan")
    assert len(children_of(run_id)) == 6
    with advancing(run_id, "fan"):
        wait_for_ended_children(run_id, 6)
        # The advances the ends asked for found the lock taken and left the ends.
        assert_waiting_with_no_end_reported(run_id)
    flow_nodes.advance(run_id, "fan")
    assert_finished_with_six_items(run_id)
