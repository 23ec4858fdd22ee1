"""An MCP server's tools for the editor: what an agent's `mcp` tool would offer.

The same client as a run's (server/tools/mcp_client.py: the outbound guard with
the workspace's domains and rate, the credential's headers) with a preview's
tighter time bound, since a listing holds an API process, not a worker.
"""

from __future__ import annotations

import uuid
from typing import Any

from server.accounts.models import Workspace
from server.core.errors import ApiError
from server.egress import EgressError
from server.egress.errors import EgressRateLimited, EgressRefused
from server.runs import http_calls
from server.runs.http_preview import PREVIEW_TIMEOUT_S, RateLimited
from server.tools.mcp_client import McpError, McpTarget, list_tools
from workers.engine.tools import MAX_DESCRIPTION_CHARS, MAX_MCP_TOOL_NAMES


def server_tools(
    workspace_id: uuid.UUID, url: str, credential_id: str | None
) -> list[dict[str, Any]]:
    """The tools the server at ``url`` lists; ``ApiError`` for every failure.

    A refusal or a mistake of the caller is a 400, a server that did not
    answer usably a 422, the workspace's outbound rate used up a 429.
    """
    auth = http_calls.NO_AUTHENTICATION
    try:
        auth = http_calls.authentication(workspace_id, credential_id)
        allowed = Workspace.objects.values_list("allowed_domains", flat=True).get(pk=workspace_id)
        tools = list_tools(
            McpTarget(
                url=url,
                workspace_id=workspace_id,
                allowed_domains=allowed or (),
                headers=auth.headers,
                timeout_s=PREVIEW_TIMEOUT_S,
            )
        )
    except http_calls.HttpCallError as exc:
        raise ApiError(exc.code, exc.message, field="credential") from None
    except EgressRateLimited as exc:
        raise RateLimited(auth.redact(exc.reason), exc.wait_s) from None
    except EgressRefused as exc:
        raise ApiError(exc.code, auth.redact(exc.reason), field="url") from None
    except (EgressError, McpError) as exc:
        raise ApiError(exc.code, auth.redact(exc.reason), status_code=422) from None
    return [
        {
            "name": tool.name,
            "description": auth.redact(tool.description[:MAX_DESCRIPTION_CHARS]),
            "input_schema": tool.input_schema,
        }
        for tool in tools[:MAX_MCP_TOOL_NAMES]
    ]
