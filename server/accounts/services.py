"""Changes to workspaces, memberships and tokens."""

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from server.accounts.models import ApiToken, Membership, Role, Workspace, hash_token_key
from server.accounts.selectors import forget_roles
from server.core.errors import Conflict


@transaction.atomic
def create_workspace(*, owner: Any, name: str) -> Workspace:
    workspace = Workspace.objects.create(name=name)
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    forget_roles(owner)
    return workspace


def create_token(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """A new token and its key; the key exists only in this return value."""
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[: len(ApiToken.KEY_PREFIX) + 6],
        key_hash=hash_token_key(key),
    )
    return token, key


def _other_owners_exist(membership: Membership) -> bool:
    return (
        Membership.objects.select_for_update()
        .filter(workspace_id=membership.workspace_id, role=Role.OWNER)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def add_member(*, workspace: Workspace, user: Any, role: str) -> Membership:
    membership, created = Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": role}
    )
    if not created:
        raise Conflict("already_member", f"{user.username} is already a member of this workspace.")
    return membership


@transaction.atomic
def change_role(*, membership: Membership, role: str) -> Membership:
    if membership.role == Role.OWNER and role != Role.OWNER and not _other_owners_exist(membership):
        raise Conflict("last_owner", "A workspace needs at least one owner.")
    membership.role = role
    membership.save(update_fields=["role"])
    forget_roles(membership.user)
    return membership


@transaction.atomic
def remove_member(*, membership: Membership) -> None:
    if membership.role == Role.OWNER and not _other_owners_exist(membership):
        raise Conflict("last_owner", "A workspace needs at least one owner.")
    membership.delete()
    forget_roles(membership.user)


@transaction.atomic
def ensure_demo_user(*, username: str = "demo", password: str = "demo") -> Any:
    """The demo account of the embedded default: a user who owns one workspace."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username)
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    if not Membership.objects.filter(user=user).exists():
        create_workspace(owner=user, name="Demo workspace")
    return user
