"""A scripted HTTP receiver for the http node's tests: APIs that answer, fail and block."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from tests.support.http_servers import LocalServer


class ApiServer(LocalServer):
    """``/json``, ``/text``, ``/big?bytes=N``, ``/flaky?key=K&fail=N&status=S``, ``/fail``
    (500 echoing the request's Authorization header), ``/orders`` (POST creates, DELETE
    ``/orders/<id>`` removes; ``/orders/<id>?block=1`` waits for ``release``), ``/block``."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._next_order = 0
        self._failures: Counter[str] = Counter()
        self.released = threading.Event()
        self.blocked = threading.Event()

    def reset(self) -> None:
        """Forget what earlier tests sent: requests, orders, failures, blocks."""
        with self._lock:
            self.requests.clear()
            self._next_order = 0
            self._failures.clear()
        self.released.clear()
        self.blocked.clear()

    def answer(self, handler: Any, query: dict[str, str]) -> None:
        path = urlsplit(handler.path).path
        if path == "/json":
            self._send(handler, 200, {"hello": "world", "q": query.get("q")})
        elif path == "/text":
            self._send_raw(handler, 200, b"plain words", "text/plain; charset=utf-8")
        elif path == "/big":
            self._send_raw(handler, 200, b"y" * int(query["bytes"]), "text/plain")
        elif path == "/flaky":
            with self._lock:
                self._failures[query["key"]] += 1
                failing = self._failures[query["key"]] <= int(query["fail"])
            if failing:
                statuses = query["status"].split(",")
                status = int(statuses[(self._failures[query["key"]] - 1) % len(statuses)])
                self._send(handler, status, {"error": "try again"})
            else:
                self._send(handler, 200, {"ok": True})
        elif path == "/fail":
            echoed = handler.headers.get("Authorization", "")
            self._send_raw(handler, 500, f"boom {echoed}".encode(), "text/plain")
        elif path == "/orders" and handler.command == "POST":
            with self._lock:
                self._next_order += 1
                order = self._next_order
            self._send(handler, 201, {"id": order})
        elif path.startswith("/orders/"):
            if query.get("block") == "1" and not self.released.is_set():
                self.blocked.set()
                self.released.wait(30)
            self._send_raw(handler, 204, b"", "text/plain")
        elif path == "/block":
            self.blocked.set()
            self.released.wait(30)
            self._send(handler, 200, {"late": True})
        else:
            self._send(handler, 404, {"error": "no such route"})

    def _send(self, handler: Any, status: int, value: Any) -> None:
        self._send_raw(handler, status, json.dumps(value).encode(), "application/json")

    def _send_raw(self, handler: Any, status: int, body: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def seen(self, method: str | None = None, prefix: str = "/") -> list[dict[str, Any]]:
        return [
            r
            for r in list(self.requests)
            if (method is None or r["method"] == method) and r["path"].startswith(prefix)
        ]
