"""The mechanics every run transition shares.

A transition locks its run row first. That lock is what makes the event log
gapless and ordered: ``seq`` numbers are handed out under it and the events
are inserted in the same transaction as the state change they report, so a
reader who sees event N has also seen every event before N. Tasks and live
messages are sent only after the commit (an outbox): a rolled-back transition
sends nothing, and a message lost after commit is re-sent by the reaper.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from server.runs import inserts, statements
from server.runs.models import Run, RunEvent
from server.runs.spend import count_finished_runs
from workers.engine.scheduling import EdgeDecision

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeTask:
    """A node task to publish: ids only, the rest is in the database.

    ``pool`` is the kind of worker it needs (``queues.AGENTS`` or
    ``queues.CONTROL``); the publisher picks the run's workspace's queue in it.
    """

    run_id: str
    node_id: str
    pool: str
    countdown_s: float = 0.0


@dataclass
class RunJournal:
    """What one transition did: its events, the tasks to send and the effects to run after commit.

    ``after_commit`` is given by the runs services (``services.start``): the
    effects reach for brokers and start other runs, which these mechanics must
    not depend on.
    """

    run: Run
    after_commit: Callable[["RunJournal"], None]
    now: datetime = field(default_factory=timezone.now)
    events: list[RunEvent] = field(default_factory=list)
    tasks: list[NodeTask] = field(default_factory=list)
    stop_signal: bool = False
    # The run ended: its slot is free (admission) and its month counts it (spend).
    freed_slot: bool = False
    run_fields: set[str] = field(default_factory=set)
    # Eager continuation: given the nodes about to be queued (in queue order),
    # the ones this worker leases rather than publishes; and the nodes it
    # leased so, with their attempts, for the worker to take up.
    keep: Callable[[list[str]], statements.Lease] | None = None
    kept: dict[str, int] = field(default_factory=dict)
    # Group commit: while a list, resolved edges wait here to be counted at
    # their targets together (``readiness.resolve_deferred``).
    deferred_edges: list[EdgeDecision] | None = None

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
        if self.write():
            self.on_commit()

    def write(self) -> bool:
        """Write the events and the run's changed fields; whether there was anything to write.

        Without ``on_commit``: for a caller that has the effects of several
        journals run together (new runs started in one batch).
        """
        return bool(write_journals([self]))

    def on_commit(self) -> None:
        """Have the effects run after the commit.

        ``flush`` calls it, and so does a caller that wrote the events and the
        run itself (a new run's one INSERT, ``inserts.insert_new_runs``).
        """

        # A closure, not a partial: Django names a robust callback that raised
        # by its __qualname__, which a partial lacks (the real error was lost).
        def run_after_commit() -> None:
            self.after_commit(self)

        transaction.on_commit(run_after_commit, robust=True)


def write_journals(journals: list[RunJournal]) -> list[RunJournal]:
    """Write these transitions: the journals that had anything to write.

    Their events in one INSERT, each run's changed fields, and the month
    counters of the runs that ended (``freed_slot``), last: the counter's row
    stays locked to the commit, and no run lock is waited for after it.
    """
    written = [journal for journal in journals if journal.events or journal.run_fields]
    if not written:
        return []
    inserts.insert_events([event for journal in written for event in journal.events])
    for journal in written:
        statements.update_run(journal.run, {"next_seq", *journal.run_fields})
    count_finished_runs([journal.run for journal in written if journal.freed_slot])
    return written


@contextmanager
def locked_run(run_id: Any, after_commit: Callable[[RunJournal], None]) -> Iterator[RunJournal]:
    """A transaction holding the run's row lock; events and run fields are written at the end."""
    with transaction.atomic():
        journal = _locked_journal(run_id, after_commit)
        yield journal
        journal.flush()


def _locked_journal(run_id: Any, after_commit: Callable[[RunJournal], None]) -> RunJournal:
    """The run's row, locked to the end of the transaction, in a new journal."""
    run = statements.lock_run(run_id)
    if run is None:
        raise Run.DoesNotExist(run_id)
    return RunJournal(run=run, after_commit=after_commit)


@contextmanager
def locked_runs(
    after_commit: Callable[[list[RunJournal]], None],
) -> Iterator[Callable[[Any], AbstractContextManager[RunJournal]]]:
    """One transaction for transitions of several runs (group commit across runs).

    Yields ``transition_of(run_id)``, which takes that run's row lock, held to
    the commit. Callers take the locks in one order (ascending run ids), so
    that two such transactions never wait on each other; a run already locked
    here may be entered again, without a second read of its row: its journal
    goes on, at a new ``now``. The journals are written together at the end
    (``write_journals``), each run's events and fields once, and their
    effects run together after the commit.
    """
    journals: dict[str, RunJournal] = {}

    def each_after_commit(journal: RunJournal) -> None:
        after_commit([journal])

    @contextmanager
    def transition_of(run_id: Any) -> Iterator[RunJournal]:
        journal = journals.get(str(run_id))
        if journal is None:
            journal = _locked_journal(run_id, each_after_commit)
        else:
            journal.now = timezone.now()
        yield journal
        journals[str(run_id)] = journal

    with transaction.atomic():
        yield transition_of
        written = write_journals(list(journals.values()))

        def run_after_commit() -> None:
            after_commit(written)

        if written:
            transaction.on_commit(run_after_commit, robust=True)
