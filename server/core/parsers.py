"""A JSON parser that turns every bad body into a 4xx, never a 500.

DRF's stock parser lets ``RecursionError`` (deeply nested arrays) escape and
reads bodies of any size; this one caps the size first, then parses. The same
checks apply to JSON or YAML text a request carries inside a field (an
imported workflow): `plain_json_problem` says what keeps a parsed value from
being stored as JSONB and read back by every other part of the service.
"""

import json
import math
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from rest_framework import parsers, status

from server.core.errors import ApiError

# No workflow document or request needs more; deeper values would strain
# everything downstream (JSONB, JSONata, the browser) for no purpose.
MAX_DEPTH = 64


class NonJsonConstant(ValueError):
    """NaN, Infinity or -Infinity in JSON text, which Python's reader would accept."""


def refuse_constant(name: str) -> Any:
    """For `json.loads(parse_constant=...)`: JSON has no such numbers."""
    raise NonJsonConstant(f"{name} is not valid JSON")


def plain_json_problem(value: Any, *, max_depth: int = MAX_DEPTH) -> tuple[str, str] | None:
    """Why `value` is not a plain JSON value, as (code, message), or None.

    Plain means: objects with string keys, lists, strings without U+0000
    (PostgreSQL cannot store it in text), finite numbers, booleans and null,
    nested at most `max_depth` deep. YAML can produce more (NaN, infinities,
    bytes, sets, non-string keys); JSON text only NaN and infinities, which
    Python's json module accepts. Iterative, so no nesting hits the recursion
    limit.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
            for key in item:
                if not isinstance(key, str):
                    return "malformed_json", f"The object key {key!r} is not text."
                if "\x00" in key:
                    return _NUL
        elif isinstance(item, list):
            children = item
        else:
            problem = _scalar_problem(item)
            if problem is not None:
                return problem
            continue
        if depth > max_depth:
            return "malformed_json", f"The JSON body is nested deeper than {max_depth} levels."
        for child in children:
            # Scalars are checked here rather than pushed: most of a document is scalars.
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
            elif (problem := _scalar_problem(child)) is not None:
                return problem
    return None


_NUL = ("unsupported_character", "Text may not contain the NUL character (\\u0000).")


def _scalar_problem(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str):
        return _NUL if "\x00" in value else None
    if isinstance(value, float):
        return (
            None if math.isfinite(value) else ("malformed_json", f"{value} is not a JSON number.")
        )
    if value is None or isinstance(value, bool | int):
        return None
    return "malformed_json", f"A {type(value).__name__} value is not JSON."


class StrictJSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.AGENTLOOM_LIMITS["max_document_bytes"] + 256 * 1024
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise ApiError(
                "payload_too_large",
                f"The request body is larger than {limit:,} bytes.",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        if not raw.strip():
            raise ApiError("malformed_json", "The request body is empty; expected JSON.")
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
        except UnicodeDecodeError as exc:
            raise ApiError("malformed_json", "The request body is not UTF-8.") from exc
        except RecursionError as exc:
            raise ApiError("malformed_json", "The JSON body is nested too deeply.") from exc
        except ValueError as exc:
            raise ApiError("malformed_json", f"The request body is not valid JSON: {exc}") from exc
        problem = plain_json_problem(data)
        if problem is not None:
            raise ApiError(*problem)
        return data
