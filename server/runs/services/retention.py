"""Retention: deleting runs, past their workflow's retention or on request, with all they left.

A run goes with its events, node runs and artifacts (the rows and the stored
objects), and any other row that cascades from it. Only finished runs
(succeeded, failed, cancelled) are deleted; a queued or running one never is.

Two finished runs are kept while another run needs them, and go once it no
longer does: a run that a live run is resuming from (it reads the earlier
outputs as it goes), and a run whose artifacts a later run's node runs point
at (a resumed run reuses the stored output of an unchanged node rather than
copying it).

Deletion goes in batches of ``AGENTLOOM_RETENTION_BATCH_RUNS`` runs, one
transaction each, so locks are held briefly and running work goes on
between batches. A batch locks its runs (skipping any a transition holds),
deletes their stored objects, then their rows. Objects first: should the
transaction then fail, the rows of runs being deleted name missing objects
until the next pass deletes them, rather than objects outliving every row
that could ever find them again.
"""

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from server.core.errors import ApiError, Conflict
from server.runs.leadership import RETENTION_PASS, Lease, holding
from server.runs.models import TERMINAL_RUN_STATES, Artifact, NodeRun, Run, RunEvent
from server.runs.outputs import delete_run_files
from server.workflows.models import Workflow


@dataclass
class RetentionReport:
    deleted_runs: int = 0
    batches: int = 0
    # Another pass was deleting: this one did nothing.
    skipped: int = 0


def retention_days(workflow_days: int | None) -> int:
    """How many days a workflow's finished runs are kept: its own setting or the
    default, never more than the operator's maximum."""
    config = settings.AGENTLOOM_RETENTION
    return int(min(workflow_days or config["default_days"], config["max_days"]))


def delete_expired_runs(now: datetime | None = None) -> RetentionReport:
    """One pass of the beat job: delete finished runs past their workflow's retention.

    A pass stops after about one retention interval so that it never holds
    a worker slot for long; the next pass goes on where it stopped.
    """
    config = settings.AGENTLOOM_RETENTION
    with holding(Lease(RETENTION_PASS)) as held:
        if not held:
            return RetentionReport(skipped=1)
        now = now or timezone.now()
        stop_at = time.monotonic() + config["interval_s"]
        report = RetentionReport()
        kept_for = Workflow.objects.values_list("retention_days", flat=True).distinct()
        for days in set(kept_for):
            expired = _expired(days, now - timedelta(days=retention_days(days)))
            while time.monotonic() < stop_at:
                batch = list(expired.values_list("pk", flat=True)[: config["batch_runs"]])
                deleted = _delete_batch(batch) if batch else 0
                if not deleted:
                    break  # none left, or all of them locked: the next pass
                report.deleted_runs += deleted
                report.batches += 1
        return report


def delete_run(run_id: uuid.UUID) -> None:
    """``DELETE runs/<id>/``: delete one finished run now, whatever its retention."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None:  # deleted in the meantime
            raise ApiError("not_found", "Run not found.", status_code=404)
        if run.state not in TERMINAL_RUN_STATES:
            raise Conflict(
                "run_not_finished",
                f"This run is {run.state}. Cancel it, and delete it once it has stopped.",
            )
        user = _user_of(run_id)
        if user is not None:
            raise Conflict(
                "run_in_use",
                f"Run {user} was resumed from this run and uses its outputs. Delete it first.",
                run=str(user),
            )
        _delete_runs([run_id])


def _expired(days: int | None, cutoff: datetime) -> QuerySet[Run]:
    return (
        Run.objects.filter(
            state__in=TERMINAL_RUN_STATES,
            finished_at__lt=cutoff,
            **(
                {"workflow__retention_days": days}
                if days is not None
                else {"workflow__retention_days__isnull": True}
            ),
        )
        .exclude(_still_needed())
        .order_by("finished_at")
    )


def _still_needed() -> Q:
    """A run that another run still reads: resuming from it, or pointing at its artifacts."""
    resuming = Run.objects.filter(resumed_from=OuterRef("pk")).exclude(
        state__in=TERMINAL_RUN_STATES
    )
    sharing = NodeRun.objects.filter(output_artifact__run=OuterRef("pk")).exclude(
        run=OuterRef("pk")
    )
    return Q(Exists(resuming)) | Q(Exists(sharing))


def _user_of(run_id: uuid.UUID) -> Any:
    """A run that still needs ``run_id`` (see _still_needed), if any."""
    resuming = Run.objects.filter(resumed_from=run_id).exclude(state__in=TERMINAL_RUN_STATES)
    sharing = NodeRun.objects.filter(output_artifact__run=run_id).exclude(run=run_id)
    return (
        resuming.values_list("pk", flat=True).first()
        or sharing.values_list("run_id", flat=True).first()
    )


def _delete_batch(candidates: Sequence[uuid.UUID]) -> int:
    with transaction.atomic():
        # Locked and checked again: a candidate may have been resumed since it was chosen.
        run_ids = list(
            Run.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=candidates, state__in=TERMINAL_RUN_STATES)
            .exclude(_still_needed())
            .values_list("pk", flat=True)
        )
        _delete_runs(run_ids)
    return len(run_ids)


def _delete_runs(run_ids: list[uuid.UUID]) -> None:
    """Delete locked, finished runs: their stored objects, then every row (see the module)."""
    if not run_ids:
        return
    _delete_stored_objects(run_ids)
    # Children first, each one statement, so deleting the runs has nothing left to collect.
    RunEvent.objects.filter(run_id__in=run_ids).delete()
    NodeRun.objects.filter(run_id__in=run_ids).delete()
    Artifact.objects.filter(run_id__in=run_ids).delete()
    Run.objects.filter(pk__in=run_ids).delete()


def delete_files_of_deleted_workflow(sender: Any, instance: Workflow, **kwargs: Any) -> None:
    """A workflow's runs go with it (the rows cascade); their stored objects go here.

    Connected to the workflow's ``pre_delete`` by the runs app, since the
    workflows app knows nothing of runs. Objects first, as for a batch above.
    """
    _delete_stored_objects(list(Run.objects.filter(workflow=instance).values_list("pk", flat=True)))


def _delete_stored_objects(run_ids: list[uuid.UUID]) -> None:
    keys = Artifact.objects.filter(run_id__in=run_ids).values_list("storage_key", flat=True)
    delete_run_files(run_ids, list(keys))
