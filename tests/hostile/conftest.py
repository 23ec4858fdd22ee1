"""What every hostile-input test needs: a populated world and row counts."""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from server.accounts.models import Role
from server.workflow_templates.models import Template
from tests.support.documents import agent, chain, document, edge, node

# The apps whose rows a refused request must leave untouched.
APPS = ("accounts", "workflows", "workflow_templates", "runs")

# A template whose placeholders each loop in Python for 30-200 ms, machine to
# machine (well under the 1 s each expression may take, even on a slow machine
# running two test processes), and together for 6-40 s, over a request's 3 s
# whatever the machine; under the 10,000 characters an expression may have.
SLOW_TEMPLATE = "{{$count($map([1..10000],function($v){$v}))}}" * 200


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for label in APPS
        for model in apps.get_app_config(label).get_models()
    }


def agent_document() -> dict:
    return document(
        [node("input", "input"), agent("a"), node("output", "output")],
        [edge("input", "a"), edge("a", "output")],
    )


@pytest.fixture
def world(make_member, client_for):
    """The caller (an owner) with a workflow, a template and a run; a viewer of
    the same workspace; and a stranger with objects of their own."""
    owner, workspace = make_member("owner")
    viewer, _ = make_member("viewer", Role.VIEWER, workspace)
    stranger, stranger_workspace = make_member("stranger")
    get_user_model().objects.create_user(username="newcomer", password="pw-newcomer")
    api, strangers_api = client_for(owner), client_for(stranger)
    workflow = api.post("/api/v1/workflows/", {"document": agent_document()}, format="json")
    foreign = strangers_api.post("/api/v1/workflows/", {"document": chain(1)}, format="json")
    run = api.post(f"/api/v1/workflows/{workflow.json()['id']}/runs/", {}, format="json")
    foreign_run = strangers_api.post(
        f"/api/v1/workflows/{foreign.json()['id']}/runs/", {}, format="json"
    )
    template = Template.objects.create(
        workspace=workspace,
        name="t",
        document=chain(1),
        variables=[{"name": "topic", "type": "string", "required": False}],
    )
    foreign_template = Template.objects.create(
        workspace=stranger_workspace, name="theirs", document=chain(1)
    )
    return {
        "api": api,
        "viewer": client_for(viewer),
        "anonymous": APIClient(),
        "ids": {
            "workspace": workspace.pk,
            "workflow": workflow.json()["id"],
            "run": run.json()["id"],
            "template": template.pk,
            "viewer": viewer.pk,
            "foreign_workspace": stranger_workspace.pk,
            "foreign_workflow": foreign.json()["id"],
            "foreign_run": foreign_run.json()["id"],
            "foreign_template": foreign_template.pk,
        },
    }
