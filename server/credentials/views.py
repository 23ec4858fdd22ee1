from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from server.accounts.models import WRITE_ROLES
from server.accounts.permissions import WorkspaceRolePermission, workspace_for_write
from server.accounts.selectors import role_in
from server.credentials import services
from server.credentials.models import Credential
from server.credentials.selectors import credentials_for
from server.credentials.serializers import (
    CredentialCreateSerializer,
    CredentialNameSerializer,
    CredentialPatchSerializer,
    CredentialSerializer,
)
from server.credentials.usage import users_of


class _ListFilter(serializers.Serializer):
    workspace = serializers.UUIDField(required=False)


class _UsageSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class CredentialViewSet(viewsets.ModelViewSet):
    """A workspace's credentials. Owners and editors manage them; viewers see names only."""

    permission_classes = [permissions.IsAuthenticated, WorkspaceRolePermission]
    serializer_class = CredentialSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Credential]:
        credentials = credentials_for(self.request.user)
        if self.action == "list":
            params = _ListFilter(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            if "workspace" in params.validated_data:
                credentials = credentials.filter(workspace_id=params.validated_data["workspace"])
        return credentials

    def _shown(self, credential: Credential) -> dict[str, Any]:
        role = role_in(self.request.user, credential.workspace_id)
        serializer = CredentialSerializer if role in WRITE_ROLES else CredentialNameSerializer
        return dict(serializer(credential).data)

    @extend_schema(
        parameters=[OpenApiParameter("workspace", str, required=False)],
        responses=CredentialSerializer(many=True),
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([self._shown(c) for c in page or []])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._shown(self.get_object()))

    @extend_schema(request=CredentialCreateSerializer, responses={201: CredentialSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CredentialCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        credential = services.create_credential(
            user=request.user,
            workspace_id=workspace_for_write(request.user, data.get("workspace")),
            name=data["name"],
            provider=data["provider"],
            secret=data["secret"],
            config=data["config"],
            is_default=data["is_default"],
        )
        return Response(CredentialSerializer(credential).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CredentialPatchSerializer, responses=CredentialSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        credential = self.get_object()
        serializer = CredentialPatchSerializer(
            data=request.data, context={"provider": credential.provider}
        )
        serializer.is_valid(raise_exception=True)
        credential = services.update_credential(credential, **serializer.validated_data)
        return Response(CredentialSerializer(credential).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.delete_credential(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=_UsageSerializer(many=True))
    # One list, unpaged, as a refused delete names them all: no cursor, no page size.
    @action(detail=True, methods=["get"], pagination_class=None)
    def usage(self, request: Request, pk: str | None = None) -> Response:
        """The workflows whose current version names this credential (what blocks a delete)."""
        users = users_of(self.get_object())
        return Response([{"id": user.id, "name": user.name} for user in users])
