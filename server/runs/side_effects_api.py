"""A run's side effects and its rollback (docs/api.md, "Side effects and rollback").

``GET runs/<id>/side-effects/`` lists them (any member); ``POST
runs/<id>/rollback/`` and ``POST runs/<id>/side-effects/<se_id>/resolve/`` are
for editors and owners. A run of another workspace does not exist (404).
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.models import WRITE_ROLES
from server.accounts.permissions import require_role
from server.runs.dispatch import send_rollback
from server.runs.models import Run, SideEffect
from server.runs.selectors import runs_for
from server.runs.services import side_effects

# The largest id the table holds (bigint): a larger one in a URL names nothing.
_MAX_ID = 2**63 - 1


class SideEffectSerializer(serializers.ModelSerializer):
    compensation = serializers.SerializerMethodField(
        help_text='The reverse request ("method", "url", no credential) or {"manual": "..."}; '
        "null for an irreversible one."
    )

    class Meta:
        model = SideEffect
        fields = [
            "id",
            "node_id",
            "attempt",
            "step",
            "method",
            "host",
            "path",
            "status",
            "idempotency_key",
            "compensation",
            "state",
            "error",
            "rollback_requested_at",
            "resolved_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_compensation(self, effect: SideEffect) -> dict[str, Any] | None:
        compensation = effect.compensation
        if not compensation or "manual" in compensation:
            return compensation
        # The URL's query and the headers may carry what the request needed, not
        # what a person deciding about the rollback needs to see.
        return {"method": compensation["method"], "url": compensation["url"].split("?")[0]}


def _run(user: Any, run_id: Any, *, write: bool) -> Run:
    run = get_object_or_404(runs_for(user), pk=run_id)
    if write:
        require_role(user, run.workspace_id, WRITE_ROLES)
    return run


def _listing(run: Run) -> Response:
    effects = SideEffect.objects.filter(run=run).order_by("id")
    return Response(SideEffectSerializer(effects, many=True).data)


class RunSideEffectsView(APIView):
    @extend_schema(responses=SideEffectSerializer(many=True))
    def get(self, request: Request, run_id: str) -> Response:
        """The run's side effects, oldest first (a rollback compensates newest first)."""
        return _listing(_run(request.user, run_id, write=False))


class RunRollbackView(APIView):
    @extend_schema(request=None, responses={202: SideEffectSerializer(many=True)})
    def post(self, request: Request, run_id: str) -> Response:
        """Compensate the run's side effects, newest first; manual ones wait for a person.

        409 ``run_not_finished`` while the run runs; 409 ``nothing_to_roll_back``
        when every side effect is compensated, waiting for a person, or irreversible.
        """
        run = _run(request.user, run_id, write=True)
        if side_effects.request_rollback(run.pk):
            send_rollback(str(run.pk))
        response = _listing(run)
        response.status_code = status.HTTP_202_ACCEPTED
        return response


class ResolveSideEffectView(APIView):
    @extend_schema(request=None, responses=SideEffectSerializer)
    def post(self, request: Request, run_id: str, side_effect_id: int) -> Response:
        """A person did a manual compensation: the side effect becomes compensated."""
        run = _run(request.user, run_id, write=True)
        if side_effect_id > _MAX_ID:
            raise NotFound("No such side effect in this run.")
        effect = side_effects.resolve(run.pk, side_effect_id, request.user)
        return Response(SideEffectSerializer(effect).data)
