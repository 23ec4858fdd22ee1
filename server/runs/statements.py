"""The SQL statements on the hot path of a node transition.

Each node task runs about ten statements; through the ORM each costs about
0.25 ms of Python, several times the database's own time, and most of them run
while the run's row lock is held, which every transition of that run waits
for. These are the same reads and writes as plain SQL. Column names and value
adaptation come from the models' fields, and the SQL is the subset PostgreSQL
and SQLite share (UPDATE … FROM, RETURNING, CTE column lists), so the
embedded default runs exactly this code.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connection, connections

from server.runs.models import NodeRun, Run, RunEvent


def _column(model: type[Any], name: str) -> str:
    return str(model._meta.get_field(name).column)


def _prep(model: type[Any], name: str, value: Any) -> Any:
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _run_id(run_id: Any) -> Any:
    return Run._meta.pk.get_db_prep_value(run_id, connection)


_RUN_COLUMNS = [field.attname for field in Run._meta.concrete_fields]
_RUN_SELECT = ", ".join(_column(Run, name.removesuffix("_id")) for name in _RUN_COLUMNS)


def lock_run(run_id: Any) -> Run | None:
    """The run, with its row locked until the transaction ends."""
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_RUN_SELECT} FROM runs_run WHERE id = %s{for_update}", [_run_id(run_id)]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    values = []
    for value, converters in zip(row, _run_converters(connection.alias), strict=True):
        for converter in converters:
            value = converter(value, None, connection)
        values.append(value)
    return Run.from_db(connection.alias, _RUN_COLUMNS, values)


@cache
def _run_converters(alias: str) -> tuple[tuple[Any, ...], ...]:
    """Each run column's from-database converters, looked up once per process.

    Looking them up (a column expression and two converter queries per field)
    took longer than the query itself, on every transition, under the run's
    lock. They depend only on the field and the backend, which are the same
    for every thread's connection to one database.
    """
    db = connections[alias]
    converters = []
    for field in Run._meta.concrete_fields:
        column = field.get_col(Run._meta.db_table)
        converters.append((*db.ops.get_db_converters(column), *field.get_db_converters(db)))
    return tuple(converters)


def update_run(run: Run, names: Iterable[str]) -> None:
    names = sorted(names)
    assignments = ", ".join(f"{_column(Run, n)} = %s" for n in names)
    params = [_prep(Run, n, getattr(run, n)) for n in names] + [_run_id(run.pk)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE runs_run SET {assignments} WHERE id = %s", params)


# Rows per multi-row statement: well under the bound-parameter limits of both
# databases (65,535 in PostgreSQL, 32,766 in SQLite) for the widest fan-out.
_ROWS_PER_STATEMENT = 1000


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _ROWS_PER_STATEMENT):
        yield items[start : start + _ROWS_PER_STATEMENT]


def insert_events(events: list[RunEvent]) -> None:
    """A transition's events, in one multi-row INSERT per thousand."""
    with connection.cursor() as cursor:
        for chunk in _chunks(events):
            params: list[Any] = []
            for event in chunk:
                params += [
                    _run_id(event.run_id),
                    event.seq,
                    _prep(RunEvent, "ts", event.ts),
                    event.type,
                    event.node_id,
                    _prep(RunEvent, "data", event.data),
                ]
            rows = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO runs_runevent (run_id, seq, ts, type, node_id, data) VALUES {rows}",
                params,
            )


def nodes_matching(run_id: Any, claims: list[tuple[str, str, int]]) -> set[str]:
    """Which of these (node id, state, attempt) claims still hold, in one query."""
    if not claims:
        return set()
    rows = ", ".join(["(%s, %s, %s)"] * len(claims))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT node_id FROM runs_noderun WHERE run_id = %s "
            f"AND (node_id, state, attempt) IN (VALUES {rows})",
            [_run_id(run_id), *(value for claim in claims for value in claim)],
        )
        return {row[0] for row in cursor.fetchall()}


def update_node(
    run_id: Any, node_id: str, expected: Mapping[str, Any], values: Mapping[str, Any]
) -> bool:
    """Compare-and-set on one node run: set ``values`` only if it still has ``expected``."""
    assignments = ", ".join(f"{_column(NodeRun, n)} = %s" for n in values)
    conditions = " AND ".join(f"{_column(NodeRun, n)} = %s" for n in expected)
    params = [_prep(NodeRun, n, v) for n, v in values.items()]
    params += [_run_id(run_id), node_id]
    params += [_prep(NodeRun, n, v) for n, v in expected.items()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE runs_noderun SET {assignments} "
            f"WHERE run_id = %s AND node_id = %s AND {conditions}",
            params,
        )
        return bool(cursor.rowcount)


def queue_nodes(run_id: Any, node_ids: list[str], now: Any, *, dispatched: bool) -> None:
    """pending → queued for these nodes; with ``dispatched``, their tasks are being sent."""
    when = _prep(NodeRun, "queued_at", now)
    with connection.cursor() as cursor:
        for chunk in _chunks(node_ids):
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                "UPDATE runs_noderun SET state = 'queued', attempt = attempt + 1, queued_at = %s, "
                "dispatched_at = %s WHERE run_id = %s AND state = 'pending' "
                f"AND node_id IN ({placeholders})",
                [when, when if dispatched else None, _run_id(run_id), *chunk],
            )


# One statement for every target of a step (it replaces an UPDATE and a SELECT
# per target): count the resolved and taken edges, return the new counters.
_COUNT_RESOLVED_EDGES = """
WITH resolved(node_id, edges, taken) AS (VALUES {values})
UPDATE runs_noderun
SET unresolved_edges = unresolved_edges - resolved.edges,
    taken_edges = taken_edges + resolved.taken
FROM resolved
WHERE runs_noderun.run_id = %s AND runs_noderun.node_id = resolved.node_id
  AND runs_noderun.state = 'pending'
RETURNING runs_noderun.node_id, runs_noderun.unresolved_edges, runs_noderun.taken_edges
"""


def count_resolved_edges(
    run_id: Any, resolved: Mapping[str, tuple[int, int]]
) -> list[tuple[str, int, int]]:
    """Subtract resolved edges (and add taken ones) per pending target; the new counters."""
    counters: list[tuple[str, int, int]] = []
    with connection.cursor() as cursor:
        for chunk in _chunks(list(resolved.items())):
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params = [v for target, (edges, taken) in chunk for v in (target, edges, taken)]
            sql = _COUNT_RESOLVED_EDGES.format(values=values)
            cursor.execute(sql, [*params, _run_id(run_id)])
            counters += cursor.fetchall()
    return counters


def _json(value: Any) -> Any:
    # Django's psycopg backend hands JSON columns to fields as text, SQLite always does.
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class NodeRow:
    """A node run as a claim needs it: its state, and what it hands on if it succeeded."""

    state: str
    attempt: int
    node_type: str
    output: Any
    artifact_id: Any
    taken_out: frozenset[str]
    edge_values: dict[str, Any]


def node_rows(run_id: Any, node_ids: Iterable[str]) -> tuple[str | None, dict[str, NodeRow]]:
    """The run's state and these nodes' rows, in one query (the run's state is None if gone)."""
    ids = list(node_ids)
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.state, n.node_id, n.state, n.attempt, n.node_type, n.output, "
            "n.output_artifact_id, n.taken_out, n.edge_values "
            "FROM runs_noderun n JOIN runs_run r ON r.id = n.run_id "
            f"WHERE n.run_id = %s AND n.node_id IN ({placeholders})",
            [_run_id(run_id), *ids],
        )
        rows = cursor.fetchall()
    run_state = rows[0][0] if rows else None
    return run_state, {
        row[1]: NodeRow(
            state=row[2],
            attempt=row[3],
            node_type=row[4],
            output=_json(row[5]),
            artifact_id=row[6],
            taken_out=frozenset(_json(row[7])),
            edge_values=_json(row[8]),
        )
        for row in rows
    }
