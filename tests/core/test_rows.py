"""Instances made from plain SQL rows are the ORM's: same values, same deferred fields."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.forms.models import model_to_dict

from server.accounts.services import create_workspace
from server.core.rows import as_uuid, instance_from_row, model_columns
from server.runs.models import Run
from server.runs.services import start
from server.workflows import services as workflow_services
from server.workflows.models import Workflow
from server.workflows.selectors import NOT_READ_TO_RUN
from tests.support.documents import document, node

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nobody_consumes(settings) -> None:
    settings.CELERY_BROKER_URL = "memory://"


def _row(model, pk, exclude=()):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(model, 'x', exclude=exclude)} "
            f"FROM {model._meta.db_table} x WHERE x.id = %s",
            [model._meta.pk.get_db_prep_value(pk, connection)],
        )
        return cursor.fetchone()


def _values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_row_makes_the_instance_the_orm_makes():
    user = get_user_model().objects.create_user("rows")
    workspace = create_workspace(owner=user, name="rows")
    workflow = workflow_services.create_workflow(
        user=user, workspace_id=workspace.pk, document=document([node("t", expression="1")])
    )
    run = start.create_run(workflow=workflow, user=user, inputs={})
    made = instance_from_row(Run, _row(Run, run.pk), connection.alias)
    assert _values(made) == _values(Run.objects.get(pk=run.pk))
    assert not made._state.adding
    assert made.get_deferred_fields() == set()


def test_excluded_fields_are_deferred_as_the_orm_defers_them():
    user = get_user_model().objects.create_user("deferred")
    workspace = create_workspace(owner=user, name="deferred")
    workflow = workflow_services.create_workflow(
        user=user, workspace_id=workspace.pk, document=document([node("t", expression="1")])
    )
    row = _row(Workflow, workflow.pk, exclude=NOT_READ_TO_RUN)
    made = instance_from_row(Workflow, row, connection.alias, exclude=NOT_READ_TO_RUN)
    read = Workflow.objects.defer(*NOT_READ_TO_RUN).get(pk=workflow.pk)
    assert made.get_deferred_fields() == read.get_deferred_fields() == set(NOT_READ_TO_RUN)
    loaded = [f.name for f in Workflow._meta.concrete_fields if f.name not in NOT_READ_TO_RUN]
    assert model_to_dict(made, fields=loaded) == model_to_dict(read, fields=loaded)
    # A deferred field still loads when asked for, as the ORM's would.
    assert made.document == read.document


def test_a_uuid_column_reads_the_same_from_either_database():
    run_id = "0b6f3c5e-2f1a-4c8e-9d7b-5a4e3c2b1a09"
    assert str(as_uuid(run_id.replace("-", ""))) == run_id
    assert as_uuid(as_uuid(run_id)) == as_uuid(run_id)
