"""Which workspaces a user belongs to, and with what role.

Every queryset of workspace-owned objects is filtered through
``workspace_ids_for``; that is what makes another workspace's objects a 404.
"""

import re
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import exceptions

from server.accounts.models import Invitation, Membership, hash_token_key
from server.core.errors import ApiError
from server.core.rows import as_uuid

# What ``secrets.token_urlsafe(32)`` makes; anything else names no invitation.
_INVITATION_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")

_CACHE_ATTR = "_agentloom_roles"


# A user's roles as read with the user's memberships (alias ``m``), oldest first.
ROLE_COLUMNS = "m.workspace_id, m.role"
ROLE_ORDER = "ORDER BY m.created_at, m.id"


def roles_by_workspace(user: Any) -> dict[uuid.UUID, str]:
    """The user's role in each of their workspaces, memoised on the user object.

    In the order the user joined them (oldest first), so that whatever picks
    "the first" of them picks the same one every time. DRF builds one user
    object per request, so this runs one query per request: a plain statement
    (``server.core.rows``); a script's token lookup reads them already.
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    if getattr(user, _CACHE_ATTR, None) is None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {ROLE_COLUMNS} FROM {Membership._meta.db_table} m "
                f"WHERE m.user_id = %s {ROLE_ORDER}",
                [user.pk],
            )
            remember_roles(user, cursor.fetchall())
    return getattr(user, _CACHE_ATTR)


def remember_roles(user: Any, rows: Iterable[tuple[Any, Any]]) -> None:
    """Memoise the user's roles from ``ROLE_COLUMNS`` rows in ``ROLE_ORDER``.

    A row of nulls (a ``LEFT JOIN`` finding no membership) adds none.
    """
    roles = {as_uuid(workspace): role for workspace, role in rows if workspace is not None}
    setattr(user, _CACHE_ATTR, roles)


def forget_roles(user: Any) -> None:
    """Drop the memoised roles after a membership change in the same request."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def workspace_ids_for(user: Any) -> list[uuid.UUID]:
    return list(roles_by_workspace(user))


def role_in(user: Any, workspace_id: uuid.UUID) -> str | None:
    return roles_by_workspace(user).get(workspace_id)


def pending_invitations(workspace_id: uuid.UUID) -> QuerySet[Invitation]:
    """Invitations of the workspace that can still be accepted."""
    return Invitation.objects.filter(
        workspace_id=workspace_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("invited_by")


def invitation_by_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation of a link, whatever its state; 404 for a token that names none."""
    if not _INVITATION_TOKEN.fullmatch(token):
        raise exceptions.NotFound("No invitation has this link.")
    invitations = Invitation.objects.select_related("workspace", "invited_by")
    if for_update:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(token_hash=hash_token_key(token)).first()
    if invitation is None:
        raise exceptions.NotFound("No invitation has this link.")
    return invitation


def invitation_refusal(invitation: Invitation) -> ApiError | None:
    """Why a known invitation can no longer be accepted (410), or None."""
    if invitation.revoked_at is not None:
        return ApiError("invitation_revoked", "This invitation was revoked.", status_code=410)
    if invitation.accepted_at is not None:
        return ApiError("invitation_used", "This invitation was already accepted.", status_code=410)
    if invitation.expires_at <= timezone.now():
        return ApiError("invitation_expired", "This invitation has expired.", status_code=410)
    return None
