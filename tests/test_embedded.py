"""The embedded default (SPEC §1): SQLite, the in-process broker and channel layer, one process.

`make up` with no DATABASE_URL or REDIS_URL: this starts the same commands in
a clean environment and drives the product through HTTP and a websocket.
"""

import asyncio
import os
import sys
import time

import httpx
import pytest

from tests.support.documents import fan_out
from tests.support.processes import ROOT, ManagedProcess, free_port
from tests.support.ws import collect_until_terminal, connect

pytestmark = pytest.mark.slow

INPUTS = {
    "topic": "tides",
    "task": "reverse a list",
    "subject": "bees",
    "request": "A technical question about my API",
    "text": "Ada Lovelace met Charles Babbage.",
}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="server.settings",
        AGENTLOOM_VAR_DIR=str(tmp_path_factory.mktemp("embedded")),
        PYTHONPATH=str(ROOT),
    )
    port = free_port()
    bootstrap = ManagedProcess(
        "embedded-bootstrap", [sys.executable, "manage.py", "bootstrap"], env
    )
    assert bootstrap.process.wait(timeout=120) == 0, bootstrap.log()
    assert "demo / demo" in bootstrap.log()
    server = ManagedProcess(
        "embedded", [sys.executable, "manage.py", "serve", "--port", str(port)], env
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        raise RuntimeError(server.log()[-3000:])
    yield base
    server.stop()


@pytest.fixture
def demo(embedded):
    with httpx.Client(base_url=embedded, timeout=30) as client:
        client.get("/api/v1/auth/csrf/")
        login = client.post(
            "/api/v1/auth/login/",
            json={"username": "demo", "password": "demo"},
            headers={"X-CSRFToken": client.cookies["csrftoken"]},
        )
        assert login.status_code == 200
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        yield client


def wait_for(client, run_id):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}/").json()
        if run["state"] not in ("queued", "running"):
            return run
        time.sleep(0.1)
    raise AssertionError(run)


def test_every_built_in_template_runs_on_mock_models(demo):
    templates = demo.get("/api/v1/templates/").json()
    assert len(templates) >= 5
    for template in templates:
        workflow = demo.post(f"/api/v1/templates/{template['id']}/instantiate/", json={}).json()
        inputs = {name: INPUTS[name] for name in workflow["document"]["inputs"]}
        run = demo.post(f"/api/v1/workflows/{workflow['id']}/runs/", json={"inputs": inputs})
        assert run.status_code == 202, run.content
        finished = wait_for(demo, run.json()["id"])
        assert finished["state"] == "succeeded", (template["name"], finished["error"])
        assert finished["output"]


def test_a_wide_step_and_live_events_on_sqlite(demo, embedded):
    workflow = demo.post("/api/v1/workflows/", json={"document": fan_out(1500, expression="1")})
    assert workflow.status_code == 201, workflow.content
    run = demo.post(f"/api/v1/workflows/{workflow.json()['id']}/runs/", json={"inputs": {}}).json()
    cookie = "; ".join(f"{k}={v}" for k, v in demo.cookies.items())

    async def watch():
        socket = await connect(
            embedded,
            f"/ws/runs/{run['id']}/?after=0",
            headers={"Cookie": cookie, "Origin": embedded},
        )
        try:
            return await collect_until_terminal(socket, timeout=120)
        finally:
            await socket.close()

    events = asyncio.run(watch())
    assert events[-1]["type"] == "run.succeeded"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    stored: list[dict] = []
    while True:
        page = demo.get(
            f"/api/v1/runs/{run['id']}/events/", params={"after": len(stored), "limit": 5000}
        ).json()
        stored += page["events"]
        if len(stored) >= page["last_seq"]:
            break
    assert [{k: v for k, v in e.items() if k != "kind"} for e in events] == stored
