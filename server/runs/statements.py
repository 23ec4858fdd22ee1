"""The SQL statements on the hot path of a node transition.

Each node task runs about ten statements; through the ORM each costs about
0.25 ms of Python, several times the database's own time, and most of them run
while the run's row lock is held, which every transition of that run waits
for. These are the same reads and writes as plain SQL. Column names and value
adaptation come from the models' fields, and the SQL is the subset PostgreSQL
and SQLite share (UPDATE … FROM, RETURNING, CTE column lists), so the
embedded default runs exactly this code (but for ``lease_node``, whose one
statement SQLite has to make two).
"""

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection

from server.core.rows import as_uuid, instance_from_row, model_columns
from server.runs.models import NodeRun, Run


def _column(model: type[Any], name: str) -> str:
    return str(model._meta.get_field(name).column)


def _prep(model: type[Any], name: str, value: Any) -> Any:
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def _run_id(run_id: Any) -> Any:
    return Run._meta.pk.get_db_prep_value(run_id, connection)


def lock_run(run_id: Any) -> Run | None:
    """The run, with its row locked until the transaction ends."""
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {model_columns(Run, 'runs_run')} FROM runs_run WHERE id = %s{for_update}",
            [_run_id(run_id)],
        )
        row = cursor.fetchone()
    return None if row is None else instance_from_row(Run, row, connection.alias)


def run_constants_rows(run_ids: list[Any]) -> list[tuple[uuid.UUID, uuid.UUID, int, Any, Any]]:
    """Each of these runs' id, workspace, version, inputs and predecessor, in one query.

    On PostgreSQL the ids are one array, so that the statement is the same
    for any number of them (prepared once per connection, as ``_inserts``).
    """
    if connection.vendor == "postgresql":
        which, params = "= ANY(%s)", [[_run_id(run_id) for run_id in run_ids]]
    else:
        which = f"IN ({', '.join(['%s'] * len(run_ids))})"
        params = [_run_id(run_id) for run_id in run_ids]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, workspace_id, version_id, inputs, resumed_from_id "
            f"FROM runs_run WHERE id {which}",
            params,
        )
        rows = cursor.fetchall()
    return [
        (
            as_uuid(run_id),
            as_uuid(workspace_id),
            int(version_id),
            _json(inputs),
            None if resumed_from_id is None else as_uuid(resumed_from_id),
        )
        for run_id, workspace_id, version_id, inputs, resumed_from_id in rows
    ]


def update_run(run: Run, names: Iterable[str]) -> None:
    names = sorted(names)
    assignments = ", ".join(f"{_column(Run, n)} = %s" for n in names)
    params = [_prep(Run, n, getattr(run, n)) for n in names] + [_run_id(run.pk)]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE runs_run SET {assignments} WHERE id = %s", params)


# Rows per multi-row statement: well under the bound-parameter limits of both
# databases (65,535 in PostgreSQL, 32,766 in SQLite) for the widest fan-out.
ROWS_PER_STATEMENT = 1000


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), ROWS_PER_STATEMENT):
        yield items[start : start + ROWS_PER_STATEMENT]


def admission_counts(workspace_id: Any) -> tuple[int, int]:
    """The workspace's running and queued runs, as this statement sees them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(CASE WHEN state = 'running' THEN 1 ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN state = 'queued' THEN 1 ELSE 0 END), 0) "
            "FROM runs_run WHERE workspace_id = %s AND state IN ('running', 'queued')",
            [_prep(Run, "workspace", workspace_id)],
        )
        running, queued = cursor.fetchone()
    return int(running), int(queued)


def try_advance_lock(run_id: Any, node_id: str) -> bool:
    """Whether this transaction took the lock of advancing this waiting node.

    The lock is only ever tried, never waited for (``flow_nodes.advance``).
    SQLite's transactions (``IMMEDIATE``) already run one at a time: always taken.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"agentloom:advance:{run_id}:{node_id}"],
        )
        return bool(cursor.fetchone()[0])


def queued_run_exists(workspace_id: Any) -> bool:
    """Whether a run of the workspace waits to start (one index probe)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM runs_run WHERE workspace_id = %s AND state = 'queued' LIMIT 1",
            [_prep(Run, "workspace", workspace_id)],
        )
        return cursor.fetchone() is not None


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


@dataclass(frozen=True)
class Lease:
    """Nodes queued now that a worker keeps (eager continuation) instead of publishing them."""

    worker: str
    node_ids: frozenset[str]


NO_LEASE = Lease("", frozenset())


def queue_nodes(
    run_id: Any, node_ids: list[str], now: Any, *, dispatched: bool, lease: Lease = NO_LEASE
) -> dict[str, int]:
    """pending → queued for these nodes; with ``dispatched``, their tasks are being sent.

    The nodes in ``lease`` are leased to its worker in the same statement.
    Returns the new attempt of each node queued.
    """
    when = _prep(NodeRun, "queued_at", now)
    attempts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(node_ids):
            placeholders = ", ".join(["%s"] * len(chunk))
            kept = [node_id for node_id in chunk if node_id in lease.node_ids]
            kept_placeholders = ", ".join(["%s"] * len(kept)) or "NULL"
            cursor.execute(
                "UPDATE runs_noderun SET state = 'queued', attempt = attempt + 1, queued_at = %s, "
                f"dispatched_at = %s, {_LEASE_IF.format(keep=f'node_id IN ({kept_placeholders})')} "
                "WHERE run_id = %s AND state = 'pending' "
                f"AND node_id IN ({placeholders}) RETURNING node_id, attempt",
                [
                    when,
                    when if dispatched else None,
                    *_lease_params(lease, kept, when),
                    _run_id(run_id),
                    *chunk,
                ],
            )
            attempts.update((node_id, int(attempt)) for node_id, attempt in cursor.fetchall())
    return attempts


# The lease columns of a node being queued, set when {keep} holds of it.
_LEASE_IF = (
    "worker = CASE WHEN {keep} THEN %s ELSE worker END, "
    "heartbeat_at = CASE WHEN {keep} THEN %s ELSE heartbeat_at END"
)


def _lease_params(lease: Lease, kept: list[str], when: Any) -> list[Any]:
    return [*kept, lease.worker, *kept, when]


# One statement for every target of a step (it replaces an UPDATE and a SELECT
# per target): count the resolved and taken edges, return the new counters.
# With ``queue``, a target that becomes ready (no edge unresolved, one taken:
# ``scheduling.readiness``) is queued and dispatched in the same statement, and
# leased if kept: three writes of the row become one.
_COUNT_RESOLVED_EDGES = """
WITH resolved(node_id, edges, taken, keep) AS (VALUES {values})
UPDATE runs_noderun
SET unresolved_edges = unresolved_edges - resolved.edges,
    taken_edges = taken_edges + resolved.taken{queue}
FROM resolved
WHERE runs_noderun.run_id = %s AND runs_noderun.node_id = resolved.node_id
  AND runs_noderun.state = 'pending'
RETURNING runs_noderun.node_id, runs_noderun.unresolved_edges, runs_noderun.taken_edges,
  runs_noderun.attempt
"""
_READY = (
    "runs_noderun.unresolved_edges = resolved.edges "
    "AND runs_noderun.taken_edges + resolved.taken > 0"
)
_QUEUE_IF_READY = f""",
    state = CASE WHEN {_READY} THEN 'queued' ELSE runs_noderun.state END,
    attempt = CASE WHEN {_READY} THEN runs_noderun.attempt + 1 ELSE runs_noderun.attempt END,
    queued_at = CASE WHEN {_READY} THEN %s ELSE runs_noderun.queued_at END,
    dispatched_at = CASE WHEN {_READY} THEN %s ELSE runs_noderun.dispatched_at END,
    worker = CASE WHEN {_READY} AND resolved.keep = 1 THEN %s ELSE runs_noderun.worker END,
    heartbeat_at = CASE WHEN {_READY} AND resolved.keep = 1 THEN %s
                   ELSE runs_noderun.heartbeat_at END"""


def count_resolved_edges(
    run_id: Any,
    resolved: Mapping[str, tuple[int, int]],
    *,
    queue_at: Any = None,
    lease: Lease = NO_LEASE,
) -> list[tuple[str, int, int, int]]:
    """Subtract resolved edges (and add taken ones) per pending target.

    Returns (node id, unresolved, taken, attempt) per target. With
    ``queue_at``, the targets that became ready are queued and dispatched at
    that time (the caller has room for all of them), those in ``lease``
    leased to its worker.
    """
    counters: list[tuple[str, int, int, int]] = []
    queue = ""
    queue_params: list[Any] = []
    if queue_at is not None:
        when = _prep(NodeRun, "queued_at", queue_at)
        queue = _QUEUE_IF_READY
        queue_params = [when, when, lease.worker, when]
    with connection.cursor() as cursor:
        for chunk in _chunks(list(resolved.items())):
            values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = [
                v
                for target, (edges, taken) in chunk
                for v in (target, edges, taken, int(target in lease.node_ids))
            ]
            sql = _COUNT_RESOLVED_EDGES.format(values=values, queue=queue)
            cursor.execute(sql, [*params, *queue_params, _run_id(run_id)])
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

    @classmethod
    def written(
        cls,
        node_type: str,
        attempt: int,
        output: Any,
        artifact_id: Any,
        taken_out: list[str],
        edge_values: dict[str, Any],
    ) -> "NodeRow":
        """The succeeded row a transition just wrote, as a read of it would give it back."""
        return cls(
            state="succeeded",
            attempt=attempt,
            node_type=node_type,
            output=json.loads(json.dumps(output)),
            artifact_id=artifact_id,
            taken_out=frozenset(taken_out),
            edge_values=json.loads(json.dumps(edge_values)),
        )


_NODE_ROW_COLUMNS = (
    "n.node_id, n.state, n.attempt, n.node_type, n.output, "
    "n.output_artifact_id, n.taken_out, n.edge_values"
)


def _node_row(row: tuple[Any, ...]) -> NodeRow:
    """A ``NodeRow`` from the values of ``_NODE_ROW_COLUMNS`` but the node id."""
    state, attempt, node_type, output, artifact_id, taken_out, edge_values = row
    return NodeRow(
        state=state,
        attempt=attempt,
        node_type=node_type,
        output=_json(output),
        artifact_id=artifact_id,
        taken_out=frozenset(_json(taken_out)),
        edge_values=_json(edge_values),
    )


def node_rows(run_id: Any, node_ids: Iterable[str]) -> tuple[str | None, dict[str, NodeRow]]:
    """The run's state and these nodes' rows, in one query (the run's state is None if gone)."""
    ids = list(node_ids)
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT r.state, {_NODE_ROW_COLUMNS} "
            "FROM runs_noderun n JOIN runs_run r ON r.id = n.run_id "
            f"WHERE n.run_id = %s AND n.node_id IN ({placeholders})",
            [_run_id(run_id), *ids],
        )
        rows = cursor.fetchall()
    run_state = rows[0][0] if rows else None
    return run_state, {row[1]: _node_row(row[2:]) for row in rows}


def run_end(run_id: Any) -> tuple[list[str], dict[str, Any]]:
    """What a run with no node left to run ends with, in one query.

    Its failed nodes' ids, and its result: each succeeded output node's
    output by node id (one kept as an artifact by the artifact's id).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT node_id, state, output, output_artifact_id FROM runs_noderun WHERE run_id = %s "
            "AND (state = 'failed' OR (node_type = 'output' AND state = 'succeeded'))",
            [_run_id(run_id)],
        )
        rows = cursor.fetchall()
    failed = [node_id for node_id, state, _, _ in rows if state == "failed"]
    output = {
        node_id: _json(value)
        if artifact_id is None
        else {"artifact": str(uuid.UUID(str(artifact_id)))}
        for node_id, state, value, artifact_id in rows
        if state == "succeeded"
    }
    return failed, output


_LEASE = (
    "UPDATE runs_noderun SET worker = %s, heartbeat_at = %s "
    "WHERE run_id = %s AND node_id = %s AND state = 'queued' AND heartbeat_at IS NULL{no_flush} "
    "RETURNING attempt"
)
# The lease need not survive a crash of the database: lost, it lets at most a
# second delivery compute the node again, and the node's final compare-and-set
# keeps that from recording anything twice. Waiting for the WAL flush would
# double the cost of a quick node.
_NO_FLUSH = " AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL"


def lease_node(
    run_id: Any, node_id: str, worker: str, now: Any, sources: list[str]
) -> tuple[int, dict[str, NodeRow]] | None:
    """Lease a queued node nobody holds to ``worker`` and read its ``sources``' rows.

    The lease is the worker's name and a heartbeat; the node stays ``queued``.
    Returns the node's attempt and the sources' rows, or None if the node is
    taken or gone. On PostgreSQL one statement does both (the lease in a CTE,
    committed without waiting for the WAL flush); SQLite, which has no UPDATE
    in WITH, reads the sources first.
    """
    params = [worker, _prep(NodeRun, "heartbeat_at", now), _run_id(run_id), node_id]
    if connection.vendor != "postgresql":
        rows = node_rows(run_id, sources)[1] if sources else {}
        with connection.cursor() as cursor:
            cursor.execute(_LEASE.format(no_flush=""), params)
            leased = cursor.fetchone()
        return None if leased is None else (int(leased[0]), rows)
    lease = _LEASE.format(no_flush=_NO_FLUSH)
    # With no sources to read the join matches nothing and the lease row stays.
    placeholders = ", ".join(["%s"] * len(sources)) or "NULL"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH leased AS ({lease}) SELECT leased.attempt, {_NODE_ROW_COLUMNS} FROM leased "
            f"LEFT JOIN runs_noderun n ON n.run_id = %s AND n.node_id IN ({placeholders})",
            [*params, _run_id(run_id), *sources],
        )
        found = cursor.fetchall()
    if not found:
        return None
    return int(found[0][0]), {row[1]: _node_row(row[2:]) for row in found if row[1] is not None}


def lease_nodes(nodes: list[tuple[Any, str]], worker: str, now: Any) -> dict[tuple[str, str], int]:
    """Lease the queued nodes nobody holds of these (run id, node id) to ``worker``; their attempts.

    A batch task's nodes (``dispatch.send_node_tasks``), of one run or of
    several, in one statement: a node another delivery took, or that is no
    longer queued, is left out. Keys are the run id as text and the node id.
    """
    if not nodes:
        return {}
    no_flush = _NO_FLUSH if connection.vendor == "postgresql" else ""
    rows = ", ".join(["(%s, %s)"] * len(nodes))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_noderun SET worker = %s, heartbeat_at = %s "
            f"WHERE (run_id, node_id) IN (VALUES {rows}) AND state = 'queued' "
            f"AND heartbeat_at IS NULL{no_flush} RETURNING run_id, node_id, attempt",
            [
                worker,
                _prep(NodeRun, "heartbeat_at", now),
                *(value for run_id, node_id in nodes for value in (_run_id(run_id), node_id)),
            ],
        )
        return {
            (str(uuid.UUID(str(run_id))), node_id): int(attempt)
            for run_id, node_id, attempt in cursor.fetchall()
        }


def release_leases(held: list[tuple[Any, str, int]], worker: str, now: Any) -> set[tuple[str, str]]:
    """Give back ``worker``'s leases on these (run id, node id, attempt); the nodes released.

    Keys as ``lease_nodes`` gives them. They are marked dispatched now: their
    tasks are about to be published.
    """
    if not held:
        return set()
    rows = ", ".join(["(%s, %s, %s)"] * len(held))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE runs_noderun SET heartbeat_at = NULL, dispatched_at = %s "
            "WHERE worker = %s AND state = 'queued' AND heartbeat_at IS NOT NULL "
            f"AND (run_id, node_id, attempt) IN (VALUES {rows}) RETURNING run_id, node_id",
            [
                _prep(NodeRun, "dispatched_at", now),
                worker,
                *(
                    value
                    for run_id, node_id, attempt in held
                    for value in (_run_id(run_id), node_id, attempt)
                ),
            ],
        )
        return {(str(uuid.UUID(str(run_id))), node_id) for run_id, node_id in cursor.fetchall()}
