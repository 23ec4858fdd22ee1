"""Parsing a model's answer for ``response_format="json"``."""

from __future__ import annotations

import pytest

from workers.llm.json_answer import parse_json_answer
from workers.llm.types import ModelCallError


@pytest.mark.parametrize(
    "text",
    [
        '{"route": ["review"]}',
        '  {"route": ["review"]}\n',
        '```json\n{"route": ["review"]}\n```',
        '```\n{"route": ["review"]}\n```',
        '\n```JSON\n{"route": ["review"]}```  \n',
    ],
)
def test_json_is_parsed_with_or_without_a_code_fence(text: str) -> None:
    assert parse_json_answer(text) == {"route": ["review"]}


def test_any_json_value_is_accepted() -> None:
    assert parse_json_answer("[1, 2]") == [1, 2]


@pytest.mark.parametrize("text", ["", "Sure! Here it is: {route: review}", "```json\n{\n```"])
def test_text_that_is_not_json_is_invalid_json(text: str) -> None:
    with pytest.raises(ModelCallError) as raised:
        parse_json_answer(text)

    assert (raised.value.code, raised.value.retryable) == ("invalid_json", False)
    assert "not valid JSON" in raised.value.message
