"""``POST workflows/<id>/mcp-tools/``: list an MCP server's tools, for the agent panel.

Editors and owners of the workflow's workspace (it sends a request out); a
workflow of another workspace does not exist (404). See server/runs/mcp_listing.py.
"""

from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from server.accounts.models import WRITE_ROLES
from server.accounts.permissions import require_role
from server.runs.mcp_listing import server_tools
from server.workflows.selectors import runnable_workflow


class McpToolsRequestSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=2048,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text="The server's streamable-HTTP URL.",
    )
    credential = serializers.UUIDField(
        required=False, allow_null=True, help_text="An http credential whose headers it needs."
    )


McpToolsResultSerializer = inline_serializer(
    "McpToolsResult",
    {
        "tools": inline_serializer(
            "McpListedTool",
            {
                "name": serializers.CharField(),
                "description": serializers.CharField(),
                "input_schema": serializers.DictField(),
            },
            many=True,
        )
    },
)


class McpToolsView(APIView):
    @extend_schema(request=McpToolsRequestSerializer, responses=McpToolsResultSerializer)
    def post(self, request: Request, workflow_id: str) -> Response:
        """The tools the server lists, through the outbound guard.

        400 for a refused address (``egress_refused``) or an unknown credential,
        422 when the server did not answer usably, 429 when the workspace's
        outbound rate is used up.
        """
        workflow = runnable_workflow(request.user, workflow_id)
        require_role(request.user, workflow.workspace_id, WRITE_ROLES)
        serializer = McpToolsRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        credential = str(data["credential"]) if data.get("credential") else None
        return Response({"tools": server_tools(workflow.workspace_id, data["url"], credential)})
