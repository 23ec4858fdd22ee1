"""How statements reach PostgreSQL: parameters apart, prepared once a connection repeats them."""

import uuid

import pytest
from django.db import connection

from server.runs.models import Run


@pytest.mark.django_db
def test_a_statement_run_five_times_is_prepared_with_its_parameters_apart():
    for _ in range(6):
        assert not Run.objects.filter(pk=uuid.uuid4()).values_list("state").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any('FROM "runs_run"' in statement and "$1" in statement for statement in prepared), (
        prepared
    )
