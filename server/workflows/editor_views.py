"""What the editor asks while a user builds a graph: the models, and expression previews."""

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.models import Role
from server.accounts.permissions import require_role
from server.accounts.selectors import workspace_ids_for
from server.core.errors import ApiError
from server.core.limits import engine_limits
from server.core.model_catalog import model_catalog
from server.credentials.availability import provider_sources
from workers.engine.expressions import (
    ExpressionBudget,
    ExpressionError,
    evaluate,
    evaluate_condition,
    render_template,
)


class ModelListQuery(serializers.Serializer):
    workspace = serializers.UUIDField(
        required=False, help_text="Defaults to the first workspace the caller joined."
    )


class ModelListView(APIView):
    """The models, each usable in the workspace or not, with the reason (docs/credentials.md)."""

    @extend_schema(
        parameters=[ModelListQuery],
        responses=inline_serializer(
            "Model",
            {
                "id": serializers.CharField(),
                "provider": serializers.CharField(),
                "label": serializers.CharField(),
                "simulated": serializers.BooleanField(),
                "available": serializers.BooleanField(),
                "input_cost_per_token": serializers.FloatField(),
                "output_cost_per_token": serializers.FloatField(),
                "max_tokens": serializers.IntegerField(allow_null=True),
                "source": serializers.ChoiceField(
                    choices=["builtin", "credential", "environment"], allow_null=True
                ),
                "reason": serializers.CharField(allow_null=True),
            },
            many=True,
        ),
    )
    def get(self, request: Request) -> Response:
        query = ModelListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        workspace_id = query.validated_data.get("workspace")
        if workspace_id is not None:
            require_role(request.user, workspace_id, Role.values)
        else:
            workspace_id = next(iter(workspace_ids_for(request.user)), None)
        sources = provider_sources(workspace_id) if workspace_id is not None else None
        return Response([asdict(model) for model in model_catalog(sources)])


class EvaluateSerializer(serializers.Serializer):
    expression = serializers.CharField(trim_whitespace=False, allow_blank=False)
    input = serializers.JSONField(required=False, allow_null=True, default=None)
    mode = serializers.ChoiceField(
        choices=["value", "condition", "template"], required=False, default="value"
    )


class ExpressionEvaluateView(APIView):
    """A JSONata preview under the same limits as a run.

    Every placeholder of a previewed template shares one request budget, so a
    preview costs the API process a bounded time however many it holds.
    """

    @extend_schema(
        request=EvaluateSerializer,
        responses=inline_serializer("EvaluateResult", {"result": serializers.JSONField()}),
    )
    def post(self, request: Request) -> Response:
        serializer = EvaluateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        limits = engine_limits()
        longest = (
            limits.max_prompt_chars if data["mode"] == "template" else limits.max_expression_chars
        )
        if len(data["expression"]) > longest:
            raise ApiError(
                "expression_error",
                f"The expression is longer than {longest:,} characters.",
                position=None,
                reason="expression_too_long",
            )
        evaluators: dict[str, Callable[..., Any]] = {
            "value": evaluate,
            "condition": evaluate_condition,
            "template": render_template,
        }
        try:
            result = evaluators[data["mode"]](
                data["expression"],
                data["input"],
                limits=limits,
                budget=ExpressionBudget.for_request(limits),
            )
        except ExpressionError as exc:
            raise ApiError(
                "expression_error", exc.message, position=exc.position, reason=exc.code
            ) from exc
        return Response({"result": result})
