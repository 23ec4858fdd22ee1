"""Bad input always gets a clear 4xx with a stable code, and nothing is written."""

import json

import pytest

from server.workflows.models import Workflow, WorkflowVersion
from tests.support.documents import chain, node

pytestmark = pytest.mark.django_db


@pytest.fixture
def workflow(api):
    response = api.post("/api/v1/workflows/", {"document": chain(2)}, format="json")
    return response.json()


def raw(api, method, url, body, content_type="application/json"):
    return getattr(api, method)(url, data=body, content_type=content_type)


def assert_unchanged(workflow):
    stored = Workflow.objects.get(pk=workflow["id"])
    assert stored.version == workflow["version"]
    assert stored.document == workflow["document"]
    assert WorkflowVersion.objects.filter(workflow=stored).count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{", "malformed_json"),
        (b"", "invalid"),
        (b"   ", "malformed_json"),
        (b"\xff\xfe", "malformed_json"),
        (b'{"version": NaN}', "malformed_json"),
        (b"[" * 100_000 + b"]" * 100_000, "malformed_json"),
        (b"[]", "invalid"),
        (b'"text"', "invalid"),
        (b'{"version": "two", "document": {}}', "invalid"),
        (b'{"version": 1, "document": []}', "invalid"),
        (b'{"version": 1}', "invalid"),
        (b'{"version": 1, "document": {"schema_version": 1, "nodes": "many"}}', "invalid_document"),
        (
            b'{"version": 1, "document": {"schema_version": 7, "nodes": [], "edges": []}}',
            "invalid_document",
        ),
    ],
)
def test_bad_put_bodies(api, workflow, body, code):
    response = raw(api, "put", f"/api/v1/workflows/{workflow['id']}/", body)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert_unchanged(workflow)


def test_deep_nesting_inside_a_document(api, workflow):
    body = (
        '{"version": 1, "document": '
        + json.dumps(chain(1))[:-1]
        + ', "extra": '
        + "[" * 5000
        + "]" * 5000
        + "}}"
    )
    response = raw(api, "put", f"/api/v1/workflows/{workflow['id']}/", body.encode())
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert "nested deeper" in response.json()["message"]
    assert_unchanged(workflow)


def test_unknown_node_type_is_refused_with_every_problem(api, workflow):
    doc = chain(1)
    doc["nodes"].append(node("mystery", "teleporter"))
    doc["edges"].append({"id": "dangling", "source": "n0", "target": "nowhere"})
    response = api.put(
        f"/api/v1/workflows/{workflow['id']}/", {"version": 1, "document": doc}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_document"
    problems = {
        (p["code"], p.get("node_id") or p.get("edge_id")) for p in response.json()["problems"]
    }
    assert {("unknown_node_type", "mystery"), ("unknown_node", "dangling")} <= problems
    assert_unchanged(workflow)


def test_wrong_media_type(api, workflow):
    response = raw(
        api,
        "put",
        f"/api/v1/workflows/{workflow['id']}/",
        b"version=1",
        "application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert_unchanged(workflow)


def test_a_body_over_the_limit_is_413(api, workflow, settings):
    limit = settings.AGENTLOOM_LIMITS["max_document_bytes"]
    doc = chain(1)
    doc["description"] = "x" * (limit + 300 * 1024)
    response = api.put(
        f"/api/v1/workflows/{workflow['id']}/", {"version": 1, "document": doc}, format="json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert_unchanged(workflow)


def test_a_document_over_the_limit_is_413(api, workflow, settings):
    limit = settings.AGENTLOOM_LIMITS["max_document_bytes"]
    doc = chain(1)
    doc["description"] = "x" * (limit + 10)
    response = api.put(
        f"/api/v1/workflows/{workflow['id']}/", {"version": 1, "document": doc}, format="json"
    )
    assert response.status_code == 413
    assert response.json()["code"] == "document_too_large"
    assert_unchanged(workflow)


def test_too_many_nodes(api, workflow, settings):
    settings.AGENTLOOM_LIMITS = {**settings.AGENTLOOM_LIMITS, "max_nodes": 10}
    from server.core.limits import engine_limits

    engine_limits.cache_clear()
    try:
        response = api.put(
            f"/api/v1/workflows/{workflow['id']}/",
            {"version": 1, "document": chain(20)},
            format="json",
        )
    finally:
        engine_limits.cache_clear()
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_document"
    assert "too_many_nodes" in {p["code"] for p in response.json()["problems"]}
    assert_unchanged(workflow)


def test_nul_characters_are_refused(api, workflow):
    doc = chain(1)
    doc["nodes"][1]["data"]["label"] = "evil\u0000nul"
    response = api.put(
        f"/api/v1/workflows/{workflow['id']}/", {"version": 1, "document": doc}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_character"
    assert_unchanged(workflow)
    literal = api.put(
        f"/api/v1/workflows/{workflow['id']}/",
        {"version": 1, "document": chain(1), "message": "a \\u0000 b"},
        format="json",
    )
    assert literal.status_code == 200


def test_unicode_everywhere_is_kept(api):
    doc = chain(1)
    doc["name"] = "Рабочий процесс 🧵 — 研究"
    doc["nodes"][1]["data"]["label"] = "\u202eright-to-left \U0001f9ea"
    response = api.post(
        "/api/v1/workflows/", {"document": doc, "tags": ["ünï", "🏷"]}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["name"] == doc["name"]
    assert api.get(f"/api/v1/workflows/{response.json()['id']}/").json()["document"] == doc


@pytest.mark.parametrize(
    "body",
    [
        {"tags": "not-a-list"},
        {"tags": ["x" * 51]},
        {"name": ""},
        {"workspace": "not-a-uuid"},
        {"document": "nope"},
    ],
)
def test_bad_create_fields(api, body):
    response = api.post("/api/v1/workflows/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert Workflow.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("a: [unclosed", "invalid_import"),
        ("- just\n- a list\n", "invalid_import"),
        ("a: &x [1]\nb: *x\n", "invalid_import"),
        ("[" * 20000, "invalid_import"),
    ],
)
def test_bad_imports(api, content, code):
    response = api.post("/api/v1/workflows/import/", {"content": content}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert Workflow.objects.count() == 0


def test_unknown_urls_under_the_api_are_json_404(api):
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.get("/api/v1/workflows/not-a-uuid/").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workflows/?workspace=null",
        "/api/v1/workflows/?q=%00",
        "/api/v1/runs/?workflow=nope&state=sleeping",
        "/api/v1/runs/?created_after=yesterday",
        "/api/v1/workflows/{id}/versions/99999999999999999999/",
        "/api/v1/workflows/{id}/versions/1/diff/?against=99999999999999999999",
        "/api/v1/workflows/?cursor=not-a-cursor",
    ],
)
def test_bad_query_and_path_values_are_4xx(api, workflow, path):
    response = api.get(path.format(id=workflow["id"]))
    assert 400 <= response.status_code < 500, (path, response.status_code, response.content)
    assert response.json()["code"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workflows/000000000000000000000000000000000000/versions/0/",
        "/api/v1/workflows/28b-0-3e4b-ef654363-1bd0d4ff--513823/versions/",
        "/api/v1/workflows/{id}/versions/1/diff/?against=19567109",
        "/api/v1/runs/00000000-0000-0000-0000-000000000000/artifacts/0000000000000000000000000000000000-0/",
    ],
)
def test_ids_that_are_not_uuids_are_404(api, workflow, path):
    response = api.get(path.format(id=workflow["id"]))
    assert response.status_code == 404, (path, response.status_code)
    assert response.json()["code"] == "not_found"
