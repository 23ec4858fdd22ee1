"""An agent's tools config: parsing, and validation of good, bad and hostile configs.

``check_agent_tools`` is called here exactly as the checker's agent rules call it;
one test goes through ``validate_document`` to show that they do.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.documents import agent, document, edge, node
from workers.engine.limits import DEFAULT_LIMITS
from workers.engine.problems import ERROR_CODES, Problem
from workers.engine.tools import (
    DEFAULT_MAX_TOOL_CALLS,
    MAX_TOOLS,
    HttpTool,
    McpServer,
    WorkflowTool,
    agent_tools,
    function_specs,
    mcp_function_specs,
)
from workers.engine.validation import validate_document
from workers.engine.validation.checker import DocumentChecker
from workers.engine.validation.models import WorkspaceModels
from workers.engine.validation.report import Where
from workers.engine.validation.tools import check_agent_tools

WORKSPACE = WorkspaceModels(
    providers=frozenset({"mock", "openai"}),
    credentials={"cred-http": "http", "cred-local": "openai_compatible"},
    any_name=frozenset({"openai_compatible"}),
    supports_tools=lambda model: model in {"mock/tools", "openai/gpt-4o"},
)

HTTP_TOOL = {
    "kind": "http",
    "name": "lookup",
    "description": "Look a word up",
    "parameters": {"type": "object", "properties": {"word": {"type": "string"}}},
    "request": {"method": "GET", "url": "https://api.example.com/words/{{ $.args.word }}"},
}
WORKFLOW_TOOL = {"kind": "workflow", "name": "summarise", "workflow": "2f1d5c7e-0000-4000-8000-1"}
MCP_TOOL = {"kind": "mcp", "url": "https://mcp.example.com/mcp", "tools": ["add", "notes_read"]}


def _problems(
    config: dict[str, Any], workspace: WorkspaceModels | None = WORKSPACE
) -> list[Problem]:
    checker = DocumentChecker(DEFAULT_LIMITS, lambda model: True, workspace)
    where = Where("nodes[0].data.config", "agent")
    check_agent_tools(
        checker, config, checker.limits, checker.models, where, checker.check_template
    )
    assert all(problem.code in ERROR_CODES for problem in checker.problems)
    return checker.problems


def _codes(config: dict[str, Any], **kwargs: Any) -> list[tuple[str, str | None]]:
    return [(p.code, p.field) for p in _problems(config, **kwargs)]


def _agent(*tools: Any, **config: Any) -> dict[str, Any]:
    return {"model": "mock/tools", "tools": list(tools), **config}


def test_a_good_config_has_no_problems_and_parses() -> None:
    config = _agent(
        HTTP_TOOL,
        WORKFLOW_TOOL,
        MCP_TOOL,
        {**MCP_TOOL, "tools": "*", "url": "http://x.example:8080/mcp"},
        max_tool_calls=4,
    )
    assert _problems(config) == []

    parsed = agent_tools(config)
    assert parsed.max_tool_calls == 4
    assert [type(tool) for tool in parsed.tools] == [HttpTool, WorkflowTool, McpServer, McpServer]
    assert parsed.mcp_servers[0].offers("add")
    assert not parsed.mcp_servers[0].offers("rm")
    assert parsed.mcp_servers[1].names is None
    assert parsed.mcp_servers[1].offers("anything")
    specs = function_specs(parsed)
    assert [spec["function"]["name"] for spec in specs] == ["lookup", "summarise"]
    assert specs[1]["function"]["parameters"] == {"type": "object", "properties": {}}


def test_no_tools_is_no_problem_and_the_default_bound() -> None:
    assert _problems({"model": "mock/echo"}) == []
    assert _problems({"model": "mock/echo", "tools": []}) == []
    assert agent_tools({}).max_tool_calls == DEFAULT_MAX_TOOL_CALLS == 10
    assert agent_tools({}).tools == ()


def test_duplicate_names_are_refused_across_kinds() -> None:
    codes = _codes(
        _agent(HTTP_TOOL, {**WORKFLOW_TOOL, "name": "lookup"}, {**MCP_TOOL, "tools": ["lookup"]})
    )
    assert codes == [
        ("invalid_value", "nodes[0].data.config.tools[1].name"),
        ("invalid_value", "nodes[0].data.config.tools[2].tools"),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://mcp.example.com/mcp",
        "mcp.example.com/mcp",
        "http:///mcp",
        "http://mcp.example.com:99999/mcp",
        "http://mcp.example.com/\x00",
        "http://mcp.example.com/a\r\nHost: evil",
        "http://[::1/mcp",
    ],
)
def test_bad_mcp_urls_are_refused(url: str) -> None:
    assert _codes(_agent({**MCP_TOOL, "url": url})) == [
        ("invalid_value", "nodes[0].data.config.tools[0].url")
    ]


def test_missing_parts_are_named() -> None:
    codes = _codes(
        _agent({"kind": "http", "name": "a"}, {"kind": "workflow"}, {"kind": "mcp"}, {"name": "x"})
    )
    assert codes == [
        ("missing_required", "nodes[0].data.config.tools[0].request"),
        ("missing_required", "nodes[0].data.config.tools[1].name"),
        ("missing_required", "nodes[0].data.config.tools[1].workflow"),
        ("missing_required", "nodes[0].data.config.tools[2].url"),
        ("missing_required", "nodes[0].data.config.tools[3].kind"),
    ]


def test_the_http_tools_request_follows_the_http_node_rules() -> None:
    request = {"method": "TELEPORT", "url": "https://x.example/{{ $.args.( }}"}
    codes = {code for code, _ in _codes(_agent({**HTTP_TOOL, "request": request}))}
    assert codes == {"invalid_value", "expression_syntax"}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (_agent(HTTP_TOOL, max_tool_calls=10**400), ("out_of_range", "max_tool_calls")),
        (_agent(HTTP_TOOL, max_tool_calls=float("nan")), ("invalid_type", "max_tool_calls")),
        (_agent(HTTP_TOOL, max_tool_calls=0), ("out_of_range", "max_tool_calls")),
        (_agent(HTTP_TOOL, max_tool_calls=101), ("out_of_range", "max_tool_calls")),
        (_agent(HTTP_TOOL, max_tool_calls=True), ("invalid_type", "max_tool_calls")),
        (_agent(HTTP_TOOL, max_tool_calls="5"), ("invalid_type", "max_tool_calls")),
        ({"tools": {"kind": "http"}}, ("invalid_type", "tools")),
        ({"tools": ["http"]}, ("invalid_type", "tools[0]")),
        (_agent({**HTTP_TOOL, "kind": "shell"}), ("invalid_value", "tools[0].kind")),
        (_agent({**HTTP_TOOL, "kind": 7}), ("invalid_type", "tools[0].kind")),
        (_agent({**HTTP_TOOL, "name": "a\x00b"}), ("invalid_value", "tools[0].name")),
        (_agent({**HTTP_TOOL, "name": "x" * 1_000_000}), ("invalid_value", "tools[0].name")),
        (_agent({**HTTP_TOOL, "name": "looks up"}), ("invalid_value", "tools[0].name")),
        (_agent({**HTTP_TOOL, "name": "١٢٣"}), ("invalid_value", "tools[0].name")),
        (
            _agent({**HTTP_TOOL, "description": "d" * 1_000_000}),
            ("invalid_value", "tools[0].description"),
        ),
        (_agent({**HTTP_TOOL, "description": "a\x00"}), ("invalid_value", "tools[0].description")),
        (
            _agent({**HTTP_TOOL, "parameters": {"type": "string"}}),
            ("invalid_value", "tools[0].parameters"),
        ),
        (
            _agent({**HTTP_TOOL, "parameters": {"type": "object", "x": float("nan")}}),
            ("invalid_value", "tools[0].parameters"),
        ),
        (
            _agent({**HTTP_TOOL, "parameters": {"type": "object", "d": "x" * 100_000}}),
            ("out_of_range", "tools[0].parameters"),
        ),
        (
            _agent({**WORKFLOW_TOOL, "workflow": "w" * 1_000_000}),
            ("invalid_value", "tools[0].workflow"),
        ),
        (
            _agent({**MCP_TOOL, "url": "https://x.example/" + "a" * 1_000_000}),
            ("out_of_range", "tools[0].url"),
        ),
        (_agent({**MCP_TOOL, "tools": "all"}), ("invalid_type", "tools[0].tools")),
        (_agent({**MCP_TOOL, "tools": []}), ("out_of_range", "tools[0].tools")),
        (_agent({**MCP_TOOL, "tools": ["ok"] * 129}), ("out_of_range", "tools[0].tools")),
        (_agent({**MCP_TOOL, "tools": [None]}), ("invalid_value", "tools[0].tools[0]")),
        (
            _agent({**MCP_TOOL, "credential": "nope"}),
            ("credential_not_found", "tools[0].credential"),
        ),
        (_agent({**MCP_TOOL, "credential": "  "}), ("invalid_value", "tools[0].credential")),
    ],
)
def test_hostile_and_bad_values_are_one_clear_problem(
    config: dict[str, Any], expected: tuple[str, str]
) -> None:
    problems = _problems(config)
    code, field = expected
    assert [(p.code, p.field) for p in problems] == [(code, f"nodes[0].data.config.{field}")]
    assert all(len(p.message) < 300 for p in problems)  # no megabyte echoed back


def test_deep_nesting_is_refused_without_recursion() -> None:
    deep: dict[str, Any] = {"type": "object"}
    for _ in range(100_000):
        deep = {"type": "object", "properties": {"x": deep}}
    assert _codes(_agent({**HTTP_TOOL, "parameters": deep})) == [
        ("out_of_range", "nodes[0].data.config.tools[0].parameters")
    ]


def test_too_many_tools_is_one_problem() -> None:
    tools = [{**HTTP_TOOL, "name": f"t{index}"} for index in range(MAX_TOOLS + 1)]
    assert _codes(_agent(*tools)) == [("out_of_range", "nodes[0].data.config.tools")]
    assert _problems(_agent(*tools[:MAX_TOOLS])) == []
    huge = [HTTP_TOOL] * 1_000_000
    assert _codes(_agent(*huge)) == [("out_of_range", "nodes[0].data.config.tools")]


def test_a_model_that_cannot_call_tools_is_reported() -> None:
    assert _codes(_agent(HTTP_TOOL, model="mock/echo")) == [
        ("tools_unsupported", "nodes[0].data.config.tools")
    ]
    assert _problems(_agent(HTTP_TOOL, model="openai/gpt-4o")) == []
    # Without a model of its own, the workflow's default is the one that must call tools.
    checker_default = _agent(HTTP_TOOL)
    del checker_default["model"]
    checker = DocumentChecker(DEFAULT_LIMITS, lambda model: True, WORKSPACE)
    checker.models.check_default("mock/json", Where("settings.default_model"))
    where = Where("nodes[0].data.config", "agent")
    check_agent_tools(
        checker, checker_default, checker.limits, checker.models, where, checker.check_template
    )
    assert [p.code for p in checker.problems] == ["tools_unsupported"]


def test_only_the_server_behind_an_any_name_credential_knows_and_no_workspace_no_check() -> None:
    assert (
        _problems(_agent(HTTP_TOOL, model="openai_compatible/llama", credential="cred-local")) == []
    )
    assert _problems(_agent(HTTP_TOOL, model="mock/echo"), workspace=None) == []
    assert _problems(_agent({**MCP_TOOL, "credential": "unknown"}), workspace=None) == []


def test_only_the_offered_well_formed_tools_of_an_mcp_server_reach_the_model() -> None:
    server = McpServer(
        "http://mcp.example/mcp", None, ("add", "bad name", "deep", "nan", "lookup", "many")
    )
    deep: dict[str, Any] = {"type": "object"}
    for _ in range(40):
        deep = {"type": "object", "properties": {"x": deep}}
    listed = [
        ("add", "d" * 10_000, {"type": "object", "properties": {"a": {"type": "number"}}}),
        ("multiply", "not offered", {"type": "object"}),
        ("bad name", "", {"type": "object"}),
        ("deep", "", deep),
        ("nan", "", {"type": "object", "default": float("nan")}),
        ("lookup", "taken by an http tool", {"type": "object"}),
        ("many", "", {"type": "array"}),
    ]
    taken = {"lookup"}
    specs = mcp_function_specs(server, listed, taken)
    assert [spec["function"]["name"] for spec in specs] == ["add"]
    assert len(specs[0]["function"]["description"]) == 4000
    assert taken == {"lookup", "add"}
    everything = McpServer("http://mcp.example/mcp", None, None)
    flood = [(f"t{index}", "", {"type": "object"}) for index in range(1000)]
    assert len(mcp_function_specs(everything, flood, set())) == MAX_TOOLS


def test_a_whole_document_reports_its_agents_tool_problems_at_their_fields() -> None:
    researcher = agent("researcher", model="mock/echo", tools=[HTTP_TOOL, HTTP_TOOL])
    doc = document(
        [node("input", "input"), researcher, node("output", "output")],
        [edge("input", "researcher"), edge("researcher", "output")],
    )
    problems = validate_document(doc, workspace=WORKSPACE)
    tool_problems = {(p.code, p.node_id) for p in problems if ".tools" in (p.field or "")}
    assert ("tools_unsupported", "researcher") in tool_problems
    assert any(code != "tools_unsupported" for code, _ in tool_problems)  # the duplicate name
