"""A local OpenAI-compatible chat-completions server for tests and manual runs.

No model provider is reachable from tests, yet the real call path (litellm → HTTP →
provider) must be exercised: streaming, usage, rate limits, 5xx, slow answers. This
server speaks just enough of ``POST /v1/chat/completions`` for that.

What a request gets is chosen by its model name, so most tests need no setup:

================  ===============================================================
model             answer
================  ===============================================================
``fail-<S>-<N>``  the first N requests for this model name get HTTP status S
``slow-<MS>``     the answer takes MS milliseconds (spread over the streamed chunks)
``json``          a JSON object
``badjson``       text that is not JSON
anything else     ``You said: <last user message>``
================  ===============================================================

A request that offers ``tools`` gets tool calls instead, whatever its model
name: while the last message is not a ``tool`` result, one assistant message
with every call the first user message plans (``call <tool>(<json>)`` lines, or
each offered tool once: ``workers.llm.mock_tools.planned_calls``, as
``mock/tools`` plans them) and ``finish_reason: tool_calls``; after a tool
result, text quoting the results.

Any other failure (say a 400 whose message means "context window exceeded") is
scripted: ``server.script(status, body)`` in-process, or over HTTP
``POST /_control {"script": [{"status": 400, "body": {...}}]}``. Scripted responses
are served first, one per request. ``POST /_control {"reset": true}`` forgets
requests, per-model counters and scripts.

With ``api_keys`` given, a chat request must carry ``Authorization: Bearer <one of
them>``; any other gets a 401 that names the key half-masked, as OpenAI's does (so
tests can check that the product scrubs provider messages).

Usage counts whitespace-separated words (prompt: every message; completion: the
answer), so tests can tell server-reported usage from a client-side estimate.

Run standalone for manual testing: ``python -m tests.support.openai_server --port 8911``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

from workers.llm.mock_tools import answer_with_results, first_user_text, planned_calls

_FAIL_MODEL = re.compile(r"fail-(\d{3})-(\d+)")
_SLOW_MODEL = re.compile(r"slow-(\d+)")
_CHAT_PATH = "/v1/chat/completions"
_CONTROL_PATH = "/_control"


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server saw it, for assertions on what the client sent."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    # Wall-clock time of arrival, to compare with times the product recorded.
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class _Reply:
    """What to send back for one chat request."""

    status: int
    body: dict[str, Any] | None = None  # set for errors and scripted replies
    text: str = ""
    delay_s: float = 0.0
    tool_calls: list[dict[str, Any]] | None = None


class OpenAICompatibleServer:
    """A threaded HTTP server on 127.0.0.1 (port 0 by default: any free port)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, api_keys: Collection[str] | None = None
    ) -> None:
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.requests: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._calls_per_model: Counter[str] = Counter()
        self._script: deque[_Reply] = deque()
        # Set on stop so slow answers end at once instead of holding their threads.
        self._closing = threading.Event()
        self._httpd = _HTTPServer((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._httpd.server_address[0]!s}:{self.port}/v1"

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop`` (or Ctrl-C in the CLI)."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def start(self) -> OpenAICompatibleServer:
        """Serve from a background thread; the test keeps the calling thread."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="openai-test-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self._httpd.shutdown()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> OpenAICompatibleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._calls_per_model.clear()
            self._script.clear()

    def script(self, status: int, body: dict[str, Any]) -> None:
        """Answer the next chat request not yet scripted with ``status`` and ``body``."""
        with self._lock:
            self._script.append(_Reply(status=status, body=body))

    def _record(self, request: ReceivedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _reply_for(self, body: dict[str, Any]) -> _Reply:
        model = str(body.get("model", ""))
        with self._lock:
            if self._script:
                return self._script.popleft()
            self._calls_per_model[model] += 1
            call_number = self._calls_per_model[model]
        if failing := _FAIL_MODEL.fullmatch(model):
            status, failures = int(failing[1]), int(failing[2])
            if call_number <= failures:
                return _Reply(status=status, body=_error_body(status, call_number))
        if body.get("tools"):
            return _tool_reply(body)
        text = _answer_text(model, _last_user_message(body))
        slow = _SLOW_MODEL.fullmatch(model)
        return _Reply(status=200, text=text, delay_s=int(slow[1]) / 1000 if slow else 0.0)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        app: OpenAICompatibleServer,
    ) -> None:
        self.app = app
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def app(self) -> OpenAICompatibleServer:
        return cast(_HTTPServer, self.server).app

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean: requests are recorded, not logged."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, _error_body(400, 0, "request body is not JSON"))
            return
        try:
            if self.path == _CONTROL_PATH:
                self._control(body)
            elif self.path.rstrip("/") == _CHAT_PATH:
                self._chat(body)
            else:
                self._send_json(404, _error_body(404, 0, f"no route {self.path}"))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout or cancel): nothing left to answer

    def _control(self, body: dict[str, Any]) -> None:
        if body.get("reset"):
            self.app.reset()
        for reply in body.get("script", []):
            self.app.script(int(reply["status"]), reply["body"])
        self._send_json(200, {"ok": True})

    def _chat(self, body: dict[str, Any]) -> None:
        self.app._record(
            ReceivedRequest(
                path=self.path,
                headers={key.lower(): value for key, value in self.headers.items()},
                body=body,
            )
        )
        refused = self._refused_key()
        reply = refused or self.app._reply_for(body)
        if reply.body is not None:
            self._send_json(reply.status, reply.body)
        elif body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(body, reply, include_usage)
        else:
            if self.app._closing.wait(reply.delay_s):
                return
            self._send_json(200, _completion(body, reply))

    def _refused_key(self) -> _Reply | None:
        if self.app.api_keys is None:
            return None
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if key in self.app.api_keys:
            return None
        masked = key[:3] + "*" * max(len(key) - 7, 0) + key[-4:]
        message = f"Incorrect API key provided: {masked}. You can find your API key elsewhere."
        return _Reply(status=401, body=_error_body(401, 0, message))

    def _stream(self, request: dict[str, Any], reply: _Reply, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        # No length and no chunked encoding: the body ends when the connection closes.
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        pieces = _pieces(reply.text)
        pause = reply.delay_s / max(len(pieces), 1)
        model = str(request.get("model", ""))
        # The first piece goes at once, as a real server's first token does, and
        # the pauses come after each piece: a test with a short timeout sees the
        # stream start however loaded the machine is.
        if reply.tool_calls:
            calls = [{"index": index, **call} for index, call in enumerate(reply.tool_calls)]
            delta = {"role": "assistant", "content": None, "tool_calls": calls}
            self._send_event(_chunk(model, [{"index": 0, "delta": delta, "finish_reason": None}]))
            pieces = []
        for index, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if index == 0 else {"content": piece}
            self._send_event(_chunk(model, [{"index": 0, "delta": delta, "finish_reason": None}]))
            if self.app._closing.wait(pause):
                return
        finish = "tool_calls" if reply.tool_calls else "stop"
        self._send_event(_chunk(model, [{"index": 0, "delta": {}, "finish_reason": finish}]))
        if include_usage:
            self._send_event({**_chunk(model, []), "usage": _usage(request, _said(reply))})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _send_event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def _last_user_message(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _content_text(content: Any) -> str:
    """Message content is a string or a list of typed parts; keep the text parts."""
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content or "")


def _tool_reply(body: dict[str, Any]) -> _Reply:
    messages = [m for m in body.get("messages", []) if isinstance(m, dict)]
    if messages and messages[-1].get("role") == "tool":
        return _Reply(status=200, text=answer_with_results(messages))
    plan = planned_calls(first_user_text(messages), body.get("tools") or [])
    calls = [
        {
            "id": f"call_{index + 1}",
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
        }
        for index, call in enumerate(plan)
    ]
    if not calls:
        return _Reply(status=200, text=answer_with_results(messages))
    return _Reply(status=200, tool_calls=calls)


def _said(reply: _Reply) -> str:
    """What usage counts as the completion: the text, or the calls' arguments."""
    if reply.tool_calls:
        return " ".join(call["function"]["arguments"] for call in reply.tool_calls)
    return reply.text


def _answer_text(model: str, user_message: str) -> str:
    if model == "json":
        return json.dumps({"answer": user_message, "words": len(user_message.split())})
    if model == "badjson":
        return "This is not JSON: {answer: oops"
    return f"You said: {user_message}"


def _pieces(text: str) -> list[str]:
    """Word-sized stream chunks that concatenate back to exactly ``text``."""
    return re.findall(r"\s*\S+", text) or [text]


def _usage(request: dict[str, Any], answer: str) -> dict[str, int]:
    prompt = sum(
        len(_content_text(message.get("content")).split())
        for message in request.get("messages", [])
    )
    completion = len(answer.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _chunk(model: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
    }


def _completion(request: dict[str, Any], reply: _Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message = {"role": "assistant", "content": None, "tool_calls": reply.tool_calls}
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(request.get("model", "")),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": _usage(request, _said(reply)),
    }


def _error_body(status: int, call_number: int, message: str | None = None) -> dict[str, Any]:
    kind = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
    }.get(status, "server_error")
    return {
        "error": {
            "message": message or f"simulated HTTP {status} (call {call_number})",
            "type": kind,
            "param": None,
            "code": None,
        }
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8911)
    args = parser.parse_args()
    server = OpenAICompatibleServer(host=args.host, port=args.port)
    print(f"OpenAI-compatible test server on {server.base_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
