"""Fan committed run events out to the websockets watching them.

Called after a transition commits (``transaction.on_commit``), from worker
threads and request threads alike, so it must never block them: messages go
into an in-order queue drained by one task on an event loop. With Redis that
loop is a private background thread and the channel layer is channels-redis'
pub/sub layer; in the embedded default the in-memory layer only works on the
ASGI server's own loop, which the first websocket consumer registers.

Delivery is best effort by design. The event log in the database is the
truth; a socket that misses a message notices the gap in ``seq`` (or its
periodic catch-up does) and reads the missing events from the database.
That is also why the queue is bounded (``AGENTLOOM_PUBLISH_QUEUE``): when the
channel layer cannot keep up, new messages are dropped, counted and logged,
rather than held in memory without end.
"""

import asyncio
import json
import logging
import threading
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings
from django.dispatch import Signal

from server.ops.metrics import PUBLISH_DROPPED, count_events
from server.runs.models import Run, RunEvent
from server.runs.pinned import graph_for_version

logger = logging.getLogger(__name__)

RUN_STATE_EVENTS = frozenset(
    {"run.queued", "run.started", "run.succeeded", "run.failed", "run.cancelled"}
)


# Sent with ``run`` and ``events`` after they are committed (notifications listen).
run_events_committed = Signal()


def run_group(run_id: Any) -> str:
    return f"run.{run_id}"


def workspace_group(workspace_id: Any) -> str:
    return f"workspace.{workspace_id}"


class _Outbox:
    """An ordered queue of group sends, drained by one task on one loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(
            maxsize=settings.AGENTLOOM_LIVE["publish_queue_messages"]
        )
        self.dropped = 0
        self.layer = get_channel_layer()
        loop.call_soon_threadsafe(lambda: loop.create_task(self._drain()))

    async def _drain(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            for group, message in _merged(batch):
                try:
                    await self.layer.group_send(group, message)
                except Exception:
                    logger.warning("could not publish to %s", group, exc_info=True)

    def put(self, group: str, message: dict[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self._offer, group, message)

    def _offer(self, group: str, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait((group, message))
        except asyncio.QueueFull:
            self.dropped += 1
            PUBLISH_DROPPED.inc()
            # Once, then every thousandth: a stuck layer would otherwise flood the log.
            if self.dropped % 1000 == 1:
                logger.warning(
                    "publish queue full: %d messages dropped so far (sockets read them "
                    "from the event log)",
                    self.dropped,
                )


def _merged(batch: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """One message per run group for events that queued up (busy workers send fewer, larger)."""
    merged: list[tuple[str, dict[str, Any]]] = []
    by_group: dict[str, dict[str, Any]] = {}
    for group, message in batch:
        if message["type"] != "run.events":
            merged.append((group, message))
        elif group in by_group:
            by_group[group]["events"] += message["events"]
        else:
            by_group[group] = {**message, "events": list(message["events"])}
            merged.append((group, by_group[group]))
    return merged


def event_frame(event: RunEvent) -> dict[str, Any]:
    """An event as sockets send it, encoded once for all the sockets of a run."""
    text = json.dumps({"kind": "event", **event.as_message()}, separators=(",", ":"))
    return {"seq": event.seq, "type": event.type, "text": text}


_lock = threading.Lock()
_outbox: _Outbox | None = None
_server_loop: asyncio.AbstractEventLoop | None = None


def register_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called by websocket consumers: the loop an in-memory channel layer lives on."""
    global _server_loop
    _server_loop = loop


def _private_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="event-publisher", daemon=True).start()
    return loop


def _get_outbox() -> _Outbox | None:
    global _outbox
    if _outbox is not None:
        return _outbox
    with _lock:
        if _outbox is None:
            if isinstance(get_channel_layer(), InMemoryChannelLayer):
                if _server_loop is None:
                    return None  # no socket has ever connected to this process: nobody listens
                _outbox = _Outbox(_server_loop)
            else:
                _outbox = _Outbox(_private_loop())
    return _outbox


def run_summary(run: Run) -> dict[str, Any]:
    """What the runs list needs to update one row, without another query."""
    return {
        "id": str(run.pk),
        "workspace": str(run.workspace_id),
        "workflow": str(run.workflow_id),
        "state": run.state,
        "error": run.error,
        "trigger": run.trigger,
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "cost_usd": run.cost_usd,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "last_seq": run.last_seq,
    }


def publish_run_events(run: Run, events: list[RunEvent]) -> None:
    if not events:
        return
    run_events_committed.send(sender=Run, run=run, events=events)
    count_events(events, lambda node_id: graph_for_version(run.version_id).nodes[node_id].type)
    outbox = _get_outbox()
    if outbox is None:
        return
    outbox.put(
        run_group(run.pk),
        {
            "type": "run.events",
            "run": str(run.pk),
            "events": [event_frame(event) for event in events],
        },
    )
    if any(event.type in RUN_STATE_EVENTS for event in events):
        outbox.put(
            workspace_group(run.workspace_id), {"type": "run.changed", "run": run_summary(run)}
        )
