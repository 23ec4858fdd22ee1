"""Every endpoint against every kind of caller: anonymous, outsider, viewer.

Another workspace's object is a 404 (by id) and absent from lists; a viewer
reads but a write is a 403; anonymous callers get 401.
"""

import pytest
from rest_framework.test import APIClient

from server.accounts.models import Role
from server.runs.models import Run
from server.workflow_templates.models import Template
from server.workflows import services as workflow_services
from tests.support.documents import chain

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_member, client_for):
    """A workspace with a workflow, a run, a template and a viewer; and an outsider."""
    owner, workspace = make_member("owner")
    viewer, _ = make_member("viewer", Role.VIEWER, workspace)
    outsider, _ = make_member("outsider")
    workflow = workflow_services.create_workflow(
        user=owner, workspace_id=workspace.pk, document=chain(1)
    )
    run = Run.objects.create(
        workspace=workspace, workflow=workflow, version=workflow.versions.get(), state="failed"
    )
    template = Template.objects.create(workspace=workspace, name="t", document=chain(1))
    return {
        "ids": {
            "workspace": workspace.pk,
            "workflow": workflow.pk,
            "run": run.pk,
            "template": template.pk,
            "user": viewer.pk,
        },
        "clients": {
            "anonymous": APIClient(),
            "owner": client_for(owner),
            "viewer": client_for(viewer),
            "outsider": client_for(outsider),
        },
    }


# (method, path, body, kind): kind is "read" or "write".
OBJECT_ENDPOINTS = [
    ("get", "/api/v1/workspaces/{workspace}/", None, "read"),
    ("patch", "/api/v1/workspaces/{workspace}/", {"name": "renamed"}, "write"),
    ("delete", "/api/v1/workspaces/{workspace}/", None, "write"),
    ("get", "/api/v1/workspaces/{workspace}/members/", None, "read"),
    # Invitations are the owners': even listing them is a "write" for a viewer.
    ("get", "/api/v1/workspaces/{workspace}/invitations/", None, "write"),
    (
        "post",
        "/api/v1/workspaces/{workspace}/invitations/",
        {"username": "owner", "role": "editor"},
        "write",
    ),
    ("patch", "/api/v1/workspaces/{workspace}/members/{user}/", {"role": "editor"}, "write"),
    ("delete", "/api/v1/workspaces/{workspace}/members/{user}/", None, "write"),
    ("get", "/api/v1/workflows/{workflow}/", None, "read"),
    ("put", "/api/v1/workflows/{workflow}/", {"version": 1, "document": chain(2)}, "write"),
    ("patch", "/api/v1/workflows/{workflow}/", {"version": 1, "name": "x"}, "write"),
    ("delete", "/api/v1/workflows/{workflow}/", None, "write"),
    ("post", "/api/v1/workflows/{workflow}/validate/", {}, "write"),
    ("get", "/api/v1/workflows/{workflow}/export/", None, "read"),
    ("get", "/api/v1/workflows/{workflow}/versions/", None, "read"),
    ("get", "/api/v1/workflows/{workflow}/versions/1/", None, "read"),
    ("get", "/api/v1/workflows/{workflow}/versions/1/diff/?against=1", None, "read"),
    ("post", "/api/v1/workflows/{workflow}/versions/1/restore/", {"version": 1}, "write"),
    ("post", "/api/v1/workflows/{workflow}/runs/", {"inputs": {}}, "write"),
    ("post", "/api/v1/workflows/{workflow}/estimate/", {}, "read"),
    ("get", "/api/v1/runs/{run}/", None, "read"),
    ("get", "/api/v1/runs/{run}/events/", None, "read"),
    ("post", "/api/v1/runs/{run}/cancel/", None, "write"),
    ("get", "/api/v1/runs/{run}/resume/", None, "read"),
    ("post", "/api/v1/runs/{run}/resume/", {}, "write"),
    ("get", "/api/v1/templates/{template}/", None, "read"),
    ("delete", "/api/v1/templates/{template}/", None, "write"),
    ("post", "/api/v1/templates/{template}/instantiate/", {"variables": {}}, "write"),
]

COLLECTION_ENDPOINTS = [
    ("get", "/api/v1/me/"),
    ("get", "/api/v1/tokens/"),
    ("post", "/api/v1/tokens/"),
    ("get", "/api/v1/workspaces/"),
    ("get", "/api/v1/workflows/"),
    ("post", "/api/v1/workflows/"),
    ("post", "/api/v1/workflows/import/"),
    ("get", "/api/v1/runs/"),
    ("get", "/api/v1/templates/"),
    ("get", "/api/v1/models/"),
    ("post", "/api/v1/expressions/evaluate/"),
]


def _call(client, method, path, body):
    return (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )


@pytest.mark.parametrize(("method", "path", "body", "kind"), OBJECT_ENDPOINTS)
def test_object_endpoints(world, method, path, body, kind):
    url = path.format(**world["ids"])
    clients = world["clients"]
    assert _call(clients["anonymous"], method, url, body).status_code == 401
    outsider = _call(clients["outsider"], method, url, body)
    assert outsider.status_code == 404, outsider.content
    assert outsider.json()["code"] == "not_found"
    viewer = _call(clients["viewer"], method, url, body)
    if kind == "write":
        assert viewer.status_code == 403, viewer.content
        assert viewer.json()["code"] == "permission_denied"
    else:
        assert viewer.status_code == 200, viewer.content


@pytest.mark.parametrize(("method", "path"), COLLECTION_ENDPOINTS)
def test_collections_need_authentication(method, path):
    assert getattr(APIClient(), method)(path).status_code == 401


def test_lists_show_only_the_callers_workspaces(world):
    outsider = world["clients"]["outsider"]
    for path in ("/api/v1/workflows/", "/api/v1/runs/"):
        assert outsider.get(path).json()["results"] == []
    assert world["ids"]["template"] not in {
        t["id"] for t in outsider.get("/api/v1/templates/").json()
    }
    assert outsider.get("/api/v1/workspaces/").json()[0]["name"] == "outsider's workspace"
    viewer = world["clients"]["viewer"]
    assert [w["id"] for w in viewer.get("/api/v1/workflows/").json()["results"]] == [
        str(world["ids"]["workflow"])
    ]


def test_a_viewer_cannot_create_in_their_workspace(world):
    viewer = world["clients"]["viewer"]
    response = viewer.post(
        "/api/v1/workflows/", {"workspace": str(world["ids"]["workspace"])}, format="json"
    )
    assert response.status_code == 403
    response = viewer.post("/api/v1/workflows/", {"name": "mine"}, format="json")
    assert response.status_code == 403


def test_creating_in_a_foreign_workspace_is_404(world):
    outsider = world["clients"]["outsider"]
    response = outsider.post(
        "/api/v1/workflows/", {"workspace": str(world["ids"]["workspace"])}, format="json"
    )
    assert response.status_code == 404


def test_the_last_owner_cannot_leave(world):
    owner = world["clients"]["owner"]
    me = owner.get("/api/v1/me/").json()
    url = f"/api/v1/workspaces/{world['ids']['workspace']}/members/{me['id']}/"
    response = owner.delete(url)
    assert response.status_code == 409
    assert response.json()["code"] == "last_owner"
    assert owner.patch(url, {"role": "viewer"}, format="json").json()["code"] == "last_owner"
