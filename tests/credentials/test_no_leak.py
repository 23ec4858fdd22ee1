"""After a create, a patch and a delete, the secret's bytes are nowhere: not in any
row of any table, any API answer, or any log line."""

import logging

import pytest
from django.apps import apps
from django.db import connection

from tests.credentials.conftest import SECRET

pytestmark = pytest.mark.django_db(transaction=True)
ROTATED = "sk-second-Vb7Nm3Kq8Wz1Xc"


def every_row_as_text() -> str:
    """Every row of every table in the database, as the database prints it."""
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        dumped = []
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            dumped.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(dumped)


def every_model_row() -> str:
    return "\n".join(
        repr(row) for model in apps.get_models() for row in model._default_manager.values()
    )


def test_the_secret_is_nowhere(create, team, caplog):
    caplog.set_level(logging.DEBUG)
    answers = []
    created = create()
    answers.append(created)
    detail = f"/api/v1/credentials/{created.json()['id']}/"
    answers.append(team["owner"].get(detail))
    answers.append(team["owner"].get("/api/v1/credentials/"))
    answers.append(create(secret={"api_key": SECRET, "oops": SECRET}))  # a 400
    answers.append(team["owner"].patch(detail, {"secret": {"api_key": ROTATED}}, format="json"))
    answers.append(team["owner"].patch(detail, {"secret": {"api_key": 5}}, format="json"))
    for secret in (SECRET, ROTATED):
        for text in (every_row_as_text(), every_model_row()):
            assert secret not in text
            assert secret.encode().hex() not in text
        assert secret not in caplog.text
        for answer in answers:
            assert secret not in answer.content.decode()
    answers.append(team["owner"].delete(detail))
    assert answers[-1].status_code == 204
    assert ROTATED not in every_row_as_text() + caplog.text
    assert [a.status_code for a in answers] == [201, 200, 200, 400, 200, 400, 204]
