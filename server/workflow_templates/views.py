from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from server.accounts.models import WRITE_ROLES
from server.accounts.permissions import require_role, workspace_for_write
from server.accounts.selectors import workspace_ids_for
from server.workflow_templates import services
from server.workflow_templates.models import Template
from server.workflow_templates.serializers import InstantiateSerializer, TemplateSerializer
from server.workflows.selectors import workflows_for
from server.workflows.serializers import WorkflowSerializer


class TemplateViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Built-in templates and those of the caller's workspaces."""

    serializer_class = TemplateSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Template]:
        return Template.objects.filter(
            Q(workspace__isnull=True) | Q(workspace_id__in=workspace_ids_for(self.request.user))
        )

    @extend_schema(request=TemplateSerializer, responses={201: TemplateSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TemplateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = services.create_template(
            workspace_id=workspace_for_write(request.user, data.get("workspace_id")),
            name=data["name"],
            description=data.get("description", ""),
            category=data.get("category", ""),
            variables=[dict(v) for v in data.get("variables", [])],
            document=data["document"],
        )
        return Response(TemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Template) -> None:
        if instance.workspace_id is None:
            raise exceptions.PermissionDenied("Built-in templates cannot be deleted.")
        require_role(self.request.user, instance.workspace_id, WRITE_ROLES)
        instance.delete()

    @extend_schema(request=InstantiateSerializer, responses={201: WorkflowSerializer})
    @action(detail=True, methods=["post"])
    def instantiate(self, request: Request, pk: str | None = None) -> Response:
        template = self.get_object()
        serializer = InstantiateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        workflow = services.instantiate(
            template=template,
            user=request.user,
            workspace_id=workspace_for_write(request.user, data.get("workspace")),
            values=data.get("variables") or {},
            name=data.get("name"),
        )
        fresh = workflows_for(request.user).get(pk=workflow.pk)
        return Response(WorkflowSerializer(fresh).data, status=status.HTTP_201_CREATED)
