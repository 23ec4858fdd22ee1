"""Admission under concurrency: the cap of running runs holds without a workspace row lock.

Many threads start runs at once, each on its own connection to the real
database, while a watcher counts running runs; nothing consumes the node tasks
(an in-process broker), so every started run stays running.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction

from server.accounts.models import Workspace
from server.accounts.services import create_workspace
from server.core.errors import Conflict
from server.runs.models import Run
from server.runs.services import start, stopping
from server.workflows import services as workflow_services
from server.workflows.models import Workflow
from tests.support.documents import agent, document, edge, node
from tests.support.services import holding_advisory_lock

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 16


@pytest.fixture(autouse=True)
def _nobody_consumes(settings) -> None:
    settings.CELERY_BROKER_URL = "memory://"


def workflow_in(name: str, cap: int) -> Workflow:
    user = get_user_model().objects.create_user(name)
    workspace = create_workspace(owner=user, name=name)
    Workspace.objects.filter(pk=workspace.pk).update(max_running_runs=cap)
    doc = document([node("input", "input"), agent("a", model="mock/echo")], [edge("input", "a")])
    return workflow_services.create_workflow(user=user, workspace_id=workspace.pk, document=doc)


def in_threads(count: int, work: Callable[[int], None]) -> None:
    """``work(i)`` in ``count`` threads released together; re-raises the first failure."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as error:  # handed to the test thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]


def states(workflow: Workflow) -> dict[str, int]:
    return dict(Counter(Run.objects.filter(workflow=workflow).values_list("state", flat=True)))


def create(workflow: Workflow) -> Run:
    return start.create_run(workflow=workflow, user=None, inputs={})


def watched(workflow: Workflow) -> Callable[[], int]:
    """A watcher thread counting the workspace's running runs; call the result to stop it."""
    stop = threading.Event()
    seen: list[int] = []

    def body() -> None:
        try:
            while not stop.is_set():
                running = Run.objects.filter(workspace_id=workflow.workspace_id, state="running")
                seen.append(running.count())
        finally:
            connections.close_all()

    thread = threading.Thread(target=body)
    thread.start()

    def most() -> int:
        stop.set()
        thread.join(10)
        return max(seen)

    return most


def test_concurrent_starts_never_exceed_the_cap():
    workflow = workflow_in("capped", cap=3)
    most = watched(workflow)
    in_threads(THREADS, lambda _: create(workflow))
    assert most() <= 3
    assert states(workflow) == {"running": 3, "queued": THREADS - 3}


def test_concurrent_starts_with_room_all_start_at_once():
    """A start that found the admission lock taken is started by its holder, not the reaper."""
    workflow = workflow_in("roomy", cap=100)
    for _ in range(3):
        in_threads(THREADS, lambda _: create(workflow))
    assert states(workflow) == {"running": 3 * THREADS}


def test_slots_freed_while_runs_start_go_to_the_oldest_and_never_over_the_cap():
    workflow = workflow_in("churn", cap=2)
    first = [create(workflow) for _ in range(6)]
    assert [run.state for run in first] == ["running"] * 2 + ["queued"] * 4
    most = watched(workflow)

    def cancel_or_create(i: int) -> None:
        if i % 2:
            create(workflow)
            return
        for _ in range(100):
            running = Run.objects.filter(workflow=workflow, state="running").order_by("?").first()
            if running is not None:
                try:
                    stopping.cancel_run(running.pk)
                    return
                except Conflict:  # another thread cancelled it first
                    pass
            time.sleep(0.01)
        raise AssertionError("no running run to cancel")

    in_threads(THREADS, cancel_or_create)
    assert most() <= 2
    assert states(workflow) == {"cancelled": THREADS // 2, "running": 2, "queued": 4}
    # Oldest first: the runs that waited before the churn started before any new one.
    assert not Run.objects.filter(pk__in=[run.pk for run in first], state="queued").exists()


def test_one_workspace_admitting_does_not_hold_up_another():
    busy = workflow_in("busy", cap=10)
    other = workflow_in("other", cap=10)
    # Another connection holds the busy workspace's admission lock, as a long pass would.
    with holding_advisory_lock(f"agentloom:run-admission:{busy.workspace_id}"):
        assert create(other).state == "running"
        waiting = create(busy)
        assert waiting.state == "queued"
    # The holder's look after its commit (here, the next start) starts it.
    assert create(busy).state == "running"
    waiting.refresh_from_db()
    assert waiting.state == "running"


def test_a_run_created_in_the_callers_transaction_is_admitted_after_its_commit():
    workflow = workflow_in("nested", cap=5)
    with transaction.atomic():
        run = create(workflow)
        assert connection.in_atomic_block
    run.refresh_from_db()
    assert run.state == "running"
