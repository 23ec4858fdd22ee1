"""A worker's side of one node: claim it, keep it alive, record its text and its end.

Success routes the output along the outgoing edges and queues what became
ready; failure retries, falls back, skips dependants or stops the run, as the
node's policies say (docs/run-semantics.md).
"""

import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from server.core.limits import engine_limits
from server.runs import pinned, statements
from server.runs.journal import NodeTask, RunJournal
from server.runs.models import NodeState, RunState
from server.runs.outputs import StoredOutput, preview
from server.runs.services.finishing import enforce_budget, finish_if_done, ms_between, stop_run
from server.runs.services.readiness import fill_slots, not_taken, queue_for, resolve_edges
from server.runs.services.start import transition
from workers.engine.document import AGENT_TYPES, Graph
from workers.engine.expressions import ExpressionBudget, ExpressionError
from workers.engine.retry import RetryPolicy, retry_delay_ms
from workers.engine.scheduling import EdgeDecision, decide_outgoing


@dataclass(frozen=True)
class NodeError:
    code: str
    message: str
    retryable: bool = False

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def _node_budget() -> ExpressionBudget:
    return ExpressionBudget.for_node(engine_limits())


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one attempt of one node, from its claim to its recorded end.

    ``held_state`` is the state the node is in while the worker holds it:
    ``running`` for agent nodes; ``queued`` for control nodes, which go
    straight to a final state and are held by a lease (``worker`` and
    ``heartbeat_at`` set on the queued row). Either way the worker heartbeats
    until the end is recorded. ``budget`` is the expression time of this node
    run: its prompts, its expression, its edges, its fallback's edges.
    """

    run_id: uuid.UUID
    workspace_id: uuid.UUID
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
    budget: ExpressionBudget = field(default_factory=_node_budget, compare=False)

    def kept(self, node_id: str, node_type: str, attempt: int, now: datetime) -> "Claim":
        """A control node of the same run, leased to this claim's worker (eager continuation)."""
        return replace(
            self,
            node_id=node_id,
            node_type=node_type,
            attempt=attempt,
            held_state=NodeState.QUEUED,
            started_at=now,
            sources={},
        )

    def begun(self, sources: Mapping[str, statements.NodeRow]) -> "Claim":
        """A kept node starting now, with its sources' rows and its own expression time."""
        return replace(self, sources=sources, started_at=timezone.now(), budget=_node_budget())


def claim_node(run_id: Any, node_id: str, *, worker: str) -> Claim | None:
    """Take a delivered node task, or None if it is a duplicate or its run has stopped.

    Agent nodes move to ``running`` (a retrying one through ``queued``, a new
    attempt). Control nodes stay ``queued`` under a lease, one conditional
    UPDATE with no run lock and no event: they reach their final state, with
    their ``node.started``, in one transaction. A delivery that finds the
    lease taken does nothing; a lease whose heartbeat went stale is the
    reaper's, like a running node's. The node's sources are read with it, so
    the node's input needs no query of its own.
    """
    constants = pinned.run_constants(run_id)
    if constants is None:
        return None
    graph = pinned.graph_for_version(constants.version_id)
    node = graph.nodes.get(node_id)
    if node is None:
        return None
    source_ids = {edge.source for edge in graph.in_edges(node_id)}
    sources = {
        source: cached
        for source in source_ids
        if (cached := pinned.succeeded_row(run_id, source)) is not None
    }
    unread = source_ids - sources.keys()
    if node.type in AGENT_TYPES:
        held = _take_agent(run_id, node_id, unread, sources, worker)
    else:
        held = _lease_control(run_id, node_id, unread, sources, worker)
    if held is None:
        return None
    attempt, held_state, started_at = held
    return Claim(
        run_id=run_id,
        workspace_id=constants.workspace_id,
        node_id=node_id,
        node_type=node.type,
        attempt=attempt,
        held_state=held_state,
        version_id=constants.version_id,
        run_inputs=constants.inputs,
        resumed_from_id=constants.resumed_from_id,
        started_at=started_at,
        worker=worker,
        sources=sources,
    )


def start_kept(claim: Claim) -> Claim | None:
    """Begin a node this worker kept (``Claim.kept``), or None if it must not run now.

    One query reads the run's state, the node's and its unread sources': the
    run may have stopped (a cancel cancels its nodes) and the node may have
    been taken from a worker too slow to beat its lease, since it was kept.
    """
    graph = pinned.graph_for_version(claim.version_id)
    source_ids = {edge.source for edge in graph.in_edges(claim.node_id)}
    sources = {
        source: cached
        for source in source_ids
        if (cached := pinned.succeeded_row(claim.run_id, source)) is not None
    }
    unread = source_ids - sources.keys()
    run_state, rows = statements.node_rows(claim.run_id, [claim.node_id, *unread])
    row = rows.get(claim.node_id)
    if run_state != RunState.RUNNING or row is None:
        return None
    if (row.state, row.attempt) != (claim.held_state, claim.attempt):
        return None
    _remember_sources(claim.run_id, unread, rows, sources)
    return claim.begun(sources)


def _remember_sources(
    run_id: Any,
    unread: set[str],
    rows: Mapping[str, statements.NodeRow],
    sources: dict[str, statements.NodeRow],
) -> None:
    """The succeeded ones of the unread sources join ``sources`` and this process's cache."""
    for source in unread:
        if source in rows and rows[source].state == NodeState.SUCCEEDED:
            sources[source] = rows[source]
            pinned.remember_succeeded_row(run_id, source, rows[source])


def _take_agent(
    run_id: Any,
    node_id: str,
    unread: set[str],
    sources: dict[str, statements.NodeRow],
    worker: str,
) -> tuple[int, str, datetime] | None:
    run_state, rows = statements.node_rows(run_id, [node_id, *unread])
    _remember_sources(run_id, unread, rows, sources)
    row = rows.get(node_id)
    if row is None or run_state != RunState.RUNNING:
        return None
    if row.state not in (NodeState.QUEUED, NodeState.RETRYING):
        return None
    retrying = row.state == NodeState.RETRYING
    attempt = row.attempt + 1 if retrying else row.attempt
    with transition(run_id) as journal:
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
    return attempt, NodeState.RUNNING, journal.now


def _lease_control(
    run_id: Any,
    node_id: str,
    unread: set[str],
    sources: dict[str, statements.NodeRow],
    worker: str,
) -> tuple[int, str, datetime] | None:
    # No run lock and no read of the run: a queued node's run is running (a
    # stop cancels its nodes in the same transaction).
    now = timezone.now()
    leased = statements.lease_node(run_id, node_id, worker, now, sorted(unread))
    if leased is None:
        return None
    attempt, rows = leased
    _remember_sources(run_id, unread, rows, sources)
    return attempt, NodeState.QUEUED, now


def _expected(claim: Claim) -> dict[str, Any]:
    return {"state": claim.held_state, "attempt": claim.attempt}


def _update_held(claim: Claim, **values: Any) -> bool:
    """Compare-and-set: change the node only while this claim still holds it."""
    return statements.update_node(claim.run_id, claim.node_id, _expected(claim), values)


def heartbeat(claim: Claim) -> bool:
    """Mark the node alive; False when the claim was lost (cancelled, reaped), so stop."""
    return _update_held(claim, heartbeat_at=timezone.now())


def release(claim: Claim) -> None:
    """Give a control node's lease back, so that another delivery can take it at once.

    For a task about to be retried after an error: without this its lease
    would hold the node until the reaper counted a lost worker.
    """
    if claim.held_state == NodeState.QUEUED:
        _update_held(claim, heartbeat_at=None)


def record_tokens(run_id: Any, batch: list[tuple[Claim, str]]) -> list[Claim]:
    """Persist streamed text of a run's nodes, one ``node.token`` each; the claims found lost.

    One transaction for all the run's streaming nodes: the run lock is taken
    once per batch, not once per node.
    """
    with transition(run_id) as journal:
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
    with transition(claim.run_id) as journal:
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
    # Rows that belong to this step (an http node's side effect), written in
    # the transaction that records its success.
    record_with: Callable[[RunJournal], None] | None = None


@dataclass(frozen=True)
class KeepReady:
    """Eager continuation's part in a success's transaction (services/continuation.py).

    ``choose`` picks, of the nodes about to be queued, the ones the worker
    leases rather than publishes (the lease is written by the statement that
    queues them); ``took`` is then given those leased, with their attempts,
    once the success is recorded, if the run still runs.
    """

    choose: Callable[[Graph, list[str]], statements.Lease]
    took: Callable[[RunJournal, Graph, dict[str, int]], None]


def _decide(claim: Claim, graph: Graph, result: NodeResult) -> list[EdgeDecision] | NodeError:
    """Where the output goes; an error when an edge expression fails."""
    try:
        return decide_outgoing(
            graph, claim.node_id, result.output.value, limits=engine_limits(), budget=claim.budget
        )
    except ExpressionError as exc:
        return NodeError(exc.code, f"Edge expression failed: {exc.message}")


def succeed_node(claim: Claim, result: NodeResult, *, keep_ready: KeepReady | None = None) -> bool:
    """Record the output, route it along the outgoing edges and queue what became ready.

    ``keep_ready`` lets the worker keep some of the nodes that became ready
    rather than publish them (services/continuation.py), in this transaction.
    """
    graph = pinned.graph_for_version(claim.version_id)
    # Evaluated before taking the lock: JSONata may take up to its time limit.
    decisions = _decide(claim, graph, result)
    if isinstance(decisions, NodeError):
        return fail_node(claim, decisions, node_input=result.node_input)
    with transition(claim.run_id) as journal:
        return _succeed(journal, graph, claim, result, decisions, keep_ready) is not None


def succeed_in(
    journal: RunJournal, claim: Claim, result: NodeResult, *, keep_ready: KeepReady | None
) -> statements.NodeRow | NodeError | None:
    """``succeed_node`` inside a transition already holding the run's lock (group commit).

    Returns the row the success wrote (the next nodes' source), None if the
    claim was lost or the run stopped, or the error of an edge expression,
    which the caller records after this transaction (a failure is a
    transition of its own). The edges are decided under the lock: only pure
    control nodes are recorded this way, within the continuation's slice.
    """
    graph = pinned.graph_for_version(claim.version_id)
    decisions = _decide(claim, graph, result)
    if isinstance(decisions, NodeError):
        return decisions
    journal.now = timezone.now()
    return _succeed(journal, graph, claim, result, decisions, keep_ready)


def _succeed(
    journal: RunJournal,
    graph: Graph,
    claim: Claim,
    result: NodeResult,
    decisions: list[EdgeDecision],
    keep_ready: KeepReady | None,
) -> statements.NodeRow | None:
    if journal.run.state != RunState.RUNNING:
        return None
    if keep_ready is not None:
        journal.keep = lambda node_ids: keep_ready.choose(graph, node_ids)
    try:
        row = _record_success(journal, graph, claim, result, decisions)
        if row is None:
            return None
        _after_node_finished(journal, graph)
    finally:
        journal.keep = None
        kept, journal.kept = journal.kept, {}
    if keep_ready is not None and journal.run.state == RunState.RUNNING:
        keep_ready.took(journal, graph, kept)
    return row


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
            fallback = decide_outgoing(
                graph, claim.node_id, fallback_value, limits=engine_limits(), budget=claim.budget
            )
        except ExpressionError as exc:
            error = NodeError(
                exc.code, f"Edge expression failed on the fallback output: {exc.message}"
            )
            policy = "stop"
    with transition(claim.run_id) as journal:
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
            if _record_success(journal, graph, claim, result, fallback, error=error) is None:
                return False
            _after_node_finished(journal, graph)
            return True
        if not _record_failure(journal, claim, error, node_input):
            return False
        if policy == "stop":
            label = node.label or claim.node_id
            stop_run(
                journal,
                RunState.FAILED,
                error={
                    **error.as_dict(),
                    "message": f"{label}: {error.message}",
                    "node_id": claim.node_id,
                },
            )
            return True
        resolve_edges(journal, graph, not_taken(graph, claim.node_id))
        _after_node_finished(journal, graph)
    return True


def _free_node(journal: RunJournal, claim: Claim) -> None:
    """A node reached a final state: its slot is free (a waiting approval held none)."""
    held_slot = claim.held_state != NodeState.WAITING
    journal.update_run(
        active_nodes=journal.run.active_nodes - held_slot,
        unfinished_nodes=journal.run.unfinished_nodes - 1,
    )


def _retry_policy(graph: Graph, node_id: str) -> RetryPolicy | None:
    if graph.nodes[node_id].type in AGENT_TYPES:
        return graph.agent_config(node_id).retry
    return None


def _record_success(
    journal: RunJournal,
    graph: Graph,
    claim: Claim,
    result: NodeResult,
    decisions: list[EdgeDecision],
    *,
    error: NodeError | None = None,
) -> statements.NodeRow | None:
    """The success recorded, as the row the node's successors read; None if the claim was lost."""
    edge_values = {
        d.edge_id: d.value for d in decisions if d.taken and graph.edges[d.edge_id].transform
    }
    taken_out = [d.edge_id for d in decisions if d.taken]
    artifact_id = result.output.artifact.pk if result.output.artifact else None
    updated = _update_held(
        claim,
        state=NodeState.SUCCEEDED,
        output=result.output.inline,
        output_artifact=artifact_id,
        input=result.node_input,
        config_hash=result.config_hash,
        input_hash=result.input_hash,
        taken_out=taken_out,
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
        return None
    _free_node(journal, claim)
    if result.record_with is not None:
        result.record_with(journal)
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
        duration_ms=ms_between(claim.started_at, journal.now),
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
    resolve_edges(journal, graph, decisions)
    return statements.NodeRow.written(
        claim.node_type, claim.attempt, result.output.inline, artifact_id, taken_out, edge_values
    )


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
    _free_node(journal, claim)
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
    if enforce_budget(journal, graph):
        return
    fill_slots(journal, graph)
    finish_if_done(journal)
