"""The demo MCP server (server/site/mcp_demo.py), served on a loopback port for a test.

It adds tools only tests need: ``big`` answers ``size`` characters, ``fail``
is a tool that fails (``isError``). ``calls`` counts the calls per tool, so a
test can check that a call was made once, or not at all.

    with McpTestServer() as server:
        server.url  # http://127.0.0.1:<port>/mcp
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from types import TracebackType

import uvicorn
from mcp.server.mcpserver.exceptions import ToolError

from server.site.mcp_demo import build_demo_server


class McpTestServer:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        mcp = build_demo_server("agentloom-tests", on_call=lambda name: self.calls.update([name]))

        @mcp.tool(description="Answer with `size` characters.")
        def big(size: int) -> str:
            self.calls.update(["big"])
            return "x" * size

        @mcp.tool(description="Always fails.")
        def fail(reason: str) -> str:
            self.calls.update(["fail"])
            raise ToolError(reason)

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = int(self._socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        config = uvicorn.Config(
            mcp.streamable_http_app(host="127.0.0.1"), log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def __enter__(self) -> McpTestServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the MCP test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
