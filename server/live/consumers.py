"""Websockets that stream a run's events (and a workspace's run changes) to clients.

The protocol (docs/events.md): every message has ``kind`` and ``seq``. A run
socket joins its run's hub (``hub.py``: the process's one subscription to the
run's group) *before* replaying the stored events after ``?after=``, so
nothing committed during the replay is missed, and
de-duplicates by ``seq``, so nothing is sent twice. A live message that
arrives ahead of a missing one (messages from two workers can cross) makes
the socket read the gap from the database before sending it; a periodic
catch-up does the same for messages lost outright (a Redis restart).
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from server.accounts.selectors import workspace_ids_for
from server.live.auth import origin_allowed
from server.live.hub import run_hub
from server.live.publisher import event_frame, register_server_loop, workspace_group
from server.runs.models import Run, RunEvent

logger = logging.getLogger(__name__)

# Application close codes (4000 to 4999 are free for applications).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400

_TERMINAL_EVENTS = frozenset({"run.succeeded", "run.failed", "run.cancelled"})


def in_thread_pool(read: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Run a self-contained database read on the thread pool.

    Channels' default puts every consumer's database calls on one shared thread,
    so a hundred sockets opening at once would queue behind each other's
    replays, and so would the live events waiting on them. These reads need no
    thread affinity: each borrows a pooled connection and gives it back.
    """
    return database_sync_to_async(read, thread_sensitive=False)


_PAGE = 1000


def _read_events(run_id: Any, after: int, before: int | None = None) -> list[dict[str, Any]]:
    events = RunEvent.objects.filter(run_id=run_id, seq__gt=after)
    if before is not None:
        events = events.filter(seq__lt=before)
    return [event_frame(event) for event in events.order_by("seq")[:_PAGE]]


class _AuthenticatedConsumer(AsyncWebsocketConsumer):
    async def _refuse(self, code: int) -> None:
        # Accept-then-close so clients see our close code, not a bare HTTP 403.
        await self.accept()
        await self.close(code=code)

    async def _check_caller(self) -> bool:
        register_server_loop(asyncio.get_running_loop())
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return False
        if not origin_allowed(self.scope, by_token=bool(self.scope.get("auth_by_token"))):
            await self._refuse(CLOSE_FORBIDDEN_ORIGIN)
            return False
        return True

    async def send_json(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, separators=(",", ":")))

    def _start_ticking(self, interval_s: float) -> None:
        self._pinger = asyncio.create_task(self._tick_forever(interval_s))

    async def _tick_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.on_tick()
            except Exception:
                # A failed tick (the database restarting, say) is retried next time.
                logger.warning("websocket tick failed", exc_info=True)

    async def on_tick(self) -> None:
        """Called every interval: keeps idle sockets alive through proxies."""
        await self.send_json({"kind": "ping"})

    async def disconnect(self, code: int) -> None:
        pinger = getattr(self, "_pinger", None)
        if pinger is not None:
            pinger.cancel()
        for group in getattr(self, "_groups", []):
            await self.channel_layer.group_discard(group, self.channel_name)


class RunEventsConsumer(_AuthenticatedConsumer):
    async def connect(self) -> None:
        if not await self._check_caller():
            return
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        after = self._after_param()
        if after is None:
            await self._refuse(CLOSE_BAD_REQUEST)
            return
        run = await in_thread_pool(self._visible_run)(run_id)
        if run is None:
            await self._refuse(CLOSE_NOT_FOUND)
            return
        self.run_id = run.pk
        self.last_seq = after
        self.finished = False
        self._sending = asyncio.Lock()
        await run_hub().join(run.pk, self)
        self._joined = True
        await self.accept()
        async with self._sending:
            await self._send_from_database()
            await self.send_json({"kind": "replayed", "seq": self.last_seq})
        self._last_ping = self._last_live = asyncio.get_running_loop().time()
        self._start_ticking(settings.AGENTLOOM_LIVE["catch_up_interval_s"])

    def _after_param(self) -> int | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("after", ["0"])
        try:
            after = int(values[0])
        except ValueError:
            return None
        return after if after >= 0 else None

    def _visible_run(self, run_id: Any) -> Run | None:
        return Run.objects.filter(
            pk=run_id, workspace_id__in=workspace_ids_for(self.scope["user"])
        ).first()

    async def _send_events(self, events: list[dict[str, Any]], *, repair: bool = True) -> None:
        """Send event frames past ``last_seq``, in order, each once.

        An event ahead of the next expected ``seq`` (messages from two workers
        can cross, and a busy publisher merges several transactions into one
        message) first makes the socket read the missing ones from the
        database, where every earlier event already is: it committed first.
        """
        for event in events:
            if event["seq"] > self.last_seq + 1:
                if not repair:
                    # The stored log has no holes; stop rather than send past one.
                    logger.warning("run %s: stored events skip %s", self.run_id, self.last_seq + 1)
                    return
                await self._send_from_database(before=event["seq"])
            if event["seq"] <= self.last_seq:
                continue
            await self.send(text_data=event["text"])
            self.last_seq = event["seq"]
            if event["type"] in _TERMINAL_EVENTS:
                self.finished = True

    async def _send_from_database(self, before: int | None = None) -> None:
        """Send stored events after ``last_seq`` (and before ``before``), page by page."""
        while True:
            page = await in_thread_pool(_read_events)(self.run_id, self.last_seq, before)
            await self._send_events(page, repair=False)
            if len(page) < _PAGE:
                return

    async def disconnect(self, code: int) -> None:
        await super().disconnect(code)
        if getattr(self, "_joined", False):
            await run_hub().leave(self.run_id, self)

    async def run_events(self, message: dict[str, Any]) -> None:
        """A batch of committed events from the publisher, through the hub."""
        self._last_live = asyncio.get_running_loop().time()
        async with self._sending:
            await self._send_events(message["events"])

    async def on_tick(self) -> None:
        """Catch up on messages the pub/sub lost, and ping now and then.

        While live messages flow, a lost one shows as a jump in ``seq`` and
        ``run_events`` repairs it; only a socket that heard nothing for an
        interval (a lost tail, a Redis restart) reads the database. It reads
        outside the send lock, so live events never wait behind the query.
        """
        now = asyncio.get_running_loop().time()
        idle = now - self._last_live >= settings.AGENTLOOM_LIVE["catch_up_interval_s"]
        missed = []
        if idle and not self.finished:
            missed = await in_thread_pool(_read_events)(self.run_id, self.last_seq)
        async with self._sending:
            await self._send_events(missed, repair=False)
            if len(missed) == _PAGE:
                await self._send_from_database()
            if now - self._last_ping >= settings.AGENTLOOM_LIVE["ping_interval_s"]:
                self._last_ping = now
                await self.send_json({"kind": "ping", "seq": self.last_seq})


class WorkspaceRunsConsumer(_AuthenticatedConsumer):
    """Run created, changed and finished, for every workspace of the caller."""

    async def connect(self) -> None:
        if not await self._check_caller():
            return
        workspace_ids = await in_thread_pool(workspace_ids_for)(self.scope["user"])
        self._groups = [workspace_group(w) for w in workspace_ids]
        for group in self._groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        self._start_ticking(settings.AGENTLOOM_LIVE["ping_interval_s"])

    async def run_changed(self, message: dict[str, Any]) -> None:
        await self.send_json({"kind": "run", "run": message["run"]})
