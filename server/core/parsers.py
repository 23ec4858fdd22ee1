"""A JSON parser that turns every bad body into a 4xx, never a 500.

DRF's stock parser lets ``RecursionError`` (deeply nested arrays) escape and
reads bodies of any size; this one caps the size first, then parses.
"""

import json
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from rest_framework import parsers, status

from server.core.errors import ApiError

# No workflow document or request needs more; deeper values would strain
# everything downstream (JSONB, JSONata, the browser) for no purpose.
MAX_DEPTH = 64


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit`` (iterative: no recursion limit)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _contains_nul(value: Any) -> bool:
    """Whether any string (or key) holds U+0000, which PostgreSQL cannot store as text."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


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
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except UnicodeDecodeError as exc:
            raise ApiError("malformed_json", "The request body is not UTF-8.") from exc
        except RecursionError as exc:
            raise ApiError("malformed_json", "The JSON body is nested too deeply.") from exc
        except ValueError as exc:
            raise ApiError("malformed_json", f"The request body is not valid JSON: {exc}") from exc
        if _depth_exceeds(data, MAX_DEPTH):
            raise ApiError(
                "malformed_json", f"The JSON body is nested deeper than {MAX_DEPTH} levels."
            )
        # Only a body that spells out the escape can hold the character.
        if b"\\u0000" in raw and _contains_nul(data):
            raise ApiError(
                "unsupported_character", "Text may not contain the NUL character (\\u0000)."
            )
        return data
