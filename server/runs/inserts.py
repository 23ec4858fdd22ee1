"""The INSERTs of new rows on the hot path: a batch of new runs, a transition's events.

Part of the hot path's plain SQL (``statements``): the values are prepared by
the models' fields, as the ORM's would be.
"""

import json
import uuid
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Model
from django.db.models.fields import AutoFieldMixin

from server.runs.models import NodeRun, Run, RunEvent
from server.runs.statements import ROWS_PER_STATEMENT


def insert_events(events: list[RunEvent]) -> None:
    """A transition's events, in one INSERT (one per thousand on SQLite)."""
    with connection.cursor() as cursor:
        for sql, params in _inserts(RunEvent, events):
            cursor.execute(sql, params)


# The columns an INSERT of new rows writes: all but an auto-incremented key.
_INSERT_FIELDS: dict[type[Model], tuple[Any, ...]] = {
    model: tuple(
        field for field in model._meta.concrete_fields if not isinstance(field, AutoFieldMixin)
    )
    for model in (Run, NodeRun, RunEvent)
}
# SQLite's bound on the parameters of one statement, which a multi-row INSERT
# of a wide model reaches before a thousand rows.
_SQLITE_MAX_PARAMS = 32766


def _inserts(model: type[Model], objs: list[Any]) -> list[tuple[str, list[Any]]]:
    """INSERTs of these unsaved instances, their values prepared as the ORM's would be.

    On PostgreSQL one statement of one parameter: the rows as a JSON array
    of objects, one key per column, which ``json_populate_recordset`` reads
    back with the table's own column types. Encoding it is one call into the
    C JSON encoder, where a multi-row VALUES had psycopg adapt each of a
    batch's hundreds of parameters in Python (a fifth of the CPU of a run's
    start, docs/benchmarks.md), and its text is the same for any number of
    rows, so PostgreSQL plans it once per connection. SQLite gets multi-row
    VALUES within its bound.
    """
    if not objs:
        return []
    fields = _INSERT_FIELDS[model]
    if connection.vendor != "postgresql":
        return _values_inserts(model, objs)
    rows = [
        {
            str(field.column): _json_scalar(field.get_prep_value(value))
            for field, value in zip(fields, _values(obj, fields), strict=True)
        }
        for obj in objs
    ]
    table = model._meta.db_table
    sql = (
        f"INSERT INTO {table} ({_insert_columns(model)}) SELECT {_insert_columns(model)} "
        f"FROM json_populate_recordset(NULL::{table}, %s::json)"
    )
    return [(sql, [json.dumps(rows, allow_nan=False)])]


def _values_inserts(model: type[Model], objs: list[Any]) -> list[tuple[str, list[Any]]]:
    """Multi-row VALUES INSERTs of these unsaved instances, each within SQLite's bound."""
    fields = _INSERT_FIELDS[model]
    per_statement = min(ROWS_PER_STATEMENT, _SQLITE_MAX_PARAMS // len(fields))
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserts = []
    for start in range(0, len(objs), per_statement):
        chunk = objs[start : start + per_statement]
        params = [
            field.get_db_prep_save(value, connection)
            for obj in chunk
            for field, value in zip(fields, _values(obj, fields), strict=True)
        ]
        rows = ", ".join([row] * len(chunk))
        inserts.append(
            (f"INSERT INTO {model._meta.db_table} ({_insert_columns(model)}) VALUES {rows}", params)
        )
    return inserts


def _values(obj: Any, fields: tuple[Any, ...]) -> list[Any]:
    """An unsaved instance's values for an INSERT.

    A value already set is written as it is (a new run's ``created_at`` is its
    clock); an unset one gets its field's ``pre_save`` (``auto_now_add``).
    """
    values = []
    for field in fields:
        value = getattr(obj, field.attname)
        values.append(field.pre_save(obj, add=True) if value is None else value)
    return values


def _json_scalar(value: Any) -> Any:
    """A column's value as JSON gives it to PostgreSQL: ids and times as their text."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@cache
def _insert_columns(model: type[Model]) -> str:
    return ", ".join(connection.ops.quote_name(str(f.column)) for f in _INSERT_FIELDS[model])


def insert_new_runs(runs: list[Run], node_runs: list[NodeRun], events: list[RunEvent]) -> None:
    """New runs with their node runs and first events, in one statement on PostgreSQL.

    The rows go in as they are: the caller has set each run's state, counters
    and ``next_seq``, and each node run's state. On PostgreSQL the three
    INSERTs are data-modifying CTEs of one statement (the foreign keys are
    checked at the commit); SQLite, which has no INSERT in WITH, runs them one
    by one.
    """
    parts = _inserts(Run, runs) + _inserts(NodeRun, node_runs) + _inserts(RunEvent, events)
    if connection.vendor == "postgresql" and parts:
        *first, (last, _) = parts
        ctes = ", ".join(f"i{n} AS ({sql})" for n, (sql, _) in enumerate(first))
        parts = [
            (f"WITH {ctes} {last}" if ctes else last, [v for _, values in parts for v in values])
        ]
    with connection.cursor() as cursor:
        for sql, values in parts:
            cursor.execute(sql, values)
    for run in runs:
        run._state.adding = False
        run._state.db = connection.alias
