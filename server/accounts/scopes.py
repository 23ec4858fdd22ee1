"""Which token scope each API request needs.

One table for the whole API, read by the token authentication, so a view
cannot forget to check: reads need ``read``; starting, cancelling and
resuming runs need ``run``; managing tokens, members and a workspace's
settings (invitations too) needs ``admin``; every other change needs ``write``. Routes are
named by their URL names (``server/*/urls.py``); a new changing route is a
``write`` until it is listed here.
"""

from typing import Any

from rest_framework.permissions import SAFE_METHODS

from server.accounts.models import Scope

_ROUTE_SCOPES = {
    "workflow-runs": Scope.RUN,
    "run-cancel": Scope.RUN,
    "run-resume": Scope.RUN,
    "token-list": Scope.ADMIN,
    "token-detail": Scope.ADMIN,
    "workspace-detail": Scope.ADMIN,
    "workspace-members": Scope.ADMIN,
    "workspace-member": Scope.ADMIN,
    "workspace-invitations": Scope.ADMIN,
    "workspace-invitation": Scope.ADMIN,
    "invitation-accept": Scope.ADMIN,
}


def required_scope(request: Any) -> str:
    """The scope a token needs for this request (a DRF or Django request)."""
    if request.method in SAFE_METHODS:
        return Scope.READ
    match = getattr(request, "resolver_match", None)
    return _ROUTE_SCOPES.get(match.url_name if match else "", Scope.WRITE)
