import math
import uuid
from typing import Any, cast

from django.contrib.auth import authenticate, login, logout
from django.db.models import QuerySet
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import (
    exceptions,
    generics,
    mixins,
    permissions,
    serializers,
    status,
    viewsets,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts import services
from server.accounts.models import ApiToken, Invitation, Membership, Role, Workspace
from server.accounts.permissions import WorkspaceRolePermission, require_role
from server.accounts.selectors import (
    invitation_by_token,
    invitation_refusal,
    pending_invitations,
    workspace_ids_for,
)
from server.accounts.serializers import (
    ChangeRoleSerializer,
    CreateInvitationSerializer,
    InvitationPreviewSerializer,
    InvitationSerializer,
    LoginSerializer,
    MemberSerializer,
    MeSerializer,
    MeWorkspaceSerializer,
    NewInvitationSerializer,
    NewTokenSerializer,
    TokenSerializer,
    WorkspaceSerializer,
)
from server.accounts.throttling import refused_wait
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

    @extend_schema(request=LoginSerializer, responses=MeSerializer)
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            wait = refused_wait(request._request)
            if wait is not None:
                raise exceptions.Throttled(wait=max(1, math.ceil(wait)))
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
    # For the schema, which has no user to filter by; every request filters.
    queryset = ApiToken.objects.none()

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user=cast(Any, self.request.user))

    @extend_schema(request=TokenSerializer, responses={201: NewTokenSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = TokenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, key = services.create_token(
            user=request.user,
            name=data["name"],
            scopes=data.get("scopes"),
            expires_at=data.get("expires_at"),
            minted_by=request.auth if isinstance(request.auth, ApiToken) else None,
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
            owner=self.request.user,
            name=serializer.validated_data["name"],
            monthly_budget_usd=serializer.validated_data.get("monthly_budget_usd"),
        )


class MemberListView(generics.ListAPIView):
    """Members of one workspace, listed for members.

    Nobody is added here: people join by accepting an owner's invitation.
    """

    serializer_class = MemberSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Membership]:
        require_role(self.request.user, self.kwargs["workspace_id"], Role.values)
        return Membership.objects.filter(workspace_id=self.kwargs["workspace_id"]).select_related(
            "user"
        )


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


class InvitationListView(generics.ListAPIView):
    """A workspace's pending invitations, listed and made by its owners."""

    serializer_class = InvitationSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Invitation]:
        require_role(self.request.user, self.kwargs["workspace_id"], [Role.OWNER])
        return pending_invitations(self.kwargs["workspace_id"])

    @extend_schema(request=CreateInvitationSerializer, responses={201: NewInvitationSerializer})
    def post(self, request: Request, workspace_id: uuid.UUID) -> Response:
        require_role(request.user, workspace_id, [Role.OWNER])
        serializer = CreateInvitationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, token = services.create_invitation(
            workspace=get_object_or_404(Workspace, pk=workspace_id),
            invited_by=request.user,
            **serializer.validated_data,
        )
        link = request.build_absolute_uri(f"/invitations/{token}")
        invitation.token = token  # type: ignore[attr-defined]
        invitation.url = link  # type: ignore[attr-defined]
        invitation.emailed = services.email_invitation(invitation, link)  # type: ignore[attr-defined]
        return Response(NewInvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(
        self, request: Request, workspace_id: uuid.UUID, invitation_id: uuid.UUID
    ) -> Response:
        require_role(request.user, workspace_id, [Role.OWNER])
        services.revoke_invitation(workspace_id=workspace_id, invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationView(APIView):
    """The invitation behind a link, for the signed-in holder deciding whether to accept.

    Unknown links are a 404; revoked, used or expired ones a 410 with the reason.
    """

    @extend_schema(responses=InvitationPreviewSerializer)
    def get(self, request: Request, token: str) -> Response:
        invitation = invitation_by_token(token)
        refusal = invitation_refusal(invitation)
        if refusal is not None:
            raise refusal
        return Response(InvitationPreviewSerializer(invitation).data)


class InvitationAcceptView(APIView):
    @extend_schema(request=None, responses=MeWorkspaceSerializer)
    def post(self, request: Request, token: str) -> Response:
        membership = services.accept_invitation(token=token, user=request.user)
        workspace = membership.workspace
        return Response({"id": workspace.pk, "name": workspace.name, "role": membership.role})
