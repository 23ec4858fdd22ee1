"""Nodes that wait without a worker (SPEC §12): approvals, and nodes that run child runs.

Called by ``readiness`` inside a transition: instead of being queued and
published, a ready approval node is recorded ``waiting`` with its rendered
message and deadline (an ``Approval`` row) and a ``node.waiting`` event.
Nothing is sent to a broker and no slot is taken; the decision
(``approvals.decide``) or the reaper's time-out moves it on.

A ready ``workflow`` or ``map`` node is recorded ``waiting`` with a
``node.waiting`` event of kind ``children``; once that commits,
``flow_nodes`` (listening for committed events) starts its child runs, and
their ends move it on.
"""

from collections.abc import Iterable
from datetime import timedelta

from server.core.limits import engine_limits
from server.runs import selectors, statements
from server.runs.journal import RunJournal
from server.runs.models import Approval, NodeRun, NodeState
from workers.engine.approval import EDITORS, ApprovalConfig
from workers.engine.document import FLOW_TYPES, Graph
from workers.engine.expressions import ExpressionBudget, ExpressionError, render_template
from workers.engine.flow import CHILD_NODE_TYPES, WAITING_KIND, ChildConfig

# A rendered message is for a person to read: longer than this is cut.
MAX_MESSAGE_CHARS = 20_000


def waits(graph: Graph, node_id: str) -> bool:
    """Whether the node waits when ready rather than being queued for a worker."""
    return graph.nodes[node_id].type in FLOW_TYPES


def start_waiting(journal: RunJournal, graph: Graph, node_ids: Iterable[str]) -> list[str]:
    """Move the ready nodes that wait to ``waiting``; the others, in order, to be queued."""
    to_queue = []
    for node_id in node_ids:
        if graph.nodes[node_id].type in CHILD_NODE_TYPES:
            _wait_for_children(journal, graph, node_id)
        elif waits(graph, node_id):
            _wait_for_decision(journal, graph, node_id)
        else:
            to_queue.append(node_id)
    return to_queue


def _wait_for_decision(journal: RunJournal, graph: Graph, node_id: str) -> None:
    run = journal.run
    config = ApprovalConfig.from_config(graph.nodes[node_id].config)
    row = (
        NodeRun.objects.filter(run_id=run.pk, node_id=node_id, state=NodeState.PENDING)
        .values_list("pk", "attempt")
        .first()
    )
    if row is None:
        return
    node_run_id, attempt = row
    message = _message(journal, graph, node_id, config)
    deadline_at = journal.now + timedelta(seconds=config.timeout_s)
    NodeRun.objects.filter(pk=node_run_id, state=NodeState.PENDING).update(
        state=NodeState.WAITING,
        attempt=attempt + 1,
        queued_at=journal.now,
        started_at=journal.now,
    )
    Approval.objects.create(
        node_run_id=node_run_id,
        run_id=run.pk,
        workspace_id=run.workspace_id,
        node_id=node_id,
        message=message,
        approvers=list(config.usernames or ()),
        on_timeout=config.on_timeout,
        requested_at=journal.now,
        deadline_at=deadline_at,
    )
    journal.emit(
        "node.waiting",
        node_id,
        attempt=attempt + 1,
        kind="approval",
        message=message,
        approvers=EDITORS if config.usernames is None else list(config.usernames),
        deadline_at=deadline_at.isoformat().replace("+00:00", "Z"),
        on_timeout=config.on_timeout,
    )


def _wait_for_children(journal: RunJournal, graph: Graph, node_id: str) -> None:
    node = graph.nodes[node_id]
    config = ChildConfig.from_config(node.type, node.config)
    row = (
        NodeRun.objects.filter(run_id=journal.run.pk, node_id=node_id, state=NodeState.PENDING)
        .values_list("pk", "attempt")
        .first()
    )
    if row is None:
        return
    node_run_id, attempt = row
    NodeRun.objects.filter(pk=node_run_id, state=NodeState.PENDING).update(
        state=NodeState.WAITING,
        attempt=attempt + 1,
        queued_at=journal.now,
        started_at=journal.now,
    )
    shape = (
        {"max_parallel": config.max_parallel, "on_item_error": config.on_item_error}
        if config.is_map
        else {"max_iterations": config.max_iterations}
    )
    journal.emit(
        "node.waiting",
        node_id,
        attempt=attempt + 1,
        kind=WAITING_KIND,
        workflow=config.workflow,
        **shape,
    )


def _message(journal: RunJournal, graph: Graph, node_id: str, config: ApprovalConfig) -> str:
    """The message rendered over the node's input; the template and the reason if that fails.

    An approver can still decide on a message that did not render, and a
    rejection is the safe answer to one, so the node waits either way.
    """
    sources = [edge.source for edge in graph.in_edges(node_id)]
    rows = statements.node_rows(journal.run.pk, sources)[1] if sources else {}
    node_input = selectors.node_input(graph, node_id, rows, journal.run.inputs)
    limits = engine_limits()
    try:
        message = render_template(
            config.message, node_input, limits=limits, budget=ExpressionBudget.for_node(limits)
        )
    except ExpressionError as error:
        journal.emit(
            "node.log",
            node_id,
            level="warning",
            message=f"The approval message could not be rendered: {error.message}",
        )
        message = config.message
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 1] + "…"
    return message
