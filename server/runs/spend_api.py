"""The spend endpoints: ``workspaces/<id>/spend/`` and ``workflows/<id>/spend/``.

They sit in the runs app, under the workspaces' and workflows' URLs, because
spend is a sum over runs: the accounts and workflows apps stay below runs.
"""

import re
from datetime import date
from typing import Any
from uuid import UUID

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.models import Role, Workspace
from server.accounts.permissions import require_role
from server.runs.spend import (
    TOP_WORKFLOWS,
    month_of,
    top_workflows,
    workflow_spend,
    workspace_spend,
)
from server.workflows.models import Workflow
from server.workflows.selectors import runnable_workflow

# ASCII digits only: `\d` and int() also take other scripts' digits.
_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
_YEARS = range(1970, 9999)


class MonthQuerySerializer(serializers.Serializer):
    month = serializers.CharField(
        required=False, help_text="YYYY-MM, a calendar month in UTC; defaults to this one."
    )

    def validate_month(self, value: str) -> date:
        match = _MONTH.fullmatch(value)
        if match is None or int(match[1]) not in _YEARS:
            raise serializers.ValidationError(
                f"Must be a month as YYYY-MM, between {_YEARS[0]} and {_YEARS[-1]}."
            )
        return date(int(match[1]), int(match[2]), 1)


def _asked_month(query: Any) -> date:
    params = MonthQuerySerializer(data=query)
    params.is_valid(raise_exception=True)
    month: date = params.validated_data.get("month") or month_of(timezone.now())
    return month


class SpendSerializer(serializers.Serializer):
    runs = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost_usd = serializers.FloatField()


class WorkflowCostSerializer(SpendSerializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class WorkspaceSpendSerializer(serializers.Serializer):
    workspace = serializers.UUIDField()
    month = serializers.CharField(help_text="YYYY-MM")
    spend = SpendSerializer(help_text="The month's runs, finished or not.")
    all_time = SpendSerializer()
    monthly_budget_usd = serializers.FloatField(allow_null=True)
    remaining_usd = serializers.FloatField(
        allow_null=True, help_text="What the budget leaves of the month; null without a budget."
    )
    workflows = WorkflowCostSerializer(
        many=True, help_text=f"The month's costliest workflows, at most {TOP_WORKFLOWS}."
    )


class WorkflowSpendSerializer(serializers.Serializer):
    workflow = serializers.UUIDField()
    month = serializers.CharField(help_text="YYYY-MM")
    spend = SpendSerializer()
    all_time = SpendSerializer()


def _workspace_spend_answer(workspace: Workspace, month: date) -> dict[str, Any]:
    spent = workspace_spend(workspace.pk, month)
    budget = workspace.monthly_budget_usd
    return {
        "workspace": workspace.pk,
        "month": f"{month:%Y-%m}",
        "spend": spent.as_dict(),
        "all_time": workspace_spend(workspace.pk).as_dict(),
        "monthly_budget_usd": float(budget) if budget is not None else None,
        "remaining_usd": max(0.0, float(budget) - spent.cost_usd) if budget is not None else None,
        "workflows": top_workflows(workspace.pk, month),
    }


def _workflow_spend_answer(workflow: Workflow, month: date) -> dict[str, Any]:
    return {
        "workflow": workflow.pk,
        "month": f"{month:%Y-%m}",
        "spend": workflow_spend(workflow.pk, month).as_dict(),
        "all_time": workflow_spend(workflow.pk).as_dict(),
    }


class WorkspaceSpendView(APIView):
    """GET workspaces/<id>/spend/: the workspace's tokens and cost in a month, and its budget."""

    @extend_schema(parameters=[MonthQuerySerializer], responses=WorkspaceSpendSerializer)
    def get(self, request: Request, workspace_id: UUID) -> Response:
        require_role(request.user, workspace_id, Role.values)
        workspace = get_object_or_404(Workspace, pk=workspace_id)
        return Response(_workspace_spend_answer(workspace, _asked_month(request.query_params)))


class WorkflowSpendView(APIView):
    """GET workflows/<id>/spend/: tokens and cost of the workflow's runs in a month, and ever."""

    @extend_schema(parameters=[MonthQuerySerializer], responses=WorkflowSpendSerializer)
    def get(self, request: Request, workflow_id: UUID) -> Response:
        workflow = runnable_workflow(request.user, workflow_id)
        return Response(_workflow_spend_answer(workflow, _asked_month(request.query_params)))
