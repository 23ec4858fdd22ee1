"""Child runs: an agent's workflow tool, a `workflow` or a `map` node runs another workflow.

The child is an ordinary run (``start.start_runs``): its inputs are checked
against the workflow's declared inputs, it waits for the workspace's cap of
running runs, it is refused over the budget, and it is cancelled with its
parent (``stopping.cancel_run``). It records the run, node and agent step
that started it (``Run.parent_run``, ``parent_node``, ``parent_step``) under
a unique constraint, in the transaction that creates it: a worker that takes
the parent's node over after a crash finds that child (``start_child``) and
waits for it, and never starts a second one.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError

from server.core.errors import ApiError, CodedError, Conflict
from server.runs import pinned
from server.runs.models import TERMINAL_RUN_STATES, Run, RunState, Trigger
from server.runs.services.execution import Claim
from server.runs.services.start import RunRequest, start_runs
from server.runs.services.stopping import cancel_run
from server.workflows.models import Workflow, WorkflowVersion


class ChildRunError(CodedError):
    """The child could not be started; the tool's error result, not the node's."""


@dataclass(frozen=True)
class Outcome:
    """How a child run ended."""

    state: str
    output: Any
    error: Mapping[str, Any] | None


@dataclass(frozen=True)
class Target:
    """The workflow a node's children run, looked up once for all of them.

    Made by ``child_target``: the workflow exists in the parent's workspace, the
    parent is not too deep to have children, and they run as its user.
    """

    workflow: Workflow
    version: int | None
    user: Any
    declared: frozenset[str]


def child_target(claim: Claim, workflow_id: str, version: int | None = None) -> Target:
    """The child workflow of this claim's node, or ``ChildRunError`` why it cannot be started.

    ``version``: the workflow's version its children run (its current one if None).
    """
    workflow = _workflow(workflow_id, claim.workspace_id)
    limit = settings.AGENTLOOM_RUNS["max_child_depth"]
    if _depth(claim.run_id, limit) >= limit:
        raise ChildRunError(
            "depth_exceeded", f"child runs nest at most {limit} deep; this one would be deeper"
        )
    number = workflow.version if version is None else version
    version_id = (
        WorkflowVersion.objects.filter(workflow=workflow, number=number)
        .values_list("pk", flat=True)
        .first()
    )
    if version_id is None:
        raise ChildRunError(
            "not_found", f"version {number} of workflow {workflow_id} does not exist"
        )
    user = Run.objects.select_related("triggered_by").get(pk=claim.run_id).triggered_by
    declared = frozenset(pinned.graph_for_version(version_id).inputs)
    return Target(workflow=workflow, version=version, user=user, declared=declared)


def start_child(claim: Claim, step: int, workflow_id: str, inputs: Mapping[str, Any]) -> uuid.UUID:
    """The child run of this node's ``step``: the one already started, or a new one.

    For an agent's workflow tool, whose worker holds no run lock: a parent
    cancelled while its child was being created did not see the child, which
    is cancelled here.
    """
    started = _started(claim, step)
    if started is not None:
        return started
    (child,) = start_many(claim, child_target(claim, workflow_id), [Child(step, inputs)])
    if not Run.objects.filter(pk=claim.run_id, state=RunState.RUNNING).exists():
        with contextlib.suppress(Conflict):
            cancel_run(child.pk, reason="Its parent run was stopped.")
    return child.pk


@dataclass(frozen=True)
class Child:
    """A child run to start: its step, its inputs, and the child it resumes (SPEC §3).

    ``resumed_from``: the child of the same step in the run the parent
    resumes, whose nodes the new child keeps where their hashes match.
    """

    step: int
    inputs: Mapping[str, Any]
    resumed_from: Run | None = None


def start_many(claim: Claim, target: Target, children: list[Child]) -> list[Run]:
    """New child runs of these steps of this node, together (``start.start_runs``).

    One transaction, one admission decision, one INSERT, one publish of their
    tasks. If another worker holding the node a moment ago started them first,
    those are returned; a batch only partly started so is an error.
    """
    link = {"parent_run_id": claim.run_id, "parent_node": claim.node_id}
    requests = [
        RunRequest(child.inputs, child.resumed_from, {**link, "parent_step": child.step})
        for child in children
    ]
    try:
        new = start_runs(
            workflow=target.workflow,
            user=target.user,
            requests=requests,
            version_number=target.version,
            trigger=Trigger.WORKFLOW,
        )
    except ApiError as exc:
        raise ChildRunError(exc.code, exc.message) from None
    except IntegrityError:
        steps = [child.step for child in children]
        existing = Run.objects.filter(**link, parent_step__in=steps)
        started = {run.parent_step: run for run in existing}
        if len(started) < len(steps):
            raise
        return [started[step] for step in steps]
    return [each.run for each in new]


def _started(claim: Claim, step: int) -> uuid.UUID | None:
    link = {"parent_run_id": claim.run_id, "parent_node": claim.node_id, "parent_step": step}
    return Run.objects.filter(**link).values_list("pk", flat=True).first()


def outcome(child_id: uuid.UUID) -> Outcome | None:
    """How the child ended; None while it is queued or running."""
    state, output, error = Run.objects.values_list("state", "output", "error").get(pk=child_id)
    if state not in TERMINAL_RUN_STATES:
        return None
    return Outcome(state, output, error)


def _workflow(workflow_id: str, workspace_id: uuid.UUID) -> Workflow:
    try:
        pk = uuid.UUID(workflow_id)
    except ValueError:
        pk = None
    workflow = Workflow.objects.filter(pk=pk, workspace_id=workspace_id).first() if pk else None
    if workflow is None:
        raise ChildRunError(
            "workflow_not_found", f"there is no workflow {workflow_id} in this workspace"
        )
    return workflow


def _depth(run_id: uuid.UUID, limit: int) -> int:
    """How many runs above this one started it (counted up to ``limit``)."""
    depth = 0
    parent = Run.objects.filter(pk=run_id).values_list("parent_run_id", flat=True).first()
    while parent is not None and depth < limit:
        depth += 1
        parent = Run.objects.filter(pk=parent).values_list("parent_run_id", flat=True).first()
    return depth
