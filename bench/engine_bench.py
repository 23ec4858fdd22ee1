"""Scheduler figures of the engine issue, against the real distributed topology.

Usage: .venv/bin/python -m bench.engine_bench [chain] [fanout] [makespan] [throughput]
(all four by default). The scenarios share one set of processes on a fresh
database (bench/harness.py) and each prints its figures; docs/benchmarks.md
records the numbers and this command.

* chain: per-hop overhead on a chain of 200 no-op transformers: the time from
  one node's success to the next one's (goal median ≤ 1.5 ms, issue 11).
* fanout: 1 → 1,000 → 1 no-op nodes on two worker processes, nodes/s, beside
  a plain Celery chord(group(1,000 no-op tasks)) on the same broker and the
  same two processes, as a ratio ours ÷ chord (goal ≥ 1.5, issue 11).
* makespan: an unbalanced DAG of mock/slow nodes: makespan ÷ critical path
  (goal ≤ 1.05: a level barrier would make it much larger).
* throughput: runs/s of a 3-node workflow started through the API by 16
  concurrent clients (keep-alive connections of bench/loadgen.py), until all
  have finished, with p50/p99 of POST →
  ``run.succeeded`` (goal ≥ 220 runs/s, n8n's published figure, issue 11),
  and the CPU milliseconds per run of each part (the API, the pools,
  PostgreSQL, Redis, this client), from ``/proc``: they hold up better than
  the rate on a shared machine. Then the same POSTs refused by the body's
  check (400): the CPU a request costs before a start does anything, the
  floor under the API's share.
"""

import argparse
import asyncio
import itertools
import json
import logging
import statistics
import sys
import time
from typing import Any

import httpx

from bench.harness import (
    Deployment,
    cpu_seconds_by_part,
    deployment,
    percentile,
    start_processes,
    stop_processes,
)
from bench.loadgen import Connection


def _client(deploy: Deployment, base: str) -> httpx.Client:
    return httpx.Client(
        base_url=base, headers={"Authorization": f"Token {deploy.token}"}, timeout=60
    )


def _create(client: httpx.Client, doc: dict[str, Any]) -> str:
    response = client.post("/api/v1/workflows/", json={"document": doc}).raise_for_status().json()
    errors = [p for p in response["problems"] if p["severity"] == "error"]
    assert not errors, errors
    return str(response["id"])


def _run(client: httpx.Client, workflow_id: str, inputs: dict[str, Any] | None = None) -> str:
    response = client.post(f"/api/v1/workflows/{workflow_id}/runs/", json={"inputs": inputs or {}})
    return str(response.raise_for_status().json()["id"])


def _wait(run_id: str, timeout: float = 300) -> Any:
    from tests.support.runs import wait_for_run

    run = wait_for_run(run_id, timeout)
    assert run.state == "succeeded", run.error
    return run


def _succeeded_at(run_id: str) -> dict[str, Any]:
    from server.runs.models import RunEvent

    return dict(
        RunEvent.objects.filter(run_id=run_id, type="node.succeeded").values_list("node_id", "ts")
    )


def chain(deploy: Deployment, base: str, runs: int = 5, length: int = 200) -> None:
    from tests.support.documents import chain as chain_document

    hops: list[float] = []
    with _client(deploy, base) as client:
        workflow = _create(client, chain_document(length, expression="'ok'"))
        for _ in range(runs):
            run_id = _run(client, workflow)
            _wait(run_id)
            done = _succeeded_at(run_id)
            path = ["input", *(f"n{i}" for i in range(length)), "output"]
            hops += [
                (done[b] - done[a]).total_seconds() * 1000 for a, b in itertools.pairwise(path)
            ]
    print(
        f"chain of {length} no-op transformers, {runs} runs: per-hop overhead "
        f"median {statistics.median(hops):.2f} ms, p99 {percentile(hops, 99):.2f} ms "
        f"(goal median ≤ 1.5 ms; ratio {statistics.median(hops) / 1.5:.2f} of the goal)"
    )


def fanout(deploy: Deployment, base: str, width: int = 1000, runs: int = 3) -> None:
    from bench.chord_bench import chord_nodes_per_second
    from tests.support.documents import fan_out

    rates = []
    with _client(deploy, base) as client:
        workflow = _create(client, fan_out(width))
        for _ in range(runs):
            run = _wait(_run(client, workflow))
            rates.append((width + 2) / (run.finished_at - run.started_at).total_seconds())
    ours = statistics.median(rates)
    chord = chord_nodes_per_second(width, runs)
    print(
        f"fan-out 1 → {width} → 1 on two worker processes: ours {ours:.0f} nodes/s "
        f"(runs: {', '.join(f'{r:.0f}' for r in rates)}), plain Celery chord {chord:.0f} tasks/s, "
        f"ratio ours ÷ chord {ours / chord:.2f} (goal ≥ 1.5)"
    )


def makespan(deploy: Deployment, base: str) -> None:
    from tests.support.documents import agent, document, edge, node
    from workers.engine.document import Graph
    from workers.engine.scheduling import critical_path

    latencies = {
        "a1": 2000,
        "a2": 1800,
        "b1": 300,
        "b2": 300,
        "b3": 300,
        "b4": 300,
        "c1": 1200,
        "j": 400,
    }
    nodes = [node("input", "input"), node("output", "output")]
    nodes += [agent(n, model="mock/slow", mock_latency_ms=ms) for n, ms in latencies.items()]
    edges = [
        edge("input", "a1"),
        edge("a1", "a2"),
        edge("a2", "j", target_handle="a"),
        edge("input", "b1"),
        edge("b1", "b2"),
        edge("b2", "b3"),
        edge("b3", "b4"),
        edge("b4", "j", target_handle="b"),
        edge("input", "c1"),
        edge("c1", "b3", target_handle="c"),
        edge("j", "output"),
    ]
    doc = document(nodes, edges, max_concurrency=16)
    graph = Graph.from_document(doc)
    ratios = []
    with _client(deploy, base) as client:
        workflow = _create(client, doc)
        for _ in range(3):
            run = _wait(_run(client, workflow))
            span = (run.finished_at - run.started_at).total_seconds() * 1000
            durations = {n: float(latencies.get(n, 0)) for n in graph.nodes}
            path_ms, path = critical_path(graph, durations)
            ratios.append(span / path_ms)
    print(
        f"unbalanced DAG of mock/slow nodes: critical path {path_ms:.0f} ms ({' → '.join(path)}), "
        f"makespan ÷ critical path median {statistics.median(ratios):.3f} "
        f"(runs: {', '.join(f'{r:.3f}' for r in ratios)}; goal ≤ 1.05)"
    )


N8N_RUNS_PER_SECOND = 220


def throughput(deploy: Deployment, base: str, total: int = 400, clients: int = 16) -> None:
    from server.runs.models import Run, RunEvent
    from tests.support.documents import document, edge, node

    doc = document(
        [
            node("input", "input"),
            node("shape", expression="{'echo': topic}"),
            node("output", "output"),
        ],
        [edge("input", "shape"), edge("shape", "output")],
        inputs={"topic": {"type": "string", "required": True}},
    )
    with _client(deploy, base) as client:
        workflow = _create(client, doc)

    path = f"/api/v1/workflows/{workflow}/runs/"
    headers = {"Authorization": f"Token {deploy.token}", "Content-Type": "application/json"}

    async def client_posts(number: int, count: int, refused: bool) -> list[tuple[str, float]]:
        connection = Connection(base)
        posted = []
        for i in range(count):
            inputs: Any = "not an object" if refused else {"topic": f"c{number}-{i}"}
            at = time.time()
            answer = await connection.post(path, json.dumps({"inputs": inputs}).encode(), headers)
            assert answer.status == (400 if refused else 202), answer.body[:500]
            if not refused:
                posted.append((str(answer.json()["id"]), at))
        await connection.close()
        return posted

    async def all_posts(refused: bool = False) -> dict[str, float]:
        batches = await asyncio.gather(
            *(client_posts(number, total // clients, refused) for number in range(clients))
        )
        return dict(pair for batch in batches for pair in batch)

    spent = cpu_seconds_by_part()
    started = time.monotonic()
    sent = asyncio.run(all_posts())
    posted = time.monotonic() - started
    while (
        Run.objects.filter(pk__in=sent, state__in=["queued", "running"]).exists()
        and time.monotonic() - started < 600
    ):
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    cpu_ms = {
        part: (seconds - spent[part]) * 1000 / len(sent)
        for part, seconds in cpu_seconds_by_part().items()
    }
    failed = Run.objects.filter(pk__in=sent).exclude(state="succeeded").count()
    succeeded = RunEvent.objects.filter(run_id__in=sent, type="run.succeeded").values_list(
        "run_id", "ts"
    )
    # Both clocks are this machine's: the client's before the POST, the event's as written.
    latencies = [(ts.timestamp() - sent[str(run_id)]) * 1000 for run_id, ts in succeeded]
    rate = len(sent) / elapsed
    print(
        f"{len(sent)} runs of a 3-node workflow through the API ({clients} clients): "
        f"{rate:.0f} runs/s end to end (all POSTs took {posted:.1f} s; {failed} not succeeded); "
        f"POST → run.succeeded p50 {percentile(latencies, 50):.1f} ms, "
        f"p99 {percentile(latencies, 99):.1f} ms; goal ≥ {N8N_RUNS_PER_SECOND} runs/s "
        f"(n8n's published figure on one 2-vCPU instance): ratio {rate / N8N_RUNS_PER_SECOND:.2f}"
    )
    print(
        "  CPU ms per run: "
        + ", ".join(f"{part} {ms:.2f}" for part, ms in cpu_ms.items())
        + f"; total {sum(cpu_ms.values()):.2f} (the bench client polls the database meanwhile)"
    )
    # The floor under a start: the same requests refused by the body's check, after the
    # token, the workflow and the caller's role are read (the HTTP server, Django, DRF).
    spent = cpu_seconds_by_part()
    asyncio.run(all_posts(refused=True))
    floor = {
        part: (seconds - spent[part]) * 1000 / total
        for part, seconds in cpu_seconds_by_part().items()
    }
    print(
        f"  the same {total} POSTs refused (400, inputs not an object): API CPU ms per request "
        f"{floor['API']:.2f}, PostgreSQL {floor['PostgreSQL']:.2f}; a start's own share of the "
        f"API's: {cpu_ms['API'] - floor['API']:.2f} ms"
    )


SCENARIOS = {"chain": chain, "fanout": fanout, "makespan": makespan, "throughput": throughput}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)} (default: all)"
    )
    args = parser.parse_args()
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    names = args.scenarios or list(SCENARIOS)
    deploy = deployment()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    processes, base = start_processes()
    try:
        for name in names:
            SCENARIOS[name](deploy, base)
            sys.stdout.flush()
    finally:
        stop_processes(processes)


if __name__ == "__main__":
    main()
