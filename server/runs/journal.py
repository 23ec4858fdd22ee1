"""The mechanics every run transition shares.

A transition locks its run row first. That lock is what makes the event log
gapless and ordered: ``seq`` numbers are handed out under it and the events
are inserted in the same transaction as the state change they report, so a
reader who sees event N has also seen every event before N. Tasks and live
messages are sent only after the commit (an outbox): a rolled-back transition
sends nothing, and a message lost after commit is re-sent by the reaper.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from server.runs import statements
from server.runs.models import Run, RunEvent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeTask:
    """A node task to publish: ids only, the rest is in the database."""

    run_id: str
    node_id: str
    queue: str
    countdown_s: float = 0.0


@dataclass
class RunJournal:
    run: Run
    now: datetime = field(default_factory=timezone.now)
    events: list[RunEvent] = field(default_factory=list)
    tasks: list[NodeTask] = field(default_factory=list)
    stop_signal: bool = False
    freed_slot: bool = False
    run_fields: set[str] = field(default_factory=set)

    def emit(self, event_type: str, node_id: str | None = None, /, **data: Any) -> RunEvent:
        event = RunEvent(
            run_id=self.run.pk,
            seq=self.run.next_seq,
            ts=timezone.now(),
            type=event_type,
            node_id=node_id or "",
            data=data,
        )
        self.run.next_seq += 1
        self.events.append(event)
        return event

    def update_run(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self.run, name, value)
        self.run_fields.update(values)

    def send(self, task: NodeTask) -> None:
        self.tasks.append(task)

    def flush(self) -> None:
        if not self.events and not self.run_fields:
            return
        statements.insert_events(self.events)
        statements.update_run(self.run, {"next_seq", *self.run_fields})
        transaction.on_commit(self._after_commit, robust=True)

    def _after_commit(self) -> None:
        # Imported here: they reach for brokers and other services, which the
        # transaction mechanics must not depend on at import time.
        from server.live.publisher import publish_run_events
        from server.runs.dispatch import send_node_tasks, signal_run_stopped
        from server.runs.services import start_queued_runs

        if self.stop_signal:
            signal_run_stopped(str(self.run.pk))
        if self.tasks:
            send_node_tasks(self.tasks)
        publish_run_events(self.run, self.events)
        if self.freed_slot:
            start_queued_runs(self.run.workspace_id)


@contextmanager
def locked_run(run_id: Any) -> Iterator[RunJournal]:
    """A transaction holding the run's row lock; events and run fields are written at the end."""
    with transaction.atomic():
        run = statements.lock_run(run_id)
        if run is None:
            raise Run.DoesNotExist(run_id)
        journal = RunJournal(run=run)
        yield journal
        journal.flush()
