import re
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from server.accounts.models import WRITE_ROLES
from server.accounts.permissions import WorkspaceRolePermission, require_role, workspace_for_write
from server.core.downloads import attachment
from server.core.errors import ApiError
from server.core.numbers import query_int
from server.core.pagination import CursorPagination
from server.workflows import services
from server.workflows.diff import diff_documents
from server.workflows.documents import as_dicts, has_errors, problems_of
from server.workflows.models import Workflow, WorkflowVersion
from server.workflows.selectors import workflow_list, workflows_for
from server.workflows.serializers import (
    ImportSerializer,
    RestoreSerializer,
    ValidateRequestSerializer,
    ValidateResponseSerializer,
    VersionListSerializer,
    VersionSerializer,
    WorkflowCreateSerializer,
    WorkflowListFilterSerializer,
    WorkflowListSerializer,
    WorkflowPatchSerializer,
    WorkflowPutSerializer,
    WorkflowSerializer,
)
from server.workflows.transfer import export_document, freshen_duplicate_ids, parse_document_text


def _validated(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# ASCII digits only: `\d`, str.isdigit() and int() also take "²" or
# Arabic-Indic digits, and int() fails on the first. Nine digits stay within
# PostgreSQL's integer.
VERSION_NUMBER = re.compile("[0-9]{1,9}")


class RecentlyUpdatedFirst(CursorPagination):
    ordering = "-updated_at"


class NewestVersionFirst(CursorPagination):
    ordering = "-number"


class WorkflowViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAuthenticated, WorkspaceRolePermission]
    serializer_class = WorkflowSerializer
    pagination_class = RecentlyUpdatedFirst

    def get_queryset(self) -> QuerySet[Workflow]:
        if self.action == "list":
            params = _validated(WorkflowListFilterSerializer, self.request.query_params)
            return workflow_list(
                self.request.user,
                workspace=params.get("workspace"),
                query=params.get("q"),
                tag=params.get("tag"),
            )
        return workflows_for(self.request.user)

    def get_serializer_class(self) -> type:
        return WorkflowListSerializer if self.action == "list" else WorkflowSerializer

    @extend_schema(parameters=[WorkflowListFilterSerializer])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request=WorkflowCreateSerializer, responses={201: WorkflowSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = _validated(WorkflowCreateSerializer, request.data)
        workflow = services.create_workflow(
            user=request.user,
            workspace_id=workspace_for_write(request.user, data.get("workspace")),
            document=data.get("document"),
            name=data.get("name"),
            description=data.get("description"),
            tags=data.get("tags", ()),
            message=data.get("message") or "Created",
            retention_days=data.get("retention_days"),
        )
        return self._workflow_response(workflow, status.HTTP_201_CREATED)

    def _update(self, request: Request, serializer_class: type) -> Response:
        workflow = self.get_object()
        data = _validated(serializer_class, request.data)
        workflow = services.update_workflow(
            workflow=workflow,
            user=request.user,
            expected_version=data["version"],
            document=data.get("document"),
            name=data.get("name"),
            description=data.get("description"),
            tags=data.get("tags"),
            message=data.get("message", ""),
            retention_days=data.get("retention_days", services.UNCHANGED),
        )
        return self._workflow_response(workflow)

    @extend_schema(request=WorkflowPutSerializer, responses=WorkflowSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request, WorkflowPutSerializer)

    @extend_schema(request=WorkflowPatchSerializer, responses=WorkflowSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._update(request, WorkflowPatchSerializer)

    def perform_destroy(self, instance: Workflow) -> None:
        services.delete_workflow(workflow=instance)

    def _workflow_response(self, workflow: Workflow, status_code: int = 200) -> Response:
        # Re-read through the selector so tags and users come with the same shape as a GET.
        fresh = workflows_for(self.request.user).get(pk=workflow.pk)
        return Response(WorkflowSerializer(fresh).data, status=status_code)

    @extend_schema(request=ValidateRequestSerializer, responses=ValidateResponseSerializer)
    @action(detail=True, methods=["post"])
    def validate(self, request: Request, pk: str | None = None) -> Response:
        """Validate the saved document, or an unsaved one sent by the editor.

        For editors: a validation pass may spend seconds parsing expressions,
        which a viewer, who cannot save, has no reason to ask for.
        """
        workflow = self.get_object()
        data = _validated(ValidateRequestSerializer, request.data or {})
        document = data.get("document", workflow.document)
        problems = as_dicts(problems_of(document, workflow.workspace_id, workflow.pk))
        return Response({"valid": not has_errors(problems), "problems": problems})

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["json", "yaml"], default="json")],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "application/yaml"): str},
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        workflow = self.get_object()
        fmt = request.query_params.get("format", "json")
        if fmt not in ("json", "yaml"):
            raise ApiError("invalid_format", "format must be json or yaml.")
        text, media_type = export_document(workflow.document, fmt)
        name = workflow.name or "workflow"
        return attachment(text, f"{media_type}; charset=utf-8", f"{name}.{fmt}")

    @extend_schema(request=ImportSerializer, responses={201: WorkflowSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_(self, request: Request) -> Response:
        """Create a workflow from an exported JSON or YAML document."""
        data = _validated(ImportSerializer, request.data)
        document = parse_document_text(data["content"]) if "content" in data else data["document"]
        if not isinstance(document, dict):
            raise ApiError("invalid_import", "The imported content must be a workflow object.")
        renamed = freshen_duplicate_ids(document)
        message = "Imported" + (f" (renamed {', '.join(renamed)})" if renamed else "")
        workflow = services.create_workflow(
            user=request.user,
            workspace_id=workspace_for_write(request.user, data.get("workspace")),
            document=document,
            tags=data.get("tags", ()),
            message=message,
        )
        return self._workflow_response(workflow, status.HTTP_201_CREATED)


class WorkflowVersionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The immutable history of one workflow."""

    serializer_class = VersionListSerializer
    pagination_class = NewestVersionFirst
    lookup_field = "number"
    lookup_value_regex = VERSION_NUMBER.pattern

    def _workflow(self) -> Workflow:
        return get_object_or_404(workflows_for(self.request.user), pk=self.kwargs["workflow_pk"])

    def get_queryset(self) -> QuerySet[WorkflowVersion]:
        return WorkflowVersion.objects.filter(workflow=self._workflow()).select_related("author")

    @extend_schema(responses=VersionSerializer)
    def retrieve(self, request: Request, workflow_pk: str, number: str) -> Response:
        version = get_object_or_404(self.get_queryset(), number=number)
        return Response(VersionSerializer(version).data)

    @extend_schema(
        parameters=[OpenApiParameter("against", int, description="Defaults to number - 1.")],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, workflow_pk: str, number: str) -> Response:
        versions = self.get_queryset()
        after = get_object_or_404(versions, number=number)
        against = query_int(
            request.query_params,
            "against",
            default=after.number - 1,
            min_value=1,
            code="invalid_version",
        )
        before = get_object_or_404(versions, number=against)
        return Response(
            {
                "from": before.number,
                "to": after.number,
                **diff_documents(before.document, after.document),
            }
        )

    @extend_schema(request=RestoreSerializer, responses=WorkflowSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, workflow_pk: str, number: str) -> Response:
        workflow = self._workflow()
        require_role(request.user, workflow.workspace_id, WRITE_ROLES)
        get_object_or_404(WorkflowVersion, workflow=workflow, number=number)
        data = _validated(RestoreSerializer, request.data)
        restored = services.restore_version(
            workflow=workflow,
            user=request.user,
            number=int(number),
            expected_version=data["version"],
        )
        fresh = workflows_for(request.user).get(pk=restored.pk)
        return Response(WorkflowSerializer(fresh).data)
