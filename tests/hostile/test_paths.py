"""Hostile ids and numbers in URLs: unknown, malformed, Unicode digits, another
workspace's. Each is a JSON 404 (or 400 for a bad query value), never a 500."""

import pytest

from tests.hostile.conftest import row_counts

pytestmark = pytest.mark.django_db

ID_VALUES = [
    "00000000-0000-0000-0000-000000000000",
    "not-an-id",
    "\u00b2",
    "1" * 400,
    "%00",
    "{foreign}",
]
# (method, path with {id} where the hostile id goes, body, foreign id's name)
PATHS = [
    ("get", "/api/v1/workflows/{id}/", None, "foreign_workflow"),
    ("patch", "/api/v1/workflows/{id}/", {"version": 1, "name": "x"}, "foreign_workflow"),
    ("delete", "/api/v1/workflows/{id}/", None, "foreign_workflow"),
    ("post", "/api/v1/workflows/{id}/validate/", {}, "foreign_workflow"),
    ("get", "/api/v1/workflows/{id}/export/", None, "foreign_workflow"),
    ("get", "/api/v1/workflows/{id}/versions/", None, "foreign_workflow"),
    ("post", "/api/v1/workflows/{id}/runs/", {}, "foreign_workflow"),
    ("post", "/api/v1/workflows/{id}/estimate/", {}, "foreign_workflow"),
    ("get", "/api/v1/runs/{id}/", None, "foreign_run"),
    ("get", "/api/v1/runs/{id}/events/", None, "foreign_run"),
    ("post", "/api/v1/runs/{id}/cancel/", None, "foreign_run"),
    ("get", "/api/v1/templates/{id}/", None, "foreign_template"),
    ("post", "/api/v1/templates/{id}/instantiate/", {}, "foreign_template"),
    ("get", "/api/v1/workspaces/{id}/", None, "foreign_workspace"),
    ("get", "/api/v1/workspaces/{id}/members/", None, "foreign_workspace"),
    ("get", "/api/v1/workspaces/{id}/invitations/", None, "foreign_workspace"),
    ("post", "/api/v1/invitations/{id}/accept/", None, "foreign_workspace"),
]
VERSION_VALUES = ["0", "\u00b2", "\u0661", "1" * 30, "-1", "%00"]


@pytest.mark.parametrize(("method", "path", "body", "foreign"), PATHS)
def test_hostile_ids_in_paths_are_404(world, method, path, body, foreign):
    api = world["api"]
    before = row_counts()
    for value in ID_VALUES:
        value = str(world["ids"][foreign]) if value == "{foreign}" else value
        url = path.format(id=value)
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code == 404, (url, response.status_code, response.content[:200])
        assert response.json()["code"] == "not_found"
    assert row_counts() == before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/workflows/{workflow}/versions/{value}/",
        "/api/v1/workflows/{workflow}/versions/{value}/diff/",
    ],
)
def test_hostile_version_numbers_in_paths_are_404(world, path):
    for value in VERSION_VALUES:
        response = world["api"].get(path.format(workflow=world["ids"]["workflow"], value=value))
        assert response.status_code == 404, (value, response.content[:200])
        assert response.json()["code"] == "not_found"


def test_hostile_version_numbers_to_restore_are_404(world):
    before = row_counts()
    for value in VERSION_VALUES:
        url = f"/api/v1/workflows/{world['ids']['workflow']}/versions/{value}/restore/"
        response = world["api"].post(url, {"version": 1}, format="json")
        assert response.status_code == 404, (value, response.content[:200])
    assert row_counts() == before


@pytest.mark.parametrize(
    "query",
    [
        "against=%C2%B2",
        "against=%D9%A1",
        "against=1e3",
        "against=%00",
        "against=" + "9" * 400,
    ],
)
def test_hostile_diff_queries_are_400(world, query):
    url = f"/api/v1/workflows/{world['ids']['workflow']}/versions/1/diff/?{query}"
    response = world["api"].get(url)
    assert response.status_code == 400, response.content[:200]
    assert response.json()["code"] == "invalid_version"


@pytest.mark.parametrize(
    "query",
    [
        "workspace=%C2%B2",
        "q=%00",
        "q=" + "x" * 10_000,
        "tag=%00",
        "cursor=%00",
        "cursor=" + "A" * 10_000,
    ],
)
def test_hostile_list_queries_are_never_a_server_error(world, query):
    response = world["api"].get("/api/v1/workflows/?" + query)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["code"]


def test_listing_another_workspace_shows_nothing(world):
    foreign = world["ids"]["foreign_workspace"]
    response = world["api"].get(f"/api/v1/workflows/?workspace={foreign}")
    assert response.status_code == 200
    assert response.json()["results"] == []
    response = world["api"].get(f"/api/v1/runs/?workflow={world['ids']['foreign_workflow']}")
    assert response.status_code == 200
    assert response.json()["results"] == []
