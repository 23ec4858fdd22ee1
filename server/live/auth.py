"""Who is on the other end of a websocket, and whether their page may talk to us.

Browsers authenticate with the session cookie and always send ``Origin``; we
accept only our own origins, which is what stops another site from opening a
socket with the user's cookie. Scripts authenticate with an API token (the
``Authorization: Token`` header, or ``?token=`` where headers cannot be set)
and may omit ``Origin``.
"""

from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import validate_host

from server.accounts.authentication import mark_used, token_for_key
from server.accounts.models import ApiToken, Scope


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


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, or None if it is not a web origin."""
    try:
        parts = urlsplit(url.strip())
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host or port is None:
        return None
    return scheme, host, port


def _trusted(origin: tuple[str, str, int], trusted_url: str) -> bool:
    # CSRF_TRUSTED_ORIGINS may name subdomains as "https://*.example.com", as Django allows.
    trusted = _origin(trusted_url.replace("://*.", "://wildcard.", 1))
    if trusted is None or (trusted[0], trusted[2]) != (origin[0], origin[2]):
        return False
    if "://*." in trusted_url:
        return origin[1].endswith(trusted[1].removeprefix("wildcard"))
    return trusted[1] == origin[1]


def _own_origin(scope: dict[str, Any]) -> tuple[str, str, int] | None:
    """The origin the socket was opened on: its Host header, on a host we serve."""
    host = _header(scope, b"host") or ""
    scheme = "https" if scope.get("scheme") == "wss" else "http"
    own = _origin(f"{scheme}://{host}")
    if own is None or not validate_host(own[1], settings.ALLOWED_HOSTS):
        return None
    return own


def origin_allowed(scope: dict[str, Any], *, by_token: bool) -> bool:
    """Scheme, host and port of ``Origin`` must be a trusted origin or the socket's own.

    The same rule as Django's CSRF check for unsafe requests: a page of
    http://agentloom.example:8080 or of plain http when we serve https is
    another site.
    """
    header = _header(scope, b"origin")
    if header is None:
        return by_token
    origin = _origin(header)
    if origin is None:
        return False
    if any(_trusted(origin, trusted) for trusted in settings.CSRF_TRUSTED_ORIGINS):
        return True
    return origin == _own_origin(scope)


def usable_token(key: str) -> ApiToken | None:
    """The token of a key if it may watch runs now: known, unexpired, with ``read``."""
    token = token_for_key(key)
    if token is None or token.expired or Scope.READ not in token.scopes:
        return None
    mark_used(token)
    return token


class TokenAuthMiddleware:
    """Sets ``scope["user"]`` (and ``scope["api_token"]``) from an API token when one is given.

    A token that is given but wrong, expired or without the ``read`` scope
    leaves the user anonymous, even if a session cookie came along: the
    caller asked to be someone specific.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key = token_key(scope)
        if key is not None:
            token = await database_sync_to_async(usable_token, thread_sensitive=False)(key)
            scope = {
                **scope,
                "user": token.user if token else AnonymousUser(),
                "api_token": token,
                "auth_by_token": True,
            }
        return await self.app(scope, receive, send)
