"""Schedules: saving them, previewing their slots, and firing the due ones.

``fire_due_schedules`` may run in any number of processes at once (beat's
job, a test, an operator's shell). Each due schedule is fired under its row
lock, taken with SKIP LOCKED so a second pass moves on instead of waiting, and
the slot's ``ScheduleFiring`` row (unique per slot) is written in the same
transaction as the run it starts: a slot starts one run or none, never two.
"""

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from server.core.errors import ApiError
from server.runs.models import RunState, Trigger
from server.runs.services import start
from server.triggers.cron import fire_times as cron_fire_times
from server.triggers.cron import latest_due, next_fire_time
from server.triggers.models import CatchUp, FiringOutcome, Overlap, Schedule, ScheduleFiring
from server.triggers.webhooks import forget_old_calls
from server.workflows.models import Workflow

logger = logging.getLogger(__name__)

_ACTIVE_RUN_STATES = (RunState.QUEUED, RunState.RUNNING)
# A firing row only guards its slot until next_fire_at has moved past it; the
# rest is history for the editor, kept this long.
FIRINGS_KEPT = timedelta(days=30)
_TIMING_FIELDS = {"cron", "timezone", "enabled"}


def _next_slot(schedule: Schedule, after: datetime) -> datetime | None:
    if not schedule.enabled:
        return None
    return next_fire_time(schedule.cron, schedule.timezone, after)


def create_schedule(*, user: Any, workflow: Workflow, fields: Mapping[str, Any]) -> Schedule:
    schedule = Schedule(
        workspace_id=workflow.workspace_id, workflow=workflow, created_by=user, **fields
    )
    schedule.next_fire_at = _next_slot(schedule, timezone.now())
    schedule.save()
    return schedule


def update_schedule(schedule: Schedule, fields: Mapping[str, Any]) -> Schedule:
    with transaction.atomic():
        # Under the lock a firing pass takes: the next slot is computed from what is saved.
        schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
        for name, value in fields.items():
            setattr(schedule, name, value)
        if _TIMING_FIELDS & set(fields):
            schedule.next_fire_at = _next_slot(schedule, timezone.now())
        schedule.save()
    return schedule


def preview(cron: str, tz: str, n: int, after: datetime | None = None) -> list[datetime]:
    return list(islice(cron_fire_times(cron, tz, after or timezone.now()), n))


def fire_due_schedules(now: datetime | None = None) -> dict[str, int]:
    """Fire every due schedule once, and start queued slots whose previous run ended."""
    now = now or timezone.now()
    batch = settings.AGENTLOOM_TRIGGERS["fire_batch"]
    due = list(
        Schedule.objects.filter(enabled=True, next_fire_at__lte=now)
        .order_by("next_fire_at")
        .values_list("pk", flat=True)[:batch]
    )
    counts: dict[str, int] = dict.fromkeys(FiringOutcome.values, 0)
    for schedule_id in due:
        outcome = _fire(schedule_id, now)
        if outcome is not None:
            counts[outcome] += 1
    counts["dequeued"] = _start_waiting(now)
    counts["forgotten_calls"] = forget_old_calls(now)
    counts["forgotten_firings"], _ = (
        ScheduleFiring.objects.filter(created_at__lt=now - FIRINGS_KEPT)
        .exclude(outcome=FiringOutcome.WAITING)
        .delete()
    )
    return counts


def _fire(schedule_id: Any, now: datetime) -> str | None:
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("workflow")
            .filter(pk=schedule_id, enabled=True, next_fire_at__lte=now)
            .first()
        )
        if schedule is None or schedule.next_fire_at is None:
            return None  # another pass holds it, or fired it already
        # Slots missed while no beat ran are skipped; only the latest may still fire.
        since = schedule.next_fire_at - timedelta(microseconds=1)
        slot = latest_due(schedule.cron, schedule.timezone, since, now)
        schedule.next_fire_at = next_fire_time(schedule.cron, schedule.timezone, now)
        schedule.save(update_fields=["next_fire_at", "updated_at"])
        if slot is None:
            return None
        missed = now - slot > timedelta(seconds=settings.AGENTLOOM_TRIGGERS["schedule_grace_s"])
        if missed and schedule.catch_up == CatchUp.NONE:
            logger.info("schedule %s: slot %s missed, not caught up", schedule.pk, slot)
            return None
        firing, created = ScheduleFiring.objects.get_or_create(
            schedule=schedule, slot=slot, defaults={"outcome": FiringOutcome.STARTED}
        )
        if not created:
            return None
        if _previous_run_active(schedule):
            if schedule.overlap == Overlap.SKIP or _has_waiting(schedule):
                firing.outcome = FiringOutcome.SKIPPED
            elif schedule.overlap == Overlap.QUEUE:
                firing.outcome = FiringOutcome.WAITING
        if firing.outcome == FiringOutcome.STARTED:
            _start_run(firing)
        firing.save()
        return str(firing.outcome)


def _previous_run_active(schedule: Schedule) -> bool:
    return ScheduleFiring.objects.filter(
        schedule=schedule, outcome=FiringOutcome.STARTED, run__state__in=_ACTIVE_RUN_STATES
    ).exists()


def _has_waiting(schedule: Schedule) -> bool:
    return ScheduleFiring.objects.filter(schedule=schedule, outcome=FiringOutcome.WAITING).exists()


def _start_run(firing: ScheduleFiring) -> None:
    """Start the slot's run in the caller's transaction; a refusal is recorded, not raised."""
    schedule = firing.schedule
    try:
        with transaction.atomic():
            firing.run = start.create_run(
                workflow=schedule.workflow,
                user=None,
                inputs=schedule.inputs,
                trigger=Trigger.SCHEDULE,
            )
        firing.outcome = FiringOutcome.STARTED
    except ApiError as refused:
        firing.outcome = FiringOutcome.FAILED
        firing.error = {"code": refused.code, "message": refused.message}
        logger.warning("schedule %s: run not started: %s", schedule.pk, refused.code)


def _start_waiting(now: datetime) -> int:
    started = 0
    waiting = ScheduleFiring.objects.filter(outcome=FiringOutcome.WAITING).values_list(
        "pk", "schedule_id"
    )
    for firing_id, schedule_id in list(waiting[: settings.AGENTLOOM_TRIGGERS["fire_batch"]]):
        with transaction.atomic():
            schedule = (
                Schedule.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("workflow")
                .filter(pk=schedule_id, enabled=True)
                .first()
            )
            firing = ScheduleFiring.objects.filter(
                pk=firing_id, outcome=FiringOutcome.WAITING
            ).first()
            if schedule is None or firing is None or _previous_run_active(schedule):
                continue
            firing.schedule = schedule
            _start_run(firing)
            firing.save()
            started += 1
    return started
