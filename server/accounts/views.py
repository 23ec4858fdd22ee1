from typing import Any, cast

from django.contrib.auth import authenticate, login, logout
from django.db.models import QuerySet
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, mixins, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts import services
from server.accounts.models import ApiToken, Membership, Role, Workspace
from server.accounts.permissions import WorkspaceRolePermission, require_role
from server.accounts.selectors import workspace_ids_for
from server.accounts.serializers import (
    AddMemberSerializer,
    ChangeRoleSerializer,
    LoginSerializer,
    MemberSerializer,
    MeSerializer,
    NewTokenSerializer,
    TokenSerializer,
    WorkspaceSerializer,
)
from server.core.errors import ApiError


class CsrfView(APIView):
    """Sets the CSRF cookie a browser client echoes in ``X-CSRFToken``."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(responses=inline_serializer("Csrf", {"csrf_token": serializers.CharField()}))
    def get(self, request: Request) -> Response:
        return Response({"csrf_token": get_token(request)})


class LoginView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list[type] = []
    throttle_scope = "login"

    @extend_schema(request=LoginSerializer, responses=MeSerializer)
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            raise ApiError("invalid_credentials", "The username or password is wrong.")
        login(request._request, user)
        return Response(MeSerializer(user).data)


class LogoutView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class TokenViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's own API tokens."""

    serializer_class = TokenSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user=cast(Any, self.request.user))

    @extend_schema(request=TokenSerializer, responses={201: NewTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.create_token(
            user=request.user, name=serializer.validated_data["name"]
        )
        token.key = key  # type: ignore[attr-defined]
        return Response(NewTokenSerializer(token).data, status=status.HTTP_201_CREATED)


class WorkspaceViewSet(viewsets.ModelViewSet):
    serializer_class = WorkspaceSerializer
    permission_classes = [permissions.IsAuthenticated, WorkspaceRolePermission]
    pagination_class = None
    owner_writes = True

    def get_queryset(self) -> QuerySet[Workspace]:
        return Workspace.objects.filter(pk__in=workspace_ids_for(self.request.user))

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = services.create_workspace(
            owner=self.request.user, name=serializer.validated_data["name"]
        )


class MemberListView(generics.ListCreateAPIView):
    """Members of one workspace: listed for members, managed by owners."""

    serializer_class = MemberSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Membership]:
        require_role(self.request.user, self.kwargs["workspace_id"], Role.values)
        return Membership.objects.filter(workspace_id=self.kwargs["workspace_id"]).select_related(
            "user"
        )

    @extend_schema(request=AddMemberSerializer, responses={201: MemberSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require_role(request.user, kwargs["workspace_id"], [Role.OWNER])
        serializer = AddMemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workspace = get_object_or_404(Workspace, pk=kwargs["workspace_id"])
        membership = services.add_member(
            workspace=workspace,
            user=serializer.validated_data["username"],
            role=serializer.validated_data["role"],
        )
        return Response(MemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    def _membership(self, request: Request, workspace_id: Any, user_id: int) -> Membership:
        require_role(request.user, workspace_id, [Role.OWNER])
        return get_object_or_404(
            Membership.objects.select_related("user"), workspace_id=workspace_id, user_id=user_id
        )

    @extend_schema(request=ChangeRoleSerializer, responses=MemberSerializer)
    def patch(self, request: Request, workspace_id: Any, user_id: int) -> Response:
        membership = self._membership(request, workspace_id, user_id)
        serializer = ChangeRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.change_role(
            membership=membership, role=serializer.validated_data["role"]
        )
        return Response(MemberSerializer(membership).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, workspace_id: Any, user_id: int) -> Response:
        services.remove_member(membership=self._membership(request, workspace_id, user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
