"""A websocket client for tests, speaking the protocol of docs/events.md."""

import asyncio
import json
from typing import Any

import websockets

TERMINAL = {"run.succeeded", "run.failed", "run.cancelled"}


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


async def connect(
    base: str, path: str, *, token: str | None = None, headers: dict[str, str] | None = None
) -> Any:
    extra = dict(headers or {})
    if token:
        extra["Authorization"] = f"Token {token}"
    return await websockets.connect(ws_url(base, path), additional_headers=extra, open_timeout=10)


async def close_code(base: str, path: str, **kwargs: Any) -> int | None:
    """Connect and report the close code the server answers with (None if it stays open)."""
    socket = await connect(base, path, **kwargs)
    try:
        await asyncio.wait_for(socket.recv(), timeout=5)
    except websockets.ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None
    finally:
        await socket.close()
    return None


async def collect_until_terminal(socket: Any, timeout: float = 60) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            message = json.loads(await socket.recv())
            if message["kind"] == "event":
                events.append(message)
                if message["type"] in TERMINAL:
                    return events
