from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from server.accounts.models import ApiToken, Membership, hash_token_key
from server.accounts.scopes import required_scope
from server.accounts.selectors import ROLE_COLUMNS, ROLE_ORDER, remember_roles
from server.core.rows import instance_from_row, model_columns

# Writing last_used_at on every request would turn each read into a write.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_for_key(key: str) -> ApiToken | None:
    """The token of a raw key, with its user; None if unknown or its user is inactive.

    An expired token is returned: callers answer it with its own refusal.
    One plain statement (``server.core.rows``): every request a script makes
    runs it. It reads the user's roles too (a row per membership, oldest
    first, as ``roles_by_workspace`` orders them), which nearly every request
    asks for next: one round trip to the database instead of two.
    """
    user_model = get_user_model()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(ApiToken, 't')}, {model_columns(user_model, 'u')}, "
            f"{ROLE_COLUMNS} FROM {ApiToken._meta.db_table} t "
            f"JOIN {user_model._meta.db_table} u ON u.{user_model._meta.pk.column} = t.user_id "
            f"LEFT JOIN {Membership._meta.db_table} m ON m.user_id = t.user_id "
            f"WHERE t.key_hash = %s {ROLE_ORDER}",
            [hash_token_key(key)],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    split = len(ApiToken._meta.concrete_fields)
    users_end = split + len(user_model._meta.concrete_fields)
    token = instance_from_row(ApiToken, rows[0][:split], connection.alias)
    token.user = instance_from_row(user_model, rows[0][split:users_end], connection.alias)
    remember_roles(token.user, [row[users_end:] for row in rows])
    return token if token.user.is_active else None


def mark_used(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token <key>`` for scripts, within the token's scopes and lifetime.

    The scope check lives here rather than in a permission class so that no
    view's own ``permission_classes`` can leave it out.
    """

    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Token header takes exactly one key.")
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("The token key is not valid.") from exc
        token = token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.expired:
            raise exceptions.AuthenticationFailed("This token has expired.", code="token_expired")
        scope = required_scope(request)
        if scope not in token.scopes:
            raise exceptions.PermissionDenied(
                f"This token lacks the {scope!r} scope.", code="insufficient_scope"
            )
        mark_used(token)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes token auth in the OpenAPI schema (drf-spectacular finds it by subclassing)."""

    target_class = "server.accounts.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` (scopes read, run, write, admin); "
            "create keys at POST /api/v1/tokens/.",
        }
