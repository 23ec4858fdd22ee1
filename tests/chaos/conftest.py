import pytest

from tests.support.services import purge_task_queues


@pytest.fixture(autouse=True)
def _no_task_of_an_earlier_test() -> None:
    """Each chaos test starts with empty task queues.

    A worker stopped or killed mid-task leaves that task in the broker, and the
    next test's first worker would take it: these tests count what their
    workers run and which process ran it.
    """
    purge_task_queues()
