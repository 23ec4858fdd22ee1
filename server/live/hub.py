"""One channel-layer subscription per run per process, shared by its sockets.

With a group member per socket, the channel layer puts every event into each
socket's own queue and wakes each socket's task to dispatch it; a hundred
people watching one run cost a hundred of those per event, and the last
socket waits for the other ninety-nine. The hub receives each message once
and hands it to every socket of the run in this process at once.

Each socket keeps its own ordering, de-duplication and gap repair
(``RunEventsConsumer``); the hub only fans out. A socket joins the
hub before it replays stored events, exactly as it would join a group.

The hub never waits for a socket: it only offers each message to the
socket's own bounded queue, which the socket's writer task drains at the pace
of its client. A client that stops reading fills its queue and is closed,
alone; every other socket of the run goes on at its own pace.
"""

import asyncio
import logging
from typing import Any, Protocol

from channels.layers import get_channel_layer

from server.runs.publisher import run_group

logger = logging.getLogger(__name__)


class RunSocket(Protocol):
    def offer(self, message: dict[str, Any]) -> None:
        """Take a message without waiting (queue it, or give up on a client too far behind)."""


class RunHub:
    def __init__(self) -> None:
        self._layer = get_channel_layer()
        self._sockets: dict[str, set[RunSocket]] = {}
        self._channel: str | None = None
        self._membership = asyncio.Lock()

    async def join(self, run_id: Any, socket: RunSocket) -> None:
        async with self._membership:
            if self._channel is None:
                self._channel = await self._layer.new_channel()
                asyncio.get_running_loop().create_task(self._read(self._channel))
            sockets = self._sockets.setdefault(str(run_id), set())
            if not sockets:
                await self._layer.group_add(run_group(run_id), self._channel)
            sockets.add(socket)

    async def leave(self, run_id: Any, socket: RunSocket) -> None:
        async with self._membership:
            sockets = self._sockets.get(str(run_id))
            if sockets is None:
                return
            sockets.discard(socket)
            if not sockets:
                del self._sockets[str(run_id)]
                await self._layer.group_discard(run_group(run_id), self._channel)

    async def _read(self, channel: str) -> None:
        while True:
            try:
                message = await self._layer.receive(channel)
            except Exception:
                # A lost message is repaired from the database by the sockets.
                logger.warning("run hub could not receive", exc_info=True)
                await asyncio.sleep(0.5)
                continue
            for socket in list(self._sockets.get(message.get("run", ""), ())):
                try:
                    socket.offer(message)
                except Exception:
                    logger.warning("a socket failed to take events", exc_info=True)


_hubs: dict[asyncio.AbstractEventLoop, RunHub] = {}


def run_hub() -> RunHub:
    """The hub of the running event loop (one per ASGI worker process)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = RunHub()
    return _hubs[loop]
