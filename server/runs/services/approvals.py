"""Deciding a waiting approval (SPEC §12): by an approver through the API, or by its timeout.

A decision is the node's success: its output is the decision (with the
node's input passed through), recorded with ``node.decided`` in the same
transaction and routed along the edges labelled for it, so the successors
are made ready like any others'. The compare-and-set from ``waiting`` makes a
second decision, or a decision racing the timeout, change nothing.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.utils import timezone
from rest_framework import exceptions, status

from server.accounts.models import WRITE_ROLES
from server.accounts.selectors import role_in, roles_by_workspace
from server.core.errors import ApiError, Conflict
from server.runs import pinned, selectors, statements
from server.runs.journal import RunJournal
from server.runs.models import Approval, NodeRun, NodeState, RunState
from server.runs.outputs import store_output
from server.runs.services.execution import Claim, NodeError, NodeResult, fail_node, succeed_node
from workers.engine.approval import Decision, decision_output
from workers.engine.hashing import input_hash

_NODE_ID_MAX = NodeRun._meta.get_field("node_id").max_length or 0


def may_decide(user: Any, approval: Approval) -> bool:
    """Whether the user is one of the approval's approvers.

    An empty list of approvers means the workspace's owners and editors;
    named approvers must still be members of the workspace.
    """
    role = role_in(user, approval.workspace_id)
    if role is None:
        return False
    if not approval.approvers:
        return role in WRITE_ROLES
    return user.username in approval.approvers


def waiting_for(user: Any) -> list[Approval]:
    """The approvals waiting in the user's workspaces that the user may decide, oldest first."""
    workspaces = list(roles_by_workspace(user))
    waiting = (
        Approval.objects.filter(
            workspace_id__in=workspaces,
            node_run__state=NodeState.WAITING,
            run__state=RunState.RUNNING,
        )
        .select_related("run__workflow")
        .order_by("requested_at", "id")
    )
    return [approval for approval in waiting if may_decide(user, approval)]


def decide(run_id: Any, node_id: str, user: Any, decision: Decision, comment: str) -> Approval:
    """An approver's decision; 409 if the node does not wait (any more), 403 for anyone else."""
    # A NUL or an overlong id (from the URL) names no node, and Postgres would refuse the query.
    named = "\x00" not in node_id and len(node_id) <= _NODE_ID_MAX
    node = NodeRun.objects.filter(run_id=run_id, node_id=node_id).first() if named else None
    if node is None or node.node_type != "approval":
        raise exceptions.NotFound("This run has no approval node with that id.")
    approval = Approval.objects.filter(node_run=node).first()
    if approval is None:
        raise Conflict("not_waiting", "This approval is not waiting for a decision yet.")
    if not may_decide(user, approval):
        raise exceptions.PermissionDenied("You are not one of this approval's approvers.")
    waits = node.state == NodeState.WAITING
    if not (
        waits and _resolve(node, approval, decision, by=user, comment=comment, timed_out=False)
    ):
        approval.refresh_from_db()
        if approval.decision:
            raise Conflict(
                "already_decided", f"This approval was already decided: {approval.decision}."
            )
        raise Conflict("not_waiting", "This approval no longer waits for a decision.")
    approval.refresh_from_db()
    return approval


def time_out_expired(now: datetime) -> int:
    """The reaper's part: apply ``on_timeout`` to every approval waiting past its deadline."""
    expired = Approval.objects.filter(
        node_run__state=NodeState.WAITING, run__state=RunState.RUNNING, deadline_at__lt=now
    ).select_related("node_run")
    return sum(_time_out(approval) for approval in expired)


def _time_out(approval: Approval) -> int:
    node = approval.node_run
    if approval.on_timeout == "fail":
        error = NodeError(
            "approval_timed_out",
            f"No decision by {approval.deadline_at.isoformat()}, so the approval failed.",
        )
        if not fail_node(waiting_claim(node), error):
            return 0
        Approval.objects.filter(pk=approval.pk).update(timed_out=True)
        return 1
    decision: Decision = "approve" if approval.on_timeout == "approve" else "reject"
    return int(_resolve(node, approval, decision, by=None, comment="", timed_out=True))


def _resolve(
    node: NodeRun,
    approval: Approval,
    decision: Decision,
    *,
    by: Any,
    comment: str,
    timed_out: bool,
) -> bool:
    """Succeed the waiting node with the decision as its output; False if it no longer waits."""
    claim = waiting_claim(node)
    graph = pinned.graph_for_version(claim.version_id)
    sources = [edge.source for edge in graph.in_edges(node.node_id)]
    rows = statements.node_rows(node.run_id, sources)[1] if sources else {}
    node_input = selectors.node_input(graph, node.node_id, rows, claim.run_inputs)
    username = by.username if by is not None else None
    output = decision_output(
        decision, by=username, comment=comment, timed_out=timed_out, node_input=node_input
    )
    result = NodeResult(
        output=store_output(node.run_id, node.node_id, node.attempt, output),
        node_input=None,
        config_hash=pinned.config_hash(claim.version_id, node.node_id),
        input_hash=input_hash(node_input),
        record_with=_recorder(approval, decision, by, comment, timed_out),
    )
    return succeed_node(claim, result)


def _recorder(
    approval: Approval, decision: Decision, by: Any, comment: str, timed_out: bool
) -> Callable[[RunJournal], None]:
    """Write the decision and its event in the transaction that records the node's success."""

    def record(journal: RunJournal) -> None:
        Approval.objects.filter(pk=approval.pk, decision="").update(
            decision=decision,
            comment=comment,
            decided_by=by,
            decided_at=journal.now,
            timed_out=timed_out,
        )
        journal.emit(
            "node.decided",
            approval.node_id,
            decision=decision,
            by=by.username if by is not None else None,
            comment=comment,
            timed_out=timed_out,
        )

    return record


def waiting_claim(node: NodeRun) -> Claim:
    """The service's hold on a waiting node (an approval, a ``workflow`` or ``map`` node).

    Its compare-and-set expects ``waiting`` and the attempt the wait began with.
    """
    constants = pinned.run_constants(node.run_id)
    if constants is None:
        raise ApiError("not_found", "No such run.", status_code=status.HTTP_404_NOT_FOUND)
    return Claim(
        run_id=node.run_id,
        workspace_id=constants.workspace_id,
        node_id=node.node_id,
        node_type=node.node_type,
        attempt=node.attempt,
        held_state=NodeState.WAITING,
        version_id=constants.version_id,
        run_inputs=constants.inputs,
        resumed_from_id=constants.resumed_from_id,
        started_at=node.started_at or timezone.now(),
        worker="",
    )
