"""The typed graph, presets and config resolution."""

import pytest

from tests.engine.documents import document, edge, node, pipeline
from workers.engine.budget import Budget
from workers.engine.document import (
    AGENT_PRESETS,
    Edge,
    Graph,
    InputSpec,
    Settings,
)
from workers.engine.retry import RetryPolicy


def test_the_graph_indexes_edges_in_document_order() -> None:
    graph = Graph.from_document(pipeline())
    assert list(graph.nodes) == ["in", "researcher-1", "reviewer-1", "out"]
    assert [e.id for e in graph.out_edges("researcher-1")] == ["e2"]
    assert [e.id for e in graph.in_edges("researcher-1")] == ["e1"]
    assert graph.in_edges("in") == ()
    assert graph.out_edges("out") == ()
    assert graph.roots() == ("in",)
    assert graph.nodes["researcher-1"].label == "Primary researcher"


def test_edges_normalise_blank_and_null_fields() -> None:
    plain = Edge.from_dict({"id": "e", "source": "a", "target": "b"})
    assert (plain.source_handle, plain.target_handle, plain.input_key) == ("out", None, "a")
    blank = Edge.from_dict(
        {
            "id": "e",
            "source": "a",
            "target": "b",
            "source_handle": "",
            "target_handle": " ",
            "transform": "",
            "condition": "  ",
            "label": None,
        }
    )
    assert blank == plain
    named = Edge.from_dict({"id": "e", "source": "a", "target": "b", "target_handle": "research"})
    assert named.input_key == "research"


def test_settings_and_inputs() -> None:
    graph = Graph.from_document(pipeline())
    assert graph.settings == Settings(
        default_model="mock/echo",
        max_concurrency=8,
        error_policy="stop",
        budget=Budget(None, None, 3600),
    )
    assert graph.inputs == {"topic": InputSpec("topic", "string", required=True)}
    bare = Graph.from_document({"nodes": [], "edges": []})
    assert bare.settings == Settings()
    assert bare.inputs == {}


def test_agent_config_merges_preset_node_and_settings() -> None:
    doc = pipeline()
    doc["nodes"][1]["data"]["config"].update(
        temperature=0.1,
        max_tokens=99,
        retry={"max_attempts": 5},
        mock_latency_ms=20,
    )
    graph = Graph.from_document(doc)
    config = graph.agent_config("researcher-1")
    assert config.model == "mock/echo"
    assert config.temperature == 0.1
    assert config.system_prompt == AGENT_PRESETS["researcher"].system_prompt
    assert config.prompt == "Research {{ $.run.topic }}"
    assert (config.max_tokens, config.timeout_s, config.stream) == (99, 300.0, True)
    assert config.response_format == "text"
    assert config.retry == RetryPolicy(max_attempts=5)
    assert (config.on_error, config.fallback_output) == ("stop", None)
    assert config.extra == {"mock_latency_ms": 20}


def test_agent_config_defaults() -> None:
    graph = Graph.from_document(document([node("boss", "coordinator", model="m1")], []))
    config = graph.agent_config("boss")
    preset = AGENT_PRESETS["coordinator"]
    assert (config.model, config.temperature, config.response_format) == ("m1", 0.0, "json")
    assert config.system_prompt == preset.system_prompt
    assert config.prompt is None
    assert config.retry == RetryPolicy()
    assert '"route"' in preset.system_prompt


def test_error_policy_resolution() -> None:
    doc = pipeline()
    doc["settings"]["error_policy"] = "continue"
    doc["nodes"][2]["data"]["config"].update(on_error="fallback", fallback_output={"text": "-"})
    graph = Graph.from_document(doc)
    assert graph.agent_config("researcher-1").on_error == "continue"
    assert graph.agent_config("reviewer-1").on_error == "fallback"
    assert graph.agent_config("reviewer-1").fallback_output == {"text": "-"}
    assert graph.on_error("out") == "continue"


def test_agent_config_refuses_control_nodes_and_missing_models() -> None:
    graph = Graph.from_document(pipeline())
    with pytest.raises(ValueError, match="not an agent"):
        graph.agent_config("in")
    doc = pipeline()
    doc["settings"]["default_model"] = None
    with pytest.raises(ValueError, match="no model"):
        Graph.from_document(doc).agent_config("researcher-1")


def test_a_graph_with_a_cycle_can_still_be_built() -> None:
    graph = Graph.from_document(
        document(
            [node("a", "coder"), node("b", "coder")], [edge("1", "a", "b"), edge("2", "b", "a")]
        )
    )
    assert graph.roots() == ()
