"""JSONata expressions: syntax checks, bounded evaluation and prompt templates.

Everything that runs user-written JSONata goes through here, so that every
caller gets the same limits and the same errors. What we found in
jsonata-python 0.7.1, and what this module does about it:

* Its `timeout`/`stack` bounds belong to a `Jsonata` object and the clock
  starts when the object is constructed, not when it is evaluated: a cached
  object with a 1 s timeout fails every evaluation made a second after it was
  compiled, and its depth counter is not reset when an evaluation raises. So
  compiled objects are cached without bounds, and each evaluation gets a fresh
  bounded frame.
* The timeout is only checked as the evaluator walks expression nodes; a
  builtin looping over a huge array never checks it. `deadline` interrupts
  those too.
* `evaluate()` without bindings writes `$` into the object's shared
  environment, and the evaluation context (including the `$now()` timestamp)
  lives in a per-thread "current" instance that any construction overwrites.
  So each evaluation passes a fresh bindings frame and runs on its own shallow
  copy of the cached object, made current for the thread. The parsed AST is
  shared read-only; this makes one cached object safe to use from many threads.
* Some inputs raise plain Python exceptions (IndexError, ValueError,
  ZeroDivisionError, RecursionError, …) instead of JSONata errors. Every
  failure becomes an `ExpressionError`.
* Results may be jsonata's own list subclasses; they are copied into plain
  JSON values so callers can serialise, hash and mutate them safely.
* A per-call timeout does not bound a request or a node run that evaluates
  many expressions (a prompt of 60 slow placeholders took 60 timeouts), and
  it cannot stop one C-level allocation. So every parse and evaluation made
  for one request or one node run draws from one `ExpressionBudget`, and the
  operations that allocate by their arguments check their result size first
  (`jsonata_guards`).
"""

from __future__ import annotations

import copy
import enum
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any, Generic, TypeVar

from jsonata import Functions, JException, Jsonata, Utils

from workers.engine.deadline import DeadlineExceeded, call_with_deadline
from workers.engine.expression_budget import ExpressionBudget, ExpressionError
from workers.engine.jsonata_guards import GuardedJsonata, OutputTooLarge
from workers.engine.limits import Limits

__all__ = [
    "SIMPLE_PATH",
    "ExpressionBudget",
    "ExpressionError",
    "check_syntax",
    "clear_caches",
    "evaluate",
    "evaluate_condition",
    "placeholders",
    "render_template",
    "scan_placeholders",
    "syntax_shape",
]

# Syntax fast path. A document holds thousands of placeholders and edge
# expressions, and compiling one costs 70 to 285 µs; most are plain paths such as
# `$.run.topic`, `research.text` or `` `researcher-1`.text ``, which this
# pattern accepts without compiling. It must never accept what jsonata would
# reject, so it is deliberately narrow: ASCII names that are not operators or
# literals (`and`, `true`, …), backquoted names, and `$`, `$$` or a variable
# as the first step. tests/engine/test_syntax_fast_paths.py checks it against
# jsonata.
_NAME = r"(?!(?:and|or|in|true|false|null|function)(?![A-Za-z0-9_]))[A-Za-z_][A-Za-z0-9_]*"
_STEP = rf"(?:{_NAME}|`[^`]+`)"
_HEAD = rf"(?:\$\$?|\$[A-Za-z_][A-Za-z0-9_]*|{_STEP})"
_BLANK = r"[ \t\n\r]*"  # exactly the characters jsonata's tokenizer skips
SIMPLE_PATH = re.compile(rf"{_BLANK}{_HEAD}(?:\.{_STEP})*{_BLANK}")


# Second fast path: expressions that differ only in their digits parse alike.
# jsonata's tokenizer and parser treat every non-zero digit the same way (the
# number pattern is `0|[1-9][0-9]*`, names and strings take any digit); only
# a number's value differs, and that matters to parsing only when it
# overflows, or inside a regex literal, which is compiled while parsing. So
# `json.score > 0.75` and `json.score > 0.5` share one check, and so do
# `$substring(x.text, 0, 400)` and `$substring(x.text, 0, 900)`. Same length,
# so positions are unchanged too.
_DIGITS_ALIKE = str.maketrans("23456789", "11111111")
_VALUE_MATTERS = re.compile(r"/|[0-9][eE]|[0-9]{16}")


def syntax_shape(text: str) -> str | None:
    """A text that parses exactly when `text` does, shared by look-alikes.

    None when the digits' values could matter: a regex literal, an exponent,
    or a number long enough to overflow.
    """
    if _VALUE_MATTERS.search(text):
        return None
    return text.translate(_DIGITS_ALIKE)


def check_syntax(
    text: str, *, limits: Limits, budget: ExpressionBudget | None = None
) -> ExpressionError | None:
    """The reason `text` is not a usable JSONata expression, or None.

    Returns the error rather than raising it: the validator collects them. A
    parse that runs out of time is a syntax problem ("too complex to parse"),
    cached like any other; one cut short by `budget` is reported as
    `expression_budget_exceeded` and not cached.
    """
    too_long = _length_error(text, limits)
    if too_long is not None:
        return too_long
    if SIMPLE_PATH.fullmatch(text):
        return None
    budget = budget or ExpressionBudget.per_call(limits)
    shape = syntax_shape(text)
    try:
        if shape is not None and _syntax_outcome(shape, limits, budget) is None:
            return None
        # Invalid: check the text itself for the exact message.
        outcome = _syntax_outcome(text, limits, budget)
    except ExpressionError as exhausted:
        return exhausted
    return None if outcome is None else ExpressionError("expression_syntax", *outcome)


def evaluate(
    text: str,
    data: Any,
    *,
    limits: Limits,
    budget: ExpressionBudget | None = None,
    bindings: Mapping[str, Any] | None = None,
) -> Any:
    """Evaluate `text` against `data`; the result as a plain JSON value.

    `bindings` become `$name` variables and, like `data`, must be JSON values.
    Undefined results are None. Without a `budget` the call has the
    per-expression limits only.
    """
    budget = budget or ExpressionBudget.per_call(limits)
    return _to_json(_evaluate_raw(text, data, limits, budget, bindings), budget)


def evaluate_condition(
    text: str,
    data: Any,
    *,
    limits: Limits,
    budget: ExpressionBudget | None = None,
    bindings: Mapping[str, Any] | None = None,
) -> bool:
    """Evaluate `text` as a condition.

    Any result is cast the way JSONata's `$boolean()` casts it, so a condition
    can be written naturally (`json.items` is true when there are items):
    undefined, null, false, 0, "", [], {} and functions are false; an array is
    true when any of its members is. A condition that refers to a missing
    field is therefore false rather than an error.
    """
    budget = budget or ExpressionBudget.per_call(limits)
    return bool(Functions.to_boolean(_evaluate_raw(text, data, limits, budget, bindings)))


def clear_caches() -> None:
    """Forget cached syntax checks and compiled expressions (for benchmarks)."""
    _syntax_outcomes.clear()
    _compiled_expressions.clear()


def _length_error(text: str, limits: Limits) -> ExpressionError | None:
    if len(text) <= limits.max_expression_chars:
        return None
    return ExpressionError(
        "expression_too_long",
        f"expression is {len(text):,} characters long; the limit is "
        f"{limits.max_expression_chars:,}",
    )


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Missing(enum.Enum):
    """What `_Lru.get` returns for a key it does not hold (None is a value)."""

    MISSING = enum.auto()


class _Lru(Generic[K, V]):
    """A small thread-safe LRU map (functools.lru_cache cannot store a
    failure without raising it, nor take a per-call timeout)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | _Missing:
        with self._lock:
            if key not in self._items:
                return _Missing.MISSING
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


# (message, position) of a parse failure, or None for a valid expression;
# keyed by (text, expression_timeout_ms). Failures include parses that ran out
# of the per-expression time: re-parsing them on every request is exactly the
# cost an attacker wants us to pay.
_syntax_outcomes: _Lru[tuple[str, int], tuple[str, int | None] | None] = _Lru(16384)
_compiled_expressions: _Lru[tuple[str, int], GuardedJsonata] = _Lru(1024)


def _syntax_outcome(
    text: str, limits: Limits, budget: ExpressionBudget
) -> tuple[str, int | None] | None:
    key = (text, limits.expression_timeout_ms)
    known = _syntax_outcomes.get(key)
    if not isinstance(known, _Missing):
        return known
    try:
        # Not kept compiled: a validation pass checks thousands of expressions,
        # which would push the ones runs evaluate out of that smaller cache.
        _parse_within(text, limits, budget)
    except ExpressionError as error:
        if error.code == "expression_budget_exceeded":
            raise
        return error.message, error.position
    return None


def _compiled(text: str, limits: Limits, budget: ExpressionBudget) -> GuardedJsonata:
    key = (text, limits.expression_timeout_ms)
    compiled = _compiled_expressions.get(key)
    if not isinstance(compiled, _Missing):
        return compiled
    known = _syntax_outcomes.get(key)
    if not isinstance(known, _Missing) and known is not None:
        raise ExpressionError("expression_syntax", *known)
    compiled = _parse_within(text, limits, budget)
    _compiled_expressions.put(key, compiled)
    return compiled


def _parse_within(text: str, limits: Limits, budget: ExpressionBudget) -> GuardedJsonata:
    """Parse `text` in the time `budget` allows; remember the outcome unless the
    budget, not the per-expression timeout, cut the parse short."""
    seconds, budget_bound = budget.allowance(limits)
    key = (text, limits.expression_timeout_ms)
    try:
        compiled = _parse(text, seconds)
    except ExpressionError as error:
        if error.code == "expression_timeout" and budget_bound:
            raise budget.exhausted() from None
        _syntax_outcomes.put(key, (error.message, error.position))
        raise
    _syntax_outcomes.put(key, None)
    return compiled


def _parse(text: str, seconds: float) -> GuardedJsonata:
    # The parser is quadratic on long paths (a 10,000-character `a.b.b…` took
    # 0.7 s) and recursive on nesting, so parsing is bounded like evaluation.
    try:
        return call_with_deadline(lambda: GuardedJsonata(text), seconds)
    except JException as error:
        raise ExpressionError(
            "expression_syntax", _jsonata_message(error), _position(error)
        ) from None
    except DeadlineExceeded:
        raise ExpressionError(
            "expression_timeout",
            f"expression is too complex to parse within {round(seconds * 1000)} ms",
        ) from None
    except RecursionError:
        raise ExpressionError("expression_syntax", "expression is nested too deeply") from None
    except Exception as error:
        # jsonata-python fails on some malformed input (e.g. an unterminated
        # comment) with a plain Python exception instead of a syntax error.
        raise ExpressionError(
            "expression_syntax", f"expression could not be parsed ({type(error).__name__})"
        ) from error


def _evaluate_raw(
    text: str,
    data: Any,
    limits: Limits,
    budget: ExpressionBudget,
    bindings: Mapping[str, Any] | None,
) -> Any:
    too_long = _length_error(text, limits)
    if too_long is not None:
        raise too_long
    _check_input_size(data, bindings, limits)
    compiled = _compiled(text, limits, budget)
    seconds, budget_bound = budget.allowance(limits)
    instance = copy.copy(compiled)
    instance.start(max_chars=budget.max_result_bytes, max_items=limits.max_expression_items)
    frame = Jsonata.Frame(None)
    frame.set_runtime_bounds(math.ceil(seconds * 1000), limits.expression_max_depth)
    for name, value in (bindings or {}).items():
        frame.bind(name, value)
    Jsonata.CURRENT.jsonata = instance
    out_of_time = budget.exhausted() if budget_bound else _timeout(limits)
    try:
        return call_with_deadline(lambda: instance.evaluate(data, frame), seconds)
    except DeadlineExceeded:
        raise out_of_time from None
    except OutputTooLarge as error:
        raise ExpressionError("expression_output_too_large", str(error)) from None
    except JException as error:
        if error.error == "D1012":
            raise out_of_time from None
        raise _runtime_error(error, limits) from None
    except RecursionError:
        raise _too_deep(limits) from None
    except MemoryError:
        raise ExpressionError(
            "expression_output_too_large", "evaluation ran out of memory"
        ) from None
    except Exception as error:
        raise ExpressionError(
            "expression_runtime", f"evaluation failed ({type(error).__name__}: {error})"
        ) from error


def _check_input_size(data: Any, bindings: Mapping[str, Any] | None, limits: Limits) -> None:
    try:
        encoded = json.dumps(
            [data, dict(bindings or {})], ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
    except (TypeError, ValueError, RecursionError) as error:
        raise ExpressionError(
            "expression_runtime", f"the expression's input is not JSON ({error})"
        ) from None
    if len(encoded) > limits.max_expression_input_bytes:
        raise ExpressionError(
            "expression_input_too_large",
            f"the expression's input is {len(encoded):,} bytes; the limit is "
            f"{limits.max_expression_input_bytes:,}",
        )


def _runtime_error(error: JException, limits: Limits) -> ExpressionError:
    if error.error == "D1011":
        return _too_deep(limits)
    return ExpressionError("expression_runtime", _jsonata_message(error), _position(error))


def _timeout(limits: Limits) -> ExpressionError:
    return ExpressionError(
        "expression_timeout",
        f"evaluation took longer than {limits.expression_timeout_ms} ms "
        "(an endless loop or recursion?)",
    )


def _too_deep(limits: Limits) -> ExpressionError:
    return ExpressionError(
        "expression_depth",
        f"evaluation nested deeper than {limits.expression_max_depth} levels "
        "(a recursion that does not end?)",
    )


def _jsonata_message(error: JException) -> str:
    return f"{error.error}: {error.args[0] if error.args else error}"


def _position(error: JException) -> int | None:
    location = getattr(error, "location", -1)
    return location if isinstance(location, int) and location >= 0 else None


def _to_json(value: Any, budget: ExpressionBudget) -> Any:
    size = [0]
    try:
        result = _copy_json(value, size, budget.max_result_bytes)
    except RecursionError:
        raise ExpressionError("expression_depth", "the result is nested too deeply") from None
    budget.check_result_size(size[0])
    return result


def _copy_json(value: Any, size: list[int], limit: int) -> Any:
    # `size` counts roughly the result's JSON length (characters, separators
    # ignored), so that copying stops as soon as the result is too large.
    if size[0] > limit:
        raise ExpressionError(
            "expression_output_too_large", f"the result is larger than {limit:,} bytes"
        )
    if value is None or isinstance(value, bool):
        size[0] += 5
        return value
    if isinstance(value, str):
        size[0] += len(value) + 2
        return value
    if isinstance(value, int):
        size[0] += 8
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError("expression_runtime", f"the result contains {value}, not JSON")
        size[0] += 8
        return value
    if isinstance(value, dict):
        copied = {}
        for key, item in value.items():
            size[0] += len(str(key)) + 3
            copied[str(key)] = _copy_json(item, size, limit)
        return copied
    if isinstance(value, list):
        size[0] += 2
        return [_copy_json(item, size, limit) for item in value]
    what = "function" if Utils.is_function(value) or Functions.is_lambda(value) else "value"
    raise ExpressionError(
        "expression_runtime",
        f"the result contains a {what} of type {type(value).__name__}, which JSON cannot hold",
    )


# Prompt templates: `{{ <JSONata> }}` placeholders in text.

# Inside a placeholder, the lexemes that may contain braces which do not
# count: string literals, backquoted names and comments. Regex literals are not
# recognised; a regex with an unbalanced brace or a quote must be written as
# a string passed to a function such as `$match`.
_PLACEHOLDER_LEXEME = re.compile(
    r"""
      "(?:[^"\\]|\\.)*"
    | '(?:[^'\\]|\\.)*'
    | `[^`]*`
    | /\*.*?\*/
    | \}\}
    | [{}]
    """,
    re.VERBOSE | re.DOTALL,
)


def placeholders(template: str) -> list[tuple[str, int]]:
    """Each placeholder's expression text and its offset in the template.

    A placeholder ends at the first `}}` outside the expression's own braces
    and strings, so `{{ {"a": {"b": 1}} }}` and `{{ "}}" }}` work.
    Raises ExpressionError for a `{{` that is never closed.
    """
    found, unclosed = scan_placeholders(template)
    if unclosed is not None:
        raise unclosed
    return found


def scan_placeholders(template: str) -> tuple[list[tuple[str, int]], ExpressionError | None]:
    """Like `placeholders`, but returns an unclosed `{{` as an error next to the
    placeholders before it, so a validator can still check those.
    """
    found: list[tuple[str, int]] = []
    opening = template.find("{{")
    while opening != -1:
        start = opening + 2
        end = _placeholder_end(template, start)
        if end is None:
            return found, ExpressionError(
                "expression_syntax", "placeholder is not closed with }}", opening
            )
        found.append((template[start:end], start))
        opening = template.find("{{", end + 2)
    return found, None


def render_template(
    template: str, data: Any, *, limits: Limits, budget: ExpressionBudget | None = None
) -> str:
    """Replace every placeholder with its value evaluated against `data`.

    Strings are inserted as they are, undefined and null as nothing, anything
    else as compact JSON. Errors carry their position in the template. All the
    placeholders share `budget` (each its own per-call limits without one),
    and the rendered text counts as one result against its size limit.
    """
    budget = budget or ExpressionBudget.per_call(limits)
    parts = []
    size = 0
    copied_up_to = 0
    for text, start in placeholders(template):
        parts.append(template[copied_up_to : start - 2])
        try:
            value = evaluate(text, data, limits=limits, budget=budget)
        except ExpressionError as error:
            raise error.shifted(start) from None
        parts.append(_as_text(value))
        size += len(parts[-2]) + len(parts[-1])
        budget.check_result_size(size, "the rendered text")
        copied_up_to = start + len(text) + 2
    parts.append(template[copied_up_to:])
    return "".join(parts)


def _placeholder_end(template: str, start: int) -> int | None:
    depth = 0
    position = start
    while (lexeme := _PLACEHOLDER_LEXEME.search(template, position)) is not None:
        text = lexeme.group()
        if text == "}}" and depth == 0:
            return lexeme.start()
        if text[0] == "{":
            depth += 1
        elif text[0] == "}":
            # Of a `}}` inside the expression only the first brace closes a
            # level; the second may end the placeholder.
            depth = max(depth - 1, 0)
            position = lexeme.start() + 1
            continue
        position = lexeme.end()
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
