import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.test import APIClient

from server.accounts.models import Membership, Role, Workspace
from server.accounts.services import create_token
from tests.support.http_servers import TrapServer
from tests.support.loopback_only import install_loopback_only, loopback_only  # noqa: F401
from tests.support.processes import FAST_RECOVERY, start_asgi, start_worker

install_loopback_only()


@receiver(setting_changed)
def _reconnect_celery(setting: str, **kwargs: object) -> None:
    """Drop the Celery app's connection and producer pools when a test swaps the broker.

    Celery reads ``CELERY_BROKER_URL`` anew for each connection, but the app
    keeps the pools it first took: a test that set ``memory://`` would otherwise
    leave every later ``send_task`` of this process publishing into that
    in-process broker, where nothing ever reads it. The pools are only dropped,
    not closed: kombu keeps them in a registry keyed by broker URL and hands the
    same one back when the setting returns, so a closed one would stay closed.
    """
    if setting != "CELERY_BROKER_URL":
        return
    from server.celery import app

    app._pool = None
    app.amqp._producer_pool = None


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


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    """A real Celery worker process (both queues, with beat running the reaper).

    Per module, so that modules which start and kill workers of their own
    (test_recovery) run with no other worker taking their tasks.
    """
    with django_db_blocker.unblock():
        process = start_worker("worker", concurrency=16, beat=True, **FAST_RECOVERY)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def asgi(django_db_setup, django_db_blocker):
    """The real ASGI server (uvicorn) on the test database; yields its base URL."""
    with django_db_blocker.unblock():
        server, base = start_asgi(AGENTLOOM_CATCH_UP_INTERVAL_S="1")
    yield base
    server.stop()


@pytest.fixture
def fast_recovery(settings):
    """The workers' short recovery timings, for reaper calls made from the test process."""
    settings.AGENTLOOM_RUNS = {
        **settings.AGENTLOOM_RUNS,
        **{
            key: float(FAST_RECOVERY[f"AGENTLOOM_{key.upper()}"])
            for key in ("heartbeat_interval_s", "heartbeat_timeout_s", "redispatch_after_s")
        },
    }


@pytest.fixture
def token(owner) -> str:
    return create_token(user=owner[0], name="socket")[1]


@pytest.fixture
def trap():
    """A loopback server the guard must refuse: failed if any request reached it."""
    with TrapServer() as server:
        yield server
    assert server.requests == [], f"the trap was reached: {server.requests}"
