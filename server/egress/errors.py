"""The errors of outbound requests, each with a stable ``code``.

Callers (http nodes, tools, webhooks, model calls) turn them into node errors or
API answers; the code says what happened, ``reason`` says why, in words that
never contain a secret (only the URL's host, port and the rule that applied).
"""


class EgressError(Exception):
    """An outbound request that did not complete."""

    code = "egress_failed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EgressRefused(EgressError):
    """The destination is not allowed: decided before any connection is opened."""

    code = "egress_refused"


class EgressTimeout(EgressError):
    code = "egress_timeout"


class EgressTooLarge(EgressError):
    code = "egress_too_large"


class EgressRateLimited(EgressError):
    code = "egress_rate_limited"

    def __init__(self, reason: str, wait_s: float) -> None:
        super().__init__(reason)
        self.wait_s = wait_s


class EgressUnreachable(EgressError):
    """The destination was allowed but could not be reached (DNS, refused connection, TLS)."""

    code = "egress_unreachable"
