"""Whether a socket's caller may still watch what it watches.

A socket is authorised once, at connect; these checks run again every
``AGENTLOOM_WS_REAUTH_INTERVAL_S`` (``consumers.py``), so revoking a token,
ending a session, deactivating a user or removing a member reaches the
sockets already open, not only the next request.
"""

import uuid
from typing import Any

from django.contrib.auth import HASH_SESSION_KEY, get_user_model
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from server.accounts.models import ApiToken, Membership


def credentials_still_valid(scope: dict[str, Any]) -> bool:
    """The token is unexpired and not revoked, or the session still exists and
    was not ended by a password change; and the user is active."""
    user = get_user_model().objects.filter(pk=scope["user"].pk, is_active=True).first()
    if user is None:
        return False
    token = scope.get("api_token")
    if token is not None:
        return ApiToken.objects.filter(pk=token.pk, expires_at__gt=timezone.now()).exists()
    session = scope.get("session")
    key = getattr(session, "session_key", None)
    if session is None or key is None or not session.exists(key):
        return False
    return constant_time_compare(session.get(HASH_SESSION_KEY, ""), user.get_session_auth_hash())


def is_member(user: Any, workspace_id: uuid.UUID) -> bool:
    return Membership.objects.filter(user_id=user.pk, workspace_id=workspace_id).exists()


def member_workspace_ids(user: Any) -> set[uuid.UUID]:
    return set(Membership.objects.filter(user_id=user.pk).values_list("workspace_id", flat=True))
