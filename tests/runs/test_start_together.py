"""Starts arriving together in one process are written together (start._together).

Real threads, each on its own connection to the real database; nothing
consumes the node tasks (an in-process broker), so started runs stay running.
"""

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connections, transaction

from server.accounts.models import Workspace
from server.accounts.services import create_workspace
from server.core.errors import ApiError
from server.runs.models import Run, Trigger
from server.runs.services import start
from server.workflows import services as workflow_services
from server.workflows.models import Workflow, WorkflowVersion
from tests.support.documents import document, edge, node
from tests.support.services import holding_advisory_lock

pytestmark = pytest.mark.django_db(transaction=True)

CALLERS = 10


@pytest.fixture(autouse=True)
def _nobody_consumes(settings) -> None:
    settings.CELERY_BROKER_URL = "memory://"


@pytest.fixture
def workflow() -> Workflow:
    user = get_user_model().objects.create_user("together")
    workspace = create_workspace(owner=user, name="together")
    Workspace.objects.filter(pk=workspace.pk).update(max_running_runs=100)
    doc = document(
        [node("input", "input"), node("shape", expression="{'echo': topic}")],
        [edge("input", "shape")],
        inputs={"topic": {"type": "string", "required": True}},
    )
    return workflow_services.create_workflow(user=user, workspace_id=workspace.pk, document=doc)


def transactions_of(runs: list[Run]) -> dict[str, str]:
    """The id of the transaction that inserted each run (PostgreSQL's ``xmin``)."""
    rows = (
        Run.objects.filter(pk__in=[run.pk for run in runs])
        .extra(select={"inserted_by": "xmin::text"})
        .values_list("pk", "inserted_by")
    )
    return {str(pk): inserted_by for pk, inserted_by in rows}


def waiting_callers(workflow: Workflow) -> int | None:
    """How many callers of the workflow's batches wait behind the one in flight (None: no batch)."""
    version = WorkflowVersion.objects.get(workflow=workflow, number=workflow.version)
    key = (version.pk, Trigger.MANUAL, None)
    calls = start._together._waiting.get(key)
    return None if calls is None else len(calls)


def until(condition, what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_a_burst_of_starts_is_one_transaction_each_run_with_its_own_inputs(workflow, monkeypatch):
    # Long enough for every caller to queue while another connection holds the lock.
    monkeypatch.setattr(start, "ADMISSION_PATIENCE_S", 20.0)
    answers: dict[int, start.NewRun] = {}
    errors: list[BaseException] = []

    def caller(number: int) -> None:
        try:
            answers[number] = start.start_run(
                workflow=workflow, user=None, inputs={"topic": f"t{number}"}
            )
        except BaseException as error:  # handed to the test thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
    with holding_advisory_lock(f"agentloom:run-admission:{workflow.workspace_id}"):
        # The first caller leads: its batch waits for the admission lock...
        threads[0].start()
        until(lambda: waiting_callers(workflow) == 0, "the first caller never led")
        # ...while the others queue behind it, for the next batch.
        for thread in threads[1:]:
            thread.start()
        until(lambda: waiting_callers(workflow) == CALLERS - 1, "the others never queued")
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    runs = [answers[number].run for number in range(CALLERS)]
    # Each caller has its own run, with its own inputs, started (the holder let
    # go within the start's patience, so none was written queued).
    assert len({run.pk for run in runs}) == CALLERS
    stored = {str(run.pk): run for run in Run.objects.filter(workflow=workflow)}
    assert len(stored) == CALLERS
    for number, run in enumerate(runs):
        assert stored[str(run.pk)].inputs == {"topic": f"t{number}"}
        assert stored[str(run.pk)].state == "running"
    # Two transactions: the leader's own, and one for the nine that came meanwhile.
    inserted_by = transactions_of(runs)
    later = {inserted_by[str(run.pk)] for run in runs[1:]}
    assert len(later) == 1
    assert inserted_by[str(runs[0].pk)] not in later
    assert waiting_callers(workflow) is None


def test_a_callers_own_refusal_comes_before_it_joins(workflow):
    with pytest.raises(ApiError) as refused:
        start.start_run(workflow=workflow, user=None, inputs={})
    assert refused.value.code == "invalid_inputs"
    assert not Run.objects.exists()
    assert waiting_callers(workflow) is None


def test_a_start_inside_a_callers_transaction_is_written_by_that_transaction(workflow):
    with transaction.atomic():
        run = start.create_run(workflow=workflow, user=None, inputs={"topic": "mine"})
        assert Run.objects.filter(pk=run.pk).exists()
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM runs_run WHERE id = %s", [run.pk])
                assert cursor.fetchone() == (0,)
        finally:
            other.close()
    assert Run.objects.get(pk=run.pk).state == "running"
