import pytest

from tests.support.processes import start_worker

# Short timings so crash recovery is observable in seconds, not minutes.
FAST_RECOVERY = {
    "AGENTLOOM_HEARTBEAT_INTERVAL_S": "0.5",
    "AGENTLOOM_HEARTBEAT_TIMEOUT_S": "3",
    "AGENTLOOM_REDISPATCH_AFTER_S": "5",
}


@pytest.fixture(scope="session")
def worker(django_db_setup, django_db_blocker):
    """One real Celery worker process (both queues) for the session."""
    with django_db_blocker.unblock():
        process = start_worker("worker", concurrency=16, **FAST_RECOVERY)
    yield process
    process.stop()


@pytest.fixture
def fast_recovery(settings):
    """The same short timings for reaper calls made from the test process."""
    settings.AGENTLOOM_RUNS = {
        **settings.AGENTLOOM_RUNS,
        "heartbeat_interval_s": 0.5,
        "heartbeat_timeout_s": 3.0,
        "redispatch_after_s": 5.0,
    }
