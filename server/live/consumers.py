"""Websockets that stream a run's events (and a workspace's run changes) to clients.

The protocol (docs/events.md): every message has ``kind`` and ``seq``. A run
socket joins its run's hub (``hub.py``: the process's one subscription to the
run's group) *before* replaying the stored events after ``?after=``, so
nothing committed during the replay is missed, and
de-duplicates by ``seq``, so nothing is sent twice. A live message that
arrives ahead of a missing one (messages from two workers can cross) makes
the socket read the gap from the database before sending it; a periodic
catch-up does the same for messages lost outright (a Redis restart).

Live messages reach a socket through its own bounded queue, drained by its
own writer task (``hub.py`` never waits for a client); a client so far behind
that its queue is full is closed with 4408 and replays from ``?after=`` when
it reconnects. Every socket checks again, every reauthorisation interval,
that its caller may still watch (``access.py``), and closes with the code a
new connection would get when not.
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
from server.core.numbers import strict_int
from server.live.access import credentials_still_valid, is_member, member_workspace_ids
from server.live.auth import origin_allowed
from server.live.hub import run_hub
from server.ops.metrics import WEBSOCKETS
from server.runs.models import Run, RunEvent
from server.runs.publisher import event_frame, register_server_loop, workspace_group

logger = logging.getLogger(__name__)

# Application close codes (4000 to 4999 are free for applications).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_BAD_REQUEST = 4400
CLOSE_TOO_SLOW = 4408

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

    def _start_background(self, tick_interval_s: float) -> None:
        """The periodic tick and reauthorisation, as tasks ended at disconnect."""
        WEBSOCKETS.inc()
        self._tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(self._tick_forever(tick_interval_s)),
            asyncio.create_task(
                self._reauthorise_forever(settings.AGENTLOOM_LIVE["reauth_interval_s"])
            ),
        ]

    async def _end(self, code: int) -> None:
        """Stop this socket's own tasks (one may be stuck sending), then close with ``code``."""
        current = asyncio.current_task()
        for task in getattr(self, "_tasks", []):
            if task is not current:
                task.cancel()
        await self.close(code=code)

    async def _reauthorise_forever(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                code = await self.reauthorise()
            except Exception:
                # The database restarting, say: checked again next time.
                logger.warning("websocket reauthorisation failed", exc_info=True)
                continue
            if code is not None:
                await self._end(code)
                return

    async def reauthorise(self) -> int | None:
        """The close code if the caller may no longer watch, else None."""
        if not await in_thread_pool(credentials_still_valid)(self.scope):
            return CLOSE_UNAUTHENTICATED
        return None

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
        if hasattr(self, "_tasks"):
            WEBSOCKETS.dec()
        for task in getattr(self, "_tasks", []):
            task.cancel()
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
        self.workspace_id = run.workspace_id
        self.last_seq = after
        self.finished = False
        self._sending = asyncio.Lock()
        # Bounded by events waiting (``offer``), not by messages: one message
        # may carry one event or a burst of thousands.
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._waiting_events = 0
        self._too_slow = False
        self._last_ping = self._last_live = asyncio.get_running_loop().time()
        await run_hub().join(run.pk, self)
        self._joined = True
        await self.accept()
        async with self._sending:
            await self._send_from_database()
            await self.send_json({"kind": "replayed", "seq": self.last_seq})
        self._start_background(settings.AGENTLOOM_LIVE["catch_up_interval_s"])
        self._tasks.append(asyncio.create_task(self._write_forever()))

    def _after_param(self) -> int | None:
        values = parse_qs(self.scope.get("query_string", b"").decode("latin1")).get("after", ["0"])
        after = strict_int(values[0])
        return after if after is not None and after >= 0 else None

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
        await self._leave_hub()

    async def _leave_hub(self) -> None:
        if getattr(self, "_joined", False):
            self._joined = False
            await run_hub().leave(self.run_id, self)

    def offer(self, message: dict[str, Any]) -> None:
        """A batch of committed events from the publisher, via the hub: queued, never awaited.

        A batch is always taken when nothing waits, however large (a burst is
        not a slow client); beyond that, at most ``AGENTLOOM_WS_SEND_QUEUE``
        events wait before the socket is given up on.
        """
        if self._too_slow:
            return
        self._last_live = asyncio.get_running_loop().time()
        count = len(message["events"])
        limit = settings.AGENTLOOM_LIVE["send_queue_events"]
        if self._waiting_events and self._waiting_events + count > limit:
            self._too_slow = True
            logger.info("run %s: a socket fell too far behind; closing it", self.run_id)
            asyncio.get_running_loop().create_task(self._close_too_slow())
            return
        self._waiting_events += count
        self._outbox.put_nowait(message)

    async def _close_too_slow(self) -> None:
        await self._leave_hub()
        await self._end(CLOSE_TOO_SLOW)

    async def _write_forever(self) -> None:
        """Send queued live batches at the client's own pace, within the stall bound.

        The queue bound alone never closes a client that stopped reading once
        the events stop coming (the run ended): its writer would wait on it,
        holding the socket and its buffers, for as long as the client lives.
        """
        stall_s = settings.AGENTLOOM_LIVE["send_stall_s"]
        while True:
            message = await self._outbox.get()
            self._waiting_events -= len(message["events"])
            try:
                async with asyncio.timeout(stall_s), self._sending:
                    await self._send_events(message["events"])
            except TimeoutError:
                self._too_slow = True
                logger.info("run %s: a socket stopped reading; closing it", self.run_id)
                await self._close_too_slow()
                return

    async def reauthorise(self) -> int | None:
        code = await super().reauthorise()
        if code is None and not await in_thread_pool(is_member)(
            self.scope["user"], self.workspace_id
        ):
            return CLOSE_NOT_FOUND
        return code

    async def on_tick(self) -> None:
        """Catch up on messages the pub/sub lost, and ping now and then.

        While live messages flow, a lost one shows as a jump in ``seq`` and
        the writer repairs it; only a socket that heard nothing for an
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
        self._start_background(settings.AGENTLOOM_LIVE["ping_interval_s"])

    async def reauthorise(self) -> int | None:
        """Follows membership changes: a workspace left stops reporting, one joined starts."""
        code = await super().reauthorise()
        if code is not None:
            return code
        now = {
            workspace_group(w)
            for w in await in_thread_pool(member_workspace_ids)(self.scope["user"])
        }
        for group in set(self._groups) - now:
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in now - set(self._groups):
            await self.channel_layer.group_add(group, self.channel_name)
        self._groups = list(now)
        return None

    async def run_changed(self, message: dict[str, Any]) -> None:
        await self.send_json({"kind": "run", "run": message["run"]})
