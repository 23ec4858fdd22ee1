"""The bridge between stored workflow documents and the engine's validator."""

import json
from typing import Any

from rest_framework import status

from server.core.errors import ApiError
from server.core.limits import engine_limits
from workers.engine.problems import STRUCTURAL_CODES, Problem
from workers.engine.validation import validate_document
from workers.llm.catalog import is_known_model

SCHEMA_VERSION = 1


def empty_document(name: str, description: str = "") -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "description": description,
        "settings": {
            "default_model": "mock/echo",
            "max_concurrency": 8,
            "error_policy": "stop",
            "budget": {"max_total_tokens": None, "max_cost_usd": None, "max_duration_s": 3600},
        },
        "inputs": {},
        "nodes": [],
        "edges": [],
    }


def encoded_size(document: Any) -> int:
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode())


def problems_of(document: Any) -> list[Problem]:
    return validate_document(
        document,
        limits=engine_limits(),
        is_known_model=is_known_model,
        document_bytes=encoded_size(document),
    )


def as_dicts(problems: list[Problem]) -> list[dict[str, object]]:
    return [p.as_dict() for p in problems]


def checked_document(document: Any) -> list[dict[str, object]]:
    """Validate a document about to be stored; refuse it if its shape is wrong.

    Shape problems (types, limits) mean the document cannot be edited or diffed
    sensibly, so nothing is stored. Graph problems (a cycle, an unknown model)
    are normal in a half-built graph: the document is stored and the problems are
    returned with it; running it is refused until they are fixed.
    """
    problems = problems_of(document)
    structural = [p for p in problems if p.code in STRUCTURAL_CODES]
    if structural:
        if any(p.code == "document_too_large" for p in structural):
            raise ApiError(
                "document_too_large",
                structural[0].message,
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                problems=as_dicts(structural),
            )
        raise ApiError("invalid_document", structural[0].message, problems=as_dicts(problems))
    return as_dicts(problems)


def has_errors(problems: list[dict[str, Any]]) -> bool:
    return any(p.get("severity") == "error" for p in problems)
