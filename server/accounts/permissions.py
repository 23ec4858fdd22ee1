"""Role checks shared by every app.

A workspace the caller is not a member of does not exist for them (404);
a member without the needed role gets 403.
"""

import uuid
from collections.abc import Iterable
from typing import Any

from rest_framework import exceptions, permissions

from server.accounts.models import WRITE_ROLES, Role
from server.accounts.selectors import role_in, roles_by_workspace
from server.core.errors import ApiError


def require_role(user: Any, workspace_id: uuid.UUID, roles: Iterable[str]) -> str:
    role = role_in(user, workspace_id)
    if role is None:
        raise exceptions.NotFound("Workspace not found.")
    if role not in set(roles):
        raise exceptions.PermissionDenied("Your role in this workspace does not allow this.")
    return role


def workspace_for_write(user: Any, workspace_id: uuid.UUID | None) -> uuid.UUID:
    """The workspace a new object goes into: the one named, or the caller's default.

    The default is the writable workspace the caller joined first. Accepting an
    invitation to someone else's workspace therefore never changes where a
    caller's unaddressed writes go: the caller's own earlier workspace stays first.
    """
    if workspace_id is not None:
        require_role(user, workspace_id, WRITE_ROLES)
        return workspace_id
    roles = roles_by_workspace(user)
    for candidate, role in roles.items():
        if role in WRITE_ROLES:
            return candidate
    if roles:
        raise exceptions.PermissionDenied("You can only view your workspaces, not add to them.")
    raise ApiError("no_workspace", "You are not a member of any workspace.")


class WorkspaceRolePermission(permissions.BasePermission):
    """Reads for every member; writes for editors and owners (owners only if ``owner_writes``).

    Object views filter their querysets by membership first, so a foreign object
    never reaches this check: it is already a 404.
    """

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        workspace_id = getattr(obj, "workspace_id", None) or obj.pk
        role = role_in(request.user, workspace_id)
        if role is None:
            raise exceptions.NotFound()
        if request.method in permissions.SAFE_METHODS:
            return True
        allowed = {Role.OWNER} if getattr(view, "owner_writes", False) else WRITE_ROLES
        return role in allowed
