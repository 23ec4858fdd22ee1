import pytest

from server.accounts.services import create_token
from tests.runs.conftest import FAST_RECOVERY
from tests.support.processes import start_asgi

__all__ = ["FAST_RECOVERY"]


@pytest.fixture(scope="session")
def asgi(django_db_setup, django_db_blocker):
    """The real ASGI server (uvicorn) on the test database; yields its base URL."""
    with django_db_blocker.unblock():
        server, base = start_asgi(AGENTLOOM_CATCH_UP_INTERVAL_S="1")
    yield base
    server.stop()


@pytest.fixture
def token(owner) -> str:
    return create_token(user=owner[0], name="socket")[1]
