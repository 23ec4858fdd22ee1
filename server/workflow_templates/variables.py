"""Typed template variables, substituted in the parsed document, never in JSON text.

A document refers to a variable as a whole value, ``{"$var": "topic"}``, which
becomes the typed value (a number stays a number), or inside a string as
``${topic}``, which becomes its text. Substitution is one pass over the data:
a value that itself contains ``${…}``, quotes, braces or ``{{`` is inserted as is.
A template's child workflows are named the same way, ``{"$child": "round"}``,
which becomes the id of the workflow made from its child ``round``.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

VARIABLE_TYPES = ("string", "number", "boolean", "model", "prompt", "enum")
NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]{0,63})\}")
_MAX_TEXT = 200_000


class VariableError(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def coerce(spec: Mapping[str, Any], value: Any, is_known_model: Callable[[str], bool]) -> Any:
    """The value checked against its variable's type, or VariableError."""
    name, kind = spec["name"], spec["type"]
    if kind in ("string", "prompt", "model", "enum"):
        if not isinstance(value, str):
            raise VariableError(name, "must be text")
        if len(value) > _MAX_TEXT:
            raise VariableError(name, f"is longer than {_MAX_TEXT:,} characters")
        if kind == "model" and not is_known_model(value):
            raise VariableError(name, f"unknown model {value!r}")
        if kind == "enum" and value not in spec.get("options", []):
            raise VariableError(name, f"must be one of {', '.join(spec.get('options', []))}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise VariableError(name, "must be a number")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise VariableError(name, "must be true or false")
        return value
    raise VariableError(name, f"has an unknown type {kind!r}")


def check_definitions(variables: Any, is_known_model: Callable[[str], bool]) -> list[str]:
    """Problems with a template's variable definitions (empty when they are sound)."""
    if not isinstance(variables, list):
        return ["variables must be a list"]
    problems: list[str] = []
    seen: set[str] = set()
    for index, spec in enumerate(variables):
        where = f"variables[{index}]"
        if not isinstance(spec, dict):
            problems.append(f"{where} must be an object")
            continue
        name = spec.get("name")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            problems.append(f"{where}.name must be an identifier")
            continue
        if name in seen:
            problems.append(f"{where}.name {name!r} is defined twice")
        seen.add(name)
        if spec.get("type") not in VARIABLE_TYPES:
            problems.append(f"{where}.type must be one of {', '.join(VARIABLE_TYPES)}")
            continue
        options = spec.get("options")
        if spec["type"] == "enum" and (
            not isinstance(options, list)
            or not options
            or not all(isinstance(o, str) for o in options)
        ):
            problems.append(f"{where}.options must list the enum's text values")
            continue
        if spec.get("default") is not None:
            try:
                coerce(spec, spec["default"], is_known_model)
            except VariableError as exc:
                problems.append(f"{where}.default {exc}")
    return problems


_EMPTY_VALUES: dict[str, Any] = {"string": "", "prompt": "", "number": 0, "boolean": False}


def resolve_values(
    variables: list[Mapping[str, Any]],
    given: Mapping[str, Any],
    is_known_model: Callable[[str], bool],
) -> dict[str, Any]:
    """Given values merged over defaults and type-checked; every problem at once."""
    known = {spec["name"] for spec in variables}
    errors = [f"{name}: not a variable of this template" for name in given if name not in known]
    values: dict[str, Any] = {}
    for spec in variables:
        name, kind = spec["name"], spec["type"]
        raw = given.get(name)
        if raw is None:
            raw = spec.get("default")
        if raw is None and not spec.get("required", True) and kind in _EMPTY_VALUES:
            raw = _EMPTY_VALUES[kind]
        if raw is None:
            errors.append(f"{name}: a value is required")
            continue
        try:
            values[name] = coerce(spec, raw, is_known_model)
        except VariableError as exc:
            errors.append(str(exc))
    if errors:
        raise VariableError("variables", "; ".join(errors))
    return values


class TooLarge(ValueError):
    """The substituted document would be larger than its limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"With these values the document would be larger than {limit:,} characters."
        )


def substitute(
    data: Any,
    values: Mapping[str, Any],
    *,
    max_chars: int,
    children: Mapping[str, str] | None = None,
) -> Any:
    """A copy of ``data`` with every variable reference replaced by its value.

    ``children``: the ids of the workflows made from the template's children,
    by key, for their ``{"$child": key}`` references.

    Counts the characters of the copy as it is made, and raises `TooLarge` as
    soon as they pass ``max_chars``: a long value referenced many times must
    not expand into gigabytes before a size check after the fact.
    """
    left = [max_chars]

    def spend(chars: int) -> None:
        left[0] -= chars
        if left[0] < 0:
            raise TooLarge(max_chars)

    def text_of(match: re.Match[str]) -> str:
        name = match[1]
        text = _as_text(values[name]) if name in values else match[0]
        spend(len(text) - len(match[0]))
        return text

    def copy(item: Any) -> Any:
        if isinstance(item, dict):
            if len(item) == 1 and isinstance(item.get("$var"), str) and item["$var"] in values:
                value = values[item["$var"]]
                spend(len(_as_text(value)))
                return value
            if len(item) == 1 and isinstance(item.get("$child"), str) and children:
                child_id = children.get(item["$child"])
                if child_id is not None:
                    spend(len(child_id))
                    return child_id
            copied = {}
            for key, member in item.items():
                spend(len(key) + 4)
                copied[key] = copy(member)
            return copied
        if isinstance(item, list):
            spend(2 + len(item))
            return [copy(member) for member in item]
        if isinstance(item, str):
            spend(len(item) + 2)
            return _REFERENCE.sub(text_of, item)
        spend(8)
        return item

    return copy(data)
