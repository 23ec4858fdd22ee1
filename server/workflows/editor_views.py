"""What the editor asks while a user builds a graph: the models, and expression previews."""

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.core.errors import ApiError
from server.core.limits import engine_limits
from workers.engine.expressions import (
    ExpressionError,
    evaluate,
    evaluate_condition,
    render_template,
)
from workers.llm.catalog import model_catalog


class ModelListView(APIView):
    @extend_schema(
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
            },
            many=True,
        )
    )
    def get(self, request: Request) -> Response:
        return Response([asdict(model) for model in model_catalog()])


class EvaluateSerializer(serializers.Serializer):
    expression = serializers.CharField(trim_whitespace=False, allow_blank=False)
    input = serializers.JSONField(required=False, allow_null=True, default=None)
    mode = serializers.ChoiceField(
        choices=["value", "condition", "template"], required=False, default="value"
    )


class ExpressionEvaluateView(APIView):
    """A JSONata preview under the same limits as a run (SPEC §2)."""

    @extend_schema(
        request=EvaluateSerializer,
        responses=inline_serializer("EvaluateResult", {"result": serializers.JSONField()}),
    )
    def post(self, request: Request) -> Response:
        serializer = EvaluateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        limits = engine_limits()
        if len(data["expression"]) > limits.max_expression_chars:
            raise ApiError(
                "expression_error",
                f"The expression is longer than {limits.max_expression_chars:,} characters.",
                position=None,
            )
        evaluators: dict[str, Callable[..., Any]] = {
            "value": evaluate,
            "condition": evaluate_condition,
            "template": render_template,
        }
        try:
            result = evaluators[data["mode"]](data["expression"], data["input"], limits=limits)
        except ExpressionError as exc:
            raise ApiError(
                "expression_error", exc.message, position=exc.position, reason=exc.code
            ) from exc
        return Response({"result": result})
