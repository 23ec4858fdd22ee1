"""Changing credentials. The secret is encrypted here and never leaves as plain text,
except to the model call that uses it (resolution.py)."""

import uuid
from datetime import timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from server.accounts.models import Workspace
from server.core.errors import Conflict
from server.credentials.crypto import encrypt_secret
from server.credentials.models import Credential
from server.credentials.serializers import hint_of
from server.credentials.usage import users_of

# last_used_at is a "recently used?" signal, not a log: one write a minute at most.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def _version_key(workspace_id: uuid.UUID | str) -> str:
    return f"agentloom:credentials-version:{workspace_id}"


def credentials_version(workspace_id: uuid.UUID | str) -> str:
    """Changes whenever one of the workspace's credentials does (resolution.py's memo)."""
    return str(cache.get(_version_key(workspace_id)) or "0")


def credentials_changed(workspace_id: uuid.UUID | str) -> None:
    """A new version for the workspace, once the current transaction commits."""
    key = _version_key(workspace_id)
    transaction.on_commit(lambda: cache.set(key, uuid.uuid4().hex, timeout=None))


def _name_taken() -> Conflict:
    return Conflict("name_taken", "This workspace already has a credential with that name.")


def _take_default(credential: Credential) -> None:
    """Make ``credential`` its provider's only default; in the caller's transaction.

    The workspace row is locked first, so two credentials made default at once
    are ordered rather than refused by the one-default constraint.
    """
    Workspace.objects.select_for_update().filter(pk=credential.workspace_id).exists()
    Credential.objects.filter(
        workspace_id=credential.workspace_id, provider=credential.provider, is_default=True
    ).exclude(pk=credential.pk).update(is_default=False)


def create_credential(
    *,
    user: Any,
    workspace_id: uuid.UUID,
    name: str,
    provider: str,
    secret: dict[str, Any],
    config: dict[str, Any],
    is_default: bool = False,
) -> Credential:
    credential = Credential(
        workspace_id=workspace_id,
        name=name,
        provider=provider,
        config=config,
        secret_token=encrypt_secret(secret),
        hint=hint_of(secret),
        is_default=is_default,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            if is_default:
                _take_default(credential)
            credential.save()
    except IntegrityError:
        raise _name_taken() from None
    credentials_changed(credential.workspace_id)
    return credential


def update_credential(
    credential: Credential,
    *,
    name: str | None = None,
    secret: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    is_default: bool | None = None,
) -> Credential:
    """Rename, reconfigure, replace the secret (rotation by the user), make (no longer) default."""
    fields = ["updated_at"]
    if name is not None:
        credential.name = name
        fields.append("name")
    if config is not None:
        credential.config = config
        fields.append("config")
    if secret is not None:
        credential.secret_token = encrypt_secret(secret)
        credential.hint = hint_of(secret)
        fields += ["secret_token", "hint"]
    if is_default is not None:
        credential.is_default = is_default
        fields.append("is_default")
    try:
        with transaction.atomic():
            if is_default:
                _take_default(credential)
            credential.save(update_fields=fields)
    except IntegrityError:
        raise _name_taken() from None
    credentials_changed(credential.workspace_id)
    return credential


def delete_credential(credential: Credential) -> None:
    """Refused while a workflow's current version names it: its next run would fail."""
    users = users_of(credential)
    if users:
        raise Conflict(
            "in_use",
            f"{len(users)} workflow(s) use this credential; change them first.",
            workflows=[{"id": user.id, "name": user.name} for user in users],
        )
    credential.delete()
    credentials_changed(credential.workspace_id)


def mark_used(credential_id: uuid.UUID) -> None:
    now = timezone.now()
    Credential.objects.filter(pk=credential_id).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - _LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
