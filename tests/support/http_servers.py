"""Small HTTP servers on 127.0.0.1 for the outbound guard's tests and bench.

``RouteServer`` answers a few fixed paths (an answer, a redirect, an endless or
oversized body, a slow or dripping answer); ``TrapServer`` answers nothing
useful and records every request, so a test can prove none reached it.
"""

from __future__ import annotations

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: LocalServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner


class LocalServer:
    """A threaded server on a free loopback port; records what it received."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.closing = threading.Event()
        self._httpd = _Server(self)
        self.scheme = "http" if tls is None else "https"
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        # A short poll, so stopping the server does not wait half a second.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def __enter__(self) -> LocalServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def answer(self, handler: _Handler, query: dict[str, str]) -> None:
        raise NotImplementedError


class TrapServer(LocalServer):
    """Must never be reached: every request it sees is a failure of the guard."""

    def answer(self, handler: _Handler, query: dict[str, str]) -> None:
        handler.reply(200, b"trapped")


class RouteServer(LocalServer):
    """``/ok``, ``/redirect?to=URL[&status=S]``, ``/big?bytes=N[&declare=1]``,
    ``/slow?s=S``, ``/drip`` (a byte every 50 ms, forever)."""

    def answer(self, handler: _Handler, query: dict[str, str]) -> None:
        path = urlsplit(handler.path).path
        if path == "/ok":
            handler.reply(200, b'{"ok": true}')
        elif path == "/redirect":
            handler.send_response(int(query.get("status", "302")))
            handler.send_header("Location", query["to"])
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        elif path == "/big":
            self._big(handler, int(query["bytes"]), query.get("declare") == "1")
        elif path == "/slow":
            self.closing.wait(float(query["s"]))
            handler.reply(200, b"late")
        elif path == "/drip":
            self._drip(handler)
        else:
            handler.reply(404, b"no such route")

    def _big(self, handler: _Handler, size: int, declare: bool) -> None:
        handler.send_response(200)
        if declare:
            handler.send_header("Content-Length", str(size))
        else:  # the body ends when the connection does
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        chunk = b"x" * 65536
        sent = 0
        try:
            while sent < size and not self.closing.is_set():
                handler.wfile.write(chunk[: size - sent])
                sent += len(chunk)
        except OSError:
            return  # the client gave up past its cap: what the test wants

    def _drip(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000000")
        handler.end_headers()
        try:
            while not self.closing.is_set():
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            return


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and a short body leave in one segment (flushed after each request),
    # so Nagle's algorithm does not hold the body back for a delayed ACK.
    wbufsize = 65536

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        owner = self.server.owner
        owner.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
        owner.answer(self, query)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return
