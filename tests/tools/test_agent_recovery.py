"""A worker SIGKILLed between two tool calls: the agent goes on from its last recorded step.

The model is a local OpenAI-compatible server reached through a workspace
credential; the turn after the first tool result waits until the test
releases it, and the worker is killed while it waits. Its own worker
processes (not the shared fixture), since it kills one.
"""

import pytest

from server.runs.models import AgentStep, NodeRun, SideEffect
from tests.support.processes import start_worker
from tests.support.runs import assert_log_is_sound, events_of, start_run, wait_for_run
from tests.tools.agents import SteppingModelServer, http_tool, tool_agent
from tests.tools.conftest import WORKER_ENV
from tests.tools.test_rollback import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _credential(api, workspace, base_url: str) -> str:
    answer = api.post(
        "/api/v1/credentials/",
        {
            "workspace": str(workspace.pk),
            "name": "local model",
            "provider": "openai_compatible",
            "secret": {"api_key": "sk-local-test"},
            "config": {"api_base": base_url},
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    return str(answer.json()["id"])


def test_killed_worker_between_two_tool_calls_repeats_neither(api, owner, fresh_api):
    with SteppingModelServer(hold_after=1) as model:
        credential = _credential(api, owner[1], model.base_url)
        tools = [
            http_tool("lookup", fresh_api.url + "/json"),
            http_tool(
                "record",
                fresh_api.url + "/orders",
                method="POST",
                body='{"q": "{{ $.args.q }}"}',
                side_effect="irreversible",
                idempotency_key="{{ $.step.run }}-{{ $.step.index }}",
            ),
        ]
        prompt = 'call lookup({"q": "a"})\ncall record({"q": "b"})'
        doc = tool_agent(prompt, tools, model="openai_compatible/stepper", credential=credential)
        first = start_worker("agent-doomed", concurrency=4, beat=True, **WORKER_ENV)
        try:
            run = start_run(api, doc)
            wait_for(model.waiting.is_set, timeout=60)
        finally:
            first.kill()
        model.released.set()
        # The first call's result was recorded before the worker died.
        assert [s.kind for s in AgentStep.objects.filter(run_id=run["id"])] == ["model", "tool"]

        second = start_worker("agent-heir", concurrency=4, beat=True, **WORKER_ENV)
        try:
            assert wait_for_run(run["id"], timeout=90).state == "succeeded"
        finally:
            second.stop()

    assert len(fresh_api.seen(prefix="/json")) == 1
    posts = fresh_api.seen("POST", "/orders")
    assert len(posts) == 1
    assert posts[0]["headers"]["Idempotency-Key"] == f"{run['id']}-3"
    effects = SideEffect.objects.filter(run_id=run["id"])
    assert [(e.step, e.method, e.path) for e in effects] == [(3, "POST", "/orders")]
    node = NodeRun.objects.get(run_id=run["id"], node_id="agent")
    assert node.attempt >= 2  # taken over after the worker was lost
    assert node.output["tool_calls"] == 2
    results = [e.data["name"] for e in events_of(run["id"]) if e.type == "node.tool_result"]
    assert results == ["lookup", "record"]
    assert_log_is_sound(run["id"])
