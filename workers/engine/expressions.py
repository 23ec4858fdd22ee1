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
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal

from jsonata import Functions, JException, Jsonata, Utils

from workers.engine.deadline import DeadlineExceeded, call_with_deadline
from workers.engine.limits import Limits

ExpressionErrorCode = Literal[
    "expression_syntax",
    "expression_runtime",
    "expression_timeout",
    "expression_depth",
    "expression_too_long",
    "expression_input_too_large",
]


class ExpressionError(Exception):
    """A JSONata expression could not be parsed or evaluated.

    `position` is a character offset into the expression (into the template,
    for errors from `render_template` and `placeholders`), when known.
    """

    def __init__(
        self, code: ExpressionErrorCode, message: str, position: int | None = None
    ) -> None:
        super().__init__(message if position is None else f"{message} (at position {position})")
        self.code: ExpressionErrorCode = code
        self.message = message
        self.position = position

    def shifted(self, offset: int) -> ExpressionError:
        """The same error with its position moved by `offset` characters."""
        position = offset if self.position is None else offset + self.position
        return ExpressionError(self.code, self.message, position)


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


def check_syntax(text: str, *, limits: Limits) -> ExpressionError | None:
    """The reason `text` is not a usable JSONata expression, or None.

    Returns the error rather than raising it: the validator collects them.
    """
    too_long = _length_error(text, limits)
    if too_long is not None:
        return too_long
    if SIMPLE_PATH.fullmatch(text):
        return None
    shape = syntax_shape(text)
    try:
        if (
            shape is not None
            and _cached_syntax_problem(shape, limits.expression_timeout_ms) is None
        ):
            return None
        # Invalid: check the text itself for the exact message.
        problem = _cached_syntax_problem(text, limits.expression_timeout_ms)
    except ExpressionError as slow:
        return ExpressionError("expression_syntax", slow.message)
    return None if problem is None else ExpressionError("expression_syntax", *problem)


def evaluate(
    text: str, data: Any, *, limits: Limits, bindings: Mapping[str, Any] | None = None
) -> Any:
    """Evaluate `text` against `data`; the result as a plain JSON value.

    `bindings` become `$name` variables and, like `data`, must be JSON values.
    Undefined results are None.
    """
    return _to_json(_evaluate_raw(text, data, limits, bindings))


def evaluate_condition(
    text: str, data: Any, *, limits: Limits, bindings: Mapping[str, Any] | None = None
) -> bool:
    """Evaluate `text` as a condition.

    Any result is cast the way JSONata's `$boolean()` casts it, so a condition
    can be written naturally (`json.items` is true when there are items):
    undefined, null, false, 0, "", [], {} and functions are false; an array is
    true when any of its members is. A condition that refers to a missing
    field is therefore false rather than an error.
    """
    return bool(Functions.to_boolean(_evaluate_raw(text, data, limits, bindings)))


def clear_caches() -> None:
    """Forget cached syntax checks and compiled expressions (for benchmarks)."""
    _cached_syntax_problem.cache_clear()
    _compiled.cache_clear()


def _length_error(text: str, limits: Limits) -> ExpressionError | None:
    if len(text) <= limits.max_expression_chars:
        return None
    return ExpressionError(
        "expression_too_long",
        f"expression is {len(text):,} characters long; the limit is "
        f"{limits.max_expression_chars:,}",
    )


@lru_cache(maxsize=16384)
def _cached_syntax_problem(text: str, timeout_ms: int) -> tuple[str, int | None] | None:
    # Caches (message, position) rather than the exception, so no caller's
    # traceback is kept alive by the cache. A parse that ran out of time is
    # raised, not cached: the time depends on the machine's load.
    try:
        _parse(text, timeout_ms)
    except ExpressionError as error:
        if error.code != "expression_syntax":
            raise
        return error.message, error.position
    return None


@lru_cache(maxsize=1024)
def _compiled(text: str, timeout_ms: int) -> Jsonata:
    return _parse(text, timeout_ms)


def _parse(text: str, timeout_ms: int) -> Jsonata:
    # The parser is quadratic on long paths (a 10,000-character `a.b.b…` took
    # 0.7 s) and recursive on nesting, so parsing is bounded like evaluation.
    try:
        return call_with_deadline(lambda: Jsonata(text), timeout_ms / 1000)
    except JException as error:
        raise ExpressionError(
            "expression_syntax", _jsonata_message(error), _position(error)
        ) from None
    except DeadlineExceeded:
        raise ExpressionError(
            "expression_timeout", f"expression is too complex to parse within {timeout_ms} ms"
        ) from None
    except RecursionError:
        raise ExpressionError("expression_syntax", "expression is nested too deeply") from None
    except Exception as error:
        # jsonata-python fails on some malformed input (e.g. an unterminated
        # comment) with a plain Python exception instead of a syntax error.
        raise ExpressionError(
            "expression_syntax", f"expression could not be parsed ({type(error).__name__})"
        ) from error


def _evaluate_raw(text: str, data: Any, limits: Limits, bindings: Mapping[str, Any] | None) -> Any:
    too_long = _length_error(text, limits)
    if too_long is not None:
        raise too_long
    _check_input_size(data, bindings, limits)
    instance = copy.copy(_compiled(text, limits.expression_timeout_ms))
    frame = Jsonata.Frame(None)
    frame.set_runtime_bounds(limits.expression_timeout_ms, limits.expression_max_depth)
    for name, value in (bindings or {}).items():
        frame.bind(name, value)
    Jsonata.CURRENT.jsonata = instance
    try:
        return call_with_deadline(
            lambda: instance.evaluate(data, frame), limits.expression_timeout_ms / 1000
        )
    except DeadlineExceeded:
        raise _timeout(limits) from None
    except JException as error:
        raise _runtime_error(error, limits) from None
    except RecursionError:
        raise _too_deep(limits) from None
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
    if error.error == "D1012":
        return _timeout(limits)
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


def _to_json(value: Any) -> Any:
    try:
        return _copy_json(value)
    except RecursionError:
        raise ExpressionError("expression_depth", "the result is nested too deeply") from None


def _copy_json(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ExpressionError("expression_runtime", f"the result contains {value}, not JSON")
        return value
    if isinstance(value, dict):
        return {str(key): _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
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


def render_template(template: str, data: Any, *, limits: Limits) -> str:
    """Replace every placeholder with its value evaluated against `data`.

    Strings are inserted as they are, undefined and null as nothing, anything
    else as compact JSON. Errors carry their position in the template.
    """
    parts = []
    copied_up_to = 0
    for text, start in placeholders(template):
        parts.append(template[copied_up_to : start - 2])
        try:
            value = evaluate(text, data, limits=limits)
        except ExpressionError as error:
            raise error.shifted(start) from None
        parts.append(_as_text(value))
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
