from typing import Any

from django.db import connection
from django.db.models import QuerySet

from server.accounts.selectors import workspace_ids_for
from server.core.rows import instance_from_row, model_columns
from server.triggers.models import NotificationDelivery, Schedule, ScheduleFiring, WebhookTrigger
from server.workflows.models import Workflow
from server.workflows.selectors import NOT_READ_TO_RUN


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


def enabled_webhook(token: str) -> WebhookTrigger | None:
    """The enabled trigger of a ``/hooks/`` token, with its workflow, in one query.

    A plain statement (``server.core.rows``): every call to a hook asks, and
    through the ORM its building took longer than the webhook's whole start.
    """
    workflow_table = Workflow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(WebhookTrigger, 't')}, "
            f"{model_columns(Workflow, 'w', exclude=NOT_READ_TO_RUN)} "
            f"FROM {WebhookTrigger._meta.db_table} t JOIN {workflow_table} w "
            "ON w.id = t.workflow_id WHERE t.token = %s AND t.enabled = %s",
            [token, True],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(WebhookTrigger._meta.concrete_fields)
    trigger = instance_from_row(WebhookTrigger, row[:split], connection.alias)
    trigger.workflow = instance_from_row(
        Workflow, row[split:], connection.alias, exclude=NOT_READ_TO_RUN
    )
    return trigger
