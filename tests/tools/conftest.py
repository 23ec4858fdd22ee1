import pytest

from tests.support.processes import FAST_RECOVERY, start_worker
from tests.tools.servers import ApiServer

# The worker may reach 127.0.0.1 (the tests' servers), nothing else that is not public;
# a short total timeout keeps a compensation's lease (and so recovery) short.
WORKER_ENV = {
    **FAST_RECOVERY,
    "AGENTLOOM_EGRESS_ALLOW": "127.0.0.1",
    "AGENTLOOM_EGRESS_TOTAL_TIMEOUT_S": "3",
}


@pytest.fixture(scope="module")
def api_server():
    with ApiServer() as server:
        yield server


@pytest.fixture
def fresh_api(api_server):
    api_server.reset()
    yield api_server
    api_server.released.set()


@pytest.fixture(scope="module")
def tool_worker(django_db_setup, django_db_blocker):
    """A real worker with egress allowed to loopback (module-scoped, like ``worker``)."""
    with django_db_blocker.unblock():
        process = start_worker("tools-worker", concurrency=8, beat=True, **WORKER_ENV)
    yield process
    process.stop()
