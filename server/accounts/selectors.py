"""Which workspaces a user belongs to, and with what role.

Every queryset of workspace-owned objects is filtered through
``workspace_ids_for``; that is what makes another workspace's objects a 404.
"""

import uuid
from typing import Any

from server.accounts.models import Membership

_CACHE_ATTR = "_agentloom_roles"


def roles_by_workspace(user: Any) -> dict[uuid.UUID, str]:
    """The user's role in each of their workspaces, memoised on the user object.

    DRF builds one user object per request, so this runs one query per request.
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("workspace_id", "role"))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user: Any) -> None:
    """Drop the memoised roles after a membership change in the same request."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def workspace_ids_for(user: Any) -> list[uuid.UUID]:
    return list(roles_by_workspace(user))


def role_in(user: Any, workspace_id: uuid.UUID) -> str | None:
    return roles_by_workspace(user).get(workspace_id)
