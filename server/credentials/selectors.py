"""Reading credentials: what a caller may see, and which one a model call uses."""

import uuid
from typing import Any

from django.db.models import QuerySet

from server.accounts.selectors import workspace_ids_for
from server.credentials.models import Credential


def credentials_for(user: Any) -> QuerySet[Credential]:
    """The credentials of the caller's workspaces; anything else does not exist for them."""
    return Credential.objects.filter(workspace_id__in=workspace_ids_for(user))


def credential_in_workspace(
    workspace_id: uuid.UUID | str, credential_id: uuid.UUID | str
) -> Credential | None:
    """A node's ``credential``: found only in the run's own workspace."""
    try:
        key = uuid.UUID(str(credential_id))
    except ValueError:
        return None
    return (
        Credential.objects.filter(workspace_id=workspace_id, pk=key)
        .select_related("workspace")
        .first()
    )


def default_credential(workspace_id: uuid.UUID | str, provider: str) -> Credential | None:
    """The workspace's default for a provider: the one marked so, else its oldest."""
    return (
        Credential.objects.filter(workspace_id=workspace_id, provider=provider)
        .select_related("workspace")
        .order_by("-is_default", "created_at")
        .first()
    )
