"""The outbound guard's cost per request, side by side with a bare httpx call (goal ≤ 1 ms).

Usage: .venv/bin/python -m bench.egress_bench [--requests 2000]

Both clients call the same local server on 127.0.0.1 (allowed through
AGENTLOOM_EGRESS_ALLOW; a process of its own, so it does not compete for this
one's GIL) over kept-alive connections, interleaved so machine load falls on
both alike. ``fetch`` is measured twice: without a workspace
(address checks, redirect and size handling) and with one (plus the
per-workspace rate slot on Redis).
"""

import argparse
import logging
import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

import httpx

from bench.harness import summary
from tests.support.http_servers import RouteServer


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def serve(port_out: Connection, stop: Event) -> None:
    with RouteServer() as server:
        port_out.send(server.port)
        stop.wait()


def measure(port: int, requests: int) -> dict[str, list[float]]:
    os.environ["AGENTLOOM_EGRESS_ALLOW"] = f"127.0.0.1:{port}"
    os.environ["AGENTLOOM_EGRESS_RATE_PER_WORKSPACE"] = "100000000/min"
    import django

    django.setup()
    from server.egress import fetch

    url = f"http://127.0.0.1:{port}/ok"
    workspace = str(uuid.uuid4())
    with httpx.Client(trust_env=False) as bare:
        calls: dict[str, Callable[[], object]] = {
            "bare httpx": lambda: bare.get(url).read(),
            "guard": lambda: fetch("GET", url, workspace_id=None),
            "guard + workspace rate": lambda: fetch("GET", url, workspace_id=workspace),
        }
        for call in calls.values():  # warm up: connections, imports, caches
            for _ in range(50):
                call()
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(requests):
            for name, call in calls.items():
                times[name].append(timed(call))
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # httpx logs every request of the bare client
    port_in, port_out = multiprocessing.Pipe()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(port_out, stop), daemon=True)
    server.start()
    try:
        times = measure(port_in.recv(), args.requests)
    finally:
        stop.set()
        server.join()
    base = statistics.median(times["bare httpx"])
    for name, values in times.items():
        extra = statistics.median(values) - base
        print(f"{name:24} {summary(values)}  overhead {extra:+.3f} ms (median)")


if __name__ == "__main__":
    main()
