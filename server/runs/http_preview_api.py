"""``POST workflows/<id>/http-preview/``: an `http` node's test request, for the editor.

Editors and owners of the workflow's workspace; a workflow of another
workspace does not exist (404). See server/runs/http_preview.py.
"""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.models import WRITE_ROLES
from server.accounts.permissions import require_role
from server.runs.http_preview import send_test_request
from server.workflows.selectors import runnable_workflow


class HttpPreviewRequestSerializer(serializers.Serializer):
    config = serializers.DictField(help_text="The http node's config, as in the document.")
    input = serializers.JSONField(
        required=False,
        default=dict,
        help_text="The sample input the templates read (the node's input in a run).",
    )


HttpPreviewResultSerializer = inline_serializer(
    "HttpPreviewResult",
    {
        "request": inline_serializer(
            "HttpPreviewSentRequest",
            {
                "method": serializers.CharField(),
                "url": serializers.CharField(),
                "headers": serializers.DictField(child=serializers.CharField()),
            },
        ),
        "status": serializers.IntegerField(),
        "headers": serializers.DictField(child=serializers.CharField()),
        "body": serializers.CharField(),
        "truncated": serializers.BooleanField(),
        "bytes": serializers.IntegerField(),
    },
)


class HttpPreviewView(APIView):
    @extend_schema(request=HttpPreviewRequestSerializer, responses=HttpPreviewResultSerializer)
    def post(self, request: Request, workflow_id: str) -> Response:
        """Send the node's request once through the outbound guard and show the answer.

        The answer's status may be any (a 404 of the destination is shown, not
        raised); 400 for an invalid config, a template error or a refused
        destination (``egress_refused``), 422 when the destination did not answer
        usably, 429 when the workspace's outbound rate is used up.
        """
        workflow = runnable_workflow(request.user, workflow_id)
        require_role(request.user, workflow.workspace_id, WRITE_ROLES)
        serializer = HttpPreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        return Response(send_test_request(workflow.workspace_id, data["config"], data["input"]))
