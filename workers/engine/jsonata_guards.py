"""jsonata-python with what an evaluation allocates bounded.

A deadline stops a long evaluation, but not a single allocation: `$pad("x",
2e8)` builds a 200 MB string in one C call before any timer can fire, a
recursion that doubles a string with `&` or an array with `$append` reaches
gigabytes in a few steps, and `[1..100000].$pad("", 1000000)` keeps a
megabyte per step for as long as the deadline lets it run. So:

* the operations whose result can be much larger than their arguments check
  the size their result would have first: the `&` operator and `[a..b]`
  ranges (`GuardedJsonata`), and `$pad`, `$join`, `$replace` and `$append`;
* every built-in function's result, and every `&` and range, is charged to
  the evaluation's allowance of characters and items, so that many calls
  which are each small enough cannot add up to gigabytes either.

A compiled `GuardedJsonata` looks functions up in `_GUARDED_FRAME`, which
holds the charged versions of all the built-ins, before jsonata's own frame.
The limits are the evaluating copy's (`start`); exceeding one raises
`OutputTooLarge`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from jsonata import Functions, Jsonata

# An evaluation's built-ins may build this many times what its result may
# hold, in all: room for intermediate values, not for gigabytes of them.
ALLOCATION_FACTOR = 4


class OutputTooLarge(Exception):
    """An operation would build more than the evaluation may."""


class GuardedJsonata(Jsonata):  # type: ignore[misc]  # jsonata has no type hints
    """A compiled expression whose evaluations are bounded in what they build."""

    max_chars = 0  # the longest string one operation may build
    max_items = 0  # the longest array one operation may build
    chars_left = 0  # what all the evaluation's operations may still build
    items_left = 0

    def __init__(self, expr: str) -> None:
        super().__init__(expr)
        self.environment = Jsonata.Frame(_GUARDED_FRAME)

    def start(self, *, max_chars: int, max_items: int) -> None:
        """Set the limits of the evaluation about to run on this (copied) instance."""
        self.max_chars = max_chars
        self.max_items = max_items
        self.chars_left = ALLOCATION_FACTOR * max_chars
        self.items_left = ALLOCATION_FACTOR * max_items

    def evaluate_string_concat(self, lhs: Any, rhs: Any) -> str:
        left = "" if lhs is None else Functions.string(lhs, None)
        right = "" if rhs is None else Functions.string(rhs, None)
        check_chars("the & operator", len(left) + len(right))
        result = left + right
        _charge(result)
        return result

    def evaluate_range_expression(self, lhs: Any, rhs: Any) -> Any:
        # The checks jsonata makes first (types, order) keep their own errors.
        if _is_int(lhs) and _is_int(rhs) and rhs >= lhs:
            check_items("a [..] range", rhs - lhs + 1)
        result = super().evaluate_range_expression(lhs, rhs)
        _charge(result)
        return result


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _current() -> GuardedJsonata:
    # jsonata's own per-thread "current instance", which `expressions` sets to
    # the evaluating copy; a plain instance would mean a caller bypassed it.
    instance = Jsonata.CURRENT.jsonata
    if not isinstance(instance, GuardedJsonata):
        raise RuntimeError("a guarded function ran outside a guarded evaluation")
    return instance


def check_chars(operation: str, size: int) -> None:
    instance = _current()
    if size > instance.max_chars:
        raise _too_large(operation, size, instance.max_chars, "characters")
    if size > instance.chars_left:
        raise _too_much_in_all(instance, "characters")


def check_items(operation: str, size: int) -> None:
    instance = _current()
    if size > instance.max_items:
        raise _too_large(operation, size, instance.max_items, "items")
    if size > instance.items_left:
        raise _too_much_in_all(instance, "items")


def _charge(result: Any) -> None:
    if isinstance(result, str):
        instance = _current()
        instance.chars_left -= len(result)
        if instance.chars_left < 0:
            raise _too_much_in_all(instance, "characters")
    elif isinstance(result, list):
        instance = _current()
        instance.items_left -= len(result)
        if instance.items_left < 0:
            raise _too_much_in_all(instance, "items")


def _too_large(operation: str, size: int, limit: int, unit: str) -> OutputTooLarge:
    return OutputTooLarge(f"{operation} would build {size:,} {unit}; the limit is {limit:,}")


def _too_much_in_all(instance: GuardedJsonata, unit: str) -> OutputTooLarge:
    limit = ALLOCATION_FACTOR * (instance.max_chars if unit == "characters" else instance.max_items)
    return OutputTooLarge(
        f"the expression's operations would build more than {limit:,} {unit} in all"
    )


class _PreChecked:
    """The built-ins whose result outgrows their arguments, checked first."""

    @staticmethod
    def pad(string: str | None, width: Any, char: str | None) -> str | None:
        if isinstance(string, str) and isinstance(width, int | float) and math.isfinite(width):
            check_chars("$pad", max(len(string), abs(int(width))))
        padded: str | None = Functions.pad(string, width, char)
        return padded

    @staticmethod
    def join(strs: Sequence[str] | None, separator: str | None) -> str | None:
        if strs is not None and not isinstance(strs, str):
            separators = len(separator or "") * max(len(strs) - 1, 0)
            check_chars("$join", sum(map(len, strs)) + separators)
        joined: str | None = Functions.join(strs, separator)
        return joined

    @staticmethod
    def replace(string: str | None, pattern: Any, replacement: Any, limit: Any) -> str | None:
        if isinstance(string, str) and isinstance(replacement, str):
            check_chars("$replace", _replaced_size(string, pattern, replacement, limit))
        replaced: str | None = Functions.replace(string, pattern, replacement, limit)
        return replaced

    @staticmethod
    def append(arg1: Any, arg2: Any) -> Any:
        check_items("$append", sum(len(a) if isinstance(a, list) else 1 for a in (arg1, arg2)))
        return Functions.append(arg1, arg2)


def _replaced_size(string: str, pattern: Any, replacement: str, limit: Any) -> int:
    """An upper bound on the length of `$replace(string, pattern, replacement, limit)`.

    Each match adds the replacement, and each `$n` in it at most the match
    itself; matches do not overlap, so all `$n` of all matches together add at
    most `len(string)` each. (A function as the replacement is charged by its
    results, one match at a time.)
    """
    if isinstance(pattern, str):
        matches = string.count(pattern) if pattern else 0
    elif Functions.is_regex(pattern):
        matches = sum(1 for _ in pattern.finditer(string))
    else:
        return len(string)
    if isinstance(limit, int | float) and math.isfinite(limit):
        matches = min(matches, max(int(limit), 0))
    references = replacement.count("$")
    return len(string) + matches * len(replacement) + references * len(string)


class _Charged(Jsonata.JNativeFunction):  # type: ignore[misc]  # jsonata has no type hints
    """A built-in whose results are charged to the evaluation's allowance."""

    def __init__(self, builtin: Any) -> None:
        # Not JNativeFunction.__init__, which would parse the signature again.
        self.__dict__.update(vars(builtin))

    def call(self, input: Any, args: Any) -> Any:
        result = super().call(input, args)
        _charge(result)
        return result


def _guarded_frame() -> Any:
    frame = Jsonata.Frame(Jsonata.static_frame)
    for name, builtin in Jsonata.static_frame.bindings.items():
        charged = _Charged(builtin)
        if name in vars(_PreChecked):
            # The same parameters as the built-in's, so its signature and
            # argument count still apply.
            charged.method = getattr(_PreChecked, name)
        frame.bind(name, charged)
    return frame


_GUARDED_FRAME = _guarded_frame()
