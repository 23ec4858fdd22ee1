"""What a run pins and never changes, cached per process.

A version's document, a node's config hash and a run's inputs, version and
predecessor (``resumed_from``) are fixed once the run exists, so caching them
can never go stale. It spares each node task from loading and parsing the
whole document again, and from reading the run row before claiming a node.
"""

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from server.runs.models import Run
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
    version_id: int
    inputs: Any
    resumed_from_id: uuid.UUID | None


def run_constants(run_id: Any) -> RunConstants | None:
    """A run's version, inputs and predecessor, or None if there is no such run."""
    return _run_constants(str(run_id))


@lru_cache(maxsize=4096)
def _run_constants(run_id: str) -> RunConstants | None:
    row = Run.objects.filter(pk=run_id).values("version_id", "inputs", "resumed_from_id").first()
    return RunConstants(**row) if row else None
