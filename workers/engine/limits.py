"""Resource limits that keep one workflow from starving the service.

The defaults live here only: settings.py reads its overrides with these as
defaults, and the frontend gets them from the engine's catalog
(docs/workflow-document.md, "Limits").
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Upper bounds on document size and expression cost.

    A deployment may raise or lower the defaults, so every
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
    # One ExpressionBudget per API request, node run or validation pass: the
    # time all its expressions share, the size of one result (or rendered
    # prompt), and the longest array one operation may build.
    request_expression_ms: int = 3000
    node_expression_ms: int = 10_000
    validation_parse_ms: int = 3000
    max_expression_result_bytes: int = 5 * 1024 * 1024
    max_expression_items: int = 1_000_000
    # Upper bounds on the numbers a document sets (validation: out_of_range).
    max_agent_tokens: int = 1_000_000
    max_node_timeout_s: float = 3600.0
    max_retry_attempts: int = 20
    max_retry_delay_ms: int = 3_600_000
    max_concurrency: int = 5000
    max_run_tokens: int = 1_000_000_000
    max_run_cost_usd: float = 1_000_000.0
    max_run_duration_s: float = 7 * 24 * 3600.0
    max_mock_latency_ms: int = 600_000


DEFAULT_LIMITS = Limits()
