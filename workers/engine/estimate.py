"""The pre-run estimate of a run's tokens and cost (docs/run-semantics.md, "Budgets")."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workers.engine.document import RUN_KEY, Graph
from workers.engine.expressions import scan_placeholders

# A common rule of thumb for English text and code; the estimate only has to
# be the right order of magnitude, and needs no tokenizer (or litellm) here.
CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class NodeEstimate:
    """The estimated usage of one agent node."""

    node_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class RunEstimate:
    """Estimated tokens and cost of a run, shown before it starts.

    An upper bound in spirit: every agent is assumed to run and to use all of
    its `max_tokens`, although a coordinator may route around some of them.
    """

    prompt_tokens: int
    completion_tokens: int
    # A field rather than a property, so that `dataclasses.asdict` (the API's
    # JSON) includes it.
    total_tokens: int
    cost_usd: float
    nodes: tuple[NodeEstimate, ...]


def estimate_run(
    graph: Graph,
    run_inputs: Mapping[str, Any],
    price: Callable[[str], tuple[float, float]],
) -> RunEstimate:
    """Estimate every agent node's tokens and cost.

    `price(model)` returns the (input, output) price per token in USD. A node's
    prompt is its system prompt and prompt template, plus the upstream agents'
    `max_tokens` (what they may hand over), plus the run inputs when the node
    sees them (it has no prompt, or a placeholder in its prompt mentions `run`).
    """
    run_inputs_tokens = (
        estimate_tokens(json.dumps(run_inputs, ensure_ascii=False)) if run_inputs else 0
    )
    configs = {
        node.id: graph.agent_config(node.id) for node in graph.nodes.values() if node.is_agent
    }
    estimates = []
    for node_id, config in configs.items():
        upstream = sum(
            configs[edge.source].max_tokens
            for edge in graph.in_edges(node_id)
            if edge.source in configs
        )
        sees_run_inputs = config.prompt is None or any(
            RUN_KEY in expression for expression, _ in scan_placeholders(config.prompt)[0]
        )
        prompt_tokens = (
            estimate_tokens(config.system_prompt)
            + estimate_tokens(config.prompt or "")
            + upstream
            + (run_inputs_tokens if sees_run_inputs else 0)
        )
        input_price, output_price = price(config.model)
        estimates.append(
            NodeEstimate(
                node_id=node_id,
                model=config.model,
                prompt_tokens=prompt_tokens,
                completion_tokens=config.max_tokens,
                cost_usd=prompt_tokens * input_price + config.max_tokens * output_price,
            )
        )
    total_prompt = sum(estimate.prompt_tokens for estimate in estimates)
    total_completion = sum(estimate.completion_tokens for estimate in estimates)
    return RunEstimate(
        prompt_tokens=total_prompt,
        completion_tokens=total_completion,
        total_tokens=total_prompt + total_completion,
        cost_usd=sum(estimate.cost_usd for estimate in estimates),
        nodes=tuple(estimates),
    )


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` by the rule of thumb, rounded up; the mock models count the same way."""
    return -(-len(text) // CHARS_PER_TOKEN)
