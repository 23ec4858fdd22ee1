from typing import Any

from django.db.models import QuerySet

from server.accounts.selectors import workspace_ids_for
from server.triggers.models import NotificationDelivery, Schedule, ScheduleFiring, WebhookTrigger


def schedules_for(user: Any) -> QuerySet[Schedule]:
    """The schedules of the caller's workspaces; anything else does not exist for them."""
    return Schedule.objects.filter(workspace_id__in=workspace_ids_for(user))


def webhooks_for(user: Any) -> QuerySet[WebhookTrigger]:
    return WebhookTrigger.objects.filter(workspace_id__in=workspace_ids_for(user))


def recent_firings(schedule: Schedule, limit: int = 20) -> QuerySet[ScheduleFiring]:
    return ScheduleFiring.objects.filter(schedule=schedule).order_by("-slot")[:limit]


def deliveries_of(run_id: Any) -> QuerySet[NotificationDelivery]:
    return NotificationDelivery.objects.filter(run_id=run_id).order_by("created_at", "pk")


def recent_deliveries(workflow_id: Any, limit: int = 20) -> QuerySet[NotificationDelivery]:
    """The latest deliveries of the workflow's runs, newest first."""
    return NotificationDelivery.objects.filter(run__workflow_id=workflow_id).order_by(
        "-created_at", "-pk"
    )[:limit]
