"""An agent's durable steps (SPEC §11, docs/architecture.md, "Agent tool loop").

Each model turn and each tool call's result is one ``AgentStep`` row, written
with its events (``node.tool_call`` for the calls a turn asks for,
``node.tool_result`` for a result) and any side effect in one transaction,
and only while the worker still holds the node: a worker that lost the node
(cancelled, reaped) records nothing and stops.

The loop reads the steps back (``recorded``) when it starts, so a worker that
takes the node over after a crash goes on from the last step. A resumed run
starts from the steps of the run it resumes when the node's config and input
hashes match (``reuse_earlier``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.core.errors import CodedError
from server.runs import statements
from server.runs.journal import RunJournal
from server.runs.models import AgentStep, AgentStepKind, RunState
from server.runs.outputs import preview
from server.runs.services.execution import Claim
from server.runs.services.finishing import workspace_over_budget
from server.runs.services.start import transition
from workers.engine.budget import Budget, budget_exceeded


class StepNotRecorded(CodedError):
    """The node is no longer this worker's, or the run went over a budget."""


@dataclass(frozen=True)
class Step:
    """A step to record; ``calls`` are a model turn's requested calls (for their events)."""

    index: int
    kind: str
    request_hash: str
    message: Mapping[str, Any]
    result: Mapping[str, Any]
    call_id: str = ""
    name: str = ""
    calls: tuple[tuple[str, str, Any], ...] = ()  # (call id, tool name, arguments)
    error: Mapping[str, str] | None = None
    # The node's usage so far with this step's, checked against the run's budget.
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    record_with: Callable[[RunJournal], None] | None = field(default=None, compare=False)


def recorded(claim: Claim, config_hash: str, input_hash: str) -> list[AgentStep]:
    """The node's steps in this run, in order (those of another config or input are not)."""
    return list(
        AgentStep.objects.filter(
            run_id=claim.run_id,
            node_id=claim.node_id,
            config_hash=config_hash,
            input_hash=input_hash,
        ).order_by("index")
    )


def reuse_earlier(claim: Claim, config_hash: str, input_hash: str) -> list[AgentStep]:
    """Copy the resumed run's steps of this node, if its config and input are unchanged."""
    if claim.resumed_from_id is None:
        return []
    earlier = list(
        AgentStep.objects.filter(
            run_id=claim.resumed_from_id,
            node_id=claim.node_id,
            config_hash=config_hash,
            input_hash=input_hash,
        ).order_by("index")
    )
    if not earlier:
        return []
    with transition(claim.run_id) as journal:
        if not _still_held(journal, claim):
            raise StepNotRecorded("cancelled", "the node is no longer held")
        if AgentStep.objects.filter(run_id=claim.run_id, node_id=claim.node_id).exists():
            return recorded(claim, config_hash, input_hash)
        copies = AgentStep.objects.bulk_create(
            [
                AgentStep(
                    run_id=claim.run_id,
                    node_id=claim.node_id,
                    index=step.index,
                    kind=step.kind,
                    attempt=claim.attempt,
                    call_id=step.call_id,
                    name=step.name,
                    request_hash=step.request_hash,
                    config_hash=config_hash,
                    input_hash=input_hash,
                    message=step.message,
                    result=step.result,
                    reused=True,
                )
                for step in earlier
            ]
        )
        journal.emit(
            "node.log",
            claim.node_id,
            level="info",
            message=f"Reused {len(copies)} recorded step(s) of run {claim.resumed_from_id}.",
        )
    return copies


def record(claim: Claim, step: Step, config_hash: str, input_hash: str, budget: Budget) -> None:
    """Persist one step with its events; ``StepNotRecorded`` if the loop must not go on.

    The run's budgets are checked first, with the node's usage so far (``step``)
    and the workspace's month, so a loop stops at the step that goes over.
    """
    with transition(claim.run_id) as journal:
        if not _still_held(journal, claim):
            raise StepNotRecorded("cancelled", "the node is no longer held")
        run = journal.run
        over = budget_exceeded(
            budget,
            total_tokens=run.prompt_tokens
            + run.completion_tokens
            + step.prompt_tokens
            + step.completion_tokens,
            cost_usd=run.cost_usd + step.cost_usd,
            elapsed_s=(journal.now - run.started_at).total_seconds() if run.started_at else 0.0,
        ) or workspace_over_budget(run)
        if over is not None:
            # Recorded nothing: the node fails with the reason, and the run with it.
            raise StepNotRecorded("budget_exceeded", over)
        AgentStep.objects.create(
            run_id=claim.run_id,
            node_id=claim.node_id,
            index=step.index,
            kind=step.kind,
            attempt=claim.attempt,
            call_id=step.call_id[:200],
            name=step.name[:200],
            request_hash=step.request_hash,
            config_hash=config_hash,
            input_hash=input_hash,
            message=dict(step.message),
            result=dict(step.result),
        )
        if step.record_with is not None:
            step.record_with(journal)
        for call_id, name, arguments in step.calls:
            journal.emit(
                "node.tool_call",
                claim.node_id,
                attempt=claim.attempt,
                step=step.index,
                call_id=call_id,
                name=name,
                arguments=preview(arguments),
            )
        if step.kind == AgentStepKind.TOOL:
            journal.emit(
                "node.tool_result",
                claim.node_id,
                attempt=claim.attempt,
                step=step.index,
                call_id=step.call_id,
                name=step.name,
                status="error" if step.error else "ok",
                bytes=len(str(step.message.get("content") or "").encode()),
                preview=preview(step.message.get("content")),
                **({"error": dict(step.error)} if step.error else {}),
            )


def _still_held(journal: RunJournal, claim: Claim) -> bool:
    if journal.run.state != RunState.RUNNING:
        return False
    held = statements.nodes_matching(
        claim.run_id, [(claim.node_id, claim.held_state, claim.attempt)]
    )
    return claim.node_id in held
