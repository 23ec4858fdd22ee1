"""A client for remote MCP servers (SPEC §11): list a server's tools, call one.

It speaks streamable HTTP through the official ``mcp`` SDK, and everything the
SDK sends goes through the outbound guard (docs/egress.md): the address is
checked before anything is sent (``check_destination``: a refused one fails
with ``egress_refused`` having opened no connection), and the SDK's HTTP client
connects only through ``GuardedAsyncTransport``, which checks every address it
connects to and cuts off an answer past the size cap. One wall-clock limit
bounds the whole exchange (connect, initialise, the request).

Callers are synchronous (a worker's agent loop, an API view): each call opens
a session, does one thing and closes it, in an event loop of its own. An
agent asks for a server's tools once per run (``ToolListCache``).
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from django.conf import settings
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import PaginatedRequestParams, TextContent

from server.egress import EgressError, EgressTimeout, check_destination
from server.egress.async_transport import GuardedAsyncTransport
from server.egress.rate import take_request_slot

# What one tool's answer may hand the model; the rest is cut with a marker.
MAX_RESULT_CHARS = 64 * 1024
# A server that pages its tool list without end is cut off.
MAX_LIST_PAGES = 20
# How many (run, server) tool lists a process keeps.
TOOL_LIST_CACHE_SIZE = 256


class McpError(Exception):
    """The server answered, but not with what was asked (a protocol or tool-listing error)."""

    code = "mcp_error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class McpTool:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class McpResult:
    text: str  # the text parts joined, cut at MAX_RESULT_CHARS
    is_error: bool  # the tool itself failed: the model is told, the node goes on
    structured: Any | None
    truncated: bool


@dataclass(frozen=True)
class McpTarget:
    """Where a server is and how to reach it; ``headers`` carry its credential."""

    url: str
    workspace_id: uuid.UUID | str | None = None
    allowed_domains: Sequence[str] = ()
    headers: Mapping[str, str] | None = None
    timeout_s: float | None = None  # may only lower the operator's total timeout
    max_bytes: int | None = None  # may only lower the operator's response size cap


def list_tools(target: McpTarget) -> list[McpTool]:
    async def listed(session: ClientSession) -> list[McpTool]:
        tools: list[McpTool] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            params = PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            tools += [
                McpTool(tool.name, tool.description or "", dict(tool.input_schema))
                for tool in page.tools
            ]
            cursor = page.next_cursor
            if not cursor:
                return tools
        raise McpError(f"the server's tool list goes on past {MAX_LIST_PAGES} pages")

    return _exchange(target, listed)


def call_tool(target: McpTarget, name: str, arguments: Mapping[str, Any]) -> McpResult:
    async def called(session: ClientSession) -> McpResult:
        result = await session.call_tool(name, dict(arguments))
        parts = [
            part.text if isinstance(part, TextContent) else f"[{part.type} content]"
            for part in result.content
        ]
        text = "\n".join(parts)
        return McpResult(
            text=text[:MAX_RESULT_CHARS],
            is_error=bool(result.is_error),
            structured=result.structured_content,
            truncated=len(text) > MAX_RESULT_CHARS,
        )

    return _exchange(target, called)


class ToolListCache:
    """Tool lists by (run, server, credential): an agent lists a server once per run."""

    def __init__(self, size: int = TOOL_LIST_CACHE_SIZE) -> None:
        self._size = size
        self._lists: OrderedDict[tuple[str, str, str], list[McpTool]] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        run_id: uuid.UUID | str,
        target: McpTarget,
        credential: str | None = None,
        load: Callable[[McpTarget], list[McpTool]] = list_tools,
    ) -> list[McpTool]:
        key = (str(run_id), target.url, credential or "")
        with self._lock:
            if key in self._lists:
                self._lists.move_to_end(key)
                return self._lists[key]
        tools = load(target)  # outside the lock: a slow server must not block other runs
        with self._lock:
            self._lists[key] = tools
            while len(self._lists) > self._size:
                self._lists.popitem(last=False)
        return tools


def _exchange(target: McpTarget, act: Callable[[ClientSession], Any]) -> Any:
    limits = settings.AGENTLOOM_EGRESS
    total_s = min(target.timeout_s or limits["total_timeout_s"], limits["total_timeout_s"])
    cap = min(target.max_bytes or limits["max_response_bytes"], limits["max_response_bytes"])
    check_destination(target.url, target.allowed_domains)
    if target.workspace_id is not None:
        take_request_slot(str(target.workspace_id))

    transport = GuardedAsyncTransport(cap)

    async def run() -> Any:
        timeout = httpx2.Timeout(total_s, connect=limits["connect_timeout_s"])
        async with httpx2.AsyncClient(
            transport=transport,
            headers=dict(target.headers or {}),
            timeout=timeout,
            trust_env=False,
        ) as client:
            with anyio.fail_after(total_s):
                async with (
                    streamable_http_client(
                        target.url, http_client=client, max_sse_event_size=cap
                    ) as (read, write),
                    ClientSession(read, write, read_timeout_seconds=total_s) as session,
                ):
                    await session.initialize()
                    return await act(session)

    try:
        return anyio.run(run)
    except BaseException as exc:
        # The SDK may have turned the guard's error into a vaguer one of its own.
        raise transport.failure or _classified(exc, target.url, total_s) from None


def _classified(exc: BaseException, url: str, total_s: float) -> Exception:
    """The one error that explains a failed exchange, out of anyio's exception groups."""
    found = list(_leaves(exc))
    for error in found:
        if isinstance(error, EgressError):
            return error
    if any(isinstance(error, TimeoutError) for error in found):
        return EgressTimeout(f"{httpx2.URL(url).host} did not answer within {total_s:g} s")
    for error in found:
        if isinstance(error, MCPError):
            return McpError(f"the MCP server answered with an error: {error}")
    for error in found:
        if isinstance(error, httpx2.TransportError):
            return McpError(f"{httpx2.URL(url).host}: {type(error).__name__}")
    if isinstance(exc, Exception):
        return McpError(f"the MCP exchange failed: {type(exc).__name__}: {exc}"[:500])
    raise exc  # KeyboardInterrupt, SystemExit: not ours to turn into an answer


def _leaves(exc: BaseException) -> list[BaseException]:
    """``exc`` and, through groups and causes, every exception inside it."""
    found: list[BaseException] = []
    pending = [exc]
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        found.append(error)
        if isinstance(error, BaseExceptionGroup):
            pending.extend(error.exceptions)
        for linked in (error.__cause__, error.__context__):
            if linked is not None:
                pending.append(linked)
    return found
