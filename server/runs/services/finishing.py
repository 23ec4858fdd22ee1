"""How a run ends inside a transition: all nodes done, over a budget, or stopped.

These only record in the transition's journal; ``start.transition`` and the
callers in ``execution``, ``stopping`` and ``start`` hold the run lock.
"""

from datetime import datetime
from typing import Any

from server.runs import statements
from server.runs.journal import RunJournal
from server.runs.models import LIVE_NODE_STATES, NodeRun, NodeState, Run, RunState
from server.runs.spend import month_of, over_budget, workspace_budget
from workers.engine.budget import budget_exceeded
from workers.engine.document import Graph


def ms_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() * 1000))


def workspace_over_budget(run: Run) -> str | None:
    """Why the run's workspace may spend no more in the run's month, or None."""
    month = month_of(run.created_at)
    budget = workspace_budget(run.workspace_id)
    return over_budget(run.workspace_id, month, budget=budget, running=run)


def enforce_budget(journal: RunJournal, graph: Graph) -> bool:
    """Fail the run if it went over a budget, its own or its workspace's month; True if it did."""
    run = journal.run
    elapsed = (journal.now - run.started_at).total_seconds() if run.started_at else 0.0
    reason = budget_exceeded(
        graph.settings.budget,
        total_tokens=run.prompt_tokens + run.completion_tokens,
        cost_usd=run.cost_usd,
        elapsed_s=elapsed,
    ) or workspace_over_budget(run)
    if reason is None:
        return False
    stop_run(journal, RunState.FAILED, error={"code": "budget_exceeded", "message": reason})
    return True


def finish_if_done(journal: RunJournal) -> None:
    run = journal.run
    if run.state != RunState.RUNNING or run.unfinished_nodes > 0:
        return
    failed, output = statements.run_end(run.pk)
    finished = {"finished_at": journal.now}
    totals = {
        "duration_ms": ms_between(run.started_at or run.created_at, journal.now),
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
        journal.update_run(state=RunState.SUCCEEDED, output=output, **finished)
        journal.emit("run.succeeded", output=output, **totals)
    # The month's counter is added to when the journal is written (journal.write_journals).
    journal.freed_slot = True


def stop_run(
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
    duration_ms = ms_between(run.started_at or run.created_at, journal.now)
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
    # The month's counter is added to when the journal is written (journal.write_journals).
    journal.freed_slot = True
