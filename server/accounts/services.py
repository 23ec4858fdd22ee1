"""Changes to workspaces, memberships and tokens.

Nobody is made a member by someone else: an owner invites (``create_invitation``)
and membership comes only from the invited person accepting (``accept_invitation``).
"""

import logging
import secrets
import smtplib
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions

from server.accounts.models import (
    ApiToken,
    Invitation,
    Membership,
    Role,
    Scope,
    Workspace,
    hash_token_key,
)
from server.accounts.selectors import (
    forget_roles,
    invitation_by_token,
    invitation_refusal,
    pending_invitations,
)
from server.core.errors import ApiError, Conflict

logger = logging.getLogger(__name__)

# Pending invitations a workspace may have at once, so a script cannot fill the table.
MAX_PENDING_INVITATIONS = 200


@transaction.atomic
def create_workspace(
    *, owner: Any, name: str, monthly_budget_usd: Decimal | None = None
) -> Workspace:
    """A workspace its creator owns, within the operator's quota of workspaces per user."""
    # The user's row is locked so two concurrent creations cannot both pass the count.
    get_user_model().objects.select_for_update().filter(pk=owner.pk).exists()
    quota = settings.AGENTLOOM_WORKSPACES["max_per_user"]
    if Workspace.objects.filter(created_by=owner).count() >= quota:
        raise ApiError(
            "workspace_quota_exceeded",
            f"You have created {quota} workspaces, the most allowed.",
            status_code=403,
            limit=quota,
        )
    workspace = Workspace.objects.create(
        name=name, created_by=owner, monthly_budget_usd=monthly_budget_usd
    )
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    forget_roles(owner)
    return workspace


def create_token(
    *,
    user: Any,
    name: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
    minted_by: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its key; the key exists only in this return value.

    A token made with a token (``minted_by``) gets no scope and no day of life
    its maker lacks, so a leaked token cannot be turned into a stronger one.
    Scopes default to all the maker's; the lifetime to the operator's default.
    """
    now = timezone.now()
    allowed = set(minted_by.scopes) if minted_by else set(Scope.values)
    wanted = allowed if scopes is None else set(scopes)
    if not wanted <= allowed:
        raise ApiError(
            "token_scopes_exceed_caller",
            "A token cannot have scopes the token creating it lacks.",
            scopes=sorted(wanted - allowed),
        )
    latest = now + timedelta(days=settings.AGENTLOOM_TOKENS["max_ttl_days"])
    if minted_by is not None:
        latest = min(latest, minted_by.expires_at)
    if expires_at is None:
        default_ttl = timedelta(days=settings.AGENTLOOM_TOKENS["default_ttl_days"])
        expires_at = min(now + default_ttl, latest)
    elif expires_at <= now:
        raise ApiError("token_expiry_in_past", "expires_at must be in the future.")
    elif expires_at > latest:
        raise ApiError(
            "token_expiry_too_late",
            "expires_at is later than this token may live.",
            latest=latest.isoformat(),
        )
    key = ApiToken.new_key()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[: len(ApiToken.KEY_PREFIX) + 6],
        key_hash=hash_token_key(key),
        scopes=[scope for scope in Scope.values if scope in wanted],
        expires_at=expires_at,
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


def _members_matching(workspace: Workspace, *, email: str, username: str) -> bool:
    members = Membership.objects.filter(workspace=workspace)
    if username:
        return members.filter(user__username=username).exists()
    return members.filter(user__email__iexact=email).exists()


@transaction.atomic
def create_invitation(
    *, workspace: Workspace, invited_by: Any, role: str, email: str = "", username: str = ""
) -> tuple[Invitation, str]:
    """A pending invitation and its link's token, which exists only in this return value."""
    # Locked so that concurrent invitations cannot both pass the pending count.
    Workspace.objects.select_for_update().filter(pk=workspace.pk).exists()
    if _members_matching(workspace, email=email, username=username):
        raise Conflict("already_member", f"{email or username} is already a member.")
    if pending_invitations(workspace.pk).count() >= MAX_PENDING_INVITATIONS:
        raise Conflict(
            "too_many_invitations",
            f"This workspace has {MAX_PENDING_INVITATIONS} pending invitations; revoke some first.",
            limit=MAX_PENDING_INVITATIONS,
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        username=username,
        role=role,
        token_hash=hash_token_key(token),
        invited_by=invited_by,
    )
    return invitation, token


def email_invitation(invitation: Invitation, link: str) -> bool:
    """Sends the link to the invited address when the operator configured email.

    A mail server that is down does not undo the invitation: the owner still
    has the link to pass on, and the answer says it was not sent.
    """
    if not (invitation.email and settings.AGENTLOOM_INVITATIONS["send_email"]):
        return False
    inviter = invitation.invited_by.username if invitation.invited_by else "Someone"
    try:
        send_mail(
            subject=f"{inviter} invited you to {invitation.workspace.name} on Agentloom",
            message=(
                f"{inviter} invited you to the workspace {invitation.workspace.name} "
                f"as {invitation.role}.\n\nSign in and accept: {link}\n\n"
                f"The link works once and expires on {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
            ),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("invitation %s: email not sent: %s", invitation.pk, type(exc).__name__)
        return False
    return True


def _check_invitee(invitation: Invitation, user: Any) -> None:
    if invitation.username:
        matches = user.username == invitation.username
    else:
        matches = bool(user.email) and user.email.casefold() == invitation.email.casefold()
    if not matches:
        raise exceptions.PermissionDenied(
            f"This invitation is for {invitation.invitee}; sign in as that person to accept it."
        )


@transaction.atomic
def accept_invitation(*, token: str, user: Any) -> Membership:
    """The invited user joins with the invitation's role; the invitation is used up."""
    invitation = invitation_by_token(token, for_update=True)
    refusal = invitation_refusal(invitation)
    if refusal is not None:
        raise refusal
    _check_invitee(invitation, user)
    if Membership.objects.filter(workspace=invitation.workspace, user=user).exists():
        raise Conflict("already_member", "You are already a member of this workspace.")
    membership = Membership.objects.create(
        workspace=invitation.workspace, user=user, role=invitation.role
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    forget_roles(user)
    return membership


@transaction.atomic
def revoke_invitation(*, workspace_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
    """Revokes a pending invitation; one accepted meanwhile stays accepted (404 here)."""
    invitation = (
        pending_invitations(workspace_id)
        .select_for_update(of=("self",))
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        raise exceptions.NotFound("No pending invitation has this id.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


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
