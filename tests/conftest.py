import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from server.accounts.models import Membership, Role, Workspace
from server.accounts.services import create_token


@pytest.fixture(scope="session", autouse=True)
def _clean_broker() -> None:
    """Leftover tasks of an earlier session must not reach this session's workers."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture
def make_member(db):
    """A user with a role in a workspace (a new workspace unless one is given)."""

    def make(username: str, role: str = Role.OWNER, workspace: Workspace | None = None):
        user = get_user_model().objects.create_user(username=username, password="pw-" + username)
        workspace = workspace or Workspace.objects.create(name=f"{username}'s workspace")
        Membership.objects.create(workspace=workspace, user=user, role=role)
        return user, workspace

    return make


@pytest.fixture
def client_for():
    """An API client authenticated the way scripts are: a real token."""

    def make(user) -> APIClient:
        _, key = create_token(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def owner(make_member):
    return make_member("owner")


@pytest.fixture
def api(owner, client_for) -> APIClient:
    return client_for(owner[0])
