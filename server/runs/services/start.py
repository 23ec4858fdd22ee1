"""Creating and starting runs, and the run lock every transition takes.

``transition`` is ``journal.locked_run`` with this package's after-commit
effects: publish the node tasks, signal stops, publish the committed events,
and start the workspace's waiting runs when a run ended. The effects live here
rather than in the journal because starting waiting runs is itself a
transition: the journal stays mechanics, and no module imports back.

Admission (the workspace's cap of running runs) is serialised per workspace by
a transaction-scoped advisory lock (``_admission``), not by the workspace row.
A new run tries it before its INSERT (again for a moment, outside a caller's
transaction): holding it, with room and nothing waiting, the run is written
already started; otherwise it is written ``queued``, and whoever holds the
admission lock starts the oldest waiting runs while there is room
(``start_queued_runs``). The lock is never waited for: a start that does not
get it leaves its run to the holder, who looks again after its commit; and it
looks itself after its own commit, so the run is seen by one of them whichever
commits first.
"""

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from rest_framework import status

from server.accounts.models import Workspace
from server.core.coalescing import Coalescer
from server.core.errors import ApiError
from server.core.limits import engine_limits
from server.runs import inserts, pinned, statements
from server.runs.dispatch import send_node_tasks, signal_run_stopped
from server.runs.journal import NodeTask, RunJournal, locked_run, locked_runs
from server.runs.models import NodeRun, NodeState, Run, RunState, Trigger
from server.runs.publisher import publish_run_events
from server.runs.services.finishing import finish_if_done, stop_run
from server.runs.services.readiness import mark_ready, queue_for
from server.runs.services.waiting import waits
from server.runs.spend import month_of, over_budget
from server.workflows.documents import has_errors, run_problems
from server.workflows.models import Workflow, WorkflowVersion
from workers.engine.document import Graph
from workers.engine.run_inputs import resolve_run_inputs


def _after_commit(journal: RunJournal) -> None:
    _after_commit_all([journal])


def _after_commit_all(journals: list[RunJournal]) -> None:
    """The effects of transitions committed together: their tasks are one pipelined publish."""
    for journal in journals:
        if journal.stop_signal:
            signal_run_stopped(str(journal.run.pk))
    send_node_tasks([task for journal in journals for task in journal.tasks])
    for journal in journals:
        publish_run_events(journal.run, journal.events)
    for workspace_id in dict.fromkeys(j.run.workspace_id for j in journals if j.freed_slot):
        start_queued_runs(workspace_id)
    for journal in journals:
        if journal.stop_signal:
            stop_child_runs(journal.run.pk)


def stop_child_runs(run_id: Any) -> None:
    """A run that stopped (cancelled, failed, timed out) stops its child runs, and they theirs.

    After the parent's commit, each child under its own lock: a child started
    meanwhile sees its stopped parent when it is created (``child_runs``).
    """
    children = Run.objects.filter(
        parent_run_id=run_id, state__in=(RunState.QUEUED, RunState.RUNNING)
    ).values_list("pk", flat=True)
    for child_id in list(children):
        with transition(child_id) as journal:
            if journal.run.state in (RunState.QUEUED, RunState.RUNNING):
                stop_run(journal, RunState.CANCELLED, reason="Its parent run was stopped.")


@contextmanager
def transitions() -> Iterator[Callable[[Any], AbstractContextManager[RunJournal]]]:
    """Transitions of several runs in one transaction; their effects sent together after it.

    ``journal.locked_runs``: the caller takes the runs in ascending order of id.
    """
    with locked_runs(_after_commit_all) as transition_of:
        yield transition_of


@contextmanager
def transition(run_id: Any) -> Iterator[RunJournal]:
    """The run's row lock for one transaction; its effects are sent after the commit."""
    with locked_run(run_id, _after_commit) as journal:
        yield journal


@dataclass(frozen=True)
class NewRun:
    """A run just created, and its nodes' states as created (None: read them, it moved on)."""

    run: Run
    node_counts: dict[str, int] | None


@dataclass(frozen=True)
class RunRequest:
    """One run of a batch of one workflow's: its inputs, and what it resumes or is a child of.

    ``parent``: a child run's ``parent_run``, ``parent_node`` and ``parent_step``.
    """

    inputs: Mapping[str, Any]
    resumed_from: Run | None = None
    parent: Mapping[str, Any] | None = None


def create_run(
    *,
    workflow: Workflow,
    user: Any,
    inputs: Mapping[str, Any],
    version_number: int | None = None,
    trigger: str = Trigger.MANUAL,
    resumed_from: Run | None = None,
    parent: Mapping[str, Any] | None = None,
) -> Run:
    """A new run pinned to a version; it starts at once if the workspace has room."""
    return start_run(
        workflow=workflow,
        user=user,
        inputs=inputs,
        version_number=version_number,
        trigger=trigger,
        resumed_from=resumed_from,
        parent=parent,
    ).run


def start_run(
    *,
    workflow: Workflow,
    user: Any,
    inputs: Mapping[str, Any],
    version_number: int | None = None,
    trigger: str = Trigger.MANUAL,
    resumed_from: Run | None = None,
    parent: Mapping[str, Any] | None = None,
) -> NewRun:
    """``create_run``, with the node counts an answer about the new run shows.

    Outside a transaction (an API call, a webhook), concurrent starts of one
    version by one user in this process are written together (``_together``):
    one transaction, one admission and one publish for all of them, and their
    first tasks batched across runs. A refusal of the call's own (its inputs)
    comes before it joins; one of the batch's (over the budget, the database
    gone) is every member's.
    """
    version = _checked_version(workflow, version_number)
    graph = pinned.graph_for_version(version.pk)
    request = RunRequest(_resolved_inputs(graph, inputs), resumed_from, parent)
    if connection.in_atomic_block:
        (new,) = _insert_runs(workflow, version, graph, user, trigger, [request])
        return new
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    start = _Start(workflow, version, graph, user, trigger, request)
    return _together.call((version.pk, trigger, user_id), start)


@dataclass(frozen=True)
class _Start:
    """One call's start, checked, as ``_together`` batches it."""

    workflow: Workflow
    version: WorkflowVersion
    graph: Graph
    user: Any
    trigger: str
    request: RunRequest


def _start_together(_key: tuple[Any, ...], starts: list[_Start]) -> list[NewRun]:
    like = starts[0]
    requests = [start.request for start in starts]
    return _insert_runs(like.workflow, like.version, like.graph, like.user, like.trigger, requests)


# A batch's INSERT of runs, nodes and events stays a few statements. A caller
# waiting for another's batch gives its database connection back to the pool
# meanwhile: the callers of a burst would otherwise hold them all, and those
# still to come would wait for one to check their requests.
_together: Coalescer[tuple[Any, ...], _Start, NewRun] = Coalescer(
    _start_together, max_batch=50, before_waiting=close_old_connections
)


def start_runs(
    *,
    workflow: Workflow,
    user: Any,
    requests: list[RunRequest],
    version_number: int | None = None,
    trigger: str = Trigger.MANUAL,
) -> list[NewRun]:
    """New runs of one version in one transaction; each starts at once while the workspace has room.

    The hot path of every start (the API, webhooks, schedules, a map's
    children): the version comes from the process's cache and is checked once
    for the batch; the runs, their node runs and their first events are one
    INSERT (a few for a wide batch), written in their final state for the runs
    that start at once (``_start_new``), so the admission lock is held for
    three statements. One admission decision for the batch: the first runs
    that fit under the cap start, the rest are written ``queued``, a
    microsecond apart so that they start in order. Their tasks are published
    together after the commit, in one pipelined round trip.
    """
    version = _checked_version(workflow, version_number)
    graph = pinned.graph_for_version(version.pk)
    resolved = [
        RunRequest(_resolved_inputs(graph, request.inputs), request.resumed_from, request.parent)
        for request in requests
    ]
    return _insert_runs(workflow, version, graph, user, trigger, resolved)


def _insert_runs(
    workflow: Workflow,
    version: WorkflowVersion,
    graph: Graph,
    user: Any,
    trigger: str,
    requests: list[RunRequest],
) -> list[NewRun]:
    """``start_runs`` of requests whose inputs are resolved."""
    workspace_id = workflow.workspace_id
    startable = _startable_new(graph)
    # Inside a caller's transaction (a map's children, under their parent's
    # lock), the admission lock is tried once: the caller's locks stay short.
    patience_s = 0.0 if connection.in_atomic_block else ADMISSION_PATIENCE_S
    with transaction.atomic():
        room, limit = _room(workspace_id, patience_s=patience_s)
        now = timezone.now()
        journals: list[RunJournal] = []
        node_runs: list[dict[str, NodeRun]] = []
        for index, request in enumerate(requests):
            run = Run(
                workspace_id=workspace_id,
                workflow=workflow,
                version=version,
                inputs=request.inputs,
                trigger=trigger,
                triggered_by=user if getattr(user, "is_authenticated", False) else None,
                resumed_from=request.resumed_from,
                **(request.parent or {}),
                max_concurrency=graph.settings.max_concurrency,
                unfinished_nodes=len(graph.nodes),
                created_at=now + timedelta(microseconds=index),
            )
            # The new row is invisible to every other transaction until this
            # one commits, so it needs no lock: journal it directly.
            journal = RunJournal(run=run, after_commit=_after_commit, now=now)
            journal.emit("run.queued", trigger=trigger, version=version.number)
            nodes = _node_runs(run, graph)
            if index < room and startable:
                _start_new(journal, graph, nodes)
            journals.append(journal)
            node_runs.append(nodes)
        # The first runs, admitted, whose start cannot be written with their
        # INSERT (a root waits for a person): started by UPDATEs after it.
        general = 0 if startable else min(room, len(journals))
        inserts.insert_new_runs(
            [journal.run for journal in journals],
            [node_run for nodes in node_runs for node_run in nodes.values()],
            [event for journal in journals[general:] for event in journal.events],
        )
        for journal in journals[:general]:
            _start(journal, graph)
            journal.write()
        _on_commit(journals, version.pk)

    def admit() -> None:
        start_queued_runs(workspace_id, limit=limit)

    # After the caller's commit too, if it created the runs in its own
    # transaction: a holder of the lock only sees committed runs.
    transaction.on_commit(admit, robust=True)
    return [
        _answer(journal.run, nodes, counts_known=index >= general)
        for index, (journal, nodes) in enumerate(zip(journals, node_runs, strict=True))
    ]


def _checked_version(workflow: Workflow, version_number: int | None) -> WorkflowVersion:
    """The version new runs are pinned to, refused if it does not exist or has errors."""
    number = version_number if version_number is not None else workflow.version
    try:
        version = _pinned_version(workflow.pk, number)
    except WorkflowVersion.DoesNotExist:
        raise ApiError(
            "not_found", f"Version {number} of this workflow does not exist.", status_code=404
        ) from None
    problems = run_problems(version, workflow.workspace_id)
    if has_errors(problems):
        errors = [p for p in problems if p.get("severity") == "error"]
        raise ApiError(
            "invalid_workflow",
            f"This workflow has {len(errors)} problem(s) to fix before it can run: "
            f"{errors[0]['message']}",
            problems=problems,
        )
    return version


def _resolved_inputs(graph: Graph, inputs: Mapping[str, Any]) -> dict[str, Any]:
    resolved, errors = resolve_run_inputs(graph.inputs, inputs)
    if errors:
        raise ApiError("invalid_inputs", errors[0], errors=errors)
    return resolved


def _room(workspace_id: uuid.UUID, *, patience_s: float) -> tuple[int, int]:
    """How many new runs start at once, and the workspace's cap; refused over the budget."""
    admitted, limit, budget = _admission(workspace_id, patience_s=patience_s)
    refusal = over_budget(workspace_id, month_of(timezone.now()), budget=budget)
    if refusal is not None:
        raise ApiError(
            "budget_exceeded",
            f"New runs are refused: {refusal}.",
            status_code=status.HTTP_402_PAYMENT_REQUIRED,
        )
    if not admitted:
        return 0, limit
    # Uncontended, new runs start in the transaction that creates them; they
    # wait behind older queued runs, which the admission pass starts in order.
    running, queued = statements.admission_counts(workspace_id)
    return (max(limit - running, 0) if queued == 0 else 0), limit


def _node_runs(run: Run, graph: Graph) -> dict[str, NodeRun]:
    return {
        node_id: NodeRun(
            run=run,
            node_id=node_id,
            node_type=node.type,
            unresolved_edges=len(graph.in_edges(node_id)),
        )
        for node_id, node in graph.nodes.items()
    }


def _on_commit(journals: list[RunJournal], version_id: Any) -> None:
    """The new runs' effects after the commit, all together."""
    constants = [
        (
            journal.run.pk,
            pinned.RunConstants(
                journal.run.workspace_id,
                version_id,
                json.loads(json.dumps(journal.run.inputs)),
                journal.run.resumed_from_id,
            ),
        )
        for journal in journals
    ]

    # Before the effects, which publish the first tasks: they need these.
    def remember() -> None:
        for run_id, run_constants in constants:
            pinned.remember_run_constants(run_id, run_constants)

    # A closure, not a lambda or partial: Django names a robust callback that
    # raised by its __qualname__.
    def effects() -> None:
        _after_commit_all(journals)

    transaction.on_commit(remember)
    transaction.on_commit(effects, robust=True)


def _answer(run: Run, node_runs: dict[str, NodeRun], *, counts_known: bool) -> NewRun:
    if run.state == RunState.QUEUED and not connection.in_atomic_block:
        run.refresh_from_db()
        counts_known = counts_known and run.state == RunState.QUEUED
    if not counts_known:
        return NewRun(run, None)
    counts: dict[str, int] = {}
    for node_run in node_runs.values():
        counts[node_run.state] = counts.get(node_run.state, 0) + 1
    return NewRun(run, counts)


@lru_cache(maxsize=256)
def _pinned_version(workflow_id: uuid.UUID, number: int) -> WorkflowVersion:
    """A workflow's version, read once per process: a saved version never changes.

    The bound is ``pinned.graph_for_version``'s: the parsed graph of each is
    kept too. A version that does not exist raises, which is not cached.
    """
    return WorkflowVersion.objects.get(workflow_id=workflow_id, number=number)


def _startable_new(graph: Graph) -> bool:
    """Whether a new run's start can be written with its INSERT: no root waits for a person."""
    return bool(graph.nodes) and not any(waits(graph, node_id) for node_id in graph.roots())


def _start_new(journal: RunJournal, graph: Graph, node_runs: Mapping[str, NodeRun]) -> None:
    """``_start`` of a run not yet inserted, done to the rows about to be.

    It records what ``_start`` and ``readiness.mark_ready`` would write by
    UPDATEs after the INSERT (roots queued, the first ``max_concurrency`` of
    them dispatched, the same events in the same order): tests/runs/
    test_start.py compares the two. Nothing has finished, so there is nothing
    for ``finish_if_done`` to do.
    """
    _started(journal, graph)
    run = journal.run
    roots = graph.roots()
    room = max(run.max_concurrency, 0)
    now_ids, later_ids = roots[:room], roots[room:]
    for node_id in roots:
        node_runs[node_id].state = NodeState.QUEUED
        node_runs[node_id].attempt = 1
        node_runs[node_id].queued_at = journal.now
    for node_id in now_ids:
        node_runs[node_id].dispatched_at = journal.now
        journal.send(NodeTask(str(run.pk), node_id, queue_for(graph.nodes[node_id].type)))
    journal.update_run(active_nodes=len(now_ids), waiting_nodes=len(later_ids))
    for node_id in roots:
        journal.emit("node.queued", node_id, attempt=1)


def _limits(workspace_id: uuid.UUID) -> tuple[int, Any]:
    """The workspace's cap of running runs and its monthly budget (None: no budget)."""
    limit, budget = Workspace.objects.values_list("max_running_runs", "monthly_budget_usd").get(
        pk=workspace_id
    )
    return limit, budget


def _admission(workspace_id: uuid.UUID, *, patience_s: float = 0.0) -> tuple[bool, int, Any]:
    """Whether this transaction took the workspace's admission lock, its cap and its budget.

    The lock is held until the transaction ends, and never waited for: a
    holder looks for waiting runs again after its commit. An admission pass
    tries it once; a start outside any other transaction tries again for
    ``patience_s`` (``ADMISSION_PATIENCE_S``), since every usual holder keeps
    it for a few statements and a run written ``queued`` because a neighbour
    held it costs a second transaction to start. On PostgreSQL the try and the
    workspace's row are one statement; SQLite's transactions (``IMMEDIATE``)
    already run one at a time.
    """
    if connection.vendor != "postgresql":
        return (True, *_limits(workspace_id))
    deadline = time.monotonic() + patience_s
    pause = 0.001
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0)), "
                "max_running_runs, monthly_budget_usd FROM accounts_workspace WHERE id = %s",
                [
                    f"agentloom:run-admission:{workspace_id}",
                    Workspace._meta.pk.get_db_prep_value(workspace_id, connection),
                ],
            )
            row = cursor.fetchone()
        if row is None:
            raise Workspace.DoesNotExist(workspace_id)
        locked, limit, budget = row
        if locked or time.monotonic() + pause > deadline:
            return bool(locked), limit, budget
        time.sleep(pause)
        pause *= 2


def _start(journal: RunJournal, graph: Graph) -> None:
    _started(journal, graph)
    mark_ready(journal, graph, graph.roots())
    finish_if_done(journal)


def _started(journal: RunJournal, graph: Graph) -> None:
    # Validation bounds the budget, but a version saved before it was bounded
    # may still ask for centuries: clamp, or the deadline overflows the datetime.
    max_duration_s = min(
        graph.settings.budget.max_duration_s or settings.AGENTLOOM_RUNS["max_duration_s"],
        engine_limits().max_run_duration_s,
    )
    journal.update_run(
        state=RunState.RUNNING,
        started_at=journal.now,
        deadline_at=journal.now + timedelta(seconds=max_duration_s),
    )
    journal.emit("run.started")


# Runs started per admission transaction, and admission transactions per call:
# they bound how long one caller holds the lock and works for the others.
ADMISSION_BATCH = 50
ADMISSION_PASSES = 20
# How long a start tries for the admission lock before writing its runs queued.
ADMISSION_PATIENCE_S = 0.2


def start_queued_runs(workspace_id: uuid.UUID, *, limit: int | None = None) -> int:
    """Start the oldest waiting runs of a workspace while it has room; how many started.

    Called after every run is created or ends. Each pass first looks, without
    a lock, for waiting runs and room; then, holding the admission lock, counts
    again and starts what fits. A caller that finds the lock taken returns: the
    holder looks again after its own commit, and sees what was committed before
    (a new run, a freed slot). After ``ADMISSION_PASSES`` what still waits is
    started by the next run to end, the next start, or the reaper.
    """
    started = 0
    for _ in range(ADMISSION_PASSES):
        # The common answer, nothing waits, costs one index probe.
        if not statements.queued_run_exists(workspace_id):
            return started
        if limit is None:
            limit = _limits(workspace_id)[0]
        if statements.admission_counts(workspace_id)[0] >= limit:
            return started
        admitted = _admission_pass(workspace_id)
        if admitted is None:
            return started
        started += admitted
    return started


def _admission_pass(workspace_id: uuid.UUID) -> int | None:
    """Start (or fail, over the budget) what fits; None if another caller holds the lock."""
    with transaction.atomic():
        locked, limit, budget = _admission(workspace_id)
        if not locked:
            return None
        running, _ = statements.admission_counts(workspace_id)
        room = min(limit - running, ADMISSION_BATCH)
        if room <= 0:
            return 0
        waiting = list(
            Run.objects.filter(workspace_id=workspace_id, state=RunState.QUEUED)
            .order_by("created_at")
            .values_list("pk", "version_id")[:room]
        )
        # Accepted under the budget, they waited while other runs spent the rest.
        refusal = over_budget(workspace_id, month_of(timezone.now()), budget=budget)
        # One commit for all of them, their first tasks published together
        # (batched across runs); the locks in ascending order of run id.
        with transitions() as transition_of:
            for run_id, version_id in sorted(waiting):
                with transition_of(run_id) as journal:
                    if journal.run.state != RunState.QUEUED:
                        continue
                    if refusal is not None:
                        error = {"code": "budget_exceeded", "message": refusal}
                        stop_run(journal, RunState.FAILED, error=error)
                    else:
                        _start(journal, pinned.graph_for_version(version_id))
        return len(waiting)
