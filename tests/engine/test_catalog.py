"""The engine's catalog: the node types, new-node configs and new document the frontend writes."""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from workers.engine.catalog import engine_catalog
from workers.engine.document import AGENT_TYPES, NODE_TYPES, SCHEMA_VERSION, Graph
from workers.engine.limits import DEFAULT_LIMITS
from workers.engine.validation import validate_document

ROOT = Path(__file__).resolve().parents[2]


def test_the_catalog_has_its_agreed_shape() -> None:
    catalog = engine_catalog()
    assert set(catalog) == {
        "schema_version",
        "node_types",
        "new_document",
        "limits",
        "served_model_name",
    }
    assert catalog["schema_version"] == SCHEMA_VERSION == 1
    assert list(catalog["node_types"]) == list(NODE_TYPES)
    for node_type, info in catalog["node_types"].items():
        assert set(info) == {"category", "has_target", "has_source", "default_config"}
        assert info["category"] == ("agent" if node_type in AGENT_TYPES else "control")
    assert catalog["node_types"]["input"]["has_target"] is False
    assert catalog["node_types"]["output"]["has_source"] is False
    assert catalog["node_types"]["transformer"]["default_config"] == {"expression": "$"}
    assert catalog["node_types"]["input"]["default_config"] == {}
    assert catalog["limits"] == dataclasses.asdict(DEFAULT_LIMITS)
    document = catalog["new_document"]
    assert set(document) == {
        "schema_version", "name", "description", "settings", "inputs", "nodes", "edges"
    }  # fmt: skip
    assert document["schema_version"] == SCHEMA_VERSION
    assert set(document["settings"]) == {
        "default_model", "max_concurrency", "error_policy", "budget"
    }  # fmt: skip
    assert (document["nodes"], document["edges"], document["inputs"]) == ([], [], {})


@pytest.mark.parametrize("node_type", AGENT_TYPES)
def test_a_new_agent_node_runs_with_the_engines_own_defaults(node_type: str) -> None:
    config = engine_catalog()["node_types"][node_type]["default_config"]
    assert set(config) == {
        "model", "temperature", "system_prompt", "prompt", "max_tokens", "timeout_s",
        "stream", "response_format", "retry", "on_error",
    }  # fmt: skip
    bare = Graph.from_document(
        {"nodes": [{"id": "a", "type": node_type}], "edges": [], "settings": {"default_model": "m"}}
    )
    written = Graph.from_document(
        {
            "nodes": [{"id": "a", "type": node_type, "data": {"config": config}}],
            "edges": [],
            "settings": {"default_model": "m"},
        }
    )
    resolved, default = written.agent_config("a"), bare.agent_config("a")
    # Writing the catalog's config into a node changes nothing but the starting prompt.
    assert dataclasses.replace(resolved, prompt=None, extra={}) == dataclasses.replace(
        default, extra={}
    )
    assert resolved.extra == {}


def test_the_new_document_and_every_new_node_pass_validation() -> None:
    catalog = engine_catalog()
    # An empty workflow is only warned about: it has no input and no output node yet.
    assert {p.code for p in validate_document(catalog["new_document"])} == {
        "no_input_node",
        "no_output_node",
    }
    nodes = [
        {
            "id": node_type,
            "type": node_type,
            "position": {"x": 0, "y": 0},
            "data": {"label": node_type, "config": info["default_config"]},
        }
        for node_type, info in catalog["node_types"].items()
    ]
    document = {**catalog["new_document"], "inputs": {"topic": {"type": "string"}}, "nodes": nodes}
    errors = [p for p in validate_document(document) if p.severity == "error"]
    # A new `workflow` or `map` node waits for its child workflow (a map, its list) to be picked.
    to_pick = {("workflow", "workflow"), ("map", "workflow"), ("map", "items")}
    assert {(p.node_id, (p.field or "").rsplit(".", 1)[-1]) for p in errors} == to_pick
    assert len(errors) == len(to_pick)
    assert {p.code for p in errors} == {"missing_required"}


def test_the_module_prints_the_catalog_as_sorted_json() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "workers.engine.catalog"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == json.dumps(engine_catalog(), sort_keys=True, indent=2) + "\n"
