"""Stopping a run from outside it: a user's cancel, the reaper's time-out.

Its child runs stop after the commit (``start.stop_child_runs``).
"""

from typing import Any

from server.core.errors import Conflict
from server.runs.models import Run, RunState
from server.runs.services.finishing import stop_run
from server.runs.services.start import transition


def cancel_run(run_id: Any, *, reason: str = "Cancelled by a user.") -> Run:
    with transition(run_id) as journal:
        if journal.run.state not in (RunState.QUEUED, RunState.RUNNING):
            raise Conflict("invalid_state", f"The run has already {journal.run.state}.")
        stop_run(journal, RunState.CANCELLED, reason=reason)
    return journal.run


def time_out_run(run_id: Any) -> int:
    """Fail a running run that went over its duration budget; 1 if it did, else 0."""
    with transition(run_id) as journal:
        if journal.run.state != RunState.RUNNING:
            return 0
        stop_run(
            journal,
            RunState.FAILED,
            error={"code": "budget_exceeded", "message": "The run went over its duration budget."},
        )
    return 1
