"""The guarded connection layer: an httpx transport whose every socket is checked.

The check lives in httpcore's network backend, the one place every connection
is opened (first request, pooled reconnect, redirect target), so nothing can
reach the network around it. ``connect_tcp`` receives the URL's host name,
checks every address it resolves to (addresses.py) and connects to a checked
address itself; httpcore still wraps the socket in TLS with the host name as
SNI and verifies the certificate against it, and the pool keys connections by
host name, so a connection opened for one host never serves another.

A request may carry a deadline (``deadline`` below): every read, write and
handshake then waits at most until it, which makes the total timeout hard even
against a server that drips one byte at a time.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import threading
import time
import typing
from collections.abc import Iterator
from contextvars import ContextVar

import httpcore
import httpx
from django.conf import settings

from server.egress.addresses import checked_addresses

_deadline: ContextVar[float | None] = ContextVar("egress_deadline", default=None)


@contextlib.contextmanager
def deadline(at: float) -> Iterator[None]:
    """Bound every socket operation in this block by ``at`` (a ``time.monotonic`` value)."""
    token = _deadline.set(at)
    try:
        yield
    finally:
        _deadline.reset(token)


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    at = _deadline.get()
    if at is None:
        return timeout
    remaining = at - time.monotonic()
    if remaining <= 0:
        # A zero timeout would make the socket non-blocking, not expire it.
        raise expired("total timeout reached")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses that passed the check."""

    def __init__(self) -> None:
        self._plain = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        limits = settings.AGENTLOOM_EGRESS
        lookup_s = _bounded(timeout, httpcore.ConnectTimeout) or limits["connect_timeout_s"]
        addresses = checked_addresses(host, port, tuple(limits["allow"]), lookup_s)
        last_error = httpcore.ConnectError(f"no address of {host} accepted a connection")
        for ip in addresses:
            try:
                # An address literal: the plain backend connects without a lookup of its own.
                stream = self._plain.connect_tcp(
                    str(ip),
                    port,
                    _bounded(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
            except httpcore.ConnectError as exc:
                last_error = exc
                continue
            return _DeadlineStream(stream)
        raise last_error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not an outbound destination")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport over a connection pool that uses ``GuardedBackend``.

    Environment proxies are ignored on purpose (``trust_env`` is not consulted):
    a proxy would make the checked address the proxy's, not the destination's.
    Certificates are verified against the system's CA bundle unless an
    ``ssl_context`` says otherwise (the tests' own CA).
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool with the default backend and offers no argument
        # for another one; the pool is the transport's only state, so it is replaced.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(),
        )


_shared: tuple[int, GuardedTransport] | None = None
_shared_lock = threading.Lock()


def shared_transport() -> GuardedTransport:
    """This process's guarded transport (pools are not shared across a fork)."""
    global _shared
    pid = os.getpid()
    current = _shared
    if current is not None and current[0] == pid:
        return current[1]
    with _shared_lock:
        if _shared is None or _shared[0] != pid:
            _shared = (pid, GuardedTransport())
        return _shared[1]
