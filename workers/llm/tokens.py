"""A tokenizer-free token estimate.

Used where no real count exists: the mock models' usage, a provider stream that ends
without a usage chunk, and pre-run estimates. The rule is the usual rule of thumb for
English text with BPE tokenizers: one token per four characters, rounded up (the
engine's ``estimate_tokens``, which the pre-run estimate uses too). It
needs no tokenizer download and is the same for every model, which keeps mock usage
deterministic.
"""

from __future__ import annotations

from workers.engine.estimate import estimate_tokens
from workers.llm.types import ModelRequest, Usage


def estimate_usage(request: ModelRequest, answer: str) -> Usage:
    """Usage of ``answer`` to ``request``: the prompt is the system plus the user prompt."""
    return Usage(
        prompt_tokens=estimate_tokens(request.system_prompt) + estimate_tokens(request.user_prompt),
        completion_tokens=estimate_tokens(answer),
    )
