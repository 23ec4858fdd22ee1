"""The MCP client against a real MCP server (the SDK's) on a loopback port, through the guard."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import anyio
import httpx2
import pytest

from server.egress import EgressRefused, EgressTimeout, EgressTooLarge
from server.egress.async_transport import GuardedAsyncTransport
from server.tools.mcp_client import (
    MAX_RESULT_CHARS,
    McpError,
    McpTarget,
    McpTool,
    ToolListCache,
    call_tool,
    list_tools,
)
from tests.support.http_servers import RouteServer
from tests.support.mcp_server import McpTestServer

DEMO_TOOLS = ["add", "multiply", "notes_write", "notes_read", "big", "fail"]


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[McpTestServer]:
    with McpTestServer() as server:
        yield server


@pytest.fixture
def allowed(settings, mcp_server: McpTestServer):
    """The operator allows the test server's loopback port, and nothing else."""
    settings.AGENTLOOM_EGRESS = {
        **settings.AGENTLOOM_EGRESS,
        "allow": [f"127.0.0.1:{mcp_server.port}"],
        "total_timeout_s": 10.0,
    }
    mcp_server.calls.clear()
    return McpTarget(mcp_server.url, workspace_id=str(uuid.uuid4()))


def test_lists_the_servers_tools_with_their_schemas(allowed: McpTarget) -> None:
    tools = list_tools(allowed)

    assert [tool.name for tool in tools] == DEMO_TOOLS
    add = tools[0]
    assert add.description == "Add two numbers."
    assert add.input_schema["type"] == "object"
    assert add.input_schema["required"] == ["a", "b"]


def test_calls_a_tool_and_reads_its_answer(allowed: McpTarget, mcp_server: McpTestServer) -> None:
    result = call_tool(allowed, "add", {"a": 2, "b": 3.5})

    assert result.text == "5.5"
    assert result.is_error is False
    assert result.structured == {"result": 5.5}
    assert mcp_server.calls["add"] == 1
    call_tool(allowed, "notes_write", {"title": "t", "text": "loom"})
    assert call_tool(allowed, "notes_read", {"title": "t"}).text == "loom"


def test_a_failing_tool_is_a_result_for_the_model_not_an_exception(allowed: McpTarget) -> None:
    result = call_tool(allowed, "fail", {"reason": "out of thread"})
    assert result.is_error is True
    assert "out of thread" in result.text
    assert call_tool(allowed, "nope", {}).is_error is True  # an unknown tool, likewise


def test_a_long_answer_is_cut_for_the_model(allowed: McpTarget) -> None:
    result = call_tool(allowed, "big", {"size": MAX_RESULT_CHARS + 10})
    assert len(result.text) == MAX_RESULT_CHARS
    assert result.truncated is True


def test_an_oversized_answer_is_refused_as_it_is_read(
    allowed: McpTarget, mcp_server: McpTestServer
) -> None:
    target = McpTarget(allowed.url, max_bytes=64 * 1024)
    started = time.monotonic()
    with pytest.raises(EgressTooLarge):
        call_tool(target, "big", {"size": 2_000_000})
    assert time.monotonic() - started < 5
    assert mcp_server.calls["big"] == 1


def test_the_operators_cap_applies_even_when_a_caller_asks_for_more(
    settings, allowed: McpTarget
) -> None:
    settings.AGENTLOOM_EGRESS = {**settings.AGENTLOOM_EGRESS, "max_response_bytes": 32 * 1024}
    with pytest.raises(EgressTooLarge):
        call_tool(McpTarget(allowed.url, max_bytes=10**9), "big", {"size": 100_000})


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.7/mcp",
        "http://169.254.169.254/mcp",
        "http://192.168.1.1:8080/mcp",
        "http://[::ffff:10.0.0.1]/mcp",
        "http://[fd00::1]/mcp",
        "ftp://example.com/mcp",
    ],
)
def test_a_private_address_is_refused_before_any_connection(
    allowed: McpTarget, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """The loopback audit (tests/conftest.py) would also fail a connect to these."""
    connects: list[object] = []
    real_connect = socket.socket.connect

    def spy(sock: socket.socket, address: object) -> None:
        connects.append(address)
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    with pytest.raises(EgressRefused):
        list_tools(McpTarget(url))
    assert connects == []


def test_loopback_is_refused_unless_the_operator_allows_it(
    settings, mcp_server: McpTestServer
) -> None:
    settings.AGENTLOOM_EGRESS = {**settings.AGENTLOOM_EGRESS, "allow": []}
    with pytest.raises(EgressRefused):
        list_tools(McpTarget(mcp_server.url))
    assert mcp_server.calls == {}


def test_a_workspaces_allowed_domains_narrow_mcp_too(allowed: McpTarget) -> None:
    with pytest.raises(EgressRefused):
        list_tools(McpTarget(allowed.url, allowed_domains=["example.com"]))


def test_a_server_that_never_answers_times_out(settings) -> None:
    """A listener that accepts and says nothing: the exchange ends at the total timeout."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    settings.AGENTLOOM_EGRESS = {
        **settings.AGENTLOOM_EGRESS,
        "allow": [f"127.0.0.1:{port}"],
        "total_timeout_s": 1.0,
    }
    started = time.monotonic()
    try:
        with pytest.raises(EgressTimeout) as caught:
            list_tools(McpTarget(f"http://127.0.0.1:{port}/mcp"))
    finally:
        silent.close()
    assert caught.value.code == "egress_timeout"
    assert time.monotonic() - started < 5


def test_not_an_mcp_server_is_an_mcp_error(settings) -> None:
    with RouteServer() as plain:
        settings.AGENTLOOM_EGRESS = {
            **settings.AGENTLOOM_EGRESS,
            "allow": [f"127.0.0.1:{plain.port}"],
        }
        with pytest.raises(McpError) as caught:
            list_tools(McpTarget(f"http://127.0.0.1:{plain.port}/mcp"))
    assert caught.value.code == "mcp_error"


def test_tool_lists_are_cached_per_run_and_server() -> None:
    loads: list[str] = []

    def load(target: McpTarget) -> list[McpTool]:
        loads.append(target.url)
        return [McpTool("add", "", {"type": "object"})]

    cache = ToolListCache(size=2)
    first, second = McpTarget("http://a.example/mcp"), McpTarget("http://b.example/mcp")
    assert cache.get("run-1", first, load=load) == cache.get("run-1", first, load=load)
    cache.get("run-1", second, load=load)
    cache.get("run-2", first, load=load)  # another run lists again
    cache.get("run-1", first, credential="cred", load=load)  # so does another credential
    assert loads == [first.url, second.url, first.url, first.url]
    cache.get("run-1", second, load=load)  # evicted: the cache holds two lists
    assert len(loads) == 5


def test_the_async_transport_checks_every_connection_itself(
    allowed: McpTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``check_destination`` in front (a redirect, a reconnect), the transport refuses."""
    connects: list[object] = []
    real_connect = socket.socket.connect

    def spy(sock: socket.socket, address: object) -> None:
        connects.append(address)
        real_connect(sock, address)

    async def get(url: str) -> int:
        transport = GuardedAsyncTransport(1024)
        async with httpx2.AsyncClient(transport=transport, trust_env=False) as client:
            try:
                return (await client.get(url)).status_code
            finally:
                assert transport.failure is None or isinstance(transport.failure, EgressRefused)

    monkeypatch.setattr(socket.socket, "connect", spy)
    with pytest.raises(EgressRefused):
        anyio.run(get, "http://10.1.2.3:8080/")
    assert connects == []
    # The allowed loopback server is reached (its 405 for a GET on /mcp is an answer).
    assert anyio.run(get, allowed.url) in (200, 400, 405, 406)
