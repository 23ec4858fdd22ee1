"""Checking a run's inputs against the workflow's declared ``inputs``."""

from collections.abc import Mapping
from typing import Any

from workers.engine.document import InputSpec

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def _has_type(value: Any, declared: str) -> bool:
    if declared == "number" and isinstance(value, bool):
        return False
    return isinstance(value, _JSON_TYPES.get(declared, (object,)))


def resolve_run_inputs(
    declared: Mapping[str, InputSpec], given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The inputs a run gets (defaults filled in) and every problem with them.

    Unknown names are refused rather than ignored: a typo in an input name
    would otherwise run the workflow without the value the caller meant.
    """
    errors = [f"{name}: not an input of this workflow" for name in given if name not in declared]
    resolved: dict[str, Any] = {}
    for name, spec in declared.items():
        value = given.get(name, spec.default)
        if value is None:
            if spec.required:
                errors.append(f"{name}: a value is required")
            continue
        if not _has_type(value, spec.type):
            errors.append(f"{name}: must be of type {spec.type}")
            continue
        resolved[name] = value
    return resolved, errors
