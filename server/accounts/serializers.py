from django.contrib.auth import get_user_model
from rest_framework import serializers

from server.accounts.models import ApiToken, Membership, Role, Workspace
from server.accounts.selectors import roles_by_workspace


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class MeWorkspaceSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()
    workspaces = serializers.SerializerMethodField()

    def get_workspaces(self, user: object) -> list[dict[str, object]]:
        roles = roles_by_workspace(user)
        workspaces = Workspace.objects.filter(pk__in=roles).order_by("created_at")
        return [{"id": w.pk, "name": w.name, "role": roles[w.pk]} for w in workspaces]


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at"]


class NewTokenSerializer(TokenSerializer):
    key = serializers.CharField(read_only=True)

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "key"]


class WorkspaceSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Workspace
        fields = ["id", "name", "role", "max_running_runs", "created_at"]
        read_only_fields = ["id", "role", "created_at"]
        extra_kwargs = {"max_running_runs": {"min_value": 1, "max_value": 10_000}}

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


class AddMemberSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)

    def validate_username(self, value: str) -> object:
        user = get_user_model().objects.filter(username=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError("No active user has this username.")
        return user


class ChangeRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
