"""Operator limits on workspaces, and where unaddressed writes go."""

import pytest
from rest_framework.test import APIClient

from server.accounts.models import Membership, Role, Workspace
from server.accounts.services import create_workspace

pytestmark = pytest.mark.django_db


def test_a_user_creates_at_most_the_quota_of_workspaces(owner, api, settings):
    settings.AGENTLOOM_WORKSPACES = {**settings.AGENTLOOM_WORKSPACES, "max_per_user": 2}
    assert api.post("/api/v1/workspaces/", {"name": "a"}, format="json").status_code == 201
    assert api.post("/api/v1/workspaces/", {"name": "b"}, format="json").status_code == 201
    refused = api.post("/api/v1/workspaces/", {"name": "c"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "workspace_quota_exceeded"
    assert not Workspace.objects.filter(name="c").exists()


def test_workspaces_given_to_a_user_do_not_use_their_quota(make_member, settings):
    settings.AGENTLOOM_WORKSPACES = {**settings.AGENTLOOM_WORKSPACES, "max_per_user": 1}
    giver, _ = make_member("giver")
    taker, _ = make_member("taker")
    gift = create_workspace(owner=giver, name="gift")
    Membership.objects.create(workspace=gift, user=taker, role=Role.OWNER)
    assert create_workspace(owner=taker, name="own").created_by == taker


def test_max_running_runs_is_capped_by_the_operator(owner, api, settings):
    _, workspace = owner
    limit = settings.AGENTLOOM_WORKSPACES["max_running_runs_limit"]
    url = f"/api/v1/workspaces/{workspace.pk}/"
    assert api.patch(url, {"max_running_runs": limit}, format="json").status_code == 200
    for value in (limit + 1, 10_000, 0, -1, "1e3", 10**400):
        response = api.patch(url, {"max_running_runs": value}, format="json")
        assert response.status_code == 400, value
        assert response.json()["code"] in ("invalid", "malformed_json"), value
    assert (
        "max_running_runs"
        in api.patch(url, {"max_running_runs": limit + 1}, format="json").json()["fields"]
    )
    workspace.refresh_from_db()
    assert workspace.max_running_runs == limit
    created = api.post(
        "/api/v1/workspaces/", {"name": "n", "max_running_runs": limit + 1}, format="json"
    )
    assert created.status_code == 400


def test_unaddressed_writes_go_to_the_workspace_joined_first(make_member, client_for):
    me, mine = make_member("me")
    _, theirs = make_member("stranger")
    # Someone adds me to their workspace, without asking (no invitations yet).
    Membership.objects.create(workspace=theirs, user=me, role=Role.EDITOR)
    # An update writes a new row version after the others: an unordered read
    # of my memberships now meets theirs first.
    Membership.objects.filter(user=me, workspace=mine).update(role=Role.OWNER)
    client: APIClient = client_for(me)
    for _ in range(5):
        created = client.post("/api/v1/workflows/", {"name": "private"}, format="json")
        assert created.status_code == 201
        assert created.json()["workspace"] == str(mine.pk)
