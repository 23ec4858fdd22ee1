"""Model instances from the rows of plain SQL, as the ORM would have made them.

Building and compiling a query through the ORM costs about half a
millisecond of Python, several times what PostgreSQL spends answering it.
A few queries run for nearly every request or transition (a run's row under
its lock, an API token with its user); they are written once as SQL, and
their rows become instances here, each value through the converters the ORM
would apply.
"""

import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)


@cache
def model_columns(model: type[Model], table: str, *, exclude: tuple[str, ...] = ()) -> str:
    """The model's concrete columns but ``exclude``'s, in field order, prefixed by ``table``."""
    quote = connections["default"].ops.quote_name
    return ", ".join(f"{table}.{quote(str(field.column))}" for field in _fields(model, exclude))


def as_uuid(value: Any) -> uuid.UUID:
    """A uuid column's value: PostgreSQL's come back as UUIDs, SQLite's as text."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def instance_from_row(
    model: type[ModelT], values: Sequence[Any], alias: str, *, exclude: tuple[str, ...] = ()
) -> ModelT:
    """An instance from the values of ``model_columns(model, …)`` read on connection ``alias``.

    The fields of ``exclude`` are deferred, as ``QuerySet.defer`` leaves them.
    """
    connection = connections[alias]
    converted = []
    for value, converters in zip(values, _converters(model, alias, exclude), strict=True):
        for converter in converters:
            value = converter(value, None, connection)
        converted.append(value)
    return model.from_db(alias, _attnames(model, exclude), converted)


def _fields(model: type[Model], exclude: tuple[str, ...]) -> list[Any]:
    return [field for field in model._meta.concrete_fields if field.name not in exclude]


@cache
def _attnames(model: type[Model], exclude: tuple[str, ...]) -> list[str]:
    return [field.attname for field in _fields(model, exclude)]


@cache
def _converters(
    model: type[Model], alias: str, exclude: tuple[str, ...]
) -> tuple[tuple[Any, ...], ...]:
    """Each column's from-database converters, looked up once per process.

    Looking them up (a column expression and two converter queries per field)
    took longer than the query itself. They depend only on the field and the
    backend, which are the same for every thread's connection to a database.
    """
    connection = connections[alias]
    return tuple(
        (
            *connection.ops.get_db_converters(field.get_col(model._meta.db_table)),
            *field.get_db_converters(connection),
        )
        for field in _fields(model, exclude)
    )
