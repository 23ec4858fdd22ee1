"""``POST workflows/<id>/mcp-tools/``: the agent panel lists an MCP server's tools (SPEC §11)."""

import pytest

from server.accounts.models import Role
from server.credentials.services import create_credential
from server.workflows.services import create_workflow
from tests.support.http_servers import TrapServer
from tests.support.mcp_server import McpTestServer

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def mcp_server():
    with McpTestServer() as server:
        yield server


@pytest.fixture
def allowed(settings, mcp_server):
    settings.AGENTLOOM_EGRESS = {
        **settings.AGENTLOOM_EGRESS,
        "allow": [f"127.0.0.1:{mcp_server.port}"],
        "rate_per_workspace": "1000/min",
    }
    mcp_server.calls.clear()
    return settings.AGENTLOOM_EGRESS


@pytest.fixture
def workflow(owner):
    return create_workflow(user=owner[0], workspace_id=owner[1].pk)


def listing(api, workflow, body):
    return api.post(f"/api/v1/workflows/{workflow.pk}/mcp-tools/", body, format="json")


def test_lists_the_servers_tools_with_their_schemas(api, workflow, mcp_server, allowed):
    response = listing(api, workflow, {"url": mcp_server.url})
    assert response.status_code == 200, response.content
    tools = response.json()["tools"]
    assert [tool["name"] for tool in tools][:4] == ["add", "multiply", "notes_write", "notes_read"]
    assert tools[0]["description"] == "Add two numbers."
    assert tools[0]["input_schema"]["required"] == ["a", "b"]
    assert mcp_server.calls == {}  # listed, nothing called


def test_addresses_the_guard_refuses_are_refused_before_connecting(api, workflow, allowed):
    with TrapServer() as trap:
        for url in (f"{trap.url}/mcp", "http://169.254.169.254/mcp", "http://10.1.2.3/mcp"):
            response = listing(api, workflow, {"url": url})
            assert response.status_code == 400, (url, response.content)
            assert response.json()["code"] == "egress_refused"
        assert trap.requests == []


def test_a_server_that_is_not_mcp_is_a_422(api, workflow, settings, allowed):
    with TrapServer() as other:
        settings.AGENTLOOM_EGRESS = {**allowed, "allow": [f"127.0.0.1:{other.port}"]}
        response = listing(api, workflow, {"url": f"{other.url}/mcp"})
    assert response.status_code == 422, response.content
    assert response.json()["code"] in ("mcp_error", "egress_failed")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "file:///etc/passwd"},
        {"url": "ftp://example.com/mcp"},
        {"url": "not a url"},
        {"url": "http://example.com/" + "a" * 1_000_000},
        {"url": "http://example.com/\x00"},
        {"url": ["http://example.com/"]},
        {"url": "http://example.com/mcp", "credential": "\u0661"},
    ],
)
def test_hostile_bodies_are_refused(api, workflow, allowed, mcp_server, body):
    response = listing(api, workflow, body)
    assert response.status_code == 400, response.content[:300]
    assert mcp_server.calls == {}


def test_roles_workspaces_and_credentials(
    api, owner, make_member, client_for, workflow, mcp_server
):
    viewer, _ = make_member("viewer", Role.VIEWER, owner[1])
    assert listing(client_for(viewer), workflow, {"url": mcp_server.url}).status_code == 403
    stranger, elsewhere = make_member("stranger")
    assert listing(client_for(stranger), workflow, {"url": mcp_server.url}).status_code == 404
    theirs = create_credential(
        user=stranger,
        workspace_id=elsewhere.pk,
        name="theirs",
        provider="http",
        secret={"token": "tok-Theirs-Secret-9Qm2"},
        config={},
    )
    response = listing(api, workflow, {"url": mcp_server.url, "credential": str(theirs.pk)})
    assert response.status_code == 400
    assert response.json()["code"] == "credential_not_found"
    assert "tok-Theirs" not in response.content.decode()
