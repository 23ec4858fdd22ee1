"""Parse a model's answer as JSON for ``response_format="json"`` nodes.

Even when asked for a JSON object, models often wrap it in a Markdown code fence;
that is a formatting habit, not a wrong answer, so the fence is removed first.
Anything else that does not parse is ``invalid_json``: not retryable, because the
same prompt tends to give the same kind of answer again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from workers.llm.types import ModelCallError

_FENCED = re.compile(r"\s*```[\w-]*[ \t]*\n?(?P<body>.*?)\n?[ \t]*```\s*", re.DOTALL)
_PREVIEW_CHARS = 200


def parse_json_answer(text: str) -> Any:
    fenced = _FENCED.fullmatch(text)
    candidate = fenced["body"] if fenced else text
    try:
        return json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise ModelCallError(
            "invalid_json",
            f"the model's answer is not valid JSON ({exc.msg} at line {exc.lineno}"
            f" column {exc.colno}): {text[:_PREVIEW_CHARS]!r}",
        ) from exc
