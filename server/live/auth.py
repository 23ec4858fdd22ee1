"""Who is on the other end of a websocket, and whether their page may talk to us.

Browsers authenticate with the session cookie and always send ``Origin``; we
accept only our own origins, which is what stops another site from opening a
socket with the user's cookie. Scripts authenticate with an API token (the
``Authorization: Token`` header, or ``?token=`` where headers cannot be set)
and may omit ``Origin``.
"""

from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host

from server.accounts.authentication import user_for_token_key


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def token_key(scope: dict[str, Any]) -> str | None:
    header = _header(scope, b"authorization")
    if header:
        keyword, _, key = header.partition(" ")
        if keyword.lower() == "token" and key.strip():
            return key.strip()
        return None
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get("token")
    return values[0] if values else None


def origin_allowed(scope: dict[str, Any], *, by_token: bool) -> bool:
    origin = _header(scope, b"origin")
    if origin is None:
        return by_token
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    host = urlparse(origin).hostname or ""
    return validate_host(host, settings.ALLOWED_HOSTS)


class TokenAuthMiddleware:
    """Sets ``scope["user"]`` from an API token when one is given.

    A token that is given but wrong leaves the user anonymous, even if a
    session cookie came along: the caller asked to be someone specific.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key = token_key(scope)
        if key is not None:
            user = await database_sync_to_async(user_for_token_key, thread_sensitive=False)(key)
            scope = {**scope, "user": user or AnonymousUser(), "auth_by_token": True}
        return await self.app(scope, receive, send)
