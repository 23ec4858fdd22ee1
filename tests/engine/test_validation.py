"""validate_document: the document, settings, inputs and nodes, with exact codes and fields."""

import json
import math
from typing import Any

import pytest

from tests.engine.documents import edge, errors, node, pipeline, where, with_config
from workers.engine.limits import Limits
from workers.engine.validation import validate_document


def test_the_pipeline_is_valid_without_warnings() -> None:
    assert validate_document(pipeline()) == []


# The document


@pytest.mark.parametrize("doc", [[], "workflow", None, 42])
def test_a_document_must_be_an_object(doc: object) -> None:
    assert errors(doc) == [("invalid_document", None, None, None)]


@pytest.mark.parametrize("version", [None, 2, "1", True, 1.5])
def test_schema_version_must_be_1(version: object) -> None:
    doc = pipeline()
    doc["schema_version"] = version
    assert errors(doc) == [("unsupported_schema_version", "schema_version", None, None)]


def test_missing_schema_version() -> None:
    doc = pipeline()
    del doc["schema_version"]
    assert errors(doc) == [("unsupported_schema_version", "schema_version", None, None)]


def test_name_and_description_must_be_strings() -> None:
    doc = pipeline()
    doc["name"] = 7
    doc["description"] = ["x"]
    assert errors(doc) == [
        ("invalid_type", "name", None, None),
        ("invalid_type", "description", None, None),
    ]


@pytest.mark.parametrize("key", ["nodes", "edges"])
def test_nodes_and_edges_are_required_lists(key: str) -> None:
    doc = pipeline()
    del doc[key]
    assert ("missing_field", key, None, None) in errors(doc)
    doc[key] = {"a": 1}
    assert ("invalid_type", key, None, None) in errors(doc)


def test_document_size_limit_applies_when_the_size_is_given() -> None:
    doc = pipeline()
    size = len(json.dumps(doc))
    limits = Limits(max_document_bytes=size - 1)
    assert errors(doc, limits=limits, document_bytes=size) == [
        ("document_too_large", None, None, None)
    ]
    assert errors(doc, limits=Limits(max_document_bytes=size), document_bytes=size) == []
    assert errors(doc, limits=limits) == []


def test_node_and_edge_count_limits() -> None:
    doc = pipeline()
    assert errors(doc, limits=Limits(max_nodes=3, max_edges=2)) == [
        ("too_many_nodes", "nodes", None, None),
        ("too_many_edges", "edges", None, None),
    ]
    assert errors(doc, limits=Limits(max_nodes=4, max_edges=3)) == []


# Settings and inputs


def test_settings_must_be_an_object() -> None:
    doc = pipeline()
    doc["settings"] = "fast"
    # Without usable settings there is no default model either.
    assert errors(doc) == [
        ("invalid_type", "settings", None, None),
        ("missing_required", "nodes[1].data.config.model", "researcher-1", None),
        ("missing_required", "nodes[2].data.config.model", "reviewer-1", None),
    ]


def test_settings_may_be_absent_when_every_agent_has_a_model() -> None:
    doc = pipeline()
    del doc["settings"]
    assert ("missing_required", "nodes[1].data.config.model", "researcher-1", None) in errors(doc)
    for index in (1, 2):
        doc["nodes"][index]["data"]["config"]["model"] = "mock/echo"
    assert errors(doc) == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"max_concurrency": 0}, ("out_of_range", "settings.max_concurrency")),
        ({"max_concurrency": "8"}, ("invalid_type", "settings.max_concurrency")),
        ({"error_policy": "retry"}, ("invalid_value", "settings.error_policy")),
        ({"budget": []}, ("invalid_type", "settings.budget")),
        ({"budget": {"max_total_tokens": 0}}, ("out_of_range", "settings.budget.max_total_tokens")),
        (
            {"budget": {"max_total_tokens": 1.5}},
            ("invalid_type", "settings.budget.max_total_tokens"),
        ),
        ({"budget": {"max_cost_usd": -1}}, ("out_of_range", "settings.budget.max_cost_usd")),
        ({"budget": {"max_duration_s": "1h"}}, ("invalid_type", "settings.budget.max_duration_s")),
    ],
)
def test_bad_settings(settings: dict[str, Any], expected: tuple[str, str]) -> None:
    doc = pipeline()
    doc["settings"].update(settings)
    assert [(code, field) for code, field, _, _ in errors(doc)] == [expected]


def test_a_default_model_of_the_wrong_type_is_no_default_model() -> None:
    doc = pipeline()
    doc["settings"]["default_model"] = 3
    assert [code for code, *_ in errors(doc)] == [
        "invalid_type",
        "missing_required",
        "missing_required",
    ]
    assert errors(doc)[0] == ("invalid_type", "settings.default_model", None, None)


def test_good_settings() -> None:
    doc = pipeline()
    doc["settings"].update(
        max_concurrency=1,
        error_policy="continue",
        budget={"max_total_tokens": 10_000, "max_cost_usd": 0.5, "max_duration_s": None},
    )
    assert errors(doc) == []


def test_an_unknown_default_model_is_reported_once() -> None:
    def is_known(model: str) -> bool:
        return model != "mock/echo"

    assert errors(pipeline(), is_known_model=is_known) == [
        ("unknown_model", "settings.default_model", None, None)
    ]


def test_is_known_model_is_asked_once_per_model() -> None:
    asked: list[str] = []

    def is_known(model: str) -> bool:
        asked.append(model)
        return True

    doc = with_config(1, model="gpt-x")
    doc["nodes"][2]["data"]["config"]["model"] = "gpt-x"
    validate_document(doc, is_known_model=is_known)
    assert sorted(asked) == ["gpt-x", "mock/echo"]


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        ({"required": True}, ("missing_required", "inputs.topic.type")),
        ({"type": None}, ("missing_required", "inputs.topic.type")),
        ({"type": "date"}, ("invalid_value", "inputs.topic.type")),
        ({"type": 5}, ("invalid_type", "inputs.topic.type")),
        ({"type": "string", "required": "yes"}, ("invalid_type", "inputs.topic.required")),
        ("string", ("invalid_type", "inputs.topic")),
    ],
)
def test_bad_input_declarations(declaration: object, expected: tuple[str, str]) -> None:
    doc = pipeline()
    doc["inputs"] = {"topic": declaration}
    assert [(code, field) for code, field, _, _ in errors(doc)] == [expected]


@pytest.mark.parametrize("kind", ["string", "number", "boolean", "object", "array"])
def test_input_types(kind: str) -> None:
    doc = pipeline()
    doc["inputs"] = {"topic": {"type": kind, "required": False, "default": None}}
    assert errors(doc) == []


def test_input_names_that_are_not_identifiers_are_quoted_in_the_field() -> None:
    doc = pipeline()
    doc["inputs"] = {"my topic": {"type": "date"}}
    assert errors(doc) == [("invalid_value", 'inputs["my topic"].type', None, None)]


# Nodes


def test_a_node_must_be_an_object() -> None:
    doc = pipeline()
    doc["nodes"].append("node")
    assert errors(doc) == [("invalid_type", "nodes[4]", None, None)]


@pytest.mark.parametrize(
    ("node_id", "code"), [(None, "missing_field"), (5, "invalid_type"), ("", "invalid_type")]
)
def test_a_node_needs_a_string_id(node_id: object, code: str) -> None:
    doc = pipeline()
    doc["nodes"].append(node("x", "output"))
    doc["nodes"][4]["id"] = node_id
    assert (code, "nodes[4].id", None, None) in errors(doc)


def test_duplicate_node_ids() -> None:
    doc = pipeline()
    doc["nodes"].append(node("reviewer-1", "output"))
    assert errors(doc) == [("duplicate_node_id", "nodes[4].id", "reviewer-1", None)]


@pytest.mark.parametrize(
    ("node_type", "code"),
    [(None, "missing_field"), (3, "invalid_type"), ("planner", "unknown_node_type")],
)
def test_node_types(node_type: object, code: str) -> None:
    doc = pipeline()
    doc["nodes"][2]["type"] = node_type
    assert errors(doc) == [(code, "nodes[2].type", "reviewer-1", None)]


def test_an_unknown_node_type_does_not_make_its_edges_dangle() -> None:
    doc = pipeline()
    doc["nodes"][2]["type"] = "planner"
    assert [code for code, *_ in errors(doc)] == ["unknown_node_type"]


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("position", {"x": "left", "y": 0}, "nodes[1].position.x"),
        ("position", [0, 0], "nodes[1].position"),
        ("data", "researcher", "nodes[1].data"),
    ],
)
def test_node_shape_types(key: str, value: object, field: str) -> None:
    doc = pipeline()
    doc["nodes"][1][key] = value
    assert ("invalid_type", field, "researcher-1", None) in errors(doc)


def test_label_and_config_types() -> None:
    doc = pipeline()
    doc["nodes"][1]["data"] = {"label": 3, "config": "hot"}
    assert errors(doc) == [
        ("invalid_type", "nodes[1].data.label", "researcher-1", None),
        ("invalid_type", "nodes[1].data.config", "researcher-1", None),
    ]


def test_data_and_config_may_be_absent() -> None:
    doc = pipeline()
    del doc["nodes"][0]["data"]
    del doc["nodes"][3]["data"]["config"]
    del doc["nodes"][1]["position"]
    assert errors(doc) == []


def test_absent_data_still_has_to_satisfy_the_rules() -> None:
    doc = pipeline()
    doc["settings"]["default_model"] = None
    doc["nodes"].append({"id": "t", "type": "transformer"})
    doc["edges"].append(edge("e4", "reviewer-1", "t"))
    del doc["nodes"][1]["data"]
    doc["nodes"][2]["data"]["config"] = None
    assert errors(doc) == [
        ("missing_required", "nodes[1].data.config.model", "researcher-1", None),
        ("missing_required", "nodes[2].data.config.model", "reviewer-1", None),
        ("missing_required", "nodes[4].data.config.expression", "t", None),
    ]


AGENT = 1  # the researcher in pipeline()


@pytest.mark.parametrize(
    ("config", "code", "key"),
    [
        ({"temperature": "hot"}, "invalid_type", "temperature"),
        ({"temperature": True}, "invalid_type", "temperature"),
        ({"temperature": math.nan}, "invalid_type", "temperature"),
        ({"temperature": 2.01}, "out_of_range", "temperature"),
        ({"temperature": -0.1}, "out_of_range", "temperature"),
        ({"max_tokens": 0}, "out_of_range", "max_tokens"),
        ({"max_tokens": -5}, "out_of_range", "max_tokens"),
        ({"max_tokens": 10.5}, "invalid_type", "max_tokens"),
        ({"timeout_s": 0}, "out_of_range", "timeout_s"),
        ({"stream": "yes"}, "invalid_type", "stream"),
        ({"response_format": "xml"}, "invalid_value", "response_format"),
        ({"retry": 3}, "invalid_type", "retry"),
        ({"retry": {"max_attempts": 0}}, "out_of_range", "retry.max_attempts"),
        ({"retry": {"max_attempts": "3"}}, "invalid_type", "retry.max_attempts"),
        ({"retry": {"backoff": "random"}}, "invalid_value", "retry.backoff"),
        ({"retry": {"initial_delay_ms": -1}}, "out_of_range", "retry.initial_delay_ms"),
        ({"retry": {"max_delay_ms": -1}}, "out_of_range", "retry.max_delay_ms"),
        ({"retry": {"jitter": "yes"}}, "invalid_type", "retry.jitter"),
        ({"on_error": "retry"}, "invalid_value", "on_error"),
        ({"on_error": "fallback"}, "missing_required", "fallback_output"),
        ({"prompt": 42}, "invalid_type", "prompt"),
        ({"system_prompt": ["be nice"]}, "invalid_type", "system_prompt"),
        ({"model": 4}, "invalid_type", "model"),
    ],
)
def test_bad_agent_config(config: dict[str, Any], code: str, key: str) -> None:
    assert errors(with_config(AGENT, **config)) == [
        (code, f"nodes[1].data.config.{key}", "researcher-1", None)
    ]


@pytest.mark.parametrize(
    "config",
    [
        {"temperature": 0},
        {"temperature": 2},
        {"temperature": 1.25},
        {"temperature": None},
        {"max_tokens": 1},
        {"timeout_s": 0.5},
        {"stream": False},
        {"response_format": "json"},
        {"retry": {"max_attempts": 1, "backoff": "linear", "initial_delay_ms": 0}},
        {"retry": {"backoff": "fixed", "max_delay_ms": 0, "jitter": False}},
        {"retry": None},
        {"on_error": "continue"},
        {"on_error": "fallback", "fallback_output": {"text": "n/a"}},
        {"on_error": "fallback", "fallback_output": None},
        {"mock_latency_ms": 250, "mock_error": "rate_limit"},
        {"prompt": ""},
        {"prompt": None},
    ],
)
def test_good_agent_config(config: dict[str, Any]) -> None:
    assert errors(with_config(AGENT, **config)) == []


def test_a_model_is_needed_from_the_node_or_the_settings() -> None:
    doc = pipeline()
    doc["settings"]["default_model"] = None
    assert errors(doc) == [
        ("missing_required", "nodes[1].data.config.model", "researcher-1", None),
        ("missing_required", "nodes[2].data.config.model", "reviewer-1", None),
    ]
    doc["nodes"][1]["data"]["config"]["model"] = "mock/echo"
    doc["nodes"][2]["data"]["config"]["model"] = "  "
    assert errors(doc) == [("missing_required", "nodes[2].data.config.model", "reviewer-1", None)]


def test_an_unknown_node_model() -> None:
    def is_known(model: str) -> bool:
        return model.startswith("mock/")

    doc = with_config(AGENT, model="gpt-99")
    assert errors(doc, is_known_model=is_known) == [
        ("unknown_model", "nodes[1].data.config.model", "researcher-1", None)
    ]


def test_a_workflow_fallback_policy_needs_every_failing_node_to_have_a_fallback() -> None:
    doc = pipeline()
    doc["settings"]["error_policy"] = "fallback"
    doc["nodes"].append(node("t", "transformer", expression="$"))
    doc["edges"].append(edge("e4", "reviewer-1", "t"))
    # Not the output node: without an expression it cannot fail.
    assert [field for _, field, _, _ in errors(doc)] == [
        "nodes[1].data.config.fallback_output",
        "nodes[2].data.config.fallback_output",
        "nodes[4].data.config.fallback_output",
    ]
    doc["nodes"][3]["data"]["config"]["expression"] = "$"
    assert "nodes[3].data.config.fallback_output" in [field for _, field, _, _ in errors(doc)]
    for index in (1, 3, 4):
        doc["nodes"][index]["data"]["config"]["fallback_output"] = None
    doc["nodes"][2]["data"]["config"]["on_error"] = "stop"
    assert errors(doc) == []


@pytest.mark.parametrize("expression", [None, "", "   "])
def test_a_transformer_needs_an_expression(expression: object) -> None:
    doc = pipeline()
    doc["nodes"].append(node("t", "transformer", expression=expression))
    doc["edges"].append(edge("e4", "reviewer-1", "t"))
    assert errors(doc) == [("missing_required", "nodes[4].data.config.expression", "t", None)]
    del doc["nodes"][4]["data"]["config"]["expression"]
    assert errors(doc) == [("missing_required", "nodes[4].data.config.expression", "t", None)]


def test_transformer_and_output_expressions_must_parse() -> None:
    doc = pipeline()
    doc["nodes"].append(node("t", "transformer", expression="text +"))
    doc["edges"].append(edge("e4", "reviewer-1", "t"))
    doc["nodes"][3]["data"]["config"]["expression"] = "{'a': }"
    problems = [p for p in validate_document(doc) if p.severity == "error"]
    assert where(problems) == [
        ("expression_syntax", "nodes[3].data.config.expression", "out", None),
        ("expression_syntax", "nodes[4].data.config.expression", "t", None),
    ]
    assert problems[1].position == 6
    assert "S0207" in problems[1].message


def test_good_transformer_and_output_expressions() -> None:
    doc = pipeline()
    doc["nodes"].append(node("t", "transformer", expression='{"summary": $substring(text, 0, 9)}'))
    doc["edges"].append(edge("e4", "reviewer-1", "t"))
    doc["nodes"][3]["data"]["config"]["expression"] = "`reviewer-1`.text"
    assert errors(doc) == []


def test_expression_length_limit() -> None:
    doc = pipeline()
    doc["nodes"][3]["data"]["config"]["expression"] = "a" * 31
    assert errors(doc, limits=Limits(max_expression_chars=30)) == [
        ("expression_too_long", "nodes[3].data.config.expression", "out", None)
    ]
    assert errors(doc, limits=Limits(max_expression_chars=31)) == []


def test_placeholders_in_prompts_must_parse_and_report_their_position() -> None:
    prompt = "Research {{ $.run.topic }} then {{ $uppercase( }} now"
    problems = validate_document(with_config(AGENT, prompt=prompt))
    assert where(problems) == [
        ("expression_syntax", "nodes[1].data.config.prompt", "researcher-1", None)
    ]
    inner = prompt.index("$uppercase(")
    assert problems[0].position is not None
    assert inner < problems[0].position <= len(prompt) - len(" now")
    assert problems[0].message.startswith("a placeholder in prompt:")


def test_placeholders_in_system_prompts_are_checked_too() -> None:
    assert errors(with_config(AGENT, system_prompt="You are {{ role ! }}")) == [
        ("expression_syntax", "nodes[1].data.config.system_prompt", "researcher-1", None)
    ]


def test_every_bad_placeholder_is_reported_including_an_unclosed_one() -> None:
    prompt = "{{ a + }} and {{ b * }} and {{ c"
    problems = validate_document(with_config(AGENT, prompt=prompt))
    assert [p.code for p in problems] == ["expression_syntax"] * 3
    assert problems[2].position == prompt.index("{{ c")
    assert "not closed" in problems[2].message


def test_prompt_length_limit() -> None:
    doc = with_config(AGENT, prompt="x" * 101, system_prompt="y" * 100)
    assert errors(doc, limits=Limits(max_prompt_chars=100)) == [
        ("prompt_too_long", "nodes[1].data.config.prompt", "researcher-1", None)
    ]


def test_a_too_long_placeholder_is_too_long_not_a_syntax_error() -> None:
    doc = with_config(AGENT, prompt="{{ " + "a" * 30 + " }}")
    assert errors(doc, limits=Limits(max_expression_chars=30)) == [
        ("expression_too_long", "nodes[1].data.config.prompt", "researcher-1", None)
    ]
