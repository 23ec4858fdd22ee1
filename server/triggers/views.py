from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.models import WRITE_ROLES
from server.accounts.permissions import WorkspaceRolePermission, require_role
from server.runs.selectors import runs_for
from server.triggers import notifications, schedules, webhooks
from server.triggers.cron import zone
from server.triggers.models import Schedule, WebhookTrigger
from server.triggers.selectors import (
    deliveries_of,
    recent_deliveries,
    recent_firings,
    schedules_for,
    webhooks_for,
)
from server.triggers.serializers import (
    DeliverySerializer,
    DraftPreviewQuerySerializer,
    FireTimeSerializer,
    FiringSerializer,
    NotificationsSerializer,
    PreviewQuerySerializer,
    SchedulePatchSerializer,
    ScheduleSerializer,
    SecretSerializer,
    WebhookCreatedSerializer,
    WebhookPatchSerializer,
    WebhookSerializer,
)
from server.workflows.models import Workflow
from server.workflows.selectors import runnable_workflow, workflows_for


class _ListFilter(serializers.Serializer):
    workflow = serializers.UUIDField(required=False)


def _writable_workflow(user: Any, workflow_id: Any) -> Workflow:
    workflow = runnable_workflow(user, workflow_id)
    require_role(user, workflow.workspace_id, WRITE_ROLES)
    return workflow


def _fire_times(instants: list[datetime], tz_name: str) -> list[dict[str, str]]:
    tz = zone(tz_name)
    return [
        {
            "utc": instant.isoformat().replace("+00:00", "Z"),
            "local": instant.astimezone(tz).isoformat(),
        }
        for instant in instants
    ]


class _ScopedViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, WorkspaceRolePermission]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _by_workflow(self, objects: QuerySet[Any]) -> QuerySet[Any]:
        if self.action == "list":
            params = _ListFilter(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            if "workflow" in params.validated_data:
                objects = objects.filter(workflow_id=params.validated_data["workflow"])
        return objects


class ScheduleViewSet(_ScopedViewSet):
    """Cron schedules (SPEC §13). Members read; owners and editors write."""

    def get_queryset(self) -> QuerySet[Schedule]:
        return self._by_workflow(schedules_for(self.request.user))

    def get_serializer_class(self) -> type:
        return SchedulePatchSerializer if self.action == "partial_update" else ScheduleSerializer

    @extend_schema(parameters=[_ListFilter])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        workflow = _writable_workflow(request.user, fields.pop("workflow_id"))
        schedule = schedules.create_schedule(user=request.user, workflow=workflow, fields=fields)
        return Response(ScheduleSerializer(schedule).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        schedule = self.get_object()
        serializer = SchedulePatchSerializer(schedule, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        schedule = schedules.update_schedule(schedule, serializer.validated_data)
        return Response(ScheduleSerializer(schedule).data)

    @extend_schema(
        operation_id="v1_schedules_preview",
        parameters=[PreviewQuerySerializer],
        responses=FireTimeSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def preview(self, request: Request, pk: str | None = None) -> Response:
        schedule = self.get_object()
        query = PreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        instants = schedules.preview(schedule.cron, schedule.timezone, query.validated_data["n"])
        return Response(_fire_times(instants, schedule.timezone))

    @extend_schema(
        operation_id="v1_schedules_preview_draft",
        parameters=[DraftPreviewQuerySerializer],
        responses=FireTimeSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="preview", pagination_class=None)
    def preview_draft(self, request: Request) -> Response:
        """The next fire times of a cron and timezone not saved yet (the editor's form)."""
        query = DraftPreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        instants = schedules.preview(params["cron"], params["timezone"], params["n"])
        return Response(_fire_times(instants, params["timezone"]))

    @extend_schema(responses=FiringSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def firings(self, request: Request, pk: str | None = None) -> Response:
        """The latest slots and what each did (started, skipped, waiting, failed)."""
        return Response(FiringSerializer(recent_firings(self.get_object()), many=True).data)


class WebhookViewSet(_ScopedViewSet):
    """Webhook triggers (SPEC §13). The secret is in the answer that makes it, only."""

    def get_queryset(self) -> QuerySet[WebhookTrigger]:
        return self._by_workflow(webhooks_for(self.request.user))

    def get_serializer_class(self) -> type:
        return WebhookPatchSerializer if self.action == "partial_update" else WebhookSerializer

    @extend_schema(parameters=[_ListFilter])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = WebhookSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        workflow = _writable_workflow(request.user, fields.pop("workflow_id"))
        trigger, secret = webhooks.create_trigger(
            user=request.user, workflow=workflow, fields=fields
        )
        data = {**WebhookSerializer(trigger).data, "secret": secret}
        return Response(data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        trigger = self.get_object()
        serializer = WebhookPatchSerializer(trigger, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        trigger = webhooks.update_trigger(trigger, serializer.validated_data)
        return Response(WebhookSerializer(trigger).data)

    @extend_schema(request=None, responses=SecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str | None = None) -> Response:
        return Response({"secret": webhooks.rotate_secret(self.get_object())})


class RunNotificationsView(APIView):
    """GET runs/<id>/notifications/: the run's notification deliveries and their attempts."""

    @extend_schema(responses=DeliverySerializer(many=True))
    def get(self, request: Request, run_id: str) -> Response:
        run = get_object_or_404(runs_for(request.user), pk=run_id)
        return Response(DeliverySerializer(deliveries_of(run.pk), many=True).data)


class WorkflowNotificationsView(APIView):
    """The workflow's notification targets (``settings.notifications`` of its document).

    Members read; owners and editors replace the list, which makes a new version.
    """

    @extend_schema(responses=NotificationsSerializer)
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = get_object_or_404(workflows_for(request.user), pk=workflow_id)
        return Response(_notifications_answer(workflow))

    @extend_schema(request=NotificationsSerializer, responses=NotificationsSerializer)
    def put(self, request: Request, workflow_id: str) -> Response:
        workflow = get_object_or_404(workflows_for(request.user), pk=workflow_id)
        require_role(request.user, workflow.workspace_id, WRITE_ROLES)
        serializer = NotificationsSerializer(
            data=request.data, context={"workspace": workflow.workspace}
        )
        serializer.is_valid(raise_exception=True)
        workflow = notifications.set_targets(
            workflow=workflow,
            user=request.user,
            expected_version=serializer.validated_data["version"],
            targets=serializer.validated_data["notifications"],
        )
        return Response(_notifications_answer(workflow))


def _notifications_answer(workflow: Workflow) -> dict[str, Any]:
    return {"version": workflow.version, "notifications": notifications.targets_of(workflow)}


class WorkflowDeliveriesView(APIView):
    """The latest notification deliveries of the workflow's runs (the Triggers panel's log)."""

    @extend_schema(responses=DeliverySerializer(many=True))
    def get(self, request: Request, workflow_id: str) -> Response:
        workflow = runnable_workflow(request.user, workflow_id)
        return Response(DeliverySerializer(recent_deliveries(workflow.pk), many=True).data)
