"""``GET workflows/<id>/stats/``: a workflow's success rate, durations, spend and slowest nodes."""

import re
from uuid import UUID

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.runs.stats import DEFAULT_DAYS, MAX_DAYS, SLOWEST_NODES, workflow_stats
from server.workflows.selectors import runnable_workflow

# ASCII digits only: int() also takes other scripts' digits.
_DAYS = re.compile(r"[0-9]{1,3}")


class StatsQuerySerializer(serializers.Serializer):
    # Blank and padded values reach validate_days, which refuses them, instead of
    # DRF quietly taking them for the default.
    days = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"How many days back, today included: 1 to {MAX_DAYS} (default {DEFAULT_DAYS}).",
    )

    def validate_days(self, value: str) -> int:
        if _DAYS.fullmatch(value) is None or not 1 <= int(value) <= MAX_DAYS:
            raise serializers.ValidationError(f"Must be a whole number from 1 to {MAX_DAYS}.")
        return int(value)


class RunCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    total = serializers.IntegerField()


class SlowNodeSerializer(serializers.Serializer):
    node_id = serializers.CharField()
    node_type = serializers.CharField()
    runs = serializers.IntegerField(help_text="Successful executions in the window.")
    mean_s = serializers.FloatField()
    max_s = serializers.FloatField()


class DayCountSerializer(serializers.Serializer):
    day = serializers.DateField()
    runs = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()


class WorkflowStatsSerializer(serializers.Serializer):
    workflow = serializers.UUIDField()
    days = serializers.IntegerField()
    since = serializers.DateTimeField(help_text="The window's start (UTC midnight).")
    runs = RunCountsSerializer(help_text="Runs created in the window, by state now.")
    success_rate = serializers.FloatField(
        allow_null=True, help_text="Succeeded among finished runs; null when none finished."
    )
    duration_p50_s = serializers.FloatField(
        allow_null=True, help_text="Median duration of the succeeded runs."
    )
    duration_p95_s = serializers.FloatField(allow_null=True)
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField()
    slowest_nodes = SlowNodeSerializer(
        many=True, help_text=f"By mean duration, at most {SLOWEST_NODES}."
    )
    per_day = DayCountSerializer(many=True, help_text="One entry per day, oldest first.")


class WorkflowStatsView(APIView):
    """GET workflows/<id>/stats/: any member of the workflow's workspace may read them."""

    @extend_schema(parameters=[StatsQuerySerializer], responses=WorkflowStatsSerializer)
    def get(self, request: Request, workflow_id: UUID) -> Response:
        workflow = runnable_workflow(request.user, workflow_id)
        params = StatsQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        days = params.validated_data.get("days", DEFAULT_DAYS)
        stats = workflow_stats(workflow.pk, days, timezone.now())
        return Response(WorkflowStatsSerializer(stats).data)
