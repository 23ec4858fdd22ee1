"""Resuming a failed or cancelled run."""

from typing import Any

from server.core.errors import Conflict
from server.runs.models import Run, RunState, Trigger
from server.runs.services.start import create_run


def resume_run(run: Run, *, user: Any, version_number: int | None = None) -> Run:
    """A new run of the workflow's current version that keeps what is still valid.

    Each node whose config hash and input hash match its successful attempt in
    ``run`` takes that output instead of running again (the node runner); the
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
