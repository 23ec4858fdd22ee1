"""The rules of an agent's `tools` and `max_tool_calls` (workers/engine/tools.py).

Every value is bounded before it is looked at closely: at most `MAX_TOOLS`
tools are checked, a name is checked against its pattern before it is quoted
(and quoted cut short), a schema's depth is measured without recursion before
it is serialised to measure its size. An http tool's `request` follows the http
node's rules (`http_rules.check_http`). An MCP server's address is checked for
its shape only: whether it may be reached is the outbound guard's decision
when the run connects (docs/egress.md).

`tools_unsupported` is reported when the agent's model cannot call tools, as
the workspace's `supports_tools` says (the model catalog's answer, passed in
by the server like the rest of `WorkspaceModels`).
"""

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from workers.engine.document import CONFIG_FIELDS, JsonKind, blank_to_none
from workers.engine.http_request import FORBIDDEN_CHARS, MAX_URL_CHARS
from workers.engine.limits import Limits
from workers.engine.tools import (
    ALL_TOOLS,
    MAX_DESCRIPTION_CHARS,
    MAX_MCP_TOOL_NAMES,
    MAX_PARAMETERS_BYTES,
    MAX_SCHEMA_DEPTH,
    MAX_TOOL_CALLS,
    MAX_TOOLS,
    TOOL_KINDS,
    TOOL_NAME,
    schema_depth,
)
from workers.engine.validation.http_rules import TemplateCheck, check_http
from workers.engine.validation.models import ModelRules
from workers.engine.validation.report import Report, Where

_AGENT_TOOL_FIELDS: Mapping[str, JsonKind] = {"max_tool_calls": "integer"}
_TOOL_FIELDS: Mapping[str, JsonKind] = {
    "kind": "string",
    "name": "string",
    "description": "string",
    "parameters": "object",
    "request": "object",
    "workflow": "string",
    "url": "string",
    "credential": "string",
}
_MAX_ID_CHARS = 200
_QUOTED_CHARS = 40


def check_agent_tools(
    report: Report,
    config: Mapping[str, Any],
    limits: Limits,
    models: ModelRules,
    where: Where,
    check_template: TemplateCheck,
    workflow_id: str | None = None,
) -> None:
    """Report every problem of an agent's tools; nothing when it has none.

    ``workflow_id``: the agent's own workflow, which none of its workflow tools may run.
    """
    typed = report.typed_fields(config, _AGENT_TOOL_FIELDS, where)
    report.check_between(typed, "max_tool_calls", where, 1, MAX_TOOL_CALLS)
    raw = config.get("tools")
    if raw is None:
        return
    tools_where = where.at("tools")
    if not isinstance(raw, list):
        report.error("invalid_type", "tools must be a list", tools_where)
        return
    if len(raw) > MAX_TOOLS:
        report.error(
            "out_of_range",
            f"the agent has {len(raw):,} tools; the limit is {MAX_TOOLS}",
            tools_where,
        )
        return
    names: set[str] = set()
    for index, entry in enumerate(raw):
        tool_where = Where(f"{tools_where.field}[{index}]", where.node_id)
        tool = report.object_at(entry, "a tool", tool_where)
        if tool is not None:
            _check_tool(report, tool, limits, models, tool_where, check_template, names)
            if tool is not None and workflow_id is not None:
                _check_not_itself(report, tool, workflow_id, tool_where)
    if raw:
        _check_model_calls_tools(report, config, models, tools_where)


def _check_not_itself(
    report: Report, tool: Mapping[str, Any], workflow_id: str, where: Where
) -> None:
    workflow = tool.get("workflow")
    if (
        tool.get("kind") == "workflow"
        and isinstance(workflow, str)
        and workflow.strip().lower() == workflow_id.lower()
    ):
        report.error(
            "invalid_value",
            "a workflow tool cannot run its own workflow (the run would call itself)",
            where.at("workflow"),
        )


def _check_tool(
    report: Report,
    tool: Mapping[str, Any],
    limits: Limits,
    models: ModelRules,
    where: Where,
    check_template: TemplateCheck,
    names: set[str],
) -> None:
    typed = report.typed_fields(tool, _TOOL_FIELDS, where)
    kind = typed.get("kind")
    if tool.get("kind") is None:
        report.error(
            "missing_required", f"a tool needs a kind: {', '.join(TOOL_KINDS)}", where.at("kind")
        )
    if kind is None:  # absent, or not a string (reported)
        return
    if kind not in TOOL_KINDS:
        report.check_choice(typed, "kind", TOOL_KINDS, where)
        return
    if "credential" in typed:
        _check_credential(report, typed["credential"], models, where.at("credential"))
    if kind == "mcp":
        _check_mcp(report, tool, typed, where, names)
        return
    _check_name(report, typed, where, names, required=True)
    _check_description(report, typed, where)
    _check_parameters(report, typed, where)
    if kind == "workflow":
        workflow = typed.get("workflow")
        if workflow is None or not workflow.strip():
            report.error(
                "missing_required",
                "a workflow tool names the workflow it runs",
                where.at("workflow"),
            )
        elif len(workflow) > _MAX_ID_CHARS or not workflow.isprintable():
            report.error("invalid_value", "workflow must be a workflow's id", where.at("workflow"))
        return
    request = typed.get("request")
    if request is None:
        report.error(
            "missing_required",
            "an http tool needs a request (as an http node's config)",
            where.at("request"),
        )
        return
    request_where = where.at("request")
    request_typed = report.typed_fields(request, CONFIG_FIELDS["http"], request_where)
    check_http(report, request_typed, limits, request_where, check_template)


def _check_mcp(
    report: Report,
    tool: Mapping[str, Any],
    typed: Mapping[str, Any],
    where: Where,
    names: set[str],
) -> None:
    _check_name(report, typed, where, names, required=False)
    url = typed.get("url")
    if url is None or not url.strip():
        report.error("missing_required", "an MCP tool needs its server's url", where.at("url"))
    elif len(url) > MAX_URL_CHARS:
        report.error(
            "out_of_range",
            f"url is {len(url):,} characters long; the limit is {MAX_URL_CHARS:,}",
            where.at("url"),
        )
    elif not _is_http_url(url):
        report.error(
            "invalid_value",
            "url must be an http or https address with a host, without line breaks or NUL",
            where.at("url"),
        )
    listed = tool.get("tools", ALL_TOOLS)
    if listed == ALL_TOOLS:
        return
    listed_where = where.at("tools")
    if not isinstance(listed, list):
        report.error("invalid_type", 'tools must be "*" or a list of tool names', listed_where)
    elif not listed or len(listed) > MAX_MCP_TOOL_NAMES:
        report.error(
            "out_of_range",
            f'tools names 1 to {MAX_MCP_TOOL_NAMES} of the server\'s tools (or "*": all)',
            listed_where,
        )
    else:
        for index, name in enumerate(listed):
            _check_tool_name(report, name, Where(f"{listed_where.field}[{index}]", where.node_id))
            if isinstance(name, str) and TOOL_NAME.fullmatch(name):
                _unique(report, name, names, listed_where)


def _check_name(
    report: Report, typed: Mapping[str, Any], where: Where, names: set[str], *, required: bool
) -> None:
    name = typed.get("name")
    if name is None:
        if required:
            report.error("missing_required", "the tool needs a name", where.at("name"))
        return
    if _check_tool_name(report, name, where.at("name")):
        _unique(report, name, names, where.at("name"))


def _check_tool_name(report: Report, name: object, where: Where) -> bool:
    if isinstance(name, str) and TOOL_NAME.fullmatch(name):
        return True
    shown = repr(name[:_QUOTED_CHARS]) if isinstance(name, str) else "a non-string"
    report.error(
        "invalid_value",
        f"tool names are 1 to 64 letters, digits, _ and -; not {shown}",
        where,
    )
    return False


def _unique(report: Report, name: str, names: set[str], where: Where) -> None:
    if name in names:
        report.error("invalid_value", f"two of the agent's tools are named {name!r}", where)
    names.add(name)


def _check_description(report: Report, typed: Mapping[str, Any], where: Where) -> None:
    description = typed.get("description")
    if description is not None and (
        len(description) > MAX_DESCRIPTION_CHARS or "\x00" in description
    ):
        report.error(
            "invalid_value",
            f"description must be text of at most {MAX_DESCRIPTION_CHARS:,} characters, "
            "without NUL",
            where.at("description"),
        )


def _check_parameters(report: Report, typed: Mapping[str, Any], where: Where) -> None:
    parameters = typed.get("parameters")
    if parameters is None:
        return
    where = where.at("parameters")
    if schema_depth(parameters) > MAX_SCHEMA_DEPTH:
        report.error(
            "out_of_range", f"parameters nest deeper than {MAX_SCHEMA_DEPTH} levels", where
        )
        return
    try:
        size = len(json.dumps(parameters, allow_nan=False).encode())
    except (TypeError, ValueError):
        report.error("invalid_value", "parameters must be plain JSON (no NaN or infinity)", where)
        return
    if size > MAX_PARAMETERS_BYTES:
        report.error(
            "out_of_range",
            f"parameters take {size:,} bytes; the limit is {MAX_PARAMETERS_BYTES:,}",
            where,
        )
    elif parameters.get("type", "object") != "object":
        report.error(
            "invalid_value",
            'parameters is the JSON Schema of the arguments object: its type is "object"',
            where,
        )


def _check_credential(report: Report, credential: str, models: ModelRules, where: Where) -> None:
    if not credential.strip():
        report.error("invalid_value", "credential must name a credential", where)
        return
    workspace = models.workspace
    if workspace is not None and credential not in workspace.credentials:
        report.error(
            "credential_not_found",
            "the credential this tool names does not exist in this workspace",
            where,
        )


def _check_model_calls_tools(
    report: Report, config: Mapping[str, Any], models: ModelRules, where: Where
) -> None:
    workspace = models.workspace
    if workspace is None or workspace.supports_tools is None:
        return
    credential = blank_to_none(config.get("credential"))
    if isinstance(credential, str) and workspace.credentials.get(credential) in workspace.any_name:
        return  # a self-hosted or Azure server: only it knows; the run will tell
    raw_model = config.get("model")
    model = blank_to_none(raw_model) if isinstance(raw_model, str) else None
    model = model or models.default_model
    if isinstance(model, str) and not workspace.supports_tools(model):
        report.error(
            "tools_unsupported",
            f"model {model!r} cannot call tools; choose one that can (mock/tools offline)",
            where,
        )


def _is_http_url(url: str) -> bool:
    if FORBIDDEN_CHARS.search(url) or not url.isprintable():
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and (port is None or 0 < port < 65536)
    )
