"""The embedded default: SQLite, the in-process broker and channel layer, one process.

See docs/operations.md.

`make up` with no DATABASE_URL or REDIS_URL: this starts the same commands in
a clean environment and drives the product through HTTP and a websocket.
"""

import asyncio
import json
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
    "item": "a loom",
    "topics": ["tides", "bees"],
}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """The product served as `make up` serves it: (its base URL, the demo MCP server's port)."""
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
    port, mcp_port = free_port(), free_port()
    env["AGENTLOOM_DEMO_MCP_PORT"] = str(mcp_port)
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
    yield base, mcp_port
    server.stop()


@pytest.fixture
def demo(embedded):
    with httpx.Client(base_url=embedded[0], timeout=30) as client:
        client.get("/api/v1/auth/csrf/")
        login = client.post(
            "/api/v1/auth/login/",
            json={"username": "demo", "password": "demo"},
            headers={"X-CSRFToken": client.cookies["csrftoken"]},
        )
        assert login.status_code == 200
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        yield client


def wait_for(client, run_id, decision="approve"):
    """The run once it ended; each approval it waits for on the way gets `decision`."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}/").json()
        if run["state"] not in ("queued", "running"):
            return run
        for approval in client.get("/api/v1/approvals/").json():
            if approval["run"] == run_id:
                decided = client.post(
                    f"/api/v1/runs/{run_id}/nodes/{approval['node_id']}/decision/",
                    json={"decision": decision, "comment": "from the test"},
                )
                assert decided.status_code == 200, decided.content
        time.sleep(0.1)
    raise AssertionError(run)


def test_every_built_in_template_runs_on_mock_models(demo, embedded):
    templates = demo.get("/api/v1/templates/").json()
    assert len(templates) >= 6
    # The tool templates call the demo server `serve` started, here on a port of the test's.
    demo_server = {"demo_server": f"http://127.0.0.1:{embedded[1]}"}
    for template in templates:
        declared = {variable["name"] for variable in template["variables"]}
        variables = {k: v for k, v in demo_server.items() if k in declared}
        workflow = demo.post(
            f"/api/v1/templates/{template['id']}/instantiate/", json={"variables": variables}
        ).json()
        inputs = {name: INPUTS[name] for name in workflow["document"]["inputs"]}
        run = demo.post(f"/api/v1/workflows/{workflow['id']}/runs/", json={"inputs": inputs})
        assert run.status_code == 202, run.content
        finished = wait_for(demo, run.json()["id"])
        assert finished["state"] == "succeeded", (template["name"], finished["error"])
        assert finished["output"]
        if template["name"] == "Researcher with tools":
            [researcher] = [n for n in finished["nodes"] if n["node_id"] == "researcher"]
            assert researcher["output"]["tool_calls"] == 2
            assert "Experts still disagree" in researcher["output"]["text"]


def test_a_wide_step_and_live_events_on_sqlite(demo, embedded):
    base, _ = embedded
    workflow = demo.post("/api/v1/workflows/", json={"document": fan_out(1500, expression="1")})
    assert workflow.status_code == 201, workflow.content
    run = demo.post(f"/api/v1/workflows/{workflow.json()['id']}/runs/", json={"inputs": {}}).json()
    cookie = "; ".join(f"{k}={v}" for k, v in demo.cookies.items())

    async def watch():
        socket = await connect(
            base,
            f"/ws/runs/{run['id']}/?after=0",
            headers={"Cookie": cookie, "Origin": base},
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


def test_serve_runs_the_demo_mcp_server_and_the_guard_allows_it(demo, embedded):
    workflow = demo.post("/api/v1/workflows/", json={"document": fan_out(1)}).json()
    listed = demo.post(
        f"/api/v1/workflows/{workflow['id']}/mcp-tools/",
        json={"url": f"http://127.0.0.1:{embedded[1]}/mcp"},
    )
    assert listed.status_code == 200, listed.content
    names = {tool["name"] for tool in listed.json()["tools"]}
    assert {"add", "multiply", "notes_write", "notes_read"} <= names


def test_the_order_template_asks_first_and_rolls_back_through_the_demo_server(demo, embedded):
    template = next(
        t
        for t in demo.get("/api/v1/templates/").json()
        if t["name"] == "Approved order with rollback"
    )
    variables = {"demo_server": f"http://127.0.0.1:{embedded[1]}"}
    workflow = demo.post(
        f"/api/v1/templates/{template['id']}/instantiate/", json={"variables": variables}
    ).json()
    run = demo.post(
        f"/api/v1/workflows/{workflow['id']}/runs/", json={"inputs": {"item": "a loom"}}
    ).json()
    assert wait_for(demo, run["id"])["state"] == "succeeded"
    [placed] = demo.get(f"/api/v1/runs/{run['id']}/side-effects/").json()
    assert placed["state"] == "done"
    assert demo.post(f"/api/v1/runs/{run['id']}/rollback/").status_code == 202
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        [effect] = demo.get(f"/api/v1/runs/{run['id']}/side-effects/").json()
        if effect["state"] != "done":  # until the rollback task has sent the reverse request
            break
        time.sleep(0.2)
    assert effect["state"] == "compensated", effect

    declined = demo.post(
        f"/api/v1/workflows/{workflow['id']}/runs/", json={"inputs": {"item": "a shuttle"}}
    ).json()
    finished = wait_for(demo, declined["id"], decision="reject")
    assert finished["state"] == "succeeded"
    assert "was not placed: from the test" in json.dumps(finished["output"])
    assert demo.get(f"/api/v1/runs/{declined['id']}/side-effects/").json() == []
