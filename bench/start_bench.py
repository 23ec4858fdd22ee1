"""What one run start costs the API: statements and CPU per call (issues 11 and 14).

Usage: .venv/bin/python -m bench.start_bench [--calls 300]

In one process, one caller at a time, on a fresh bench database
(bench/harness.py) and no workers: ``POST /api/v1/workflows/<id>/runs/`` of
the 3-node workflow the throughput benches start, then a signed
``POST /hooks/<token>`` of a webhook trigger for it, each through Django's
test client (the whole middleware, DRF and view stack, without the HTTP
server). Prints the statements of one call (``CaptureQueriesContext``) and the
CPU time (``time.process_time``) per call over ``--calls`` calls. The CPU
figure leaves out what the HTTP server and the workers cost, and on a shared
machine it is the steadier one: compare trees back to back.
"""

import argparse
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from bench.harness import deployment

WARM_UP_CALLS = 20


def _measure(name: str, call: Callable[[int], Any], calls: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(WARM_UP_CALLS):
        call(i)
    with CaptureQueriesContext(connection) as queries:
        call(-1)
    # BEGIN and COMMIT are counted: each is a round trip.
    print(f"{name}: {len(queries.captured_queries)} statements")
    for query in queries.captured_queries:
        print(f"    {query['sql'][:110]}")
    started = time.process_time()
    for i in range(calls):
        call(i)
    per_call = (time.process_time() - started) * 1000 / calls
    print(f"{name}: {per_call:.2f} ms CPU per call ({calls} calls)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    deploy = deployment()
    from django.conf import settings
    from django.test import Client
    from rest_framework.test import APIClient

    from tests.support.documents import document, edge, node

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    api = APIClient(SERVER_NAME="127.0.0.1")
    api.credentials(HTTP_AUTHORIZATION=f"Token {deploy.token}")
    doc = document(
        [
            node("input", "input"),
            node("shape", expression="{'echo': topic}"),
            node("output", "output"),
        ],
        [edge("input", "shape"), edge("shape", "output")],
        inputs={"topic": {"type": "string", "required": True}},
    )
    workflow = api.post("/api/v1/workflows/", {"document": doc}, format="json").json()["id"]

    def start(i: int) -> None:
        url = f"/api/v1/workflows/{workflow}/runs/"
        response = api.post(url, {"inputs": {"topic": f"t{i}"}}, format="json")
        assert response.status_code == 202, response.content

    _measure("POST …/runs/", start, args.calls)
    trigger = api.post(
        "/api/v1/triggers/",
        {"workflow": workflow, "name": "bench", "rate_per_minute": 100_000},
        format="json",
    ).json()
    path = urlparse(trigger["url"]).path
    hooks = Client(SERVER_NAME="127.0.0.1")

    def hook(i: int) -> None:
        body = json.dumps({"topic": f"h{i}"}).encode()
        stamp = str(int(time.time()))
        digest = hmac.new(
            trigger["secret"].encode(), f"{stamp}.".encode() + body, hashlib.sha256
        ).hexdigest()
        response = hooks.post(
            path,
            body,
            content_type="application/json",
            headers={"X-Agentloom-Timestamp": stamp, "X-Agentloom-Signature": f"sha256={digest}"},
        )
        assert response.status_code == 202, response.content

    _measure("POST /hooks/<token>", hook, args.calls)


if __name__ == "__main__":
    main()
