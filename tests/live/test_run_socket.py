"""The run socket of docs/events.md: replay, then live, in order, once, whatever happens."""

import asyncio
import json
import random
import time

import httpx
import pytest
import websockets

from server.accounts.services import create_token
from tests.support.documents import chain
from tests.support.runs import events_of, start_run, wait_for_node, wait_for_run
from tests.support.services import restart_redis
from tests.support.ws import close_code, collect_until_terminal, connect

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
    pytest.mark.slow,
]


def persisted(run_id) -> list[tuple[int, str, str | None]]:
    return [(e.seq, e.type, e.node_id or None) for e in events_of(run_id)]


def received(events) -> list[tuple[int, str, str | None]]:
    return [(e["seq"], e["type"], e["node_id"]) for e in events]


def slow_chain(length: int, latency_ms: int) -> dict:
    return chain(length, node_type="researcher", model="mock/slow", mock_latency_ms=latency_ms)


def test_every_event_of_a_50_node_run_arrives_once_in_order(api, asgi, token):
    run = start_run(api, chain(48))

    async def watch():
        socket = await connect(asgi, f"/ws/runs/{run['id']}/?after=0", token=token)
        try:
            return await collect_until_terminal(socket)
        finally:
            await socket.close()

    events = asyncio.run(watch())
    wait_for_run(run["id"])
    assert received(events) == persisted(run["id"])
    assert len({e["node_id"] for e in events if e["type"] == "node.succeeded"}) == 50


def test_reconnecting_at_100_random_moments_ends_with_exactly_the_log(api, asgi, token):
    run = start_run(api, slow_chain(24, 400))
    rng = random.Random(7)

    async def flaky_client():
        events, last = [], 0
        reconnects = 0
        while True:
            socket = await connect(asgi, f"/ws/runs/{run['id']}/?after={last}", token=token)
            try:
                deadline = time.monotonic() + (rng.random() * 0.12 if reconnects < 100 else 60)
                while time.monotonic() < deadline:
                    try:
                        raw = await asyncio.wait_for(
                            socket.recv(), timeout=max(0.001, deadline - time.monotonic())
                        )
                    except TimeoutError:
                        break
                    message = json.loads(raw)
                    if message["kind"] != "event":
                        continue
                    assert message["seq"] == last + 1, (message["seq"], last)
                    events.append(message)
                    last = message["seq"]
                    if message["type"] in ("run.succeeded", "run.failed", "run.cancelled"):
                        return events, reconnects
            finally:
                await socket.close()
            reconnects += 1

    events, reconnects = asyncio.run(flaky_client())
    assert reconnects >= 100
    assert received(events) == persisted(run["id"])


def test_a_client_joining_mid_run_gets_all_text_streamed_so_far(api, asgi, token):
    run = start_run(api, slow_chain(1, 3000))
    wait_for_node(run["id"], "n0", "running")
    time.sleep(1)

    async def replay():
        socket = await connect(asgi, f"/ws/runs/{run['id']}/?after=0", token=token)
        try:
            replayed = []
            while True:
                message = json.loads(await socket.recv())
                if message["kind"] == "replayed":
                    return replayed, message["seq"]
                replayed.append(message)
        finally:
            await socket.close()

    replayed, last = asyncio.run(replay())
    assert last == replayed[-1]["seq"]
    text = "".join(e["data"]["delta"] for e in replayed if e["type"] == "node.token")
    assert text, "tokens streamed so far are replayed"
    done = wait_for_run(run["id"])
    final = next(n for n in done.node_runs.all() if n.node_id == "n0").output["text"]
    assert final.startswith(text)


def test_refusals(api, asgi, token, make_member, client_for):
    run = start_run(api, chain(1))
    outsider, _ = make_member("outsider")
    outsider_token = create_token(user=outsider, name="x")[1]
    path = f"/ws/runs/{run['id']}/"

    async def codes():
        return (
            await close_code(asgi, path),
            await close_code(asgi, path, token="alk_wrong"),
            await close_code(asgi, path, token=outsider_token),
            await close_code(asgi, path, token=token, headers={"Origin": "https://evil.example"}),
            await close_code(asgi, path + "?after=-3", token=token),
            await close_code(asgi, "/ws/workspace/"),
        )

    assert asyncio.run(codes()) == (4401, 4401, 4404, 4403, 4400, 4401)


def test_browser_session_with_our_origin_is_accepted(asgi, owner):
    with httpx.Client(base_url=asgi) as http:
        http.get("/api/v1/auth/csrf/")
        assert (
            http.post(
                "/api/v1/auth/login/", json={"username": "owner", "password": "pw-owner"}
            ).status_code
            == 200
        )
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())

    async def open_socket(origin):
        socket = await connect(asgi, "/ws/workspace/", headers={"Cookie": cookie, "Origin": origin})
        try:
            await asyncio.wait_for(socket.recv(), timeout=0.5)
        except TimeoutError:
            return "open"
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code
        finally:
            await socket.close()
        return "open"

    assert asyncio.run(open_socket("http://127.0.0.1:8000")) == "open"
    assert asyncio.run(open_socket("http://attacker.example")) == 4403


def test_workspace_socket_reports_run_changes(api, asgi, token):
    async def watch():
        socket = await connect(asgi, "/ws/workspace/", token=token)
        try:
            await asyncio.sleep(0.3)
            run = await asyncio.to_thread(start_run, api, chain(2))
            states = []
            async with asyncio.timeout(30):
                while "succeeded" not in states:
                    message = json.loads(await socket.recv())
                    if message["kind"] == "run" and message["run"]["id"] == run["id"]:
                        states.append(message["run"]["state"])
            return states
        finally:
            await socket.close()

    states = asyncio.run(watch())
    assert states[0] in ("queued", "running")
    assert states[-1] == "succeeded"


@pytest.mark.alone
def test_clients_recover_every_event_when_redis_restarts(api, asgi, token):
    run = start_run(api, slow_chain(6, 500))

    async def watch():
        socket = await connect(asgi, f"/ws/runs/{run['id']}/?after=0", token=token)
        try:
            collected = []
            restarted = False
            async with asyncio.timeout(90):
                while True:
                    message = json.loads(await socket.recv())
                    if message["kind"] != "event":
                        continue
                    collected.append(message)
                    if not restarted and len(collected) > 6:
                        restarted = True
                        await asyncio.to_thread(restart_redis)
                    if message["type"] in ("run.succeeded", "run.failed"):
                        return collected
        finally:
            await socket.close()

    events = asyncio.run(watch())
    assert received(events) == persisted(run["id"])
    assert events[-1]["type"] == "run.succeeded"


def test_events_endpoint_pages_after_a_seq(api):
    run = start_run(api, chain(3))
    wait_for_run(run["id"])
    everything = api.get(f"/api/v1/runs/{run['id']}/events/").json()
    assert [e["seq"] for e in everything["events"]] == list(range(1, everything["last_seq"] + 1))
    page = api.get(f"/api/v1/runs/{run['id']}/events/", {"after": 3, "limit": 2}).json()
    assert [e["seq"] for e in page["events"]] == [4, 5]
    assert api.get(f"/api/v1/runs/{run['id']}/events/", {"after": -1}).status_code == 400
    assert api.get(f"/api/v1/runs/{run['id']}/events/", {"limit": "x"}).status_code == 400
