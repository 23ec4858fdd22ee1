from typing import Any

from rest_framework import serializers

from server.core.numbers import StrictIntegerField
from server.core.serializers import FieldsBuiltOnceModelSerializer
from server.runs.models import NodeRun, Run, RunEvent, RunState, Trigger


class RunCreateSerializer(serializers.Serializer):
    inputs = serializers.DictField(
        child=serializers.JSONField(allow_null=True), required=False, default=dict
    )
    version = StrictIntegerField(min_value=1, required=False)


class ResumeSerializer(serializers.Serializer):
    version = StrictIntegerField(
        min_value=1, required=False, help_text="Defaults to the workflow's current version."
    )


class EstimateRequestSerializer(serializers.Serializer):
    inputs = serializers.DictField(
        child=serializers.JSONField(allow_null=True), required=False, default=dict
    )
    version = StrictIntegerField(min_value=1, required=False)


class RunSerializer(FieldsBuiltOnceModelSerializer):
    workflow_name = serializers.CharField(source="workflow.name", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    triggered_by = serializers.CharField(
        source="triggered_by.username", default=None, read_only=True
    )
    node_counts = serializers.SerializerMethodField()
    last_seq = serializers.IntegerField(read_only=True)

    class Meta:
        model = Run
        fields = [
            "id",
            "workspace",
            "workflow",
            "workflow_name",
            "version",
            "state",
            "inputs",
            "output",
            "error",
            "trigger",
            "triggered_by",
            "resumed_from",
            "parent_run",
            "parent_node",
            "max_concurrency",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "created_at",
            "started_at",
            "finished_at",
            "node_counts",
            "last_seq",
        ]
        read_only_fields = fields

    def get_node_counts(self, run: Run) -> dict[str, int]:
        counts: dict[Any, dict[str, int]] = self.context.get("node_counts", {})
        return counts.get(run.pk, {})


class ArtifactRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    size = StrictIntegerField()
    compressed_size = StrictIntegerField()
    sha256 = serializers.CharField()


class NodeRunSerializer(serializers.ModelSerializer):
    output_artifact = ArtifactRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = NodeRun
        fields = [
            "node_id",
            "node_type",
            "state",
            "attempt",
            "input",
            "output",
            "output_artifact",
            "error",
            "worker",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "config_hash",
            "input_hash",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class RunDetailSerializer(RunSerializer):
    nodes = NodeRunSerializer(source="node_runs", many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "nodes"]
        read_only_fields = fields


class RunEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunEvent
        fields = ["seq", "ts", "type", "node_id", "data"]
        read_only_fields = fields


class RunListFilterSerializer(serializers.Serializer):
    workflow = serializers.UUIDField(required=False)
    state = serializers.ChoiceField(choices=RunState.choices, required=False)
    trigger = serializers.ChoiceField(choices=Trigger.choices, required=False)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class EventsQuerySerializer(serializers.Serializer):
    after = StrictIntegerField(min_value=0, required=False, default=0)
    limit = StrictIntegerField(min_value=1, max_value=5000, required=False, default=1000)
