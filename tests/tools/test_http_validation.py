"""The http node's validation rules, hostile configs included (pure engine)."""

import json

import pytest

from workers.engine.catalog import engine_catalog
from workers.engine.http_request import HttpConfig
from workers.engine.validation import validate_document


def problems(**config):
    doc = {
        "schema_version": 1,
        "name": "x",
        "nodes": [{"id": "h", "type": "http", "data": {"config": config}}],
        "edges": [],
    }
    return {(p.code, p.field) for p in validate_document(doc) if p.severity == "error"}


def at(key: str) -> str:
    return f"nodes[0].data.config.{key}"


def test_new_node_from_the_catalog_is_valid():
    config = engine_catalog()["node_types"]["http"]["default_config"]
    assert problems(**config) == set()
    parsed = HttpConfig.from_config(config)
    assert parsed.side_effect == "none"
    assert parsed.timeout_s == 30.0


def test_required_and_choices():
    assert ("missing_required", at("url")) in problems(method="GET")
    assert ("invalid_value", at("method")) in problems(method="FETCH", url="https://x")
    found = problems(url="https://x", response_format="xml", side_effect="maybe")
    assert {("invalid_value", at("response_format")), ("invalid_value", at("side_effect"))} <= found


@pytest.mark.parametrize("timeout", [10**400, float("nan"), float("inf"), -1, 0, 3601, "30", True])
def test_hostile_timeouts(timeout):
    found = problems(url="https://x", timeout_s=timeout)
    assert {code for code, field in found if field == at("timeout_s")} & {
        "out_of_range",
        "invalid_type",
    }


def test_nul_line_breaks_and_huge_templates():
    assert ("invalid_value", at("url")) in problems(url="https://x/\x00")
    assert ("invalid_value", at("headers.X")) in problems(
        url="https://x", headers={"X": "a\r\nB: c"}
    )
    assert ("out_of_range", at("url")) in problems(url="https://x/" + "a" * 1_000_000)
    assert ("prompt_too_long", at("body")) in problems(url="https://x", body="{" * 1_000_000)
    assert ("invalid_value", at("headers.Host")) in problems(url="https://x", headers={"Host": "y"})
    assert ("invalid_type", at("headers.N")) in problems(url="https://x", headers={"N": 5})
    bad_name = problems(url="https://x", headers={"bad name\x00": "v"})
    assert any(code == "invalid_value" for code, _ in bad_name)
    many = {f"H{i}": "v" for i in range(51)}
    assert ("out_of_range", at("headers")) in problems(url="https://x", headers=many)


def test_placeholders_are_parsed():
    assert any(code.startswith("expression") for code, _ in problems(url="https://x/{{ ( }}"))
    assert any(
        code.startswith("expression")
        for code, _ in problems(url="https://x", headers={"A": "{{ $.a"})
    )


def test_compensation_rules():
    assert ("missing_required", at("compensation")) in problems(
        url="https://x", method="POST", side_effect="reversible"
    )
    assert ("invalid_value", at("compensation")) in problems(
        url="https://x", method="GET", compensation={"manual": "undo"}
    )
    reverse = {"url": "https://x/{{ response.json.id }}"}
    assert ("missing_required", at("compensation.method")) in problems(
        url="https://x", method="POST", side_effect="reversible", compensation=reverse
    )
    assert (
        problems(
            url="https://x",
            method="POST",
            side_effect="reversible",
            compensation={"method": "DELETE", **reverse},
        )
        == set()
    )
    assert ("invalid_type", at("compensation.manual")) in problems(
        url="https://x", method="POST", side_effect="reversible", compensation={"manual": ""}
    )


def test_retry_policy_is_checked_like_an_agents():
    found = problems(url="https://x", retry={"max_attempts": 10**400, "backoff": "random"})
    assert ("out_of_range", at("retry.max_attempts")) in found
    assert ("invalid_value", at("retry.backoff")) in found


def test_catalog_is_json():
    json.dumps(engine_catalog())
