"""The agent tool loop in a real worker: real local HTTP and MCP servers, durable steps."""

from __future__ import annotations

import json

import pytest

from server.credentials.services import create_credential
from server.runs.models import AgentStep, NodeRun, RunEvent
from tests.support.mcp_server import McpTestServer
from tests.support.runs import events_of, start_run, wait_for_node, wait_for_run
from tests.tools.agents import http_tool, tool_agent
from tests.tools.test_rollback import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("tool_worker")]

TWO_CALLS = 'call lookup({"q": "looms"})\ncall add({"a": 2, "b": 3})'


@pytest.fixture(scope="module")
def mcp_server():
    with McpTestServer() as server:
        yield server


def _tool_events(run_id):
    return [
        (e.type, e.data["name"], e.data.get("status"))
        for e in events_of(run_id)
        if e.type in ("node.tool_call", "node.tool_result")
    ]


def test_an_agent_calls_an_http_and_an_mcp_tool_then_answers(api, fresh_api, mcp_server):
    mcp_server.calls.clear()
    tools = [
        http_tool("lookup", fresh_api.url + "/json", query={"q": "{{ $.args.q }}"}),
        {"kind": "mcp", "url": mcp_server.url, "tools": ["add"]},
    ]
    run = start_run(api, tool_agent(TWO_CALLS, tools))

    assert wait_for_run(run["id"]).state == "succeeded"
    assert _tool_events(run["id"]) == [
        ("node.tool_call", "lookup", None),
        ("node.tool_result", "lookup", "ok"),
        ("node.tool_call", "add", None),
        ("node.tool_result", "add", "ok"),
    ]
    output = NodeRun.objects.get(run_id=run["id"], node_id="agent").output
    assert output["tool_calls"] == 2
    assert '"q": "looms"' in output["text"]
    assert "- add: 5" in output["text"]
    assert output["usage"]["prompt_tokens"] > 0
    assert output["cost_usd"] > 0
    assert [r["path"] for r in fresh_api.seen()] == ["/json?q=looms"]
    assert mcp_server.calls["add"] == 1
    steps = AgentStep.objects.filter(run_id=run["id"]).order_by("index")
    assert [s.kind for s in steps] == ["model", "tool", "model", "tool", "model"]
    assert [s.call_id for s in steps if s.kind == "tool"] == ["call_1", "call_2"]


def test_a_refused_address_is_the_tools_result_not_a_crash(api, fresh_api):
    tools = [http_tool("lookup", "http://10.1.2.3/secret")]
    run = start_run(api, tool_agent('call lookup({"q": "x"})', tools))

    assert wait_for_run(run["id"]).state == "succeeded"
    result = next(e for e in events_of(run["id"]) if e.type == "node.tool_result")
    assert result.data["status"] == "error"
    assert result.data["error"]["code"] == "egress_refused"
    output = NodeRun.objects.get(run_id=run["id"], node_id="agent").output
    assert "egress_refused" in output["text"]


def test_max_tool_calls_ends_the_loop_with_its_reason(api, fresh_api):
    tools = [http_tool("lookup", fresh_api.url + "/json")]
    prompt = 'call lookup({"q": "a"})\ncall lookup({"q": "b"})'
    run = start_run(api, tool_agent(prompt, tools, max_tool_calls=1))

    finished = wait_for_run(run["id"])
    assert finished.state == "failed"
    node = NodeRun.objects.get(run_id=run["id"], node_id="agent")
    assert node.error["code"] == "max_tool_calls"
    assert "max_tool_calls is 1" in node.error["message"]
    assert len(fresh_api.seen()) == 1


def test_a_resumed_run_reuses_the_recorded_steps(api, fresh_api):
    tools = [
        http_tool("lookup", fresh_api.url + "/json"),
        http_tool("slow", fresh_api.url + "/block"),
    ]
    prompt = 'call lookup({"q": "a"})\ncall slow({"q": "b"})'
    run = start_run(api, tool_agent(prompt, tools))
    wait_for(fresh_api.blocked.is_set)
    assert api.post(f"/api/v1/runs/{run['id']}/cancel/").status_code in (200, 202)
    assert wait_for_run(run["id"]).state == "cancelled"
    fresh_api.released.set()
    recorded = AgentStep.objects.filter(run_id=run["id"]).count()
    assert recorded == 3  # the first call's turn and result, the second call's turn

    answer = api.post(f"/api/v1/runs/{run['id']}/resume/", {}, format="json")
    assert answer.status_code in (200, 201, 202), answer.content
    resumed = answer.json()["id"]
    assert wait_for_run(resumed).state == "succeeded"
    assert len(fresh_api.seen(prefix="/json")) == 1  # not called again
    steps = list(AgentStep.objects.filter(run_id=resumed).order_by("index"))
    assert [s.reused for s in steps] == [True] * 3 + [False] * 2
    logs = [e.data["message"] for e in events_of(resumed) if e.type == "node.log"]
    assert any("Reused 3 recorded step(s)" in line for line in logs)
    wait_for_node(resumed, "agent", "succeeded")
    output = NodeRun.objects.get(run_id=resumed, node_id="agent").output
    assert json.loads(output["text"].split("- slow: ")[1])["json"] == {"late": True}


def test_the_runs_token_budget_stops_the_loop_before_a_call(api, fresh_api):
    doc = tool_agent('call lookup({"q": "a"})', [http_tool("lookup", fresh_api.url + "/json")])
    doc["settings"]["budget"]["max_total_tokens"] = 5
    run = start_run(api, doc)

    assert wait_for_run(run["id"]).state == "failed"
    node = NodeRun.objects.get(run_id=run["id"], node_id="agent")
    assert node.error["code"] == "budget_exceeded"
    assert "token budget exceeded" in node.error["message"]
    assert fresh_api.seen() == []
    assert not AgentStep.objects.filter(run_id=run["id"]).exists()


def test_a_tools_credential_is_sent_and_never_recorded(api, owner, fresh_api, tool_worker):
    token = "tool-secret-Qm4Zr8Vt2Lp6"
    credential = create_credential(
        user=owner[0],
        workspace_id=owner[1].pk,
        name="svc",
        provider="http",
        secret={"token": token},
        config={},
    )
    tools = [http_tool("lookup", fresh_api.url + "/fail", credential=str(credential.pk))]
    run = start_run(api, tool_agent('call lookup({"q": "x"})', tools))

    assert wait_for_run(run["id"]).state == "succeeded"
    (sent,) = fresh_api.seen("GET", "/fail")
    assert sent["headers"]["Authorization"] == f"Bearer {token}"
    # The server echoed the header into its 500: the model read it redacted.
    result = next(e for e in events_of(run["id"]) if e.type == "node.tool_result")
    assert result.data["error"]["code"] == "http_status"
    assert "[redacted]" in result.data["error"]["message"]
    recorded = json.dumps(
        [e.data for e in RunEvent.objects.filter(run_id=run["id"])]
        + [[s.message, s.result] for s in AgentStep.objects.filter(run_id=run["id"])]
        + [n.output for n in NodeRun.objects.filter(run_id=run["id"])]
    )
    assert token not in recorded
    assert token not in tool_worker.log()


def test_the_agents_timeout_bounds_the_whole_loop(api, fresh_api):
    tools = [http_tool("slow", fresh_api.url + "/block")]
    doc = tool_agent('call slow({"q": "x"})', tools, timeout_s=2, retry={"max_attempts": 1})
    run = start_run(api, doc)

    assert wait_for_run(run["id"], timeout=30).state == "failed"
    node = NodeRun.objects.get(run_id=run["id"], node_id="agent")
    assert node.error["code"] == "timeout"
    assert (node.finished_at - node.started_at).total_seconds() < 10
