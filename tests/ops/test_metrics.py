"""SPEC §14 metrics: a real run through the real API server and worker, then both are scraped."""

import asyncio
import re
import time
import urllib.request

import httpx
import pytest

from server.ops import metrics
from server.queues import all_queues
from tests.support.documents import chain
from tests.support.runs import wait_for_run
from tests.support.ws import close_code, connect

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker")]

_SAMPLE = re.compile(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$")


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            name, labels, value = match.groups()
            pairs = frozenset(re.findall(r'([a-z_]+)="([^"]*)"', labels or ""))
            samples[(name, pairs)] = float(value)
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def worker_metrics_url(worker) -> str:
    found = re.search(r"metrics at (http://\S+/metrics)", worker.log())
    assert found, worker.log()[-2000:]
    return found.group(1)


def test_a_run_shows_in_the_api_and_worker_metrics(asgi, worker, token):
    api_url, worker_url = f"{asgi}/metrics", worker_metrics_url(worker)
    api_before, worker_before = scrape(api_url), scrape(worker_url)
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=asgi, headers=headers, timeout=10) as client:
        doc = chain(2, node_type="researcher", model="mock/echo")
        workflow = client.post("/api/v1/workflows/", json={"document": doc}).json()
        run = client.post(f"/api/v1/workflows/{workflow['id']}/runs/", json={"inputs": {}})
        assert run.status_code == 202, run.text
    finished = wait_for_run(run.json()["id"])
    assert finished.state == "succeeded"
    api_after, worker_after = scrape(api_url), scrape(worker_url)

    def grew(name: str, **labels: str) -> float:
        return (
            value(api_after, name, **labels)
            - value(api_before, name, **labels)
            + value(worker_after, name, **labels)
            - value(worker_before, name, **labels)
        )

    # Whichever process made each transition, the two scrapes add up to the run.
    assert grew("agentloom_runs_total", state="queued") == 1
    assert grew("agentloom_runs_total", state="running") == 1
    assert grew("agentloom_runs_total", state="succeeded") == 1
    assert value(worker_after, "agentloom_runs_total", state="succeeded") >= 1
    assert grew("agentloom_nodes_total", type="researcher", state="succeeded") == 2
    assert grew("agentloom_nodes_total", type="output", state="succeeded") == 1
    assert grew("agentloom_node_duration_seconds_count", type="researcher") == 2
    assert grew("agentloom_tokens_total", kind="prompt") == finished.prompt_tokens > 0
    assert grew("agentloom_tokens_total", kind="completion") == finished.completion_tokens
    # What only the broker and the database know, read by the API at scrape time.
    for queue in all_queues():
        assert ("agentloom_queue_depth", frozenset({("queue", queue)})) in api_after
    assert value(api_after, "agentloom_runs_active") == 0
    # Every name the module promises appears in one scrape or the other.
    seen = {name for name, _ in api_after} | {name for name, _ in worker_after}
    assert metrics.NAMES - {"agentloom_websockets", "agentloom_publish_dropped_total"} <= seen


def wait_for_sockets(url: str, count: float) -> None:
    deadline = time.monotonic() + 5
    while value(scrape(url), "agentloom_websockets") != count:
        assert time.monotonic() < deadline, f"agentloom_websockets is not {count}"
        time.sleep(0.05)


def test_open_websockets_are_counted_until_they_close(asgi, token):
    url = f"{asgi}/metrics"
    before = value(scrape(url), "agentloom_websockets")

    async def watch() -> None:
        socket = await connect(asgi, "/ws/workspace/", token=token)
        try:
            await asyncio.to_thread(wait_for_sockets, url, before + 1)
        finally:
            await socket.close()

    asyncio.run(watch())
    wait_for_sockets(url, before)


def test_a_refused_websocket_is_not_counted(asgi):
    url = f"{asgi}/metrics"
    before = value(scrape(url), "agentloom_websockets")
    assert asyncio.run(close_code(asgi, "/ws/workspace/")) == 4401
    assert value(scrape(url), "agentloom_websockets") == before
