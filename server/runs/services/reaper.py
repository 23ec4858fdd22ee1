"""The reaper: repairs after crashed workers, lost messages and runs past their deadline."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from server.runs.dispatch import send_node_tasks
from server.runs.journal import NodeTask
from server.runs.leadership import REAPER_PASS, Lease, holding
from server.runs.models import NodeRun, NodeState, Run, RunState
from server.runs.services import flow_nodes
from server.runs.services.approvals import time_out_expired
from server.runs.services.execution import Claim, NodeError, fail_node
from server.runs.services.readiness import queue_for
from server.runs.services.start import start_queued_runs, transition
from server.runs.services.stopping import time_out_run


@dataclass
class ReapReport:
    requeued_lost: int = 0
    failed_lost: int = 0
    resent: int = 0
    timed_out_runs: int = 0
    timed_out_approvals: int = 0
    advanced_flow_nodes: int = 0
    started_runs: int = 0
    # Another pass held the lease for the whole wait: this one did nothing.
    skipped: int = 0
    # When this pass held the lease (epoch seconds), as the worker's log shows it.
    started_at: float = 0.0
    finished_at: float = 0.0


def reap(now: datetime | None = None) -> ReapReport:
    """One reaper pass, never at the same time as another (the ``reaper-pass`` lease).

    A pass that finds another running waits for it, up to one reaper
    interval, and then runs on what that one left; past that it is skipped,
    since passes keep coming. Two passes at once would each act on what the
    other is repairing.
    """
    with holding(Lease(REAPER_PASS), settings.AGENTLOOM_RUNS["reaper_interval_s"]) as held:
        if not held:
            return ReapReport(skipped=1)
        report = ReapReport(started_at=time.time())
        _repair(now or timezone.now(), report)
        report.finished_at = time.time()
        return report


def _repair(now: datetime, report: ReapReport) -> None:
    """Repair what crashes and lost messages leave behind, so no run stays running forever.

    * a running node, or a leased control node, whose heartbeat is stale lost
      its worker: it is queued again (a new attempt), or failed after
      ``MAX_LOST_WORKERS`` such losses;
    * a queued node nobody holds, or a retrying one, whose task should have
      arrived long ago had its message lost (Redis restarted, publish failed
      after commit): re-sent;
    * an approval waiting past its deadline gets its ``on_timeout``;
    * a ``workflow`` or ``map`` node waiting with no child running is moved on
      (the call after its last child's end was lost);
    * a run past its duration budget is failed;
    * workspaces with room start their waiting runs.
    """
    config = settings.AGENTLOOM_RUNS
    silent_since = now - timedelta(seconds=config["heartbeat_timeout_s"])
    # A queued node has a heartbeat only while a control node's lease holds it.
    stale = NodeRun.objects.filter(
        state__in=(NodeState.RUNNING, NodeState.QUEUED),
        heartbeat_at__lt=silent_since,
        run__state=RunState.RUNNING,
    ).values_list("run_id", "node_id", "node_type", "state", "attempt", "lost_workers")
    for run_id, node_id, node_type, state, attempt, lost in stale:
        held = _Held(run_id, node_id, node_type, state, attempt)
        if lost + 1 >= config["max_lost_workers"]:
            report.failed_lost += _fail_lost_node(held)
        else:
            report.requeued_lost += _requeue_lost_node(held, silent_since)
    report.resent = _resend_overdue(now - timedelta(seconds=config["redispatch_after_s"]), now)
    report.timed_out_approvals = time_out_expired(now)
    report.advanced_flow_nodes = flow_nodes.sweep()
    for run_id in Run.objects.filter(state=RunState.RUNNING, deadline_at__lt=now).values_list(
        "pk", flat=True
    ):
        report.timed_out_runs += time_out_run(run_id)
    waiting = Run.objects.filter(state=RunState.QUEUED).values_list("workspace_id", flat=True)
    for workspace_id in set(waiting):
        report.started_runs += start_queued_runs(workspace_id)


def _resend_overdue(sent_before: datetime, now: datetime) -> int:
    """Publish again the tasks of nodes that should have started long ago."""
    overdue = Q(state=NodeState.QUEUED, dispatched_at__lt=sent_before, heartbeat_at=None) | Q(
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


@dataclass(frozen=True)
class _Held:
    """A node some worker held, as the reaper found it."""

    run_id: Any
    node_id: str
    node_type: str
    state: str
    attempt: int


def _requeue_lost_node(held: _Held, silent_since: datetime) -> int:
    with transition(held.run_id) as journal:
        updated = NodeRun.objects.filter(
            run_id=held.run_id,
            node_id=held.node_id,
            state=held.state,
            attempt=held.attempt,
            heartbeat_at__lt=silent_since,
        ).update(
            state=NodeState.QUEUED,
            attempt=held.attempt + 1,
            lost_workers=F("lost_workers") + 1,
            queued_at=journal.now,
            dispatched_at=journal.now,
            heartbeat_at=None,
        )
        if not updated:
            return 0
        journal.emit(
            "node.log",
            held.node_id,
            level="warning",
            message=(
                f"The worker running attempt {held.attempt} stopped responding; running it again."
            ),
        )
        journal.emit("node.queued", held.node_id, attempt=held.attempt + 1)
        journal.send(NodeTask(str(held.run_id), held.node_id, queue_for(held.node_type)))
    return 1


def _fail_lost_node(held: _Held) -> int:
    row = (
        Run.objects.filter(pk=held.run_id)
        .values("workspace_id", "version_id", "inputs", "resumed_from_id")
        .get()
    )
    node = (
        NodeRun.objects.filter(run_id=held.run_id, node_id=held.node_id)
        .values("started_at", "worker")
        .get()
    )
    claim = Claim(
        run_id=held.run_id,
        workspace_id=row["workspace_id"],
        node_id=held.node_id,
        node_type=held.node_type,
        attempt=held.attempt,
        held_state=held.state,
        version_id=row["version_id"],
        run_inputs=row["inputs"],
        resumed_from_id=row["resumed_from_id"],
        started_at=node["started_at"] or timezone.now(),
        worker=node["worker"],
    )
    lost = settings.AGENTLOOM_RUNS["max_lost_workers"]
    error = NodeError("worker_lost", f"The worker running this node vanished {lost} times.")
    return int(fail_node(claim, error))
