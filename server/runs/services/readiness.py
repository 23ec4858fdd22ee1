"""Nodes becoming ready: slots under ``max_concurrency``, edges resolved, skips.

These run inside a transition (``start.transition``) and only record in its
journal; nothing here takes a lock.
"""

from collections.abc import Iterable

from server import queues
from server.runs import statements
from server.runs.journal import NodeTask, RunJournal
from server.runs.models import NodeRun, NodeState, RunState
from server.runs.services.finishing import finish_if_done
from server.runs.services.waiting import start_waiting, waits
from workers.engine.document import AGENT_TYPES, Graph
from workers.engine.scheduling import EdgeDecision, readiness


def queue_for(node_type: str) -> str:
    """The pool of workers for a node: model calls wait on the network, the rest is quick Python."""
    return queues.AGENTS if node_type in AGENT_TYPES else queues.CONTROL


def mark_ready(journal: RunJournal, graph: Graph, node_ids: Iterable[str]) -> None:
    """pending → queued; published at once while the run has free slots.

    Nodes beyond ``max_concurrency`` wait (queued, no ``dispatched_at``) until
    ``fill_slots`` gives them a slot. While any node waits, new ones queue
    behind it, so slots go out in the order nodes became ready. Nodes the
    journal's worker keeps (``RunJournal.keep``) are leased to it instead of
    published. Nodes that wait for a person (``waiting``) are neither.
    """
    ids = start_waiting(journal, graph, node_ids)
    if not ids:
        return
    run = journal.run
    room = _room(journal)
    now_ids, later_ids = ids[: max(room, 0)], ids[max(room, 0) :]
    if now_ids:
        lease = _lease(journal, now_ids)
        attempts = statements.queue_nodes(
            run.pk, now_ids, journal.now, dispatched=True, lease=lease
        )
        _dispatch(journal, graph, now_ids, lease, attempts)
    if later_ids:
        statements.queue_nodes(run.pk, later_ids, journal.now, dispatched=False)
    _queued(journal, now_ids, later_ids)


def _room(journal: RunJournal) -> int:
    run = journal.run
    return run.max_concurrency - run.active_nodes if run.waiting_nodes == 0 else 0


def _lease(journal: RunJournal, node_ids: list[str]) -> statements.Lease:
    return statements.NO_LEASE if journal.keep is None else journal.keep(node_ids)


def _dispatch(
    journal: RunJournal,
    graph: Graph,
    node_ids: list[str],
    lease: statements.Lease,
    attempts: dict[str, int],
) -> None:
    """Send the tasks of nodes queued with a slot; the leased ones the worker keeps."""
    for node_id in node_ids:
        if node_id in lease.node_ids:
            journal.kept[node_id] = attempts[node_id]
        else:
            journal.send(
                NodeTask(str(journal.run.pk), node_id, queue_for(graph.nodes[node_id].type))
            )


def _queued(journal: RunJournal, now_ids: list[str], later_ids: list[str]) -> None:
    run = journal.run
    journal.update_run(
        active_nodes=run.active_nodes + len(now_ids),
        waiting_nodes=run.waiting_nodes + len(later_ids),
    )
    for node_id in (*now_ids, *later_ids):
        journal.emit("node.queued", node_id, attempt=1)


def fill_slots(journal: RunJournal, graph: Graph) -> None:
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


def resolve_edges(journal: RunJournal, graph: Graph, decisions: list[EdgeDecision]) -> None:
    """Count each resolved edge at its target; queue targets that became ready, skip the rest.

    Skips propagate: a skipped node resolves all its outgoing edges as not taken.
    When the run has a slot for every target, the targets that become ready
    are queued (and leased, if kept) by the statement that counts their
    edges: one write of each row instead of three.
    """
    if journal.deferred_edges is not None:
        journal.deferred_edges.extend(decisions)
        return
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
        at_once = len(counts) <= _room(journal) and not any(waits(graph, t) for t in counts)
        lease = _lease(journal, sorted(counts, key=graph.order)) if at_once else None
        counters = statements.count_resolved_edges(
            journal.run.pk,
            counts,
            queue_at=journal.now if at_once else None,
            lease=lease or statements.NO_LEASE,
        )
        attempts: dict[str, int] = {}
        for target, unresolved, taken, attempt in counters:
            verdict = readiness(unresolved, taken)
            if verdict == "ready":
                ready.append(target)
                attempts[target] = attempt
            elif verdict == "skip":
                _skip(journal, target, "no incoming edge was taken")
                pending.extend(not_taken(graph, target))
        ready.sort(key=graph.order)
        if lease is None:
            mark_ready(journal, graph, ready)
        elif ready:
            _dispatch(journal, graph, ready, lease, attempts)
            _queued(journal, ready, [])


def resolve_deferred(journal: RunJournal, graph: Graph) -> None:
    """Count the edges a group of successes deferred, at once: one statement, not one per node.

    Their targets are pending until then, so the run cannot finish early; once
    counted, the run may have finished (skips) or have slots to fill.
    """
    decisions, journal.deferred_edges = journal.deferred_edges or [], None
    if not decisions:
        return
    resolve_edges(journal, graph, decisions)
    fill_slots(journal, graph)
    finish_if_done(journal)


def not_taken(graph: Graph, node_id: str) -> list[EdgeDecision]:
    """Every outgoing edge of the node, resolved as not taken."""
    return [EdgeDecision(e.id, e.source, e.target, False, None) for e in graph.out_edges(node_id)]


def _skip(journal: RunJournal, node_id: str, reason: str) -> None:
    NodeRun.objects.filter(run_id=journal.run.pk, node_id=node_id, state=NodeState.PENDING).update(
        state=NodeState.SKIPPED, finished_at=journal.now
    )
    journal.update_run(unfinished_nodes=journal.run.unfinished_nodes - 1)
    journal.emit("node.skipped", node_id, reason=reason)
