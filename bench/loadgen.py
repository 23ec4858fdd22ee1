"""A lean HTTP/1.1 load generator for the throughput benches (API starts, webhooks).

The benches run their senders on the same two cores as the system they
measure. httpx spent about 4.5 ms of CPU per request here (a third of a core
at 70 requests/s, 0.3 of what the API process itself spent), and that CPU was
taken from the server. n8n's published figures come from a load generator on
a machine of its own. This one does what a bench needs and no more: one
keep-alive connection per sender, a POST with a JSON body, the status and the
body back (answers carry a Content-Length; chunked answers are refused).
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class ProtocolError(Exception):
    """An answer this generator does not read (no Content-Length, a broken status line)."""


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        if self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self._host}:{self._port}",
            f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            return await self._answer(self._reader)
        except (ProtocolError, asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            raise

    @staticmethod
    async def _answer(reader: asyncio.StreamReader) -> Answer:
        status_line = await reader.readline()
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ProtocolError(f"status line {status_line[:80]!r}")
        length = None
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length is None:
            raise ProtocolError("an answer without Content-Length")
        return Answer(int(parts[1]), await reader.readexactly(length))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
