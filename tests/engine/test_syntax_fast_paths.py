"""The syntax-check shortcuts must never call valid what jsonata rejects."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonata import Jsonata

from workers.engine.expressions import SIMPLE_PATH, check_syntax, clear_caches, syntax_shape
from workers.engine.limits import Limits


def jsonata_parses(text: str) -> bool:
    try:
        Jsonata(text)
    except Exception:
        return False
    return True


KEYWORDS = ["and", "or", "in", "true", "false", "null", "function"]
NAMES = ["a", "run", "text", "_x", "b2", "researcher-1", "x y", *KEYWORDS]

# Pieces of path-like text, including the near misses.
PIECES = [
    *NAMES,
    *(f"`{name}`" for name in NAMES),
    "$",
    "$$",
    "$x",
    "$1",
    ".",
    "..",
    "`",
    "``",
    " ",
    "\t",
    "\n",
    "\u00a0",
    "-",
    "1",
    "0.5",
    "[0]",
    "(",
    ")",
    '"',
    "'s'",
    "*",
    "λ",
    "é",
    "/*",
]


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(PIECES), max_size=8).map("".join))
@example("$.run.topic")
@example("`researcher-1`.text")
@example("a.true")
@example("a.1")
@example("`a``b`")
def test_the_simple_path_pattern_accepts_only_what_jsonata_parses(text: str) -> None:
    if SIMPLE_PATH.fullmatch(text):
        assert jsonata_parses(text), text


_STEP = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
    st.text(min_size=1, max_size=6).filter(lambda name: "`" not in name).map(lambda n: f"`{n}`"),
)
_HEAD = st.one_of(st.sampled_from(["$", "$$", "$run", "$_1"]), _STEP)
_BLANK = st.text(alphabet=" \t\n\r", max_size=2)


@settings(max_examples=2000)
@given(_BLANK, _HEAD, st.lists(_STEP, max_size=4), _BLANK)
def test_every_path_the_pattern_accepts_parses(
    before: str, head: str, steps: list[str], after: str
) -> None:
    text = before + ".".join([head, *steps]) + after
    if SIMPLE_PATH.fullmatch(text):
        assert jsonata_parses(text), text


@pytest.mark.parametrize(
    "text",
    ["$.run.topic", "research.text", "`researcher-1`.text", "$$", "$", "$run.topic", " a.b \n"],
)
def test_common_paths_take_the_fast_path(text: str) -> None:
    assert SIMPLE_PATH.fullmatch(text)


@pytest.mark.parametrize(
    "text", ["a.true", "true", "a.and", "a.1", "a..b", "a.", ".a", "`a", "a b", "$.run.`x`y", ""]
)
def test_near_misses_do_not(text: str) -> None:
    assert not SIMPLE_PATH.fullmatch(text)


# Expressions made of tokens, including digits in every role: numbers,
# names, strings, backquoted names and string escapes.
TOKENS = [
    "a",
    "b1",
    "$x",
    "$",
    "`n-1`",
    "0",
    "1",
    "7",
    "05",
    "0.5",
    "12.75",
    "98",
    '"a1"',
    "'9'",
    '"\\u00e9"',
    '"\\u12G4"',
    "true",
    "and",
    "function",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    "..",
    "+",
    "-",
    "*",
    "%",
    "=",
    "!=",
    ">",
    "<=",
    "&",
    "?",
    "~>",
    ":=",
    "$string",
    " ",
]


@settings(max_examples=3000)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=10).map("".join))
@example("a.05")
@example("[1..3]")
@example("$substring(x.text, 0, 400)")
@example('"\\u98ab"')
def test_expressions_differing_only_in_digits_parse_alike(text: str) -> None:
    shape = syntax_shape(text)
    if shape is not None:
        assert len(shape) == len(text)
        assert jsonata_parses(text) == jsonata_parses(shape), text


def test_check_syntax_agrees_with_jsonata_through_the_shortcuts() -> None:
    clear_caches()
    limits = Limits()
    for threshold in ("0.75", "0.5", "3", "10"):
        assert check_syntax(f"json.score > {threshold}", limits=limits) is None
    error = check_syntax("json.score > 9 +", limits=limits)
    assert error is not None
    assert error.code == "expression_syntax"
    assert error.position == len("json.score > 9 +")
