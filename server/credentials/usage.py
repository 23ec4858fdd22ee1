"""Which workflows name a credential: asked of the workflows app, which sits above this one.

The workflows app imports this one (validation asks which models a
workspace's credentials make available). Deleting a credential, and the page
that shows where each is used, need the answer the other way round; the
workflows app gives it through this signal (connected in its AppConfig), so
this app never imports it.
"""

from dataclasses import dataclass
from typing import cast

from django.dispatch import Signal

from server.credentials.models import Credential

# Sent with ``credential``; each receiver returns a list of CredentialUser.
credential_users = Signal()


@dataclass(frozen=True)
class CredentialUser:
    """A workflow whose current version names the credential."""

    id: str
    name: str


def users_of(credential: Credential) -> list[CredentialUser]:
    found: list[CredentialUser] = []
    for _receiver, users in credential_users.send(sender=Credential, credential=credential):
        found.extend(cast(list[CredentialUser], users))
    return found
