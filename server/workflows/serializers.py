from typing import Any

from django.conf import settings
from rest_framework import serializers

from server.core.numbers import StrictIntegerField
from server.workflows.models import Workflow, WorkflowVersion

_TAGS = serializers.ListField(
    child=serializers.CharField(max_length=50), max_length=20, required=False
)


class DocumentField(serializers.JSONField):
    """A workflow document: a JSON object; its contents are the engine validator's business."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError("A workflow document must be a JSON object.")
        return data


class WorkflowListSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", default=None)
    updated_by = serializers.CharField(source="updated_by.username", default=None)

    class Meta:
        model = Workflow
        fields = [
            "id",
            "workspace",
            "name",
            "description",
            "tags",
            "version",
            "node_count",
            "created_at",
            "updated_at",
            "created_by",
            "updated_by",
        ]
        read_only_fields = fields

    def get_tags(self, workflow: Workflow) -> list[str]:
        return sorted(t.name for t in workflow.tags.all())


class WorkflowSerializer(WorkflowListSerializer):
    class Meta(WorkflowListSerializer.Meta):
        fields = [*WorkflowListSerializer.Meta.fields, "document", "problems", "retention_days"]
        read_only_fields = fields


class RetentionDaysField(StrictIntegerField):
    """Days a workflow's finished runs are kept: 1 to the operator's maximum, or null
    for the default (the maximum is read per request, as settings may differ by deployment)."""

    def __init__(self) -> None:
        super().__init__(min_value=1, allow_null=True, required=False)

    def to_internal_value(self, data: Any) -> int:
        days = super().to_internal_value(data)
        ceiling = settings.AGENTLOOM_RETENTION["max_days"]
        if days > ceiling:
            self.fail("max_value", max_value=ceiling)
        return days


class _WorkflowFields(serializers.Serializer):
    """What a caller may set on a workflow, when creating it or saving it."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    tags = _TAGS
    document = DocumentField(required=False)
    message = serializers.CharField(max_length=500, required=False, allow_blank=True)
    retention_days = RetentionDaysField()


class WorkflowCreateSerializer(_WorkflowFields):
    workspace = serializers.UUIDField(required=False)


class WorkflowPatchSerializer(_WorkflowFields):
    version = StrictIntegerField(min_value=1)


class WorkflowPutSerializer(WorkflowPatchSerializer):
    document = DocumentField()


class ValidateRequestSerializer(serializers.Serializer):
    document = DocumentField(required=False)


class ValidateResponseSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.DictField())


class ImportSerializer(serializers.Serializer):
    workspace = serializers.UUIDField(required=False)
    content = serializers.CharField(required=False, trim_whitespace=False)
    document = DocumentField(required=False)
    tags = _TAGS

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("content" in attrs) == ("document" in attrs):
            raise serializers.ValidationError(
                "Give either `content` (JSON or YAML text) or `document`."
            )
        return attrs


class VersionListSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None)

    class Meta:
        model = WorkflowVersion
        fields = ["number", "author", "created_at", "message", "node_count"]
        read_only_fields = fields


class VersionSerializer(VersionListSerializer):
    class Meta(VersionListSerializer.Meta):
        fields = [*VersionListSerializer.Meta.fields, "document", "problems"]
        read_only_fields = fields


class RestoreSerializer(serializers.Serializer):
    version = StrictIntegerField(min_value=1, help_text="The workflow's current version.")


class WorkflowListFilterSerializer(serializers.Serializer):
    workspace = serializers.UUIDField(required=False)
    q = serializers.CharField(
        required=False, max_length=200, help_text="Search in name and description."
    )
    tag = serializers.CharField(required=False, max_length=50)
