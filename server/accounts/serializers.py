import re
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from server.accounts.models import ApiToken, Invitation, Membership, Role, Scope, Workspace
from server.accounts.selectors import roles_by_workspace
from server.core.numbers import StrictDecimalField, StrictIntegerField


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class MeWorkspaceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class MeSerializer(serializers.Serializer):
    id = StrictIntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    workspaces = serializers.SerializerMethodField()

    @extend_schema_field(MeWorkspaceSerializer(many=True))
    def get_workspaces(self, user: object) -> list[dict[str, object]]:
        roles = roles_by_workspace(user)
        workspaces = Workspace.objects.filter(pk__in=roles).order_by("created_at")
        return [{"id": w.pk, "name": w.name, "role": roles[w.pk]} for w in workspaces]


class TokenSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices),
        allow_empty=False,
        max_length=len(Scope.values),
        required=False,
        help_text="Defaults to every scope of the caller.",
    )
    expires_at = serializers.DateTimeField(
        required=False, help_text="Defaults to the operator's default token lifetime."
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "scopes", "expires_at", "created_at", "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]


class NewTokenSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True)

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]


MAX_ALLOWED_DOMAINS = 100
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _domain(raw: str) -> str:
    """A host name in its ASCII (IDNA) form, lower case, without a trailing dot."""
    name = raw.strip().lower().rstrip(".")
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    if (
        not ascii_name
        or len(ascii_name) > 253
        or not all(_LABEL.fullmatch(label) for label in ascii_name.split("."))
    ):
        raise serializers.ValidationError(f"{raw[:80]!r} is not a domain name.", code="invalid")
    return ascii_name


class WorkspaceSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    max_running_runs = StrictIntegerField(
        min_value=1,
        required=False,
        help_text="Runs beyond this many running at once wait in the queued state.",
    )
    monthly_budget_usd = StrictDecimalField(
        max_digits=14,
        decimal_places=4,
        min_value=0,
        max_value=1_000_000_000,
        coerce_to_string=False,
        allow_null=True,
        required=False,
        help_text="Once this calendar month's (UTC) runs cost this much, new runs are refused "
        "(402 budget_exceeded) and running ones fail. Owners set it; null: no budget.",
    )

    allowed_domains = serializers.ListField(
        child=serializers.CharField(max_length=253),
        max_length=MAX_ALLOWED_DOMAINS,
        required=False,
        help_text="Outbound requests of this workspace go only to these domains and their "
        "subdomains; empty: any public host.",
    )
    retention_default_days = serializers.SerializerMethodField(
        help_text="How long runs of a workflow without its own retention_days are kept."
    )
    retention_max_days = serializers.SerializerMethodField(
        help_text="The operator's ceiling on any workflow's retention_days."
    )

    class Meta:
        model = Workspace
        fields = [
            "id",
            "name",
            "role",
            "max_running_runs",
            "monthly_budget_usd",
            "allowed_domains",
            "retention_default_days",
            "retention_max_days",
            "created_at",
        ]
        read_only_fields = ["id", "role", "created_at"]

    def validate_allowed_domains(self, value: list[str]) -> list[str]:
        domains: list[str] = []
        for raw in value:
            domain = _domain(raw)
            if domain not in domains:
                domains.append(domain)
        return domains

    @extend_schema_field(OpenApiTypes.INT)
    def get_retention_default_days(self, workspace: Workspace) -> int:
        return int(settings.AGENTLOOM_RETENTION["default_days"])

    @extend_schema_field(OpenApiTypes.INT)
    def get_retention_max_days(self, workspace: Workspace) -> int:
        return int(settings.AGENTLOOM_RETENTION["max_days"])

    def validate_max_running_runs(self, value: int) -> int:
        limit = settings.AGENTLOOM_WORKSPACES["max_running_runs_limit"]
        if value > limit:
            raise serializers.ValidationError(
                f"Ensure this value is less than or equal to {limit} (the operator's maximum).",
                code="max_value",
            )
        return value

    def get_role(self, workspace: Workspace) -> str | None:
        return roles_by_workspace(self.context["request"].user).get(workspace.pk)


class MemberSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.pk", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "username", "email", "role", "created_at"]
        read_only_fields = ["created_at"]


class ChangeRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationSerializer(serializers.ModelSerializer):
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, default=None)

    class Meta:
        model = Invitation
        fields = [
            "id",
            "workspace",
            "email",
            "username",
            "role",
            "invited_by",
            "created_at",
            "expires_at",
        ]
        read_only_fields = fields


class NewInvitationSerializer(InvitationSerializer):
    """The creation answer: the only place the link (and its token) ever appears."""

    token = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True, help_text="The page where the invited accepts.")
    emailed = serializers.BooleanField(read_only=True)

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token", "url", "emailed"]
        read_only_fields = fields


class CreateInvitationSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    username = serializers.CharField(max_length=150, required=False)
    role = serializers.ChoiceField(choices=Role.choices)

    def validate_username(self, value: str) -> str:
        if not get_user_model().objects.filter(username=value, is_active=True).exists():
            raise serializers.ValidationError("No active user has this username.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("email" in attrs) == ("username" in attrs):
            raise serializers.ValidationError("Give either an email or a username.")
        return attrs


class InvitationPreviewSerializer(serializers.ModelSerializer):
    """What the accept page shows the holder of a link."""

    workspace_name = serializers.CharField(source="workspace.name", read_only=True)
    invited_by = serializers.CharField(source="invited_by.username", read_only=True, default=None)
    invitee = serializers.CharField(read_only=True)

    class Meta:
        model = Invitation
        fields = ["workspace", "workspace_name", "role", "invitee", "invited_by", "expires_at"]
        read_only_fields = fields
