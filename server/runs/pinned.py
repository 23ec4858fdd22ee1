"""What a run pins and never changes, cached per process.

A version's document, a node's config hash and a run's inputs, version and
predecessor (``resumed_from``) are fixed once the run exists, and so is a
node run once it has succeeded (nothing moves a node out of ``succeeded``),
so caching them can never go stale. It spares each node task from loading and
parsing the whole document again, from reading the run row before claiming a
node, and from reading and decoding its predecessors' rows again: in a
fan-out, every branch would otherwise decode the source's list of a thousand
taken edges.
"""

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.runs import statements
from server.runs.statements import NodeRow
from server.workflows.models import WorkflowVersion
from workers.engine.document import Graph
from workers.engine.hashing import node_config_hash


@lru_cache(maxsize=256)
def graph_for_version(version_id: int) -> Graph:
    """The parsed graph of a pinned version."""
    document = WorkflowVersion.objects.values_list("document", flat=True).get(pk=version_id)
    return Graph.from_document(document)


@lru_cache(maxsize=65536)
def config_hash(version_id: int, node_id: str) -> str:
    """A node's config hash (for resume)."""
    return node_config_hash(graph_for_version(version_id), node_id)


@dataclass(frozen=True)
class RunConstants:
    workspace_id: uuid.UUID
    version_id: int
    inputs: Any
    resumed_from_id: uuid.UUID | None


def run_constants(run_id: Any) -> RunConstants | None:
    """A run's workspace, version, inputs and predecessor, or None if there is no such run."""
    return runs_constants([run_id]).get(str(run_id))


def runs_constants(run_ids: Iterable[Any]) -> dict[str, RunConstants]:
    """The constants of these runs (by id as text) that exist, those not cached read in one query.

    A batch task's nodes are of many runs (a map's children): one read, not one each.
    """
    found: dict[str, RunConstants] = {}
    unread: list[str] = []
    for run_id in map(str, run_ids):
        cached = _constants.get(run_id)
        if cached is None:
            unread.append(run_id)
        else:
            _constants.move_to_end(run_id)
            found[run_id] = cached
    if unread:
        for pk, *constants in statements.run_constants_rows(unread):
            found[str(pk)] = RunConstants(*constants)
            remember_run_constants(pk, found[str(pk)])
    return found


def node_type(run_id: Any, node_id: str) -> str | None:
    """The type of a node of the run's pinned version; None if there is no such run or node."""
    constants = run_constants(run_id)
    if constants is None:
        return None
    node = graph_for_version(constants.version_id).nodes.get(node_id)
    return None if node is None else node.type


# Runs this process created (whose first tasks it publishes) or read. A run
# not found is not remembered: its creator may not have committed it yet.
_CONSTANTS_MAX = 4096
_constants: OrderedDict[str, RunConstants] = OrderedDict()


def remember_run_constants(run_id: Any, constants: RunConstants) -> None:
    """A run's constants as its creator committed them, or as read."""
    _constants[str(run_id)] = constants
    _constants.move_to_end(str(run_id))
    while len(_constants) > _CONSTANTS_MAX:
        _constants.popitem(last=False)


# Rows hold inline outputs of up to the inline limit (64 KiB by default), so
# the bound is a count that keeps the worst case to tens of megabytes.
_SUCCEEDED_ROWS_MAX = 512
_succeeded_rows: OrderedDict[tuple[str, str], NodeRow] = OrderedDict()


def succeeded_row(run_id: Any, node_id: str) -> NodeRow | None:
    """A succeeded node run read earlier by this process, if it is still cached."""
    row = _succeeded_rows.get((str(run_id), node_id))
    if row is not None:
        _succeeded_rows.move_to_end((str(run_id), node_id))
    return row


def remember_succeeded_row(run_id: Any, node_id: str, row: NodeRow) -> None:
    _succeeded_rows[(str(run_id), node_id)] = row
    _succeeded_rows.move_to_end((str(run_id), node_id))
    while len(_succeeded_rows) > _SUCCEEDED_ROWS_MAX:
        _succeeded_rows.popitem(last=False)
