"""The guard for asyncio clients built on ``httpx2`` (the ``mcp`` SDK's HTTP library).

The same rule as transport.py, on httpcore2's async network backend: every TCP
connection (first request, reconnect, a redirect the SDK follows) resolves the
host once, checks every address (addresses.py) and connects to a checked
address, never to the name. A response longer than the cap is cut off with
``EgressTooLarge`` as it is read, whether it announces its length or not.

A client library may catch what its transport raises and report something
vaguer ("stream ended"); the transport keeps the first guard error it raised
(``GuardedAsyncTransport.failure``) so the caller can report the real cause.
"""

from __future__ import annotations

import functools
import ssl
import typing
from collections.abc import AsyncIterator

import anyio.to_thread
import httpcore2
import httpx2
from django.conf import settings

from server.egress.addresses import checked_addresses
from server.egress.errors import EgressError, EgressTooLarge


class GuardedAsyncBackend(httpcore2.AsyncNetworkBackend):
    """Opens TCP connections only to addresses that passed the check."""

    def __init__(self, record: typing.Callable[[EgressError], None]) -> None:
        self._plain = httpcore2.AnyIOBackend()
        self._record = record

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        limits = settings.AGENTLOOM_EGRESS
        # The lookup blocks (getaddrinfo): off the event loop, bounded like a connect.
        try:
            addresses = await anyio.to_thread.run_sync(
                checked_addresses,
                host,
                port,
                tuple(limits["allow"]),
                timeout or limits["connect_timeout_s"],
            )
        except EgressError as exc:
            self._record(exc)
            raise
        last_error = httpcore2.ConnectError(f"no address of {host} accepted a connection")
        for ip in addresses:
            try:
                return await self._plain.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except httpcore2.ConnectError as exc:
                last_error = exc
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise httpcore2.ConnectError("unix sockets are not an outbound destination")

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class GuardedAsyncTransport(httpx2.AsyncHTTPTransport):
    """httpx2's transport over a pool that uses ``GuardedAsyncBackend``, with a size cap.

    Environment proxies are ignored on purpose, as in ``GuardedTransport``.
    """

    def __init__(self, max_response_bytes: int, ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=ssl_context or _default_ssl_context(),
            max_connections=10,
            max_keepalive_connections=5,
            keepalive_expiry=5.0,
            network_backend=GuardedAsyncBackend(self._record),
        )
        self._cap = max_response_bytes
        self.failure: EgressError | None = None

    def _record(self, error: EgressError) -> None:
        if self.failure is None:
            self.failure = error

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        host = request.url.host
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._cap:
            await response.aclose()
            error = EgressTooLarge(f"{host} announced {declared} bytes, over {self._cap}")
            self._record(error)
            raise error
        return httpx2.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self._cap, host, self._record),
            extensions=response.extensions,
        )


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """The system's CA bundle, loaded once per process: loading it takes tens of ms."""
    return ssl.create_default_context()


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(
        self, inner: typing.Any, cap: int, host: str, record: typing.Callable[[EgressError], None]
    ) -> None:
        self._inner = inner
        self._cap = cap
        self._host = host
        self._record = record

    async def __aiter__(self) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in self._inner:
            size += len(chunk)
            if size > self._cap:
                error = EgressTooLarge(f"{self._host} sent more than {self._cap} bytes")
                self._record(error)
                raise error
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()
