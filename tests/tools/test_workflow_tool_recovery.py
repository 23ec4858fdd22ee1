"""A worker SIGKILLed while an agent waits for its child run: the heir waits for the same child.

Its own worker processes (not the shared fixture), since it kills one.
"""

import json

import pytest

from server.runs.models import AgentStep, NodeRun, Run
from tests.support.processes import start_worker
from tests.support.runs import assert_log_is_sound, start_run, wait_for_run
from tests.tools.agents import tool_agent
from tests.tools.conftest import WORKER_ENV
from tests.tools.helpers import http, pipeline
from tests.tools.test_rollback import wait_for
from tests.tools.test_workflow_tool import saved, workflow_tool

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_killed_worker_while_waiting_for_a_child_starts_no_second_child(api, fresh_api):
    slow = saved(api, pipeline(http("wait", fresh_api.url + "/block")))
    tool = workflow_tool("slow", slow)
    tool["parameters"] = {"type": "object", "properties": {}}
    first = start_worker("child-doomed", concurrency=4, beat=True, **WORKER_ENV)
    try:
        run = start_run(api, tool_agent("call slow({})", [tool]))
        wait_for(fresh_api.blocked.is_set, timeout=60)
    finally:
        first.kill()
    fresh_api.released.set()
    # The child was started, and the agent's call has no result yet.
    assert Run.objects.filter(parent_run_id=run["id"]).count() == 1
    assert [s.kind for s in AgentStep.objects.filter(run_id=run["id"])] == ["model"]

    second = start_worker("child-heir", concurrency=4, beat=True, **WORKER_ENV)
    try:
        parent = wait_for_run(run["id"], timeout=90)
    finally:
        second.stop()

    assert parent.state == "succeeded", parent.error
    [child] = Run.objects.filter(parent_run_id=run["id"])
    assert child.state == "succeeded"
    assert "late" in json.dumps(child.output)
    node = NodeRun.objects.get(run_id=run["id"], node_id="agent")
    assert node.attempt >= 2  # taken over after the worker was lost
    step = AgentStep.objects.get(run_id=run["id"], kind="tool")
    assert step.result == {
        "status": "ok",
        "bytes": step.result["bytes"],
        "child_run": str(child.pk),
    }
    assert_log_is_sound(run["id"])
    assert_log_is_sound(child.pk)
