"""The four inputs that answered 500 when issue 10 was filed: each is now a clear 4xx."""

import json

import pytest

from server.runs.models import Run
from server.workflows.models import Workflow, WorkflowVersion
from tests.support.documents import agent, chain, document, edge, node

pytestmark = pytest.mark.django_db


def _create(api, doc):
    response = api.post("/api/v1/workflows/", {"document": doc}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_duration_budget_of_1e12_is_a_problem_and_no_run_starts(api):
    doc = chain(1)
    doc["settings"]["budget"]["max_duration_s"] = 1e12
    workflow = _create(api, doc)
    assert {(p["code"], p.get("field")) for p in workflow["problems"]} >= {
        ("out_of_range", "settings.budget.max_duration_s")
    }
    response = api.post(f"/api/v1/workflows/{workflow['id']}/runs/", {"inputs": {}}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_workflow"
    assert Run.objects.count() == 0


def test_a_unicode_digit_in_diff_against_is_400(api):
    workflow = _create(api, chain(1))
    # A superscript two, an Arabic-Indic one, a mathematical double-struck two.
    for against in ("\u00b2", "\u0661", "\U0001d7da", "-1", "1.0", ""):
        response = api.get(
            f"/api/v1/workflows/{workflow['id']}/versions/1/diff/", {"against": against}
        )
        assert response.status_code == 400, (against, response.content)
        assert response.json()["code"] == "invalid_version"


@pytest.mark.parametrize(
    "content",
    [
        '{"schema_version": 1, "nodes": [], "edges": [], "x": NaN}',
        '{"schema_version": 1, "nodes": [], "edges": [], "x": Infinity}',
        '{"schema_version": 1, "nodes": [], "edges": [], "x": -Infinity}',
        'schema_version: 1\nnodes: []\nedges: []\nname: "a\\0b"\n',
        "schema_version: 1\nnodes: []\nedges: []\nx: .nan\n",
        "schema_version: 1\nnodes: []\nedges: []\nx: .inf\n",
        'schema_version: 1\nnodes: []\nedges: []\n"a\\0b": 1\n',
    ],
)
def test_imports_with_nan_infinity_or_nul_are_400(api, content):
    response = api.post("/api/v1/workflows/import/", {"content": content}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_import"
    assert Workflow.objects.count() == 0
    assert WorkflowVersion.objects.count() == 0


def test_an_estimate_for_max_tokens_10_to_the_400_is_400(api):
    doc = document(
        [node("input", "input"), agent("a"), node("output", "output")],
        [edge("input", "a"), edge("a", "output")],
    )
    doc["nodes"][1]["data"]["config"]["max_tokens"] = 10**400
    body = json.dumps({"document": doc})
    response = api.post("/api/v1/workflows/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    workflow = response.json()
    assert ("out_of_range", "a") in {(p["code"], p.get("node_id")) for p in workflow["problems"]}
    estimate = api.post(f"/api/v1/workflows/{workflow['id']}/estimate/", {}, format="json")
    assert estimate.status_code == 400
    assert estimate.json()["code"] == "invalid_workflow"
