"""`map` nodes (SPEC §12) end to end: one child run per item across real worker processes.

At most `max_parallel` children run at once; the output is their outputs in
item order; a failing item fails the node (its siblings cancelled), is left
out, or is collected as `{error}`, as `on_item_error` says.
"""

import time

import pytest

from server.accounts.models import Workspace
from server.runs.models import NodeRun, Run
from tests.support.documents import node, one_step, slow_agent
from tests.support.runs import (
    assert_log_is_sound,
    events_of,
    nodes_of,
    save_workflow,
    start_run,
    wait_for_run,
)

pytestmark = [pytest.mark.django_db(transaction=True)]

FAILING_ITEM = 13


@pytest.fixture(autouse=True)
def _room_for_children(owner):
    """Every child is a run: the workspace's cap of running runs must leave room for them."""
    Workspace.objects.filter(pk=owner[1].pk).update(max_running_runs=200)


def doubler(api, **step) -> str:
    """A one-transformer child: item 13 fails, the others are doubled."""
    step.setdefault(
        "expression",
        f'run.item = {FAILING_ITEM} ? $error("item {FAILING_ITEM} is bad") : '
        '{"double": run.item * 2, "index": run.index}',
    )
    return save_workflow(
        api,
        one_step(
            node("step", **step),
            output="step",
            name="Doubler",
            inputs={
                "item": {"type": "number", "required": True},
                "index": {"type": "number", "required": True},
            },
        ),
    )


def mapping(child_id: str, **config) -> dict:
    config.setdefault("items", "[0..199]")
    return one_step(node("fan", "map", workflow=child_id, **config), output="fan", name="Map")


def children_of(run_id) -> list[Run]:
    return list(Run.objects.filter(parent_run_id=run_id).order_by("parent_step"))


def most_at_once(children: list[Run]) -> int:
    """The most children alive at one moment (from creation to end)."""
    moments = sorted(
        [(c.created_at, 1) for c in children] + [(c.finished_at, -1) for c in children],
        key=lambda moment: (moment[0], moment[1]),
    )
    alive = peak = 0
    for _, change in moments:
        alive += change
        peak = max(peak, alive)
    return peak


def expected(index: int) -> dict:
    return {"output": {"double": index * 2, "index": index}}


def test_skip_leaves_the_failed_item_out_and_keeps_item_order(api, worker):
    run_id = start_run(api, mapping(doubler(api), max_parallel=40, on_item_error="skip"))["id"]
    finished = wait_for_run(run_id, timeout=90)
    assert finished.state == "succeeded", finished.error
    output = finished.output["output"]
    assert output == [expected(i) for i in range(200) if i != FAILING_ITEM]
    children = children_of(run_id)
    assert [c.parent_step for c in children] == list(range(200))
    assert [c.inputs for c in children[:2]] == [{"item": 0, "index": 0}, {"item": 1, "index": 1}]
    assert most_at_once(children) <= 40
    events = events_of(run_id)
    progress = [e.data for e in events if e.type == "node.progress"]
    assert progress[0] == {"done": 0, "total": 200, "failed": 0}
    assert progress[-1] == {"done": 200, "total": 200, "failed": 1}
    assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)
    child_events = [e.data for e in events if e.type == "node.child"]
    ends = [d for d in child_events if d["state"] in ("succeeded", "failed")]
    assert sorted(d["index"] for d in ends) == list(range(200))
    assert [d["index"] for d in ends if d["state"] == "failed"] == [FAILING_ITEM]
    assert nodes_of(run_id)["fan"].worker == ""
    assert_log_is_sound(run_id)


def test_collect_puts_the_error_in_the_failed_items_place(api, worker):
    run_id = start_run(api, mapping(doubler(api), max_parallel=50, on_item_error="collect"))["id"]
    finished = wait_for_run(run_id, timeout=90)
    assert finished.state == "succeeded", finished.error
    output = finished.output["output"]
    assert len(output) == 200
    assert f"item {FAILING_ITEM} is bad" in output[FAILING_ITEM]["error"]["message"]
    assert [o for i, o in enumerate(output) if i != FAILING_ITEM] == [
        expected(i) for i in range(200) if i != FAILING_ITEM
    ]


def test_fail_fails_the_node_and_cancels_the_other_children(api, worker):
    run_id = start_run(api, mapping(doubler(api), max_parallel=20, on_item_error="fail"))["id"]
    finished = wait_for_run(run_id, timeout=60)
    assert finished.state == "failed"
    fan = nodes_of(run_id)["fan"]
    assert fan.state == "failed"
    assert f"item {FAILING_ITEM} failed" in fan.error["message"]
    deadline = time.monotonic() + 5
    while Run.objects.filter(parent_run_id=run_id, state__in=("queued", "running")).exists():
        assert time.monotonic() < deadline, "children still run after the node failed"
        time.sleep(0.05)
    # Not every item ran: the node failed as soon as item 13 did.
    assert len(children_of(run_id)) < 200


def test_max_parallel_bounds_the_children_running_at_once(api, worker):
    run_id = start_run(api, mapping(doubler(api), items="[20..49]", max_parallel=3))["id"]
    finished = wait_for_run(run_id, timeout=60)
    assert finished.state == "succeeded", finished.error
    assert finished.output["output"] == [
        {"output": {"double": item * 2, "index": item - 20}} for item in range(20, 50)
    ]
    assert most_at_once(children_of(run_id)) <= 3


def test_an_empty_list_outputs_an_empty_list(api, worker):
    run_id = start_run(api, mapping(doubler(api), items="[]"))["id"]
    finished = wait_for_run(run_id)
    assert finished.state == "succeeded", finished.error
    assert finished.output == {"output": []}
    assert children_of(run_id) == []


def test_a_list_over_the_limit_fails_the_node_with_a_clear_error(api, worker):
    run_id = start_run(api, mapping(doubler(api), items="[0..10000]"))["id"]
    finished = wait_for_run(run_id)
    assert finished.state == "failed"
    fan = NodeRun.objects.get(run_id=run_id, node_id="fan")
    assert fan.error["code"] == "too_many_items"
    assert "10,001" in fan.error["message"]
    assert children_of(run_id) == []


def test_cancelling_the_parent_cancels_every_child_within_two_seconds(api, worker):
    slow = save_workflow(api, slow_agent(30_000, name="Slow", inputs={"item": {"type": "number"}}))
    run_id = start_run(api, mapping(slow, items="[1..30]", max_parallel=10))["id"]
    deadline = time.monotonic() + 20
    while Run.objects.filter(parent_run_id=run_id, state="running").count() < 10:
        assert time.monotonic() < deadline, "the children never started"
        time.sleep(0.05)
    cancelled_at = time.monotonic()
    assert api.post(f"/api/v1/runs/{run_id}/cancel/").status_code in (200, 202)
    while Run.objects.filter(parent_run_id=run_id, state__in=("queued", "running")).exists():
        assert time.monotonic() - cancelled_at < 2, "children still run 2 s after the cancel"
        time.sleep(0.02)
    assert len(children_of(run_id)) == 10
    assert {c.state for c in children_of(run_id)} == {"cancelled"}
