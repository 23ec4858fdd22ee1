"""An agent's workflow tool in a real worker: a child run, its output as the tool's result."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from server.runs.models import AgentStep, Run
from tests.support.documents import document, edge, node
from tests.support.processes import start_worker
from tests.support.runs import assert_log_is_sound, events_of, start_run, wait_for_run
from tests.tools.agents import tool_agent
from tests.tools.conftest import WORKER_ENV
from tests.tools.helpers import http, pipeline
from tests.tools.test_rollback import wait_for
from workers.engine.validation import validate_document

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("nesting_worker")]

# Shallow, so the depth limit is reached by a chain of three workflows.
MAX_DEPTH = 2


@pytest.fixture(scope="module")
def nesting_worker(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        process = start_worker(
            "workflow-tool-worker",
            concurrency=8,
            beat=True,
            AGENTLOOM_MAX_CHILD_DEPTH=str(MAX_DEPTH),
            **WORKER_ENV,
        )
    yield process
    process.stop()


def workflow_tool(name: str, workflow: str) -> dict[str, Any]:
    return {
        "kind": "workflow",
        "name": name,
        "description": f"Runs the {name} workflow",
        "workflow": workflow,
        "parameters": {"type": "object", "properties": {"topic": {"type": "string"}}},
    }


def saved(api: Any, doc: dict[str, Any]) -> str:
    answer = api.post("/api/v1/workflows/", {"document": doc}, format="json")
    assert answer.status_code == 201, answer.content
    return str(answer.json()["id"])


def shout(api: Any) -> str:
    """A workflow with one required input, ``topic``, that answers it in capitals."""
    return saved(
        api,
        document(
            [
                node("input", "input"),
                node("loud", expression="$uppercase(run.topic)"),
                node("output", "output"),
            ],
            [edge("input", "loud"), edge("loud", "output", target_handle="answer")],
            inputs={"topic": {"type": "string", "required": True}},
        ),
    )


def tool_results(run_id: Any) -> list[dict[str, Any]]:
    return [e.data for e in events_of(run_id) if e.type == "node.tool_result"]


def test_a_workflow_tool_runs_a_child_and_answers_with_its_output(api):
    child_workflow = shout(api)
    doc = tool_agent('call shout({"topic": "looms"})', [workflow_tool("shout", child_workflow)])
    run = start_run(api, doc)

    parent = wait_for_run(run["id"])
    assert parent.state == "succeeded", parent.error
    child = Run.objects.get(parent_run_id=run["id"])
    assert child.state == "succeeded"
    assert child.output == {"output": {"answer": "LOOMS"}}
    assert str(child.workflow_id) == child_workflow
    assert (child.parent_node, child.parent_step, child.trigger) == ("agent", 1, "workflow")
    [result] = tool_results(run["id"])
    assert result["status"] == "ok"
    assert json.loads(result["preview"]) == {"output": {"answer": "LOOMS"}}
    step = AgentStep.objects.get(run_id=run["id"], kind="tool")
    assert step.result["child_run"] == str(child.pk)
    assert "LOOMS" in json.dumps(parent.output)
    listed = api.get(f"/api/v1/runs/{child.pk}/").json()
    assert (listed["parent_run"], listed["parent_node"]) == (run["id"], "agent")
    assert_log_is_sound(run["id"])
    assert_log_is_sound(child.pk)


def test_arguments_that_are_not_the_childs_inputs_are_the_tools_error(api):
    tools = [workflow_tool("shout", shout(api))]
    run = start_run(api, tool_agent('call shout({"volume": 11})', tools))

    assert wait_for_run(run["id"]).state == "succeeded"
    [result] = tool_results(run["id"])
    assert result["status"] == "error"
    assert result["error"]["code"] == "invalid_inputs"
    assert "volume: not an input of this workflow" in result["error"]["message"]
    assert not Run.objects.filter(parent_run_id=run["id"]).exists()


def test_a_workflow_of_no_workspace_is_not_found(api):
    tools = [workflow_tool("ghost", str(uuid.uuid4()))]
    run = start_run(api, tool_agent('call ghost({"topic": "x"})', tools))

    assert wait_for_run(run["id"]).state == "succeeded"
    [result] = tool_results(run["id"])
    assert result["error"]["code"] == "workflow_not_found"


def test_child_runs_nest_no_deeper_than_the_limit(api):
    # top (depth 0) → middle (1) → bottom (2) → shout would be depth 3.
    bottom = saved(
        api, tool_agent('call deeper({"topic": "x"})', [workflow_tool("deeper", shout(api))])
    )
    middle = saved(api, tool_agent("call deeper({})", [workflow_tool("deeper", bottom)]))
    run = start_run(api, tool_agent("call deeper({})", [workflow_tool("deeper", middle)]))

    assert wait_for_run(run["id"], timeout=90).state == "succeeded"
    middle_run = Run.objects.get(parent_run_id=run["id"])
    bottom_run = Run.objects.get(parent_run_id=middle_run.pk)
    assert not Run.objects.filter(parent_run_id=bottom_run.pk).exists()
    [refused] = tool_results(bottom_run.pk)
    assert refused["error"]["code"] == "depth_exceeded"
    assert "depth_exceeded" in json.dumps(Run.objects.get(pk=run["id"]).output)


def test_a_workflow_tool_running_its_own_workflow_is_refused_at_validation(api):
    workflow = shout(api)
    doc = tool_agent('call me({"topic": "x"})', [workflow_tool("me", workflow)])
    answer = api.post(f"/api/v1/workflows/{workflow}/validate/", {"document": doc}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["valid"] is False
    [problem] = [p for p in answer.json()["problems"] if p["severity"] == "error"]
    assert (problem["code"], problem["node_id"]) == ("invalid_value", "agent")
    assert problem["field"].endswith("tools[0].workflow")
    # Another workflow's id, or none known, is not a problem.
    assert not validate_document(doc, workflow_id=str(uuid.uuid4()))
    assert not validate_document(doc)


def test_cancelling_the_parent_cancels_its_running_child(api, fresh_api):
    slow = saved(api, pipeline(http("wait", fresh_api.url + "/block")))
    tool = workflow_tool("slow", slow)
    tool["parameters"] = {"type": "object", "properties": {}}
    run = start_run(api, tool_agent("call slow({})", [tool]))
    wait_for(fresh_api.blocked.is_set)
    child = Run.objects.get(parent_run_id=run["id"])

    assert api.post(f"/api/v1/runs/{run['id']}/cancel/").status_code in (200, 202)
    cancelled_at = time.monotonic()
    assert wait_for_run(child.pk, timeout=2).state == "cancelled"
    assert time.monotonic() - cancelled_at < 2
    assert wait_for_run(run["id"]).state == "cancelled"
    fresh_api.released.set()
    assert_log_is_sound(child.pk)


def test_a_parent_that_fails_stops_its_running_child(api, fresh_api):
    slow = saved(api, pipeline(http("wait", fresh_api.url + "/block")))
    tool = workflow_tool("slow", slow)
    tool["parameters"] = {"type": "object", "properties": {}}
    # The agent's own time runs out while the child waits: the node, then the run, fail.
    doc = tool_agent("call slow({})", [tool], timeout_s=2, retry={"max_attempts": 1})
    run = start_run(api, doc)
    wait_for(fresh_api.blocked.is_set)
    child = Run.objects.get(parent_run_id=run["id"])

    assert wait_for_run(run["id"], timeout=30).state == "failed"
    assert wait_for_run(child.pk, timeout=2).state == "cancelled"
    fresh_api.released.set()
    assert_log_is_sound(child.pk)
