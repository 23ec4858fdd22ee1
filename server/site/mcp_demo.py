"""A small MCP server for the demo and the tests: a calculator and a notebook.

Built with the official ``mcp`` SDK (the same one the product's client uses),
served over streamable HTTP on ``/mcp``. ``serve`` starts it for the built-in
tool templates (docs/operations.md, ``AGENTLOOM_DEMO_MCP_PORT``); the tests
serve it on a loopback port of their own (tests/support/mcp_server.py). Beside
it, two plain HTTP routes give those templates something to call offline:
``GET /facts?topic=`` (an http tool) and ``POST /orders`` with its reverse
``DELETE /orders/<id>`` (a reversible side effect a rollback undoes). It keeps
everything in memory: a demo, not a store.
"""

from __future__ import annotations

import argparse
import itertools
import threading
from collections.abc import Callable

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse

DEFAULT_PORT = 8931


def build_demo_server(
    name: str = "agentloom-demo", on_call: Callable[[str], None] = lambda tool: None
) -> MCPServer:
    """The server; ``on_call`` hears the name of each tool called (the tests count them)."""
    server: MCPServer = MCPServer(name, instructions="A calculator and a notebook.")
    notes: dict[str, str] = {}
    lock = threading.Lock()

    @server.tool(description="Add two numbers.")
    def add(a: float, b: float) -> float:
        on_call("add")
        return a + b

    @server.tool(description="Multiply two numbers.")
    def multiply(a: float, b: float) -> float:
        on_call("multiply")
        return a * b

    @server.tool(description="Write a note under a title (replaces an earlier one).")
    def notes_write(title: str, text: str) -> str:
        on_call("notes_write")
        with lock:
            notes[title] = text
        return f"saved {title!r}"

    @server.tool(description="Read the note with this title.")
    def notes_read(title: str) -> str:
        on_call("notes_read")
        with lock:
            return notes.get(title, f"no note titled {title!r}")

    return server


def add_demo_routes(app: Starlette) -> None:
    """``/facts`` and ``/orders``: what the tool templates' http tool and http node call."""
    orders: dict[str, str] = {}
    numbers = itertools.count(1)
    lock = threading.Lock()

    async def facts(request: Request) -> JSONResponse:
        topic = request.query_params.get("topic", "")[:200] or "nothing"
        return JSONResponse(
            {
                "topic": topic,
                "facts": [
                    f"{topic} has been studied for a long time.",
                    f"Experts still disagree about parts of {topic}.",
                ],
            }
        )

    async def place_order(request: Request) -> JSONResponse:
        body = (await request.body())[:10_000].decode(errors="replace")
        with lock:
            order_id = f"order-{next(numbers)}"
            orders[order_id] = body
        return JSONResponse({"id": order_id, "state": "placed"}, status_code=201)

    async def cancel_order(request: Request) -> JSONResponse:
        with lock:
            found = orders.pop(request.path_params["order_id"], None)
        return JSONResponse({"cancelled": found is not None}, status_code=200 if found else 404)

    app.add_route("/facts", facts, methods=["GET"])
    app.add_route("/orders", place_order, methods=["POST"])
    app.add_route("/orders/{order_id}", cancel_order, methods=["DELETE"])


def demo_uvicorn_server(port: int, host: str = "127.0.0.1") -> uvicorn.Server:
    """The demo server ready to run (``serve`` runs it in a thread when embedded)."""
    app = build_demo_server().streamable_http_app(host=host)
    add_demo_routes(app)
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


def main() -> None:
    parser = argparse.ArgumentParser(description="The demo MCP server (calculator and notes).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    print(f"demo MCP server on http://{args.host}:{args.port}/mcp", flush=True)
    demo_uvicorn_server(args.port, args.host).run()


if __name__ == "__main__":
    main()
