"""Webhook throughput: signed ``POST /hooks/<token>`` → 202 under concurrent senders (issue 14).

Usage: .venv/bin/python -m bench.webhook_bench [--senders 50 --seconds 20 --warmup 3]

Starts the API and workers as the other benches do (bench/harness.py), makes
an input → transformer → output workflow and a webhook trigger for it, then
``--senders`` concurrent senders post signed calls (a fresh timestamp and
signature each, as docs/triggers.md tells a script to) for ``--seconds``
after ``--warmup``, each on a keep-alive connection of bench/loadgen.py.
Prints the p50/p99 time to the 202, the 202s per second sustained, beside
n8n's published 220 executions/s on one instance, and how long the accepted
runs then took to finish.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import os
import sys
import time

import httpx

from bench.harness import deployment, percentile, start_processes, stop_processes
from bench.loadgen import Connection, ProtocolError

N8N_PER_SECOND = 220
GOAL_PER_SECOND = 200


def _signed(secret: str, body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Agentloom-Timestamp": stamp,
        "X-Agentloom-Signature": f"sha256={digest}",
    }


def _trigger(base: str, token: str) -> tuple[str, str]:
    """A new workflow's webhook trigger: its path and its secret."""
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
    with httpx.Client(base_url=base, headers={"Authorization": f"Token {token}"}) as client:
        workflow = client.post("/api/v1/workflows/", json={"document": doc}).raise_for_status()
        trigger = client.post(
            "/api/v1/triggers/",
            json={
                "workflow": workflow.json()["id"],
                "name": "bench",
                "rate_per_minute": 100_000,
            },
        ).raise_for_status()
    return httpx.URL(trigger.json()["url"]).path, trigger.json()["secret"]


async def _flood(
    base: str, path: str, secret: str, senders: int, warmup: float, seconds: float
) -> tuple[list[float], dict[int | str, int], list[str]]:
    """Latencies (ms) and run ids of the 202s inside the measured window, and every outcome.

    An outcome is a status code, or the name of the error of a call that got no answer.
    """
    latencies: list[float] = []
    statuses: dict[int | str, int] = {}
    run_ids: list[str] = []
    begin = time.monotonic() + warmup
    end = begin + seconds

    async def sender(number: int) -> None:
        connection = Connection(base)
        sent = 0
        while time.monotonic() < end:
            body = json.dumps({"topic": f"s{number}-{sent}"}).encode()
            sent += 1
            posted = time.monotonic()
            try:
                answer = await connection.post(path, body, _signed(secret, body))
            except (OSError, EOFError, ProtocolError) as error:
                name = type(error).__name__
                statuses[name] = statuses.get(name, 0) + 1
                continue
            answered = time.monotonic()
            statuses[answer.status] = statuses.get(answer.status, 0) + 1
            if answer.status == 202 and begin <= posted and answered <= end:
                latencies.append((answered - posted) * 1000)
                run_ids.append(answer.json()["run"])
        await connection.close()

    await asyncio.gather(*(sender(n) for n in range(senders)))
    return latencies, statuses, run_ids


def _finish_time(run_ids: list[str], since: float, timeout_s: float = 300) -> tuple[float, int]:
    """Seconds from ``since`` until every run ended (or timed out), and how many did not succeed."""
    from server.runs.models import Run

    while (
        Run.objects.filter(pk__in=run_ids, state__in=["queued", "running"]).exists()
        and time.monotonic() - since < timeout_s
    ):
        time.sleep(0.05)
    failed = Run.objects.filter(pk__in=run_ids).exclude(state="succeeded").count()
    return time.monotonic() - since, failed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    deploy = deployment()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    processes, base = start_processes()
    try:
        path, secret = _trigger(base, deploy.token)
        load = os.getloadavg()[0]
        latencies, statuses, run_ids = asyncio.run(
            _flood(base, path, secret, args.senders, args.warmup, args.seconds)
        )
        flood_ended = time.monotonic()
        rate = len(latencies) / args.seconds
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items(), key=str))
        print(
            f"webhooks, {args.senders} concurrent senders, {args.seconds:.0f} s measured after "
            f"{args.warmup:.0f} s warm-up: {rate:.0f}/s accepted (202) sustained "
            f"(goal ≥ {GOAL_PER_SECOND}/s: ratio {rate / GOAL_PER_SECOND:.2f}; n8n publishes "
            f"{N8N_PER_SECOND} executions/s on one instance: ratio {rate / N8N_PER_SECOND:.2f})"
        )
        if latencies:
            print(
                f"POST → 202: p50 {percentile(latencies, 50):.1f} ms, "
                f"p99 {percentile(latencies, 99):.1f} ms (n={len(latencies)})"
            )
        print(f"every answer by status: {codes}")
        print(f"load average at the start {load:.1f}, at the end {os.getloadavg()[0]:.1f}")
        sys.stdout.flush()
        finished_s, failed = _finish_time(run_ids, flood_ended)
        print(
            f"{finished_s:.1f} s after the flood, {len(run_ids) - failed} of the {len(run_ids)} "
            "measured runs had succeeded"
        )
    finally:
        stop_processes(processes)


if __name__ == "__main__":
    main()
