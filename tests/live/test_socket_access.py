"""Websockets after the handshake: access checked again, slow clients isolated, keys unlogged.

A server of this module's own, with a short reauthorisation interval, a small
per-socket queue, a long catch-up interval (so a stalled fan-out would show
as delay, not be hidden by the catch-up), small socket send buffers (so a
client that stops reading blocks the server's writes to it within a run's
worth of events), and uvicorn's info-level log.
"""

import asyncio
import base64
import json
import os
import socket
import time
from datetime import datetime
from urllib.parse import urlsplit

import httpx
import pytest
import websockets
from django.contrib.sessions.models import Session
from django.utils import timezone

from server.accounts.models import ApiToken, Membership, Role
from server.accounts.services import create_token
from tests.support.documents import chain, fan_out
from tests.support.processes import start_asgi
from tests.support.runs import start_run, wait_for_run
from tests.support.ws import TERMINAL, connect, ws_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("worker"),
    pytest.mark.slow,
]

REAUTH_S = 0.5
SEND_STALL_S = 1.0


@pytest.fixture(scope="module")
def live(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        server, base = start_asgi(
            log_level="info",
            AGENTLOOM_WS_REAUTH_INTERVAL_S=str(REAUTH_S),
            AGENTLOOM_WS_SEND_QUEUE="1000",
            AGENTLOOM_WS_SEND_STALL_S=str(SEND_STALL_S),
            AGENTLOOM_CATCH_UP_INTERVAL_S="30",
            send_buffer_bytes=8192,
        )
    yield server, base
    server.stop()


async def close_code_within(ws, seconds: float) -> int | None:
    """Read until the server closes; its close code (None: no close frame)."""
    async with asyncio.timeout(seconds):
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


def _remove_membership(user, token):
    Membership.objects.filter(user=user).delete()


def _revoke_token(user, token):
    token.delete()


def _expire_token(user, token):
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())


def _deactivate_user(user, token):
    user.is_active = False
    user.save(update_fields=["is_active"])


@pytest.mark.parametrize(
    ("revoke", "code"),
    [
        (_remove_membership, 4404),
        (_revoke_token, 4401),
        (_expire_token, 4401),
        (_deactivate_user, 4401),
    ],
)
def test_a_revoked_socket_is_closed_within_the_interval(
    live, api, owner, make_member, revoke, code
):
    _, base = live
    viewer, _ = make_member("viewer", Role.VIEWER, owner[1])
    token, key = create_token(user=viewer, name="viewer")
    run = start_run(api, chain(1))

    async def scenario():
        ws = await connect(base, f"/ws/runs/{run['id']}/?after=0", token=key)
        try:
            # Still open after several checks while nothing changed.
            with pytest.raises(TimeoutError):
                await close_code_within(ws, REAUTH_S * 4)
            await asyncio.to_thread(revoke, viewer, token)
            revoked = time.monotonic()
            return await close_code_within(ws, 10), time.monotonic() - revoked
        finally:
            await ws.close()

    closed_with, took = asyncio.run(scenario())
    wait_for_run(run["id"])
    assert closed_with == code
    assert took < REAUTH_S + 2


def _session_cookie(base: str) -> str:
    with httpx.Client(base_url=base) as http:
        response = http.post(
            "/api/v1/auth/login/", json={"username": "owner", "password": "pw-owner"}
        )
        assert response.status_code == 200
        return http.cookies["sessionid"]


def test_a_session_socket_closes_when_the_session_ends(live, owner):
    _, base = live
    session = _session_cookie(base)

    async def scenario():
        ws = await connect(
            base, "/ws/workspace/", headers={"Cookie": f"sessionid={session}", "Origin": base}
        )
        try:
            with pytest.raises(TimeoutError):
                await close_code_within(ws, REAUTH_S * 3)
            await asyncio.to_thread(Session.objects.filter(session_key=session).delete)
            return await close_code_within(ws, 10)
        finally:
            await ws.close()

    assert asyncio.run(scenario()) == 4401


def test_origin_must_match_scheme_host_and_port(live, owner):
    _, base = live
    session = _session_cookie(base)
    port = urlsplit(base).port

    async def outcome(origin: str):
        ws = await connect(
            base, "/ws/workspace/", headers={"Cookie": f"sessionid={session}", "Origin": origin}
        )
        try:
            return await close_code_within(ws, 1)
        except TimeoutError:
            return "open"
        finally:
            await ws.close()

    async def outcomes():
        return [
            await outcome(origin)
            for origin in (
                base,  # the socket's own origin
                "http://localhost:8000",  # a trusted origin
                f"https://127.0.0.1:{port}",  # another scheme
                f"http://127.0.0.1:{port + 1}",  # another port
                f"http://127.0.0.1.evil.example:{port}",
                "null",
            )
        ]

    assert asyncio.run(outcomes()) == ["open", "open", 4403, 4403, 4403, 4403]


def test_tokens_without_read_or_past_expiry_cannot_watch(live, api, owner):
    _, base = live
    user = owner[0]
    run = start_run(api, chain(1))
    write_only = create_token(user=user, name="w", scopes=["write"])[1]
    expired_token, expired = create_token(user=user, name="e")
    ApiToken.objects.filter(pk=expired_token.pk).update(expires_at=timezone.now())

    async def code(key):
        ws = await connect(base, f"/ws/runs/{run['id']}/?after=0", token=key)
        try:
            return await close_code_within(ws, 5)
        finally:
            await ws.close()

    async def codes():
        return await code(write_only), await code(expired)

    assert asyncio.run(codes()) == (4401, 4401)
    wait_for_run(run["id"])


def test_a_query_string_token_never_reaches_the_log(live, api, owner):
    server, base = live
    run = start_run(api, chain(1))
    key = create_token(user=owner[0], name="query")[1]

    async def watch():
        ws = await websockets.connect(ws_url(base, f"/ws/runs/{run['id']}/?after=0&token={key}"))
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert message["kind"] in ("event", "replayed")
        finally:
            await ws.close()

    asyncio.run(watch())
    wait_for_run(run["id"])
    deadline = time.monotonic() + 5
    while "token=[redacted]" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "token=[redacted]" in server.log()
    assert key not in server.log()
    assert key[len("alk_") :] not in server.log()


def _stalled_viewer(base: str, path: str, token: str) -> socket.socket:
    """A websocket client that completes the handshake and then never reads.

    A plain socket with a tiny receive buffer (a websocket library would read
    ahead into its own buffers): the server's writes to it stop after a few
    kilobytes, as to a stalled browser tab.
    """
    parts = urlsplit(base)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect((parts.hostname, parts.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Token {token}\r\n\r\n"
        ).encode()
    )
    response = b""
    while not response.endswith(b"\r\n\r\n"):
        response += sock.recv(1)  # one byte at a time: nothing past the handshake
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def _read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sent until its close frame (no reason) or the end of the stream.

    The server waits for the client's answer to its close frame before it
    ends the connection; this client never answers, so it stops at the frame.
    """
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
            if received[-4:-2] == b"\x88\x02":
                break
    except ConnectionResetError:
        pass
    return received


def test_a_viewer_who_never_reads_does_not_delay_another(live, api, token):
    _, base = live
    # Agents finishing over a few seconds: events in many messages, not one burst.
    run = start_run(
        api, fan_out(120, node_type="researcher", model="mock/slow", mock_latency_ms=300)
    )
    path = f"/ws/runs/{run['id']}/?after=0"
    stalled = _stalled_viewer(base, path, token)

    async def watch():
        reader = await connect(base, path, token=token)
        delays, types, seqs = [], [], []
        try:
            async with asyncio.timeout(90):
                while True:
                    message = json.loads(await reader.recv())
                    if message["kind"] != "event":
                        continue
                    written = datetime.fromisoformat(message["ts"].replace("Z", "+00:00"))
                    delays.append(time.time() - written.timestamp())
                    types.append(message["type"])
                    seqs.append(message["seq"])
                    if message["type"] in TERMINAL:
                        return delays, types, seqs
        finally:
            await reader.close()

    try:
        delays, types, seqs = asyncio.run(watch())
        # Longer than the stall bound: the run may have ended before it ran out.
        time.sleep(SEND_STALL_S + 1)
        stalled_got = _read_to_end(stalled)
    finally:
        stalled.close()
    wait_for_run(run["id"])
    assert types[-1] == "run.succeeded"
    assert seqs == list(range(1, len(seqs) + 1))
    assert max(delays) < 3, sorted(delays)[-5:]
    # The stalled viewer was given up on (closed with 4408) instead of holding the others.
    assert b"run.succeeded" not in stalled_got
    assert (4408).to_bytes(2, "big") in stalled_got[-64:]
