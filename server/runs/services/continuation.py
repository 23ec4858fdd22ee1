"""Eager continuation: a node task also runs the control nodes its success made ready.

A hop through the broker (publish, delivery, hand-off to a pool child, claim)
costs milliseconds; a control node (input, transformer, output) computes in
microseconds to milliseconds. So the transaction that records a success may
lease the control nodes it queued to its own worker instead of publishing
their tasks, and the worker runs them next, in the same process. The lease is
committed with their queueing: a worker that dies holding them leaves what a
lost control task leaves, a lease whose heartbeat goes stale, which the reaper
requeues as a new attempt. Each node's end is still its own compare-and-set,
with its events, under the run lock.

A task continues for at most ``continuation_max_nodes`` nodes and
``continuation_slice_s`` seconds (settings), so that one run cannot keep a
worker slot while other work waits: what it kept and has not started then goes
back to the broker. Before each node it reads the run's state, so a cancel
stops it at the next node.

Group commit: a row of kept pure control nodes (input, transformer, output)
is recorded in one transaction under their run's lock (``run_together``),
each node still its own compare-and-set with its own events, in order; the
row goes on with the next runs' nodes (a batch of a map's children), each
under its own run's lock, taken in ascending order of run id, and back to the
runs it holds for the nodes their successes made ready: a batch of short runs
is recorded level by level in one transaction, each run's row locked, read
and written once. A lock is
held for at most ``GROUP_WINDOW_S`` and one node's computation; a cancel waits
for it, well within its 2 s. A crash rolls the open group back; what was
committed before it is a lease the reaper requeues, as above. Within a group
the edges the successes resolve are counted at their targets together
(``readiness.resolve_deferred``), when the worker has no kept node left to run
and when the group ends: a fan-out's branches cost one statement at the join
per group, not one each.

A fan-out's branches, and the first nodes of a map's children, reach workers
in batch tasks (server/runs/dispatch.py): ``take_batch`` leases those nobody
holds in one statement, and they run as kept nodes, in groups, in ascending
order of run id. A run that stops gives back only its own kept nodes; the
end of the time slice gives back all.
"""

import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from server.runs import pinned, statements
from server.runs.dispatch import send_node_tasks
from server.runs.journal import NodeTask, RunJournal
from server.runs.models import NodeState, RunState
from server.runs.services.execution import (
    Claim,
    KeepReady,
    NodeError,
    NodeResult,
    start_kept,
    succeed_in,
)
from server.runs.services.readiness import queue_for, resolve_deferred
from server.runs.services.start import transitions
from workers.engine.document import CONTROL_TYPES, Graph
from workers.engine.scheduling import continuable

# Group commit's bounds: how long one transaction goes on recording nodes, and
# the computation time past which a node ends it (the run lock is held meanwhile).
GROUP_WINDOW_S = 0.02
QUICK_S = 0.005

# A kept node's computation (the worker's): its result, its error and the input it
# had, or None when there is nothing to record.
Compute = Callable[[Claim], NodeResult | tuple[NodeError, object] | None]


class Holder(Protocol):
    """Keeps a held node's lease alive until it runs or goes back (the worker's heartbeats)."""

    def hold(self, claim: Claim) -> None: ...

    def drop(self, claim: Claim) -> None: ...


@dataclass
class Continuation:
    """One node task's allowance to run ready control nodes itself, and the nodes it keeps."""

    worker: str
    holder: Holder
    max_nodes: int
    slice_s: float
    started: int = 0
    held: deque[Claim] = field(default_factory=deque)
    # The time slice starts when the task's own node ends: an agent's model
    # call does not use it up.
    deadline: float | None = None

    @classmethod
    def for_task(cls, worker: str, holder: Holder) -> "Continuation":
        config = settings.AGENTLOOM_RUNS
        return cls(
            worker=worker,
            holder=holder,
            max_nodes=config["continuation_max_nodes"],
            slice_s=config["continuation_slice_s"],
        )

    def _out_of_time(self) -> bool:
        now = time.monotonic()
        if self.deadline is None:
            self.deadline = now + self.slice_s
        return now >= self.deadline

    def _room(self) -> int:
        if self._out_of_time():
            return 0
        return self.max_nodes - self.started - len(self.held)

    def keeper(self, claim: Claim) -> KeepReady:
        """For ``succeed_node(claim, …)``: keep the control nodes its success queues, if room."""
        chosen = 0

        def choose(graph: Graph, node_ids: list[str]) -> statements.Lease:
            nonlocal chosen
            wanted = continuable(graph, node_ids, self._room() - chosen)
            chosen += len(wanted)
            return statements.Lease(self.worker, frozenset(wanted))

        def took(journal: RunJournal, graph: Graph, kept: dict[str, int]) -> None:
            for node_id, attempt in kept.items():
                self._hold(claim.kept(node_id, graph.nodes[node_id].type, attempt, journal.now))

        return KeepReady(choose, took)

    def take_batch(self, nodes: list[tuple[str, str]]) -> None:
        """Lease the nodes of a batch task that nobody holds, to run as kept nodes.

        The nodes may be of several runs (a map's children, dispatch.py). A
        node another delivery took, or that is no longer queued (done,
        cancelled), is not leased; the rest are held like nodes a success kept.
        """
        # Run ids as the statements give them back.
        nodes = [(str(uuid.UUID(run_id)), node_id) for run_id, node_id in nodes]
        constants = pinned.runs_constants({run_id for run_id, _ in nodes})
        live = [(run_id, node_id) for run_id, node_id in nodes if run_id in constants]
        now = timezone.now()
        leased = statements.lease_nodes(live, self.worker, now)
        # In ascending order of run id, a run's nodes in their order: a row of
        # group commit goes on across runs only in that order (``_joins``).
        for run_id, node_id in sorted(live, key=lambda pair: pair[0]):
            attempt = leased.get((run_id, node_id))
            if attempt is None:
                continue
            run_constants = constants[run_id]
            graph = pinned.graph_for_version(run_constants.version_id)
            self._hold(
                Claim(
                    run_id=uuid.UUID(run_id),
                    workspace_id=run_constants.workspace_id,
                    node_id=node_id,
                    node_type=graph.nodes[node_id].type,
                    attempt=attempt,
                    held_state=NodeState.QUEUED,
                    version_id=run_constants.version_id,
                    run_inputs=run_constants.inputs,
                    resumed_from_id=run_constants.resumed_from_id,
                    started_at=now,
                    worker=self.worker,
                )
            )

    def _hold(self, claim: Claim) -> None:
        self.held.append(claim)
        self.holder.hold(claim)

    def next(self) -> Claim | None:
        """The next kept node, begun; None when the task ends here (what is left goes back)."""
        if not self.held:
            return None
        if self._out_of_time():
            self.release()
            return None
        claim = self.held.popleft()
        self.holder.drop(claim)
        begun = start_kept(claim)
        if begun is None:
            # The run stopped (its nodes are cancelled: nothing to give back)
            # or this node was taken from a worker too slow to beat its lease.
            self.release()
            return None
        self.started += 1
        return begun

    def groupable(self, run_id: uuid.UUID | None = None) -> bool:
        """Whether the next kept node may be recorded in a group (``run_together``).

        With ``run_id``: in the group of that run's nodes (one run lock, one transaction).
        """
        if not self.held or self.held[0].node_type not in CONTROL_TYPES:
            return False
        return run_id is None or self.held[0].run_id == run_id

    def run_together(self, compute: Compute) -> tuple[Claim, NodeError, object] | None:
        """Run kept pure control nodes in a row, recorded in one transaction (group commit).

        The row goes on across runs (a batch of a map's children): after a
        run's nodes, the next run's join the transaction under that run's own
        lock, in ascending order of run id, or a run's it holds already
        (``_joins``). It ends at a node of
        another kind, out of time, after ``GROUP_WINDOW_S``, or after a node
        that took longer than ``QUICK_S`` to compute: the first node is
        computed before any run lock is taken, the next ones only while the
        nodes before them were quick, so each lock is held for at most the
        window and one node. A run that stops ends its own nodes' part of the
        row. A node whose computation failed ends the row: its failure is
        returned, to be recorded after this commit by the caller. On an
        exception the transaction rolls back and the nodes begun here are held
        again, to go back to the broker (``release``).
        """
        begun: list[Claim] = []
        written: dict[tuple[str, str], statements.NodeRow] = {}
        locked: set[str] = set()
        stopped: list[uuid.UUID] = []

        def take() -> tuple[Claim, NodeResult | tuple[NodeError, object] | None, float]:
            claim = self.held.popleft()
            begun.append(claim)
            claim = claim.begun(_sources(claim, written))
            self.started += 1
            computing = time.monotonic()
            return claim, compute(claim), time.monotonic() - computing

        def bounded() -> bool:
            """Whether the row ends here: out of time, past its window, or after a slow node."""
            return self._out_of_time() or took > QUICK_S or time.monotonic() >= window_ends

        failed: tuple[Claim, NodeError, object] | None = None
        try:
            claim, outcome, took = take()
            with transitions() as transition_of:
                window_ends = time.monotonic() + GROUP_WINDOW_S
                while True:
                    run_id = claim.run_id
                    with transition_of(run_id) as journal:
                        journal.deferred_edges = []
                        while True:
                            self.holder.drop(claim)
                            if isinstance(outcome, tuple):
                                failed = (claim, *outcome)
                                break
                            if outcome is not None:
                                recorded = succeed_in(
                                    journal, claim, outcome, keep_ready=self.keeper(claim)
                                )
                                if isinstance(recorded, NodeError):
                                    failed = (claim, recorded, outcome.node_input)
                                    break
                                if recorded is not None:
                                    written[(str(run_id), claim.node_id)] = recorded
                            if not self.held:
                                # The next node may be one these successes make ready.
                                self._resolve_deferred(journal, claim)
                                journal.deferred_edges = []
                            if (
                                journal.run.state != RunState.RUNNING
                                or not self.groupable(run_id)
                                or bounded()
                            ):
                                break
                            claim, outcome, took = take()
                        self._resolve_deferred(journal, claim)
                    locked.add(str(run_id))
                    if journal.run.state != RunState.RUNNING:
                        stopped.append(run_id)
                    if failed is not None or not self._joins(locked, stopped) or bounded():
                        break
                    claim, outcome, took = take()
        except BaseException:
            self.held.extendleft(reversed(begun))
            raise
        for (run, node_id), row in written.items():
            pinned.remember_succeeded_row(run, node_id, row)
        if self._out_of_time():
            self.release()
        for run_id in stopped:
            self.release(run_id)
        return failed

    def _joins(self, locked: set[str], stopped: list[uuid.UUID]) -> bool:
        """Whether the next kept node joins the open row: a control node of a run it may lock.

        That is a run the row already holds (its next level: the nodes its
        successes made ready), unless it stopped, or one of a later id than
        every run held: every row takes its runs' locks in ascending order of
        id, so two rows never wait on each other (``journal.locked_runs``).
        """
        if not self.groupable():
            return False
        next_run = self.held[0].run_id
        if str(next_run) in locked:
            return next_run not in stopped
        return str(next_run) > max(locked)

    def _resolve_deferred(self, journal: RunJournal, claim: Claim) -> None:
        """Count the group's deferred edges; this worker may keep the nodes they make ready."""
        graph = pinned.graph_for_version(claim.version_id)
        keep = self.keeper(claim)
        journal.keep = lambda node_ids: keep.choose(graph, node_ids)
        try:
            resolve_deferred(journal, graph)
        finally:
            journal.keep = None
            kept, journal.kept = journal.kept, {}
        if journal.run.state == RunState.RUNNING:
            keep.took(journal, graph, kept)

    def put_back(self, claim: Claim) -> None:
        """A begun node that could not finish here (a dropped connection): it goes back too."""
        self.held.appendleft(claim)

    def release(self, run_id: uuid.UUID | None = None) -> None:
        """Give the kept nodes not started back to the broker: all, or those of one run."""
        giving = [c for c in self.held if run_id is None or c.run_id == run_id]
        self.held = deque(c for c in self.held if run_id is not None and c.run_id != run_id)
        for claim in giving:
            self.holder.drop(claim)
        released = statements.release_leases(
            [(c.run_id, c.node_id, c.attempt) for c in giving], self.worker, timezone.now()
        )
        send_node_tasks(
            [
                NodeTask(str(c.run_id), c.node_id, queue_for(c.node_type))
                for c in giving
                if (str(uuid.UUID(str(c.run_id))), c.node_id) in released
            ]
        )


def _sources(
    claim: Claim, written: dict[tuple[str, str], statements.NodeRow]
) -> dict[str, statements.NodeRow]:
    """A kept node's succeeded sources: recorded in this group, cached, or read."""
    graph = pinned.graph_for_version(claim.version_id)
    sources: dict[str, statements.NodeRow] = {}
    unread: list[str] = []
    for source in {edge.source for edge in graph.in_edges(claim.node_id)}:
        row = written.get((str(claim.run_id), source)) or pinned.succeeded_row(claim.run_id, source)
        if row is None:
            unread.append(source)
        else:
            sources[source] = row
    if unread:
        rows = statements.node_rows(claim.run_id, unread)[1]
        for source, row in rows.items():
            if row.state == NodeState.SUCCEEDED:
                sources[source] = row
                # A fan-out's branches share their source: read once per process.
                pinned.remember_succeeded_row(claim.run_id, source, row)
    return sources
