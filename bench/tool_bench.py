"""What a durable tool step costs an agent, against a local HTTP server.

Usage: .venv/bin/python -m bench.tool_bench [--calls 200] [--agents 10]

1. Per tool call: the bare request (the http tool's request through the
   outbound guard, ``send_http``) beside the durable step the agent loop
   writes after it (``agent_steps.record``: the step row and its
   ``node.tool_result`` event, under the run's lock), interleaved, medians.
2. An agent (``mock/tools``) that makes 10 http tool calls, end to end in
   this process (run created, input, agent, output recorded, as a worker
   does them with ``run_node``), beside the same 10 requests sent directly
   in a loop through the same guard: the ratio of the medians.

Real Postgres and a real loopback server; node tasks go to an in-memory
broker nobody consumes (this process is the worker).
"""

import argparse
import json
import os
import statistics
import time
from dataclasses import replace
from typing import Any

os.environ.setdefault("AGENTLOOM_BENCH_DB", "agentloom_bench_tools")
os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ["AGENTLOOM_EGRESS_ALLOW"] = "127.0.0.1"
# The guard's per-workspace request rate would throttle the bench, not measure it.
os.environ["AGENTLOOM_EGRESS_RATE_PER_WORKSPACE"] = "1000000/min"

from bench.harness import deployment, percentile

CALLS_PER_AGENT = 10


def _ms(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):.3f} ms, p95 {percentile(values, 95):.3f} ms"
        f" (n={len(values)})"
    )


def _agent_doc(url: str, calls: int, max_tool_calls: int) -> dict[str, Any]:
    from tests.support.documents import agent
    from tests.tools.agents import http_tool
    from tests.tools.helpers import pipeline

    prompt = "\n".join(f'call lookup({{"q": "{n}"}})' for n in range(calls))
    tools = [http_tool("lookup", url + "/json", query={"q": "{{ $.args.q }}"})]
    return pipeline(
        agent(
            "agent",
            model="mock/tools",
            prompt=prompt,
            tools=tools,
            max_tool_calls=max_tool_calls,
        )
    )


def _held_agent(user: Any, workspace_id: str, url: str) -> Any:
    """A run whose agent node this process holds (claimed, running)."""
    from server.runs.services import execution
    from server.runs.services.start import create_run
    from server.workflows.services import create_workflow
    from workers.runtime.node_runner import run_node

    workflow = create_workflow(
        user=user, workspace_id=workspace_id, document=_agent_doc(url, 1, 100)
    )
    run = create_run(workflow=workflow, user=user, inputs={})
    run_node(str(run.pk), "input", worker="bench")
    claim = execution.claim_node(str(run.pk), "agent", worker="bench")
    assert claim is not None
    return claim


def _per_call(user: Any, workspace_id: str, url: str, calls: int) -> tuple[list, list]:
    from server.runs.models import AgentStepKind
    from server.runs.services import agent_steps
    from workers.engine.budget import Budget
    from workers.engine.expression_budget import ExpressionBudget
    from workers.engine.http_request import HttpConfig
    from workers.engine.limits import DEFAULT_LIMITS
    from workers.runtime.http_node import send_http

    config = HttpConfig.from_config(
        {"method": "GET", "url": url + "/json", "query": {"q": "{{ $.args.q }}"}}
    )
    bare: list[float] = []
    step: list[float] = []
    claim = None
    for n in range(calls):
        if n % 90 == 0:  # a fresh node now and then: an agent has at most 100 steps
            claim = _held_agent(user, workspace_id, url)
        claim = replace(claim, budget=ExpressionBudget.for_node(DEFAULT_LIMITS))
        started = time.perf_counter()
        output, _ = send_http(claim, config, {"args": {"q": str(n)}})
        bare.append((time.perf_counter() - started) * 1000)
        content = json.dumps({"status": output["status"], "json": output["json"]})
        started = time.perf_counter()
        agent_steps.record(
            claim,
            agent_steps.Step(
                index=n % 90,
                kind=AgentStepKind.TOOL,
                request_hash="0" * 64,
                message={"role": "tool", "tool_call_id": f"call_{n}", "content": content},
                result={"status": "ok", "bytes": len(content)},
                call_id=f"call_{n}",
                name="lookup",
            ),
            "c" * 64,
            "i" * 64,
            Budget(),
        )
        step.append((time.perf_counter() - started) * 1000)
    return bare, step


def _agent_end_to_end(user: Any, workspace_id: str, url: str) -> float:
    from server.runs.models import Run
    from server.runs.services.start import create_run
    from server.workflows.services import create_workflow
    from workers.runtime.node_runner import run_node

    doc = _agent_doc(url, CALLS_PER_AGENT, CALLS_PER_AGENT)
    workflow = create_workflow(user=user, workspace_id=workspace_id, document=doc)
    started = time.perf_counter()
    run = create_run(workflow=workflow, user=user, inputs={})
    for node_id in ("input", "agent", "output"):
        run_node(str(run.pk), node_id, worker="bench")
    elapsed = (time.perf_counter() - started) * 1000
    state = Run.objects.get(pk=run.pk).state
    assert state == "succeeded", state
    return elapsed


def _direct_loop(workspace_id: str, url: str) -> float:
    from server.runs import http_calls

    started = time.perf_counter()
    for n in range(CALLS_PER_AGENT):
        request = http_calls.PreparedRequest("GET", f"{url}/json?q={n}")
        http_calls.send(workspace_id, request, http_calls.NO_AUTHENTICATION, timeout_s=10)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--agents", type=int, default=10)
    args = parser.parse_args()
    bench = deployment()
    from django.contrib.auth import get_user_model

    from tests.tools.servers import ApiServer

    user = get_user_model().objects.get(pk=bench.user_id)
    with ApiServer() as server:
        _per_call(user, bench.workspace_id, server.url, 20)  # warm
        bare, step = _per_call(user, bench.workspace_id, server.url, args.calls)
        print(f"per tool call, bare request        {_ms(bare)}")
        print(f"per tool call, durable step        {_ms(step)}")
        print(
            f"  overhead of the step over the request: {statistics.median(step):.3f} ms "
            f"({statistics.median(step) / statistics.median(bare):.2f}x the request)"
        )
        _agent_end_to_end(user, bench.workspace_id, server.url)  # warm
        agents: list[float] = []
        direct: list[float] = []
        for _ in range(args.agents):  # interleaved: a slow moment of the machine hits both
            agents.append(_agent_end_to_end(user, bench.workspace_id, server.url))
            direct.append(_direct_loop(bench.workspace_id, server.url))
        print(f"agent, {CALLS_PER_AGENT} tool calls, end to end  {_ms(agents)}")
        print(f"the same {CALLS_PER_AGENT} requests in a loop      {_ms(direct)}")
        print(f"  ratio {statistics.median(agents) / statistics.median(direct):.2f}")


if __name__ == "__main__":
    main()
