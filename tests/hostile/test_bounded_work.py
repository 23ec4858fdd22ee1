"""One request costs a bounded time and memory, whatever the input."""

import time

import pytest

from server.workflow_templates.models import Template
from server.workflows.models import Workflow
from tests.hostile.conftest import SLOW_TEMPLATE, row_counts
from tests.support.documents import chain, document, edge, node

pytestmark = pytest.mark.django_db

EVALUATE = "/api/v1/expressions/evaluate/"
# Generous: the suite runs beside others on a small, loaded machine.
SLACK_S = 2.0


def _preview(api, template: str):
    started = time.monotonic()
    response = api.post(EVALUATE, {"expression": template, "mode": "template"}, format="json")
    return response, time.monotonic() - started


def test_a_preview_of_60_huge_ranges_fails_fast(api):
    response, elapsed = _preview(api, "{{ $count([1..3000000]) }} " * 60)
    assert response.status_code == 400
    assert response.json()["code"] == "expression_error"
    assert response.json()["reason"] == "expression_output_too_large"
    assert elapsed < SLACK_S


def test_a_preview_of_200_slow_placeholders_ends_within_the_request_budget(api):
    response, elapsed = _preview(api, SLOW_TEMPLATE)
    assert response.status_code == 400
    assert response.json()["reason"] == "expression_budget_exceeded"
    assert elapsed < 3.0 + SLACK_S


@pytest.mark.parametrize(
    "expression",
    [
        '$pad("x", 2e8)',
        '($f := function($s, $n){ $n = 0 ? $s : $f($s & $s, $n - 1) }; $f("x", 40))',
        '$join(["a", "b"], $pad("", 9000000, "-"))',
        "[1..100000000]",
    ],
)
def test_allocation_bombs_in_a_preview_fail_fast(api, expression):
    started = time.monotonic()
    response = api.post(EVALUATE, {"expression": expression}, format="json")
    assert response.status_code == 400
    assert response.json()["reason"] == "expression_output_too_large"
    assert time.monotonic() - started < SLACK_S


def test_viewers_cannot_validate(world):
    url = f"/api/v1/workflows/{world['ids']['workflow']}/validate/"
    response = world["viewer"].post(url, {}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert world["api"].post(url, {}, format="json").status_code == 200


def test_validating_slow_expressions_is_bounded_and_reported(world):
    nodes = [node("in", "input")]
    edges = []
    for index in range(60):
        name = chr(ord("a") + index % 26) * (index // 26 + 1)
        nodes.append(node(f"t{index}", expression=name + ".b" * 1500 + "[0]"))
        edges.append(edge("in", f"t{index}"))
    url = f"/api/v1/workflows/{world['ids']['workflow']}/validate/"
    started = time.monotonic()
    response = world["api"].post(url, {"document": document(nodes, edges)}, format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    codes = {p["code"] for p in response.json()["problems"]}
    assert "expression_budget_exceeded" in codes
    assert elapsed < 3.0 + SLACK_S


def test_instantiating_a_template_is_size_checked_while_substituting(world):
    doc = chain(1)
    doc["description"] = "${topic}" * 100_000
    template = Template.objects.create(
        workspace_id=world["ids"]["workspace"],
        name="expander",
        document=doc,
        variables=[{"name": "topic", "type": "string"}],
    )
    before = row_counts()
    started = time.monotonic()
    response = world["api"].post(
        f"/api/v1/templates/{template.pk}/instantiate/",
        {"variables": {"topic": "x" * 200_000}},
        format="json",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "document_too_large"
    assert time.monotonic() - started < SLACK_S
    assert row_counts() == before
    assert not Workflow.objects.filter(name="expander").exists()
