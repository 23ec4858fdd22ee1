"""Every run and node state transition (SPEC §3), and nothing else.

Each public function is one transaction that first locks the run row
(``locked_run``), then changes node rows with compare-and-set UPDATEs on
``state`` and ``attempt``. A duplicate task delivery, a stale worker or a
reaper racing a slow node finds the transition already made and changes
nothing: no output is recorded twice and no successor is enqueued twice.

Lock order is always workspace, then run, then node rows; nothing here takes
a workspace lock while holding a run lock, so transitions cannot deadlock.
"""

import logging
import random
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from server.accounts.models import Workspace
from server.core.errors import ApiError, Conflict
from server.core.limits import engine_limits
from server.runs import pinned, statements
from server.runs.dispatch import send_node_tasks
from server.runs.journal import NodeTask, RunJournal, locked_run
from server.runs.models import (
    LIVE_NODE_STATES,
    NodeRun,
    NodeState,
    Run,
    RunState,
    Trigger,
)
from server.runs.outputs import StoredOutput, preview
from server.workflows.models import Workflow, WorkflowVersion
from workers.engine.budget import budget_exceeded
from workers.engine.document import AGENT_TYPES, Graph
from workers.engine.expressions import ExpressionError
from workers.engine.retry import RetryPolicy, retry_delay_ms
from workers.engine.run_inputs import resolve_run_inputs
from workers.engine.scheduling import EdgeDecision, decide_outgoing, readiness

logger = logging.getLogger(__name__)


def queue_for(node_type: str) -> str:
    """Model calls wait on the network; everything else is quick Python."""
    return "agents" if node_type in AGENT_TYPES else "control"


@dataclass(frozen=True)
class NodeError:
    code: str
    message: str
    retryable: bool = False

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one attempt of one node.

    ``held_state`` is the state the node is in while the worker computes:
    ``running`` for model calls, which heartbeat; ``queued`` for control nodes,
    which finish in milliseconds and go straight to a final state.
    """

    run_id: uuid.UUID
    node_id: str
    node_type: str
    attempt: int
    held_state: str
    version_id: int
    run_inputs: Mapping[str, Any]
    resumed_from_id: uuid.UUID | None
    started_at: datetime
    worker: str
    sources: Mapping[str, statements.NodeRow] = field(default_factory=dict)


# --- creating and starting runs ------------------------------------------------


def create_run(
    *,
    workflow: Workflow,
    user: Any,
    inputs: Mapping[str, Any],
    version_number: int | None = None,
    trigger: str = Trigger.MANUAL,
    resumed_from: Run | None = None,
) -> Run:
    """A new run pinned to a version; it starts at once if the workspace has room."""
    number = version_number if version_number is not None else workflow.version
    version = WorkflowVersion.objects.filter(workflow=workflow, number=number).first()
    if version is None:
        raise ApiError(
            "not_found", f"Version {number} of this workflow does not exist.", status_code=404
        )
    if not version.is_valid:
        errors = [p for p in version.problems if p.get("severity") == "error"]
        raise ApiError(
            "invalid_workflow",
            f"This workflow has {len(errors)} problem(s) to fix before it can run: "
            f"{errors[0]['message']}",
            problems=version.problems,
        )
    graph = pinned.graph_for_version(version.pk)
    resolved_inputs, input_errors = resolve_run_inputs(graph.inputs, inputs)
    if input_errors:
        raise ApiError("invalid_inputs", input_errors[0], errors=input_errors)
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=workflow.workspace_id)
        run = Run.objects.create(
            workspace=workspace,
            workflow=workflow,
            version=version,
            inputs=resolved_inputs,
            trigger=trigger,
            triggered_by=user if getattr(user, "is_authenticated", False) else None,
            resumed_from=resumed_from,
            max_concurrency=graph.settings.max_concurrency,
            unfinished_nodes=len(graph.nodes),
        )
        in_degree = {node_id: len(graph.in_edges(node_id)) for node_id in graph.nodes}
        NodeRun.objects.bulk_create(
            NodeRun(
                run=run, node_id=node_id, node_type=node.type, unresolved_edges=in_degree[node_id]
            )
            for node_id, node in graph.nodes.items()
        )
        # The new row is invisible to every other transaction until this one
        # commits, so it needs no lock: journal it directly.
        journal = RunJournal(run=run)
        journal.emit("run.queued", trigger=trigger, version=version.number)
        if _running_count(workspace.pk) < workspace.max_running_runs:
            _start(journal, graph)
        journal.flush()
    return run


def _running_count(workspace_id: uuid.UUID) -> int:
    return Run.objects.filter(workspace_id=workspace_id, state=RunState.RUNNING).count()


def _start(journal: RunJournal, graph: Graph) -> None:
    max_duration_s = (
        graph.settings.budget.max_duration_s or settings.AGENTLOOM_RUNS["max_duration_s"]
    )
    journal.update_run(
        state=RunState.RUNNING,
        started_at=journal.now,
        deadline_at=journal.now + timedelta(seconds=max_duration_s),
    )
    journal.emit("run.started")
    _mark_ready(journal, graph, graph.roots())
    _finish_if_done(journal)


def start_queued_runs(workspace_id: uuid.UUID) -> int:
    """Start the oldest waiting runs of a workspace while it has room; how many started.

    Called after every run ends, so it first looks, without a lock, whether any
    run waits at all: the workspace row is also what every new run locks. A run
    queued in the instant between that look and its commit is started by the
    next run to end, or by the reaper.
    """
    if not Run.objects.filter(workspace_id=workspace_id, state=RunState.QUEUED).exists():
        return 0
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(pk=workspace_id)
        room = workspace.max_running_runs - _running_count(workspace_id)
        if room <= 0:
            return 0
        waiting = list(
            Run.objects.filter(workspace_id=workspace_id, state=RunState.QUEUED)
            .order_by("created_at")
            .values_list("pk", "version_id")[:room]
        )
        for run_id, version_id in waiting:
            with locked_run(run_id) as journal:
                if journal.run.state == RunState.QUEUED:
                    _start(journal, pinned.graph_for_version(version_id))
        return len(waiting)


# --- readiness and dispatch ----------------------------------------------------


def _mark_ready(journal: RunJournal, graph: Graph, node_ids: Iterable[str]) -> None:
    """pending → queued; published at once while the run has free slots.

    Nodes beyond ``max_concurrency`` wait (queued, no ``dispatched_at``) until
    ``_fill_slots`` gives them a slot. While any node waits, new ones queue
    behind it, so slots go out in the order nodes became ready.
    """
    ids = list(node_ids)
    if not ids:
        return
    run = journal.run
    room = run.max_concurrency - run.active_nodes if run.waiting_nodes == 0 else 0
    now_ids, later_ids = ids[: max(room, 0)], ids[max(room, 0) :]
    if now_ids:
        statements.queue_nodes(run.pk, now_ids, journal.now, dispatched=True)
        for node_id in now_ids:
            journal.send(NodeTask(str(run.pk), node_id, queue_for(graph.nodes[node_id].type)))
    if later_ids:
        statements.queue_nodes(run.pk, later_ids, journal.now, dispatched=False)
    journal.update_run(
        active_nodes=run.active_nodes + len(now_ids),
        waiting_nodes=run.waiting_nodes + len(later_ids),
    )
    for node_id in ids:
        journal.emit("node.queued", node_id, attempt=1)


def _fill_slots(journal: RunJournal, graph: Graph) -> None:
    """Publish waiting nodes into the slots finished nodes freed."""
    run = journal.run
    room = run.max_concurrency - run.active_nodes
    if run.state != RunState.RUNNING or run.waiting_nodes == 0 or room <= 0:
        return
    waiting = list(
        NodeRun.objects.filter(run_id=run.pk, state=NodeState.QUEUED, dispatched_at__isnull=True)
        .order_by("queued_at", "id")
        .values_list("pk", "node_id")[:room]
    )
    NodeRun.objects.filter(pk__in=[pk for pk, _ in waiting]).update(dispatched_at=journal.now)
    for _, node_id in waiting:
        journal.send(NodeTask(str(run.pk), node_id, queue_for(graph.nodes[node_id].type)))
    journal.update_run(
        active_nodes=run.active_nodes + len(waiting),
        waiting_nodes=run.waiting_nodes - len(waiting),
    )


def _resolve_edges(journal: RunJournal, graph: Graph, decisions: list[EdgeDecision]) -> None:
    """Count each resolved edge at its target; queue targets that became ready, skip the rest.

    Skips propagate: a skipped node resolves all its outgoing edges as not taken.
    """
    pending = list(decisions)
    while pending:
        per_target: dict[str, list[EdgeDecision]] = {}
        for decision in pending:
            per_target.setdefault(decision.target, []).append(decision)
        pending = []
        ready: list[str] = []
        counts = {
            target: (len(resolved), sum(1 for d in resolved if d.taken))
            for target, resolved in per_target.items()
        }
        for target, unresolved, taken in statements.count_resolved_edges(journal.run.pk, counts):
            verdict = readiness(unresolved, taken)
            if verdict == "ready":
                ready.append(target)
            elif verdict == "skip":
                _skip(journal, target, "no incoming edge was taken")
                pending.extend(_not_taken(graph, target))
        _mark_ready(journal, graph, sorted(ready, key=graph.order))


def _skip(journal: RunJournal, node_id: str, reason: str) -> None:
    NodeRun.objects.filter(run_id=journal.run.pk, node_id=node_id, state=NodeState.PENDING).update(
        state=NodeState.SKIPPED, finished_at=journal.now
    )
    journal.update_run(unfinished_nodes=journal.run.unfinished_nodes - 1)
    journal.emit("node.skipped", node_id, reason=reason)


# --- a worker's side of a node -----------------------------------------------------


def claim_node(run_id: Any, node_id: str, *, worker: str) -> Claim | None:
    """Take a delivered node task, or None if it is a duplicate or its run has stopped.

    Agent nodes move to ``running`` (a retrying one through ``queued``, a new
    attempt) and heartbeat. Control nodes are held in ``queued`` while they
    compute (milliseconds) and move to their final state in one transaction;
    if their worker dies, the reaper re-sends them. The node's sources are read
    with it, so the node's input needs no query of its own.
    """
    constants = pinned.run_constants(run_id)
    if constants is None:
        return None
    graph = pinned.graph_for_version(constants.version_id)
    source_ids = {edge.source for edge in graph.in_edges(node_id)}
    sources = {
        source: cached
        for source in source_ids
        if (cached := pinned.succeeded_row(run_id, source)) is not None
    }
    unread = source_ids - sources.keys()
    run_state, rows = statements.node_rows(run_id, [node_id, *unread])
    row = rows.get(node_id)
    if row is None or run_state != RunState.RUNNING:
        return None
    for source in unread:
        if source in rows and rows[source].state == NodeState.SUCCEEDED:
            sources[source] = rows[source]
            pinned.remember_succeeded_row(run_id, source, rows[source])

    def claim(attempt: int, held_state: str, started_at: datetime) -> Claim:
        return Claim(
            run_id=run_id,
            node_id=node_id,
            node_type=row.node_type,
            attempt=attempt,
            held_state=held_state,
            version_id=constants.version_id,
            run_inputs=constants.inputs,
            resumed_from_id=constants.resumed_from_id,
            started_at=started_at,
            worker=worker,
            sources=sources,
        )

    if row.node_type not in AGENT_TYPES:
        if row.state != NodeState.QUEUED:
            return None
        return claim(row.attempt, NodeState.QUEUED, timezone.now())
    if row.state not in (NodeState.QUEUED, NodeState.RETRYING):
        return None
    retrying = row.state == NodeState.RETRYING
    attempt = row.attempt + 1 if retrying else row.attempt
    with locked_run(run_id) as journal:
        if journal.run.state != RunState.RUNNING:
            return None
        taken = statements.update_node(
            run_id,
            node_id,
            {"state": row.state, "attempt": row.attempt},
            {
                "state": NodeState.RUNNING,
                "attempt": attempt,
                "started_at": journal.now,
                "heartbeat_at": journal.now,
                "worker": worker,
                "retry_at": None,
            },
        )
        if not taken:
            return None
        if retrying:
            journal.emit("node.queued", node_id, attempt=attempt)
        journal.emit("node.started", node_id, attempt=attempt, worker=worker)
    return claim(attempt, NodeState.RUNNING, journal.now)


def _expected(claim: Claim) -> dict[str, Any]:
    return {"state": claim.held_state, "attempt": claim.attempt}


def _update_held(claim: Claim, **values: Any) -> bool:
    """Compare-and-set: change the node only while this claim still holds it."""
    return statements.update_node(claim.run_id, claim.node_id, _expected(claim), values)


def heartbeat(claim: Claim) -> bool:
    """Mark the node alive; False when the claim was lost (cancelled, reaped), so stop."""
    return _update_held(claim, heartbeat_at=timezone.now())


def record_tokens(run_id: Any, batch: list[tuple[Claim, str]]) -> list[Claim]:
    """Persist streamed text of a run's nodes, one ``node.token`` each; the claims found lost.

    One transaction for all the run's streaming nodes: the run lock is taken
    once per batch, not once per node.
    """
    with locked_run(run_id) as journal:
        if journal.run.state != RunState.RUNNING:
            return [claim for claim, _ in batch]
        held = statements.nodes_matching(
            run_id, [(claim.node_id, claim.held_state, claim.attempt) for claim, _ in batch]
        )
        for claim, delta in batch:
            if claim.node_id in held:
                journal.emit("node.token", claim.node_id, attempt=claim.attempt, delta=delta)
    return [claim for claim, _ in batch if claim.node_id not in held]


def record_log(claim: Claim, level: str, message: str) -> None:
    with locked_run(claim.run_id) as journal:
        journal.emit("node.log", claim.node_id, level=level, message=message[:4000])


@dataclass(frozen=True)
class NodeResult:
    output: StoredOutput
    node_input: Any
    config_hash: str = ""
    input_hash: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    reused: bool = False


def succeed_node(claim: Claim, result: NodeResult) -> bool:
    """Record the output, route it along the outgoing edges and queue what became ready."""
    graph = pinned.graph_for_version(claim.version_id)
    try:
        # Evaluated before taking the lock: JSONata may take up to its time limit.
        decisions = decide_outgoing(
            graph, claim.node_id, result.output.value, limits=engine_limits()
        )
    except ExpressionError as exc:
        return fail_node(
            claim,
            NodeError(exc.code, f"Edge expression failed: {exc.message}"),
            node_input=result.node_input,
        )
    with locked_run(claim.run_id) as journal:
        if journal.run.state != RunState.RUNNING:
            return False
        if not _record_success(journal, graph, claim, result, decisions):
            return False
        _after_node_finished(journal, graph)
    return True


def fail_node(claim: Claim, error: NodeError, *, node_input: Any = None) -> bool:
    """Retry, fall back, skip dependants or stop the run, as the node's policies say."""
    graph = pinned.graph_for_version(claim.version_id)
    node = graph.nodes[claim.node_id]
    retry = _retry_policy(graph, claim.node_id)
    delay_ms = (
        retry_delay_ms(retry, claim.attempt, rand=random.random)
        if retry is not None and error.retryable
        else None
    )
    policy: str = graph.on_error(claim.node_id)
    fallback: list[EdgeDecision] | None = None
    fallback_value = graph.fallback_output(claim.node_id)
    if delay_ms is None and policy == "fallback":
        try:
            fallback = decide_outgoing(graph, claim.node_id, fallback_value, limits=engine_limits())
        except ExpressionError as exc:
            error = NodeError(
                exc.code, f"Edge expression failed on the fallback output: {exc.message}"
            )
            policy = "stop"
    with locked_run(claim.run_id) as journal:
        if journal.run.state != RunState.RUNNING:
            return False
        if delay_ms is not None:
            return _schedule_retry(journal, claim, error, delay_ms)
        if fallback is not None:
            journal.emit(
                "node.log",
                claim.node_id,
                level="warning",
                message=f"Failed ({error.code}: {error.message}); using the fallback output.",
            )
            result = NodeResult(
                output=StoredOutput.inline_only(fallback_value), node_input=node_input
            )
            if not _record_success(journal, graph, claim, result, fallback, error=error):
                return False
            _after_node_finished(journal, graph)
            return True
        if not _record_failure(journal, claim, error, node_input):
            return False
        if policy == "stop":
            label = node.label or claim.node_id
            _stop_run(
                journal,
                RunState.FAILED,
                error={
                    **error.as_dict(),
                    "message": f"{label}: {error.message}",
                    "node_id": claim.node_id,
                },
            )
            return True
        _resolve_edges(journal, graph, _not_taken(graph, claim.node_id))
        _after_node_finished(journal, graph)
    return True


def _free_node(journal: RunJournal) -> None:
    """A node holding a slot reached a final state."""
    journal.update_run(
        active_nodes=journal.run.active_nodes - 1,
        unfinished_nodes=journal.run.unfinished_nodes - 1,
    )


def _retry_policy(graph: Graph, node_id: str) -> RetryPolicy | None:
    if graph.nodes[node_id].type in AGENT_TYPES:
        return graph.agent_config(node_id).retry
    return None


def _not_taken(graph: Graph, node_id: str) -> list[EdgeDecision]:
    return [EdgeDecision(e.id, e.source, e.target, False, None) for e in graph.out_edges(node_id)]


def _record_success(
    journal: RunJournal,
    graph: Graph,
    claim: Claim,
    result: NodeResult,
    decisions: list[EdgeDecision],
    *,
    error: NodeError | None = None,
) -> bool:
    edge_values = {
        d.edge_id: d.value for d in decisions if d.taken and graph.edges[d.edge_id].transform
    }
    updated = _update_held(
        claim,
        state=NodeState.SUCCEEDED,
        output=result.output.inline,
        output_artifact=result.output.artifact.pk if result.output.artifact else None,
        input=result.node_input,
        config_hash=result.config_hash,
        input_hash=result.input_hash,
        taken_out=[d.edge_id for d in decisions if d.taken],
        edge_values=edge_values,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        cost_usd=result.cost_usd,
        started_at=claim.started_at,
        finished_at=journal.now,
        worker=claim.worker,
        error=error.as_dict() if error else None,
    )
    if not updated:
        return False
    _free_node(journal)
    if claim.held_state == NodeState.QUEUED:
        journal.emit("node.started", claim.node_id, attempt=claim.attempt, worker=claim.worker)
    journal.emit(
        "node.succeeded",
        claim.node_id,
        attempt=claim.attempt,
        usage={
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
        },
        cost_usd=result.cost_usd,
        duration_ms=_ms_between(claim.started_at, journal.now),
        output_preview=preview(result.output.value),
        reused=result.reused,
        fallback=error is not None,
    )
    for decision in decisions:
        if decision.taken:
            journal.emit(
                "edge.handoff",
                edge_id=decision.edge_id,
                source=decision.source,
                target=decision.target,
                bytes=StoredOutput.size_of(decision.value),
                preview=preview(decision.value),
            )
    if result.prompt_tokens or result.completion_tokens or result.cost_usd:
        journal.update_run(
            prompt_tokens=journal.run.prompt_tokens + result.prompt_tokens,
            completion_tokens=journal.run.completion_tokens + result.completion_tokens,
            cost_usd=journal.run.cost_usd + result.cost_usd,
        )
    _resolve_edges(journal, graph, decisions)
    return True


def _record_failure(journal: RunJournal, claim: Claim, error: NodeError, node_input: Any) -> bool:
    updated = _update_held(
        claim,
        state=NodeState.FAILED,
        error=error.as_dict(),
        input=node_input,
        started_at=claim.started_at,
        finished_at=journal.now,
        worker=claim.worker,
    )
    if not updated:
        return False
    _free_node(journal)
    if claim.held_state == NodeState.QUEUED:
        journal.emit("node.started", claim.node_id, attempt=claim.attempt, worker=claim.worker)
    journal.emit("node.failed", claim.node_id, attempt=claim.attempt, error=error.as_dict())
    return True


def _schedule_retry(journal: RunJournal, claim: Claim, error: NodeError, delay_ms: int) -> bool:
    """running → retrying; a delayed task moves it back to queued (``claim_node``)."""
    updated = _update_held(
        claim,
        state=NodeState.RETRYING,
        error=error.as_dict(),
        retry_at=journal.now + timedelta(milliseconds=delay_ms),
    )
    if not updated:
        return False
    journal.emit(
        "node.retrying",
        claim.node_id,
        attempt=claim.attempt,
        delay_ms=delay_ms,
        error=error.as_dict(),
    )
    journal.send(
        NodeTask(str(claim.run_id), claim.node_id, queue_for(claim.node_type), delay_ms / 1000)
    )
    return True


def _after_node_finished(journal: RunJournal, graph: Graph) -> None:
    if _enforce_budget(journal, graph):
        return
    _fill_slots(journal, graph)
    _finish_if_done(journal)


def _ms_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() * 1000))


# --- finishing and stopping runs -------------------------------------------------


def _enforce_budget(journal: RunJournal, graph: Graph) -> bool:
    """Fail the run if it went over a budget; True if it did."""
    run = journal.run
    elapsed = (journal.now - run.started_at).total_seconds() if run.started_at else 0.0
    reason = budget_exceeded(
        graph.settings.budget,
        total_tokens=run.prompt_tokens + run.completion_tokens,
        cost_usd=run.cost_usd,
        elapsed_s=elapsed,
    )
    if reason is None:
        return False
    _stop_run(journal, RunState.FAILED, error={"code": "budget_exceeded", "message": reason})
    return True


def _finish_if_done(journal: RunJournal) -> None:
    run = journal.run
    if run.state != RunState.RUNNING or run.unfinished_nodes > 0:
        return
    failed = list(
        NodeRun.objects.filter(run_id=run.pk, state=NodeState.FAILED).values_list(
            "node_id", flat=True
        )
    )
    finished = {"finished_at": journal.now}
    totals = {
        "duration_ms": _ms_between(run.started_at or run.created_at, journal.now),
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "cost_usd": run.cost_usd,
    }
    if failed:
        error = {
            "code": "nodes_failed",
            "message": f"{len(failed)} node(s) failed: {', '.join(sorted(failed)[:10])}",
        }
        journal.update_run(state=RunState.FAILED, error=error, **finished)
        journal.emit("run.failed", error=error, **totals)
    else:
        output = run_output(run.pk)
        journal.update_run(state=RunState.SUCCEEDED, output=output, **finished)
        journal.emit("run.succeeded", output=output, **totals)
    journal.freed_slot = True


def run_output(run_id: Any) -> dict[str, Any]:
    """The run's result: each output node's output, by node id."""
    rows = NodeRun.objects.filter(
        run_id=run_id, node_type="output", state=NodeState.SUCCEEDED
    ).values_list("node_id", "output", "output_artifact_id")
    return {
        node_id: output if artifact_id is None else {"artifact": str(artifact_id)}
        for node_id, output, artifact_id in rows
    }


def _stop_run(
    journal: RunJournal, state: str, *, error: dict[str, Any] | None = None, reason: str = ""
) -> None:
    """End the run now: every node not finished is cancelled; running ones notice and stop."""
    run = journal.run
    live = NodeRun.objects.filter(run_id=run.pk, state__in=LIVE_NODE_STATES)
    cancelled = sorted(live.values_list("node_id", flat=True))
    live.update(state=NodeState.CANCELLED, finished_at=journal.now)
    journal.update_run(
        state=state,
        error=error,
        finished_at=journal.now,
        active_nodes=0,
        waiting_nodes=0,
        unfinished_nodes=0,
    )
    duration_ms = _ms_between(run.started_at or run.created_at, journal.now)
    if state == RunState.CANCELLED:
        journal.emit(
            "run.cancelled", reason=reason, cancelled_nodes=cancelled, duration_ms=duration_ms
        )
    else:
        journal.emit(
            "run.failed",
            error=error,
            cancelled_nodes=cancelled,
            duration_ms=duration_ms,
            prompt_tokens=run.prompt_tokens,
            completion_tokens=run.completion_tokens,
            cost_usd=run.cost_usd,
        )
    journal.stop_signal = True
    journal.freed_slot = True


def cancel_run(run_id: Any, *, reason: str = "Cancelled by a user.") -> Run:
    with locked_run(run_id) as journal:
        if journal.run.state not in (RunState.QUEUED, RunState.RUNNING):
            raise Conflict("invalid_state", f"The run has already {journal.run.state}.")
        _stop_run(journal, RunState.CANCELLED, reason=reason)
    return journal.run


# --- the reaper ---------------------------------------------------------------


@dataclass
class ReapReport:
    requeued_lost: int = 0
    failed_lost: int = 0
    resent: int = 0
    timed_out_runs: int = 0
    started_runs: int = 0


def reap(now: datetime | None = None) -> ReapReport:
    """Repair what crashes and lost messages leave behind, so no run stays running forever.

    * a running node whose heartbeat is stale lost its worker: it is queued
      again (a new attempt), or failed after ``MAX_LOST_WORKERS`` such losses;
    * a queued or retrying node whose task should have arrived long ago had its
      message lost (Redis restarted, publish failed after commit): re-sent;
    * a run past its duration budget is failed;
    * workspaces with room start their waiting runs.
    """
    config = settings.AGENTLOOM_RUNS
    now = now or timezone.now()
    report = ReapReport()
    stale = NodeRun.objects.filter(
        state=NodeState.RUNNING,
        heartbeat_at__lt=now - timedelta(seconds=config["heartbeat_timeout_s"]),
        run__state=RunState.RUNNING,
    ).values_list("run_id", "node_id", "node_type", "attempt", "lost_workers")
    for run_id, node_id, node_type, attempt, lost in stale:
        if lost + 1 >= config["max_lost_workers"]:
            report.failed_lost += _fail_lost_node(run_id, node_id, attempt)
        else:
            report.requeued_lost += _requeue_lost_node(run_id, node_id, node_type, attempt)
    report.resent = _resend_overdue(now - timedelta(seconds=config["redispatch_after_s"]), now)
    for run_id in Run.objects.filter(state=RunState.RUNNING, deadline_at__lt=now).values_list(
        "pk", flat=True
    ):
        report.timed_out_runs += _time_out(run_id)
    waiting = Run.objects.filter(state=RunState.QUEUED).values_list("workspace_id", flat=True)
    for workspace_id in set(waiting):
        report.started_runs += start_queued_runs(workspace_id)
    return report


def _resend_overdue(sent_before: datetime, now: datetime) -> int:
    """Publish again the tasks of nodes that should have started long ago."""
    overdue = Q(state=NodeState.QUEUED, dispatched_at__lt=sent_before) | Q(
        state=NodeState.RETRYING, retry_at__lt=sent_before
    )
    with transaction.atomic():
        rows = list(
            NodeRun.objects.select_for_update(skip_locked=True)
            .filter(overdue, run__state=RunState.RUNNING)
            .values_list("pk", "run_id", "node_id", "node_type")
        )
        NodeRun.objects.filter(pk__in=[pk for pk, *_ in rows]).update(dispatched_at=now)
    send_node_tasks([NodeTask(str(run), node, queue_for(kind)) for _, run, node, kind in rows])
    return len(rows)


def _requeue_lost_node(run_id: Any, node_id: str, node_type: str, attempt: int) -> int:
    with locked_run(run_id) as journal:
        updated = NodeRun.objects.filter(
            run_id=run_id, node_id=node_id, state=NodeState.RUNNING, attempt=attempt
        ).update(
            state=NodeState.QUEUED,
            attempt=attempt + 1,
            lost_workers=F("lost_workers") + 1,
            queued_at=journal.now,
            dispatched_at=journal.now,
            heartbeat_at=None,
        )
        if not updated:
            return 0
        journal.emit(
            "node.log",
            node_id,
            level="warning",
            message=f"The worker running attempt {attempt} stopped responding; running it again.",
        )
        journal.emit("node.queued", node_id, attempt=attempt + 1)
        journal.send(NodeTask(str(run_id), node_id, queue_for(node_type)))
    return 1


def _fail_lost_node(run_id: Any, node_id: str, attempt: int) -> int:
    row = Run.objects.filter(pk=run_id).values("version_id", "inputs", "resumed_from_id").get()
    node = (
        NodeRun.objects.filter(run_id=run_id, node_id=node_id)
        .values("node_type", "started_at", "worker")
        .get()
    )
    claim = Claim(
        run_id=run_id,
        node_id=node_id,
        node_type=node["node_type"],
        attempt=attempt,
        held_state=NodeState.RUNNING,
        version_id=row["version_id"],
        run_inputs=row["inputs"],
        resumed_from_id=row["resumed_from_id"],
        started_at=node["started_at"] or timezone.now(),
        worker=node["worker"],
    )
    lost = settings.AGENTLOOM_RUNS["max_lost_workers"]
    error = NodeError("worker_lost", f"The worker running this node vanished {lost} times.")
    return int(fail_node(claim, error))


def _time_out(run_id: Any) -> int:
    with locked_run(run_id) as journal:
        if journal.run.state != RunState.RUNNING:
            return 0
        _stop_run(
            journal,
            RunState.FAILED,
            error={"code": "budget_exceeded", "message": "The run went over its duration budget."},
        )
    return 1


# --- resuming -------------------------------------------------------------------


def resume_run(run: Run, *, user: Any, version_number: int | None = None) -> Run:
    """A new run of the workflow's current version that keeps what is still valid.

    Each node whose config hash and input hash match its successful attempt in
    ``run`` takes that output instead of running again (``node_runner``); the
    rest run. The hashes decide, so a fixed prompt re-runs exactly its node and
    whatever its new output changes downstream.
    """
    if run.state not in (RunState.FAILED, RunState.CANCELLED):
        raise Conflict(
            "invalid_state", f"Only failed or cancelled runs can be resumed; this one {run.state}."
        )
    return create_run(
        workflow=run.workflow,
        user=user,
        inputs=run.inputs,
        version_number=version_number,
        trigger=Trigger.RESUME,
        resumed_from=run,
    )
