"""Resource limits that keep one workflow from starving the service (SPEC §2)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds on document size and expression cost.

    The defaults are the SPEC's; a deployment may raise or lower them, so every
    function that enforces one takes the `Limits` in force as an argument instead
    of reading a global.
    """

    max_nodes: int = 5000
    max_edges: int = 20000
    max_document_bytes: int = 5 * 1024 * 1024
    max_prompt_chars: int = 200_000
    max_expression_chars: int = 10_000
    expression_timeout_ms: int = 1000
    # jsonata's `stack` bound: nested evaluation depth, not Python frames.
    expression_max_depth: int = 500
    max_expression_input_bytes: int = 5 * 1024 * 1024
    max_inline_output_bytes: int = 64 * 1024


DEFAULT_LIMITS = Limits()
