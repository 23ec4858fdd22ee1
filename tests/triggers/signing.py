"""Calling /hooks/<token> the way docs/triggers.md tells a script to."""

import hashlib
import hmac
import time
from typing import Any


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Agentloom-Timestamp": stamp, "X-Agentloom-Signature": f"sha256={digest}"}


def as_django_headers(headers: dict[str, Any]) -> dict[str, Any]:
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
