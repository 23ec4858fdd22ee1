from typing import Any

from rest_framework import serializers

from server.workflow_templates.models import Template
from server.workflows.serializers import DocumentField


class VariableSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    type = serializers.ChoiceField(
        choices=["string", "number", "boolean", "model", "prompt", "enum"]
    )
    default = serializers.JSONField(required=False, allow_null=True)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    options = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=100
    )
    # DRF's metaclass moves declared fields off the class, so this does not
    # shadow Field.required at run time; the stubs cannot know that.
    required = serializers.BooleanField(required=False, default=True)  # type: ignore[assignment]


class TemplateSerializer(serializers.ModelSerializer):
    variables = VariableSerializer(many=True, required=False)
    document = DocumentField()
    workspace = serializers.UUIDField(required=False, allow_null=True, source="workspace_id")
    children = serializers.JSONField(
        read_only=True, help_text="Workflows instantiating creates first (built-in templates)."
    )

    class Meta:
        model = Template
        fields = [
            "id",
            "workspace",
            "name",
            "description",
            "category",
            "built_in",
            "variables",
            "document",
            "children",
            "created_at",
        ]
        read_only_fields = ["id", "built_in", "children", "created_at"]


class InstantiateSerializer(serializers.Serializer):
    workspace = serializers.UUIDField(required=False)
    name = serializers.CharField(max_length=200, required=False)
    variables = serializers.DictField(child=serializers.JSONField(allow_null=True), required=False)

    def validate_variables(self, value: dict[str, Any]) -> dict[str, Any]:
        return value or {}
