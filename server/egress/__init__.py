"""The one guard every request to a user-given address goes through (docs/egress.md)."""

from server.egress.client import EgressResponse, check_destination, fetch
from server.egress.errors import (
    EgressError,
    EgressRateLimited,
    EgressRefused,
    EgressTimeout,
    EgressTooLarge,
    EgressUnreachable,
)
from server.egress.transport import GuardedTransport, shared_transport

__all__ = [
    "EgressError",
    "EgressRateLimited",
    "EgressRefused",
    "EgressResponse",
    "EgressTimeout",
    "EgressTooLarge",
    "EgressUnreachable",
    "GuardedTransport",
    "check_destination",
    "fetch",
    "shared_transport",
]
