"""The scheduler end to end: API → Postgres → Redis → a real worker process.

What it must do is in docs/run-semantics.md.
"""

import json
import time

import pytest

from server.runs.dispatch import send_node_tasks
from server.runs.journal import NodeTask
from server.runs.models import NodeRun
from tests.support.documents import agent, document, edge, fan_out, node
from tests.support.runs import (
    assert_log_is_sound,
    events_of,
    nodes_of,
    start_run,
    wait_for_node,
    wait_for_run,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]

QUICK_RETRY = {
    "max_attempts": 3,
    "backoff": "fixed",
    "initial_delay_ms": 50,
    "max_delay_ms": 100,
    "jitter": False,
}


def test_diamond(api):
    doc = document(
        [
            node("input", "input"),
            node("left", expression="run.n + 1"),
            node("right", expression="run.n * 10"),
            node("join", expression="l + r"),
            node("output", "output"),
        ],
        [
            edge("input", "left"),
            edge("input", "right"),
            edge("left", "join", target_handle="l"),
            edge("right", "join", target_handle="r"),
            edge("join", "output", target_handle="total"),
        ],
        inputs={"n": {"type": "number", "required": True}},
    )
    run = wait_for_run(start_run(api, doc, {"n": 4})["id"])
    assert run.state == "succeeded", run.error
    assert run.output == {"output": {"total": 45}}
    nodes = nodes_of(run.pk)
    assert nodes["join"].input == {"l": 5, "r": 40, "run": {"n": 4}}
    assert all(n.state == "succeeded" and n.attempt == 1 for n in nodes.values())
    assert_log_is_sound(run.pk)
    handoffs = [e.data for e in events_of(run.pk) if e.type == "edge.handoff"]
    assert {h["edge_id"] for h in handoffs} == {e["id"] for e in doc["edges"]}
    assert next(h for h in handoffs if h["edge_id"] == "left->join") == {
        "edge_id": "left->join",
        "source": "left",
        "target": "join",
        "bytes": 1,
        "preview": "5",
    }


def test_fan_out_and_in_of_100(api):
    doc = fan_out(100, expression="$.run.x")
    run = wait_for_run(start_run(api, doc, {})["id"], timeout=120)
    assert run.state == "succeeded", run.error
    output = run.output["output"]
    assert sorted(output) == sorted(f"w{i}" for i in range(100))
    assert NodeRun.objects.filter(run=run, state="succeeded").count() == 102
    assert_log_is_sound(run.pk)


def test_each_run_reads_its_own_sources(api):
    """Workers cache succeeded source rows; a later run of the same nodes reads its own."""
    nodes = [node("input", "input"), *(node(f"w{i}", expression=f"run.n * {i}") for i in range(4))]
    nodes += [node("join", expression="w0 + w1 + w2 + w3"), node("output", "output")]
    edges = [edge("input", f"w{i}") for i in range(4)]
    edges += [edge(f"w{i}", "join", target_handle=f"w{i}") for i in range(4)]
    edges.append(edge("join", "output", target_handle="total"))
    doc = document(nodes, edges, inputs={"n": {"type": "number", "required": True}})
    workflow = api.post("/api/v1/workflows/", {"document": doc}, format="json").json()["id"]
    for n in (1, 10, 100):
        response = api.post(
            f"/api/v1/workflows/{workflow}/runs/", {"inputs": {"n": n}}, format="json"
        )
        run = wait_for_run(response.json()["id"])
        assert run.state == "succeeded", run.error
        assert nodes_of(run.pk)["join"].input == {
            "w0": 0,
            "w1": n,
            "w2": 2 * n,
            "w3": 3 * n,
            "run": {"n": n},
        }
        assert run.output == {"output": {"total": 6 * n}}


def test_conditions_skip_and_skips_propagate(api):
    doc = document(
        [
            node("input", "input"),
            node("yes", expression="'taken'"),
            node("no", expression="'not taken'"),
            node("after-no", expression="'never'"),
            node("output", "output"),
        ],
        [
            edge("input", "yes", condition="go = true"),
            edge("input", "no", condition="go = false"),
            edge("no", "after-no"),
            edge("yes", "output", target_handle="yes"),
            edge("after-no", "output", target_handle="no"),
        ],
        inputs={"go": {"type": "boolean", "required": True}},
    )
    run = wait_for_run(start_run(api, doc, {"go": True})["id"])
    assert run.state == "succeeded", run.error
    nodes = nodes_of(run.pk)
    assert nodes["no"].state == "skipped"
    assert nodes["after-no"].state == "skipped"
    assert run.output == {"output": {"yes": "taken"}}
    skipped = [e.node_id for e in events_of(run.pk) if e.type == "node.skipped"]
    assert skipped == ["no", "after-no"]


def test_transforms_reshape_what_crosses(api):
    doc = document(
        [node("input", "input"), node("shape", expression="$"), node("output", "output")],
        [
            edge("input", "shape", target_handle="who", transform="$uppercase(name)"),
            edge("shape", "output", target_handle="greeting", transform="'hello ' & who"),
        ],
        inputs={"name": {"type": "string", "required": True}},
    )
    run = wait_for_run(start_run(api, doc, {"name": "ada"})["id"])
    assert run.output == {"output": {"greeting": "hello ADA"}}
    assert nodes_of(run.pk)["shape"].edge_values == {"shape->output": "hello ADA"}


def test_coordinator_routes_by_edge_label(api):
    doc = document(
        [
            node("input", "input"),
            agent(
                "router",
                "coordinator",
                model="mock/json",
                response_format="json",
                prompt="{{ $.run.request }}",
            ),
            agent("billing", "reviewer"),
            agent("technical", "coder"),
            node("output", "output"),
        ],
        [
            edge("input", "router"),
            edge("router", "billing", label="billing"),
            edge("router", "technical", label="technical"),
            edge("billing", "output", target_handle="answer"),
            edge("technical", "output", target_handle="answer"),
        ],
        inputs={"request": {"type": "string", "required": True}},
    )
    run = wait_for_run(start_run(api, doc, {"request": "A technical question about my API"})["id"])
    assert run.state == "succeeded", run.error
    nodes = nodes_of(run.pk)
    assert nodes["router"].output["json"]["route"] == ["technical"]
    assert nodes["technical"].state == "succeeded"
    assert nodes["billing"].state == "skipped"
    assert set(run.output["output"]) == {"answer"}


def test_retries_on_429_then_succeeds(api):
    flaky = agent(
        "flaky", model="mock/flaky", mock_failures=2, mock_failure_status=429, retry=QUICK_RETRY
    )
    doc = document(
        [node("input", "input"), flaky, node("output", "output")],
        [edge("input", "flaky"), edge("flaky", "output")],
    )
    run = wait_for_run(start_run(api, doc)["id"])
    assert run.state == "succeeded", run.error
    assert nodes_of(run.pk)["flaky"].attempt == 3
    retries = [e.data for e in events_of(run.pk) if e.type == "node.retrying"]
    assert [(r["attempt"], r["error"]["code"], r["delay_ms"]) for r in retries] == [
        (1, "rate_limited", 50),
        (2, "rate_limited", 50),
    ]
    starts = [
        e.data["attempt"]
        for e in events_of(run.pk)
        if e.type == "node.started" and e.node_id == "flaky"
    ]
    assert starts == [1, 2, 3]
    assert_log_is_sound(run.pk)


def test_retries_are_bounded(api):
    flaky = agent(
        "flaky", model="mock/flaky", mock_failures=5, mock_failure_status=500, retry=QUICK_RETRY
    )
    doc = document([node("input", "input"), flaky], [edge("input", "flaky")])
    run = wait_for_run(start_run(api, doc)["id"])
    assert run.state == "failed"
    assert run.error["code"] == "provider_error"
    assert run.error["node_id"] == "flaky"
    assert nodes_of(run.pk)["flaky"].attempt == 3


def test_a_non_retryable_error_fails_at_once(api):
    doc = document(
        [node("input", "input"), agent("bad", model="mock/error", retry=QUICK_RETRY)],
        [edge("input", "bad")],
    )
    run = wait_for_run(start_run(api, doc)["id"])
    assert run.state == "failed"
    bad = nodes_of(run.pk)["bad"]
    assert bad.state == "failed"
    assert bad.attempt == 1
    assert bad.error["code"] == "bad_request"
    assert not [e for e in events_of(run.pk) if e.type == "node.retrying"]


def test_a_node_over_its_timeout_fails_with_timeout(api):
    slow = agent(
        "slow",
        model="mock/slow",
        mock_latency_ms=5000,
        timeout_s=0.5,
        retry={**QUICK_RETRY, "max_attempts": 1},
    )
    doc = document([node("input", "input"), slow], [edge("input", "slow")])
    started = time.monotonic()
    run = wait_for_run(start_run(api, doc)["id"])
    assert time.monotonic() - started < 4
    assert run.state == "failed"
    assert nodes_of(run.pk)["slow"].error["code"] == "timeout"


def test_cancel_mid_run_stops_within_two_seconds(api):
    slow = agent("slow", model="mock/slow", mock_latency_ms=30000)
    doc = document(
        [node("input", "input"), slow, node("after")],
        [edge("input", "slow"), edge("slow", "after")],
    )
    run_id = start_run(api, doc)["id"]
    wait_for_node(run_id, "slow", "running")
    asked = time.monotonic()
    response = api.post(f"/api/v1/runs/{run_id}/cancel/")
    assert response.status_code == 202
    assert response.json()["state"] == "cancelled"
    run = wait_for_run(run_id)
    assert run.state == "cancelled"
    assert {n.node_id: n.state for n in nodes_of(run_id).values()} == {
        "input": "succeeded",
        "slow": "cancelled",
        "after": "cancelled",
    }
    # The worker notices and stops streaming: no token event comes after the cancel.
    time.sleep(0.5)
    tokens_then = len([e for e in events_of(run_id) if e.type == "node.token"])
    time.sleep(1.5)
    assert len([e for e in events_of(run_id) if e.type == "node.token"]) == tokens_then
    assert time.monotonic() - asked < 4
    assert api.post(f"/api/v1/runs/{run_id}/cancel/").status_code == 409
    assert_log_is_sound(run_id)


def _policy_doc(policy: str, **fallback):
    return document(
        [
            node("input", "input"),
            agent("bad", model="mock/error", on_error=policy, **fallback),
            node("after-bad", expression="'after ' & $string(b.text)"),
            agent("independent", model="mock/slow", mock_latency_ms=800),
            node("output", "output"),
        ],
        [
            edge("input", "bad"),
            edge("input", "independent"),
            edge("bad", "after-bad", target_handle="b"),
            edge("after-bad", "output", target_handle="a"),
            edge("independent", "output", target_handle="i"),
        ],
    )


def test_error_policy_stop_fails_the_run_and_cancels_the_rest(api):
    run = wait_for_run(start_run(api, _policy_doc("stop"))["id"])
    assert run.state == "failed"
    assert run.error["node_id"] == "bad"
    nodes = nodes_of(run.pk)
    assert nodes["independent"].state == "cancelled"
    assert nodes["after-bad"].state == "cancelled"


def test_error_policy_continue_skips_dependants_and_finishes_the_rest(api):
    run = wait_for_run(start_run(api, _policy_doc("continue"))["id"])
    nodes = nodes_of(run.pk)
    assert nodes["bad"].state == "failed"
    assert nodes["after-bad"].state == "skipped"
    assert nodes["independent"].state == "succeeded"
    assert nodes["output"].state == "succeeded"
    assert run.state == "failed"
    assert run.error["code"] == "nodes_failed"


def test_error_policy_fallback_uses_the_fallback_output(api):
    fallback = {
        "text": "plan B",
        "json": None,
        "model": "fallback",
        "usage": {"prompt_tokens": 0, "completion_tokens": 0},
        "cost_usd": 0,
    }
    run = wait_for_run(start_run(api, _policy_doc("fallback", fallback_output=fallback))["id"])
    assert run.state == "succeeded", run.error
    nodes = nodes_of(run.pk)
    assert nodes["bad"].state == "succeeded"
    assert nodes["bad"].output == fallback
    assert nodes["bad"].error["code"] == "bad_request"
    assert run.output["output"]["a"] == "after plan B"


def test_budget_exceeded_fails_the_run_with_the_reason(api):
    doc = document(
        [node("input", "input"), *(agent(f"a{i}", prompt="word " * 50) for i in range(3))],
        [edge("input", "a0"), edge("a0", "a1"), edge("a1", "a2")],
        budget={"max_total_tokens": 60, "max_cost_usd": None, "max_duration_s": 3600},
    )
    run = wait_for_run(start_run(api, doc)["id"])
    assert run.state == "failed"
    assert run.error["code"] == "budget_exceeded"
    assert "token budget exceeded" in run.error["message"]
    assert (
        nodes_of(run.pk)["a2"].state in ("cancelled", "pending")
        or nodes_of(run.pk)["a1"].state == "cancelled"
    )


def test_duplicate_delivery_changes_nothing(api):
    slow = agent("slow", model="mock/slow", mock_latency_ms=1000)
    doc = document(
        [node("input", "input"), slow, node("output", "output")],
        [edge("input", "slow"), edge("slow", "output")],
    )
    run_id = start_run(api, doc)["id"]
    wait_for_node(run_id, "slow", "running")
    # The broker delivers the running node's task again, twice, and the input's too.
    send_node_tasks(
        [
            NodeTask(run_id, "slow", "agents"),
            NodeTask(run_id, "slow", "agents"),
            NodeTask(run_id, "input", "control"),
        ]
    )
    run = wait_for_run(run_id)
    assert run.state == "succeeded"
    send_node_tasks([NodeTask(run_id, n, "control") for n in ("input", "output")])
    time.sleep(1)
    events = events_of(run_id)
    assert [e.type for e in events if e.node_id == "slow" and e.type != "node.token"] == [
        "node.queued",
        "node.started",
        "node.succeeded",
    ]
    assert_log_is_sound(run_id)
    assert all(n.attempt == 1 for n in nodes_of(run_id).values())


def test_streamed_tokens_are_persisted_coalesced(api):
    slow = agent(
        "slow",
        model="mock/slow",
        mock_latency_ms=1500,
        prompt="one two three four five six seven eight nine ten " * 3,
    )
    doc = document([node("input", "input"), slow], [edge("input", "slow")])
    run = wait_for_run(start_run(api, doc)["id"])
    tokens = [e for e in events_of(run.pk) if e.type == "node.token"]
    assert "".join(e.data["delta"] for e in tokens) == nodes_of(run.pk)["slow"].output["text"]
    # ~10 messages per second at most: 1.5 s of streaming gives about 15, never one per chunk.
    assert 3 <= len(tokens) <= 20


def test_max_concurrency_bounds_parallel_nodes(api):
    doc = fan_out(6, node_type="researcher", model="mock/slow", mock_latency_ms=400)
    doc["settings"]["max_concurrency"] = 2
    run = wait_for_run(start_run(api, doc)["id"])
    assert run.state == "succeeded"
    spans = [
        (n.started_at, n.finished_at)
        for n in NodeRun.objects.filter(run=run, node_type="researcher")
    ]
    for start, _ in spans:
        overlapping = sum(1 for s, f in spans if s <= start < f)
        assert overlapping <= 2


def test_workspace_cap_keeps_extra_runs_queued(api, owner):
    _, workspace = owner
    workspace.max_running_runs = 1
    workspace.save()
    slow = agent("slow", model="mock/slow", mock_latency_ms=800)
    doc = document([node("input", "input"), slow], [edge("input", "slow")])
    first = start_run(api, doc)
    second = start_run(api, doc)
    assert first["state"] == "running"
    assert second["state"] == "queued"
    assert wait_for_run(first["id"]).state == "succeeded"
    second_run = wait_for_run(second["id"])
    assert second_run.state == "succeeded"
    assert second_run.started_at >= wait_for_run(first["id"]).finished_at


def test_bad_run_inputs_are_400(api):
    doc = document([node("input", "input")], inputs={"n": {"type": "number", "required": True}})
    workflow = api.post("/api/v1/workflows/", {"document": doc}, format="json").json()
    url = f"/api/v1/workflows/{workflow['id']}/runs/"
    for inputs, fragment in [
        ({}, "n: a value is required"),
        ({"n": "4"}, "n: must be of type number"),
        ({"n": 1, "m": 2}, "m: not an input"),
    ]:
        response = api.post(url, {"inputs": inputs}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_inputs"
        assert any(fragment in error for error in response.json()["errors"])
    assert api.post(url, {"inputs": {"n": 1}, "version": 9}, format="json").status_code == 404
    assert api.post(url, {"inputs": "x"}, format="json").status_code == 400


def test_a_run_whose_output_is_kept_in_storage_names_it_in_its_result(api, settings):
    limit = settings.AGENTLOOM_LIMITS["max_inline_output_bytes"]
    big = {"rows": [{"i": i, "text": "lorem ipsum " * 8} for i in range(2000)]}
    doc = document(
        [
            node("input", "input"),
            agent("big", model="mock/json", mock_json=big, response_format="json", stream=False),
            node("small", "output", expression="'done'"),
            node("large", "output"),
        ],
        [edge("input", "big"), edge("big", "small"), edge("big", "large")],
    )
    run = wait_for_run(start_run(api, doc)["id"])
    assert run.state == "succeeded", run.error
    artifact = nodes_of(run.pk)["large"].output_artifact
    assert artifact is not None
    assert artifact.size > limit
    assert run.output == {"small": "done", "large": {"artifact": str(artifact.pk)}}


def test_a_large_streamed_answer_goes_to_storage_and_its_stream_stops_at_the_limit(api, settings):
    limit = settings.AGENTLOOM_LIMITS["max_inline_output_bytes"]
    big = {"rows": [{"i": i, "text": "lorem ipsum " * 8} for i in range(2000)]}
    doc = document(
        [
            node("input", "input"),
            agent("big", model="mock/json", mock_json=big, response_format="json"),
        ],
        [edge("input", "big")],
    )
    run = wait_for_run(start_run(api, doc)["id"])
    assert run.state == "succeeded", run.error
    big_node = nodes_of(run.pk)["big"]
    assert big_node.output is None
    assert big_node.output_artifact.size > limit
    downloaded = api.get(f"/api/v1/runs/{run.pk}/artifacts/{big_node.output_artifact.pk}/")
    assert downloaded.status_code == 200
    assert (
        json.loads(
            b"".join(downloaded.streaming_content) if downloaded.streaming else downloaded.content
        )["json"]
        == big
    )
    events = events_of(run.pk)
    streamed = "".join(e.data["delta"] for e in events if e.type == "node.token")
    assert 0 < len(streamed.encode()) <= limit
    assert any(e.type == "node.log" and "Streaming stopped" in e.data["message"] for e in events)
