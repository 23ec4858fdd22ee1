"""`workflow` nodes (SPEC §12) end to end: API → Postgres → real worker processes.

The node waits without a worker while its child runs; with `repeat_until`
it runs the child again with its previous output until the condition holds,
at most `max_iterations` times. Cancel reaches the children, a failed child
fails the node, a resumed parent keeps the children whose inputs match.
"""

import time

import pytest

from server.runs.models import NodeRun, Run
from server.runs.publisher import run_events_committed
from server.runs.services import flow_nodes
from server.runs.services.resume import resume_run
from tests.support.documents import document, edge, node, one_step, slow_agent
from tests.support.runs import (
    assert_log_is_sound,
    events_of,
    nodes_of,
    run_workflow,
    save_workflow,
    start_run,
    wait_for_run,
)

pytestmark = [pytest.mark.django_db(transaction=True)]


def counter(api, **transformer) -> str:
    """A child that counts its iterations: `previous` is its own last run output."""
    transformer.setdefault(
        "expression",
        '{"count": ($exists(run.previous) ? run.previous.output.count : run.start) + 1}',
    )
    return save_workflow(
        api,
        one_step(
            node("step", **transformer),
            output="step",
            name="Counter",
            inputs={
                "start": {"type": "number", "required": True},
                "previous": {"type": "object", "required": False},
            },
        ),
    )


def parent(child_id: str, **config) -> dict:
    config.setdefault("inputs", '{"start": run.start}')
    return one_step(
        node("loop", "workflow", workflow=child_id, **config),
        output="loop",
        name="Parent",
        inputs={"start": {"type": "number", "required": True}},
    )


def children_of(run_id) -> list[Run]:
    return list(Run.objects.filter(parent_run_id=run_id).order_by("parent_step"))


def test_repeat_until_stops_at_the_iteration_where_it_holds(api, worker):
    child = counter(api)
    parent_id = save_workflow(
        api, parent(child, repeat_until="output.output.count >= 3", max_iterations=10)
    )
    run_id = run_workflow(api, parent_id, {"start": 0})["id"]
    finished = wait_for_run(run_id)
    assert finished.state == "succeeded", finished.error
    assert finished.output == {"output": {"output": {"count": 3}}}
    children = children_of(run_id)
    assert [c.parent_step for c in children] == [1, 2, 3]
    assert all(c.state == "succeeded" and c.parent_node == "loop" for c in children)
    assert children[1].inputs["previous"] == {"output": {"count": 1}}
    events = events_of(run_id)
    waiting = [e for e in events if e.type == "node.waiting"]
    assert waiting[0].data["kind"] == "children"
    assert waiting[0].data["max_iterations"] == 10
    child_events = [
        (e.data["iteration"], e.data["state"]) for e in events if e.type == "node.child"
    ]
    started = [i for i, state in child_events if state in ("queued", "running")]
    ended = [i for i, state in child_events if state == "succeeded"]
    assert started == [1, 2, 3]
    assert ended == [1, 2, 3]
    types = [e.type for e in events if e.node_id == "loop"]
    assert types[0] == "node.waiting"
    assert types[-1] == "node.succeeded"
    assert nodes_of(run_id)["loop"].worker == ""
    assert_log_is_sound(run_id)


def test_repeat_until_stops_at_max_iterations(api, worker):
    child = counter(api)
    parent_id = save_workflow(api, parent(child, repeat_until="false", max_iterations=4))
    run_id = run_workflow(api, parent_id, {"start": 10})["id"]
    finished = wait_for_run(run_id)
    assert finished.state == "succeeded", finished.error
    assert finished.output == {"output": {"output": {"count": 14}}}
    assert len(children_of(run_id)) == 4
    logs = [e.data["message"] for e in events_of(run_id) if e.type == "node.log"]
    assert any("max_iterations" in message for message in logs)


def test_without_repeat_until_the_child_runs_once(api, worker):
    child = counter(api)
    run_id = start_run(api, parent(child), {"start": 41})["id"]
    finished = wait_for_run(run_id)
    assert finished.state == "succeeded", finished.error
    assert finished.output == {"output": {"output": {"count": 42}}}
    assert len(children_of(run_id)) == 1


def test_a_failed_child_fails_the_node_with_its_error(api, worker):
    child = counter(api, expression='$error("the child broke")')
    run_id = start_run(api, parent(child), {"start": 0})["id"]
    finished = wait_for_run(run_id)
    assert finished.state == "failed"
    loop = nodes_of(run_id)["loop"]
    assert loop.state == "failed"
    assert "iteration 1 failed" in loop.error["message"]
    assert finished.error["node_id"] == "loop"


def test_cancelling_the_parent_cancels_its_children_within_two_seconds(api, worker):
    slow = save_workflow(api, slow_agent(30_000, name="Slow"))
    run_id = start_run(api, parent(slow, inputs="{}"), {"start": 0})["id"]
    deadline = time.monotonic() + 20
    while not Run.objects.filter(parent_run_id=run_id, state="running").exists():
        assert time.monotonic() < deadline, "the child never started"
        time.sleep(0.05)
    cancelled_at = time.monotonic()
    assert api.post(f"/api/v1/runs/{run_id}/cancel/").status_code in (200, 202)
    (child,) = children_of(run_id)
    ended = wait_for_run(child.pk, timeout=5)
    assert time.monotonic() - cancelled_at < 2
    assert ended.state == "cancelled"
    assert Run.objects.get(pk=run_id).state == "cancelled"
    assert NodeRun.objects.get(run_id=run_id, node_id="loop").state == "cancelled"


def test_a_resumed_parent_reuses_the_children_whose_inputs_match(api, worker):
    child = counter(api)
    doc = parent(child, repeat_until="output.output.count >= 2", max_iterations=3)
    doc["nodes"].append(node("boom", expression='$error("after the loop")'))
    doc["edges"].append(edge("loop", "boom"))
    doc["edges"].append(edge("boom", "output", target_handle="boom"))
    run_id = start_run(api, doc, {"start": 0})["id"]
    first = wait_for_run(run_id)
    assert first.state == "failed"
    assert nodes_of(run_id)["loop"].state == "succeeded"
    resumed = resume_run(first, user=None)
    second = wait_for_run(resumed.pk)
    assert second.state == "failed"
    # The loop's config and input are unchanged: its output is kept, no child runs again.
    assert children_of(resumed.pk) == []
    succeeded = [e for e in events_of(resumed.pk) if e.type == "node.succeeded"]
    assert [e.data["reused"] for e in succeeded if e.node_id == "loop"] == [True]


def test_the_reaper_starts_the_children_of_a_node_whose_call_was_lost(api, worker):
    """A crash between the commit and the call that starts the children loses nothing."""
    child = counter(api)
    doc = document(
        [node("loop", "workflow", workflow=child, inputs='{"start": 5}'), node("output", "output")],
        [edge("loop", "output")],
        name="Root loop",
    )
    parent_id = save_workflow(api, doc)
    # This process misses the node.waiting of the run it starts, as a crashed one would.
    run_events_committed.disconnect(dispatch_uid="runs.flow_nodes")
    try:
        run_id = run_workflow(api, parent_id)["id"]
    finally:
        run_events_committed.connect(flow_nodes.on_run_events, dispatch_uid="runs.flow_nodes")
    assert NodeRun.objects.get(run_id=run_id, node_id="loop").state == "waiting"
    flow_nodes.sweep()
    finished = wait_for_run(run_id)
    assert finished.state == "succeeded", finished.error
    assert finished.output == {"output": {"loop": {"output": {"count": 6}}}}
    assert len(children_of(run_id)) == 1
    assert flow_nodes.sweep() == 0
    assert_log_is_sound(run_id)


def test_hostile_config_values_are_refused_on_save(api):
    child = counter(api)
    for hostile in (True, 2.0, "3", [1]):
        response = api.post(
            "/api/v1/workflows/",
            {"document": parent(child, max_iterations=hostile, repeat_until="false")},
            format="json",
        )
        assert response.status_code == 400, (hostile, response.content)
        codes = {(p["code"], p.get("node_id")) for p in response.json()["problems"]}
        assert ("invalid_type", "loop") in codes
    # In range or not, an integer is saved with its problem, and a run is refused.
    for bad in (0, 101, 10**400):
        response = api.post(
            "/api/v1/workflows/",
            {"document": parent(child, max_iterations=bad, repeat_until="false")},
            format="json",
        )
        assert response.status_code == 201, response.content
        codes = {p["code"] for p in response.json()["problems"] if p["severity"] == "error"}
        assert codes == {"out_of_range"}
        refused = api.post(
            f"/api/v1/workflows/{response.json()['id']}/runs/",
            {"inputs": {"start": 1}},
            format="json",
        )
        assert refused.status_code == 400
        assert refused.json()["code"] == "invalid_workflow"


def test_recursion_is_refused_when_the_child_runs_its_parent_back(api):
    child = counter(api)
    parent_id = save_workflow(api, parent(child))
    # Now the child runs the parent: saving it names the recursion.
    current = api.get(f"/api/v1/workflows/{child}/").json()
    looped = current["document"]
    looped["nodes"].append(node("back", "workflow", workflow=parent_id, inputs="{}"))
    looped["edges"].append(edge("step", "back"))
    response = api.put(
        f"/api/v1/workflows/{child}/",
        {"document": looped, "version": current["version"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    problems = [p for p in response.json()["problems"] if p["severity"] == "error"]
    assert [(p["code"], p["node_id"]) for p in problems] == [("invalid_value", "back")]
    assert "runs this workflow back" in problems[0]["message"]
    # And a node naming its own workflow.
    own = api.get(f"/api/v1/workflows/{parent_id}/").json()
    own["document"]["nodes"][1]["data"]["config"]["workflow"] = parent_id
    response = api.put(
        f"/api/v1/workflows/{parent_id}/",
        {"document": own["document"], "version": own["version"]},
        format="json",
    )
    problems = [p for p in response.json()["problems"] if p["severity"] == "error"]
    assert [p["code"] for p in problems] == ["invalid_value"]
    assert "its own workflow" in problems[0]["message"]
