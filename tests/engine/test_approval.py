"""The approval node in the engine: its config's rules, its edges, its decision's routing."""

from typing import Any

import pytest

from tests.engine.documents import document, edge, node
from workers.engine.approval import decision_output
from workers.engine.catalog import engine_catalog
from workers.engine.document import Graph
from workers.engine.limits import Limits
from workers.engine.scheduling import decide_outgoing
from workers.engine.validation import validate_document


def gate(**config: Any) -> dict[str, Any]:
    """input → approval → (approved) ship, (rejected) redo, (unlabelled) log → output."""
    config.setdefault("message", "Ship {{ $.run.topic }}?")
    return document(
        [
            node("in", "input"),
            node("gate", "approval", **config),
            node("ship", "transformer", expression="$"),
            node("redo", "transformer", expression="$"),
            node("log", "transformer", expression="$"),
            node("out", "output"),
        ],
        [
            edge("e0", "in", "gate"),
            edge("e1", "gate", "ship", label="approved"),
            edge("e2", "gate", "redo", label="Rejected "),
            edge("e3", "gate", "log"),
            edge("e4", "ship", "out", target_handle="ship"),
            edge("e5", "redo", "out", target_handle="redo"),
            edge("e6", "log", "out", target_handle="log"),
        ],
    )


def problems(doc: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(p.code, p.field, p.severity) for p in validate_document(doc)]


def test_a_new_approval_node_is_valid_with_its_catalog_config():
    config = engine_catalog()["node_types"]["approval"]["default_config"]
    assert config["approvers"] == "editors"
    assert config["on_timeout"] == "reject"
    assert problems(gate(**config)) == []


@pytest.mark.parametrize(
    ("config", "code", "key"),
    [
        ({"message": "  "}, "missing_required", "message"),
        ({"message": "Ship {{ $.run.topic "}, "expression_syntax", "message"),
        ({"approvers": "owners"}, "invalid_type", "approvers"),
        ({"approvers": []}, "missing_required", "approvers"),
        ({"approvers": ["ann", 3]}, "invalid_value", "approvers"),
        ({"approvers": ["ann", "ann"]}, "invalid_value", "approvers"),
        ({"approvers": ["x" * 151]}, "invalid_value", "approvers"),
        ({"approvers": [f"u{i}" for i in range(101)]}, "out_of_range", "approvers"),
        ({"timeout_s": 0}, "out_of_range", "timeout_s"),
        ({"timeout_s": 8 * 24 * 3600}, "out_of_range", "timeout_s"),
        ({"timeout_s": "60"}, "invalid_type", "timeout_s"),
        ({"on_timeout": "ignore"}, "invalid_value", "on_timeout"),
        ({"on_timeout": "fail", "on_error": "fallback"}, "missing_required", "fallback_output"),
    ],
)
def test_bad_approval_configs_are_reported(config, code, key):
    found = problems(gate(**config))
    assert (code, f"nodes[1].data.config.{key}", "error") in found, found


def test_an_edge_leaving_an_approval_names_a_decision_or_nothing():
    doc = gate()
    doc["edges"][1]["label"] = "maybe"
    assert problems(doc) == [("invalid_value", "edges[1].label", "error")]


def test_a_timeout_longer_than_the_run_budget_is_a_warning():
    doc = gate(timeout_s=7200)
    assert problems(doc) == [("approval_outlives_budget", None, "warning")]


def taken(decision: str, **condition: str) -> list[str]:
    doc = gate()
    if condition:
        doc["edges"][1]["condition"] = condition["approved"]
    graph = Graph.from_document(doc)
    output = decision_output(
        decision,  # type: ignore[arg-type]
        by="ann",
        comment="",
        timed_out=False,
        node_input={"in": {"topic": "x"}, "run": {"topic": "x"}},
    )
    assert output["input"] == {"in": {"topic": "x"}}
    decisions = decide_outgoing(graph, "gate", output, limits=Limits())
    return [d.edge_id for d in decisions if d.taken]


def test_an_approval_takes_the_approved_and_unlabelled_edges():
    assert taken("approve") == ["e1", "e3"]


def test_a_rejection_takes_only_the_rejected_edges():
    assert taken("reject") == ["e2"]


def test_conditions_still_apply_after_the_decision():
    assert taken("approve", approved="comment = 'ship it'") == ["e3"]
