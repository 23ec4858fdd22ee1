"""Approvals (docs/api.md, "Approvals"): what waits for the caller, and deciding it.

``GET approvals/`` lists the approvals waiting in the caller's workspaces that
the caller may decide. ``POST runs/<id>/nodes/<node_id>/decision/`` decides
one: a run of another workspace does not exist (404), anyone but its
approvers gets 403, and a decision on an approval that does not wait (any
more) gets 409.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.runs.models import Approval
from server.runs.pinned import graph_for_version
from server.runs.selectors import runs_for
from server.runs.services import approvals
from workers.engine.approval import DECISIONS, EDITORS, MAX_COMMENT_CHARS


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DECISIONS)
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MAX_COMMENT_CHARS
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(dict.fromkeys(unknown, "Unknown field."))
        # CharField would take a number or a boolean and turn it into text.
        if not isinstance(self.initial_data.get("comment", ""), str):
            raise serializers.ValidationError({"comment": "Must be a string."})
        return attrs


class ApprovalSerializer(serializers.ModelSerializer):
    workflow = serializers.UUIDField(source="run.workflow_id", read_only=True)
    workflow_name = serializers.CharField(source="run.workflow.name", read_only=True)
    node_label = serializers.SerializerMethodField()
    approvers = serializers.SerializerMethodField(
        help_text=f'"{EDITORS}" (the workspace\'s owners and editors) or a list of usernames.'
    )
    decided_by = serializers.CharField(
        source="decided_by.username", default=None, read_only=True, allow_null=True
    )

    class Meta:
        model = Approval
        fields = [
            "id",
            "run",
            "workflow",
            "workflow_name",
            "workspace",
            "node_id",
            "node_label",
            "message",
            "approvers",
            "on_timeout",
            "requested_at",
            "deadline_at",
            "decision",
            "comment",
            "decided_by",
            "decided_at",
            "timed_out",
        ]
        read_only_fields = fields

    def get_node_label(self, approval: Approval) -> str:
        node = graph_for_version(approval.run.version_id).nodes.get(approval.node_id)
        return node.display_name if node else approval.node_id

    def get_approvers(self, approval: Approval) -> Any:
        return approval.approvers or EDITORS


class ApprovalsView(APIView):
    @extend_schema(responses=ApprovalSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The approvals waiting for the caller's decision, oldest first."""
        waiting = approvals.waiting_for(request.user)
        return Response(ApprovalSerializer(waiting, many=True).data)


class DecisionView(APIView):
    @extend_schema(request=DecisionSerializer, responses=ApprovalSerializer)
    def post(self, request: Request, run_id: str, node_id: str) -> Response:
        """Approve or reject a waiting approval; the run goes on along the matching edges.

        403 for anyone but its approvers; 409 ``already_decided`` for a second
        decision, ``not_waiting`` before the run reaches it or once it ended.
        """
        run = get_object_or_404(runs_for(request.user), pk=run_id)
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approval = approvals.decide(
            run.pk,
            node_id,
            request.user,
            body.validated_data["decision"],
            body.validated_data["comment"],
        )
        return Response(ApprovalSerializer(approval).data)
