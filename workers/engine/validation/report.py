"""Collecting problems, and the checks every part of a document shares.

A value with the wrong JSON type is reported once, as `invalid_type`, and then
ignored, so the rules about values (ranges, choices) never see it.
"""

import json
import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from workers.engine.document import JsonKind
from workers.engine.problems import Problem

# The largest integer a JavaScript number (the canvas) holds exactly. Larger
# integers are refused wherever a number goes: they are no one's real setting,
# and Python turns them into floats (or overflows) further down.
MAX_SAFE_INTEGER = 2**53 - 1


def is_number(value: object) -> bool:
    # bool is an int in Python but not a number in JSON; NaN and infinities
    # are not JSON either, although Python's json module accepts them.
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int) and not isinstance(value, bool)


_KIND_CHECKS: Mapping[JsonKind, Callable[[object], bool]] = {
    "string": lambda value: isinstance(value, str),
    "number": is_number,
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "any": lambda value: True,
}

_KIND_NAMES: Mapping[JsonKind, str] = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "object": "an object",
    "any": "any value",
}


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


class Where(NamedTuple):
    """Where a problem is: what the API reports besides code and message.

    A named tuple rather than a dataclass because one is made per node and
    per edge, and that is measurably cheaper.
    """

    field: str  # a JSON path; "" is the document itself
    node_id: str | None = None
    edge_id: str | None = None

    def at(self, key: str) -> "Where":
        """The member `key` of the object here."""
        if isinstance(key, str) and key.isidentifier():
            field = f"{self.field}.{key}" if self.field else key
        else:
            # Keys that are not identifiers (or, from YAML, not even strings).
            field = f"{self.field}[{json.dumps(str(key), ensure_ascii=False)}]"
        return Where(field, self.node_id, self.edge_id)


class Report:
    """The problems found so far, and the checks that add to them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, code: str, message: str, where: Where, position: int | None = None) -> None:
        self.problems.append(
            Problem(
                code=code,
                message=message,
                node_id=where.node_id,
                edge_id=where.edge_id,
                field=where.field or None,
                position=position,
            )
        )

    def warning(
        self, code: str, message: str, node_id: str | None = None, edge_id: str | None = None
    ) -> None:
        self.problems.append(
            Problem(code, message, severity="warning", node_id=node_id, edge_id=edge_id)
        )

    def typed_fields(
        self, values: Mapping[str, Any], kinds: Mapping[str, JsonKind], where: Where
    ) -> dict[str, Any]:
        """The non-null values of the `kinds` keys that have the right JSON type.

        Reports the others; keys not in `kinds` are allowed and ignored. An
        integer too large for the canvas to hold is reported as out of range.
        """
        typed = {}
        for key, value in values.items():
            kind = kinds.get(key)
            if kind is None or value is None:
                continue
            if not _KIND_CHECKS[kind](value):
                self.error("invalid_type", f"{key} must be {_KIND_NAMES[kind]}", where.at(key))
            elif isinstance(value, int) and kind != "any" and abs(value) > MAX_SAFE_INTEGER:
                self.error(
                    "out_of_range",
                    f"{key} is too large a number (the limit is ±{MAX_SAFE_INTEGER:,})",
                    where.at(key),
                )
            else:
                typed[key] = value
        return typed

    def object_at(self, value: object, what: str, where: Where) -> dict[str, Any] | None:
        """`value` if it is an object; otherwise report it and return None."""
        if isinstance(value, dict):
            return value
        self.error("invalid_type", f"{what} must be an object", where)
        return None

    def identifier(self, raw: Mapping[str, Any], key: str, what: str, where: Where) -> str | None:
        """A required non-empty string: an id, or an edge's source or target."""
        value = raw.get(key)
        if isinstance(value, str) and value:
            return value
        if value is None:
            self.error("missing_field", f"{what} has no {key}", where.at(key))
        else:
            self.error("invalid_type", f"{what}'s {key} must be a non-empty string", where.at(key))
        return None

    def check_between(
        self,
        typed: Mapping[str, Any],
        key: str,
        where: Where,
        low: float,
        high: float,
        *,
        low_excluded: bool = False,
    ) -> None:
        """A number within [low, high] (or (low, high]); reported as out of range."""
        value = typed.get(key)
        if value is None:
            return
        above_low = value > low if low_excluded else value >= low
        if above_low and value <= high:
            return
        lower = f"greater than {_number(low)}" if low_excluded else f"at least {_number(low)}"
        self.error(
            "out_of_range",
            f"{key} must be {lower} and at most {_number(high)}, not {_number(value)}",
            where.at(key),
        )

    def check_choice(
        self, typed: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: Where
    ) -> None:
        value = typed.get(key)
        if value is not None and value not in allowed:
            self.error(
                "invalid_value",
                f"{key} must be one of {', '.join(allowed)}, not {value!r}",
                where.at(key),
            )
